package dev.rolloutlab.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.ServerTimings;
import dev.rolloutlab.util.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** summary.csv keeps the columns readers and notebooks rely on, whatever shape the Summary takes in code. */
class SummaryRowTest {
    /**
     * The header summary.csv had when the results words became types (before the Summary was composed), with the tax's
     * three columns added before {@code incomplete}.
     */
    static final String HEADER = "topology,connection,workload,round,completed,failed,duration_s,request_throughput,"
            + "request_throughput_ci_low,request_throughput_ci_high,output_throughput,output_throughput_ci_low,"
            + "output_throughput_ci_high,mean_ttft_ms,median_ttft_ms,p90_ttft_ms,p99_ttft_ms,mean_ttft_ms_ci_low,"
            + "mean_ttft_ms_ci_high,mean_tpot_ms,median_tpot_ms,p90_tpot_ms,p99_tpot_ms,mean_itl_ms,median_itl_ms,"
            + "p90_itl_ms,p99_itl_ms,mean_e2el_ms,p50_e2el_ms,p50_e2el_ms_ci_low,p50_e2el_ms_ci_high,p90_e2el_ms,"
            + "p99_e2el_ms,mean_e2el_ms_ci_low,mean_e2el_ms_ci_high,mean_e2el_from_dispatch_ms,mean_connect_ms,goodput,"
            + "overhead_ms_per_request,overhead_ms_per_request_ci_low,overhead_ms_per_request_ci_high,http_tax_ms,"
            + "http_tax_ms_ci_low,http_tax_ms_ci_high,incomplete";

    @Test
    void theCsvHasTheSameColumnsInTheSameOrderAndTheFiguresLandInTheirColumns() {
        List<RequestRecord> rs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long end = (long) ((10 + i) * 1e6);
            rs.add(new RequestRecord(
                    Topology.HTTP1,
                    Connection.KEEP_ALIVE,
                    1,
                    "b",
                    i,
                    1,
                    8,
                    4,
                    0,
                    0,
                    0,
                    end / 2,
                    end,
                    0,
                    200,
                    null,
                    new float[] {1, 2, 3},
                    CompletionRequest.Endpoint.COMPLETIONS,
                    true,
                    RequestRecord.USAGE,
                    // the engine's own time: queue 1 + prefill 2 + half the e2el decoding, so the tax is e2el / 2 - 3
                    new ServerTimings(1, 2, end / 2e6, Double.NaN, Double.NaN, Double.NaN)));
        }
        Summary s = Summary.of(Topology.HTTP1, Connection.KEEP_ALIVE, "in=8 out=4", rs, 2.0, Slo.NONE, false)
                .withRound(1)
                .withOverhead(1.5, new Confidence.Interval(1.4, 1.0, 2.0, 0.95));
        String[] lines = Json.csv(SummaryRow.class, List.of(SummaryRow.of(s))).split("\n");
        assertEquals(HEADER, lines[0]);
        List<String> cols = List.of(HEADER.split(",")), vals = List.of(lines[1].split(",", -1));
        assertEquals("http1", vals.get(cols.indexOf("topology")));
        assertEquals("1", vals.get(cols.indexOf("round")));
        assertEquals(20.0, Double.parseDouble(vals.get(cols.indexOf("request_throughput"))), 1e-9, "40 in 2 s");
        assertEquals(80.0, Double.parseDouble(vals.get(cols.indexOf("output_throughput"))), 1e-9, "4 tokens each");
        assertEquals(29.5, Double.parseDouble(vals.get(cols.indexOf("mean_e2el_ms"))), 1e-9, "10..49 ms");
        assertEquals(1.5, Double.parseDouble(vals.get(cols.indexOf("overhead_ms_per_request"))), 1e-9);
        assertEquals(1.0, Double.parseDouble(vals.get(cols.indexOf("overhead_ms_per_request_ci_low"))), 1e-9);
        assertEquals(11.75, Double.parseDouble(vals.get(cols.indexOf("http_tax_ms"))), 1e-9, "29.5 / 2 - 3");
        double taxLo = Double.parseDouble(vals.get(cols.indexOf("http_tax_ms_ci_low")));
        assertTrue(taxLo > 5 && taxLo < 11.75, "the tax's bootstrap interval lies below it: " + taxLo);
        double lo = Double.parseDouble(vals.get(cols.indexOf("mean_e2el_ms_ci_low")));
        assertTrue(lo > 20 && lo < 29.5, "the mean's bootstrap interval lies below it: " + lo);
    }
}
