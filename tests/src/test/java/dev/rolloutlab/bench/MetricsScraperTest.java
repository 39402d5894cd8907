package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A cell shorter than the scrape period still gets a sample of its own: {@link MetricsScraper#sampleNow} reads every
 * server at once, and what it reads includes the work just done.
 */
class MetricsScraperTest {
    /** Requests finished, one series per reason: the request may end at its length or at an end-of-text token. */
    private static final String SUCCESS = "vllm:request_success_total";

    @Test
    void aSampleTakenNowSeesTheWorkJustDoneWhateverThePeriod() throws Exception {
        try (ServerGroup server = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .ports(List.of(0))
                        .servedModelName("tiny")
                        .build());
                MetricsScraper scraper = MetricsScraper.start(
                        List.of(new OpenAiClient(
                                OpenAiClient.http(2, Duration.ofSeconds(30)),
                                server.urls().get(0),
                                null,
                                true)),
                        Duration.ofDays(1), // no periodic tick can fall inside this test
                        warning -> fail(warning))) {
            OpenAiClient client = new OpenAiClient(
                    OpenAiClient.http(2, Duration.ofSeconds(30)), server.urls().get(0), null, true);
            OpenAiClient.Exchange done = client.post(
                    "/v1/completions", Map.of("model", "tiny", "prompt", "hello", "max_tokens", 2), Map.of());
            assertEquals(200, done.status(), done.body());
            long before = System.nanoTime();
            scraper.sampleNow();
            long after = System.nanoTime();
            List<MetricsScraper.Sample> samples = scraper.stop();
            double baseline = value(samples, Long.MIN_VALUE, before);
            double now = value(samples, before, after);
            assertEquals(baseline + 1, now, 1e-9, "the sample taken now counts the request: " + samples.size());
        }
    }

    /** Requests finished for any reason, as sampled in [from, to]; NaN if no sample fell there. */
    private static double value(List<MetricsScraper.Sample> samples, long from, long to) {
        List<MetricsScraper.Sample> in = samples.stream()
                .filter(s -> s.atNs() >= from && s.atNs() <= to && s.metric().startsWith(SUCCESS))
                .toList();
        return in.isEmpty()
                ? Double.NaN
                : in.stream().mapToDouble(MetricsScraper.Sample::value).sum();
    }
}
