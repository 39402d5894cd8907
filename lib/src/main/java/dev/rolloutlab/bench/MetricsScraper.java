package dev.rolloutlab.bench;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.ServerMetric;
import dev.rolloutlab.results.Topology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Samples every server's {@code /metrics} on a fixed period while a run goes on, as a Prometheus server would, and
 * keeps each gauge and counter (histograms by their {@code _count} and {@code _sum} only) as rows of
 * {@code metrics.csv} ({@link ServerMetric}): the series' name with the labels that tell a server's series apart
 * ({@code model_name}, {@code engine} and {@code port} are dropped: the server's URL names them). A server that answers
 * anything but 200 (no {@code /metrics}, or one behind a token we lack) is named once and left alone.
 */
public final class MetricsScraper implements AutoCloseable {
    /** One value of one series, sampled at {@code atNs} ({@link System#nanoTime()}). */
    public record Sample(long atNs, String server, String metric, double value) {
        /** This sample as a row of metrics.csv, in a cell of a run that began at {@code originNs}. */
        public ServerMetric in(Topology topology, Connection connection, String workload, int round, long originNs) {
            return new ServerMetric(
                    topology, connection, workload, round, (atNs - originNs) / 1e9, server, metric, value);
        }
    }

    /** The default period: once a second, as a Prometheus server scrapes a busy target. */
    public static final Duration EVERY_SECOND = Duration.ofSeconds(1);

    private final List<OpenAiClient> servers;
    private final boolean[] skipped;
    private final Consumer<String> warn;
    private final List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
    private final ScheduledExecutorService timer;

    private MetricsScraper(List<OpenAiClient> servers, Duration every, Consumer<String> warn) {
        this.servers = List.copyOf(servers);
        this.skipped = new boolean[servers.size()];
        this.warn = warn;
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("metrics-scraper").daemon(true).factory());
        scrapeAll(); // a baseline before the first request, so counters' growth covers the whole run
        timer.scheduleAtFixedRate(this::scrapeAll, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Scrapes {@code servers} once before returning, then every {@code every} until {@link #stop}; what goes wrong is
     * said to {@code warn}.
     */
    public static MetricsScraper start(List<OpenAiClient> servers, Duration every, Consumer<String> warn) {
        return new MetricsScraper(servers, every, warn);
    }

    /**
     * Samples every server now, off the period: a cell shorter than the period (or one whose tick a busy machine
     * delayed) still ends with a sample of its own.
     */
    public void sampleNow() {
        scrapeAll();
    }

    /** Takes one last sample of each server, stops, and returns every sample in time order. */
    public List<Sample> stop() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scrapeAll();
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }

    private synchronized void scrapeAll() {
        long t = System.nanoTime(); // one time for the whole tick, so a tick's servers add up
        for (int i = 0; i < servers.size(); i++) {
            if (skipped[i]) continue;
            OpenAiClient c = servers.get(i);
            try {
                OpenAiClient.Exchange r = c.get("/metrics");
                if (r.status() != 200) {
                    skipped[i] = true;
                    warn.accept("metrics: " + c.baseUrl() + " answered /metrics with " + r.status()
                            + (r.status() == 401 ? " (needs a key or token this run lacks)" : "")
                            + "; not scraped");
                    continue;
                }
                parse(r.body(), t, c.baseUrl(), samples);
            } catch (RuntimeException e) { // a server gone mid-run: its gap in metrics.csv says so
                warn.accept("metrics: " + c.baseUrl() + ": " + e.getMessage());
            }
        }
    }

    /** Reads the Prometheus text format's sample lines into {@code into}; bucket lines and comments are skipped. */
    private static void parse(String text, long atNs, String server, List<Sample> into) {
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.charAt(0) == '#') continue;
            int brace = line.indexOf('{'), space = line.lastIndexOf(' ');
            if (space < 0) continue;
            String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
            if (name.endsWith("_bucket") || name.endsWith("_created")) continue;
            String labels =
                    brace >= 0 && brace < space ? ownLabels(line.substring(brace + 1, line.lastIndexOf('}'))) : "";
            double v;
            try {
                v = Double.parseDouble(line.substring(space + 1).trim());
            } catch (NumberFormatException e) {
                continue; // a timestamped line or one we cannot read: not ours to judge
            }
            into.add(new Sample(atNs, server, labels.isEmpty() ? name : name + "{" + labels + "}", v));
        }
    }

    /** The labels that tell series of one server apart: all but the server's own identity. */
    private static String ownLabels(String labels) {
        StringBuilder sb = new StringBuilder();
        for (String pair : labels.split(",(?=[a-zA-Z_]+=\")")) {
            if (pair.startsWith("model_name=") || pair.startsWith("engine=") || pair.startsWith("port=")) continue;
            if (!sb.isEmpty()) sb.append(',');
            sb.append(pair);
        }
        return sb.toString();
    }
}
