package dev.rolloutlab.results;

/**
 * One row of {@code metrics.csv}: one value of one series a server exposed on {@code /metrics}, sampled during a cell
 * of a run. {@code timeS} counts from the run's start; {@code metric} is the series' name and the labels that tell a
 * server's series apart (its model, engine and port are in {@code server} already).
 */
public record ServerMetric(
        Topology topology,
        Connection connection,
        String workload,
        int round,
        double timeS,
        String server,
        String metric,
        double value) {
    /** The file every run writes its scraped server metrics to. */
    public static final String FILE = "metrics.csv";

    public static final String RUNNING = "vllm:num_requests_running",
            WAITING = "vllm:num_requests_waiting",
            KV_USAGE = "vllm:kv_cache_usage_perc";
}
