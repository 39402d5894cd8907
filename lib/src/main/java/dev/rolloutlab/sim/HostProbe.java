package dev.rolloutlab.sim;

import dev.rolloutlab.bench.SteadyState;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerTimings;
import dev.rolloutlab.results.Percentiles;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.ToDoubleFunction;

/**
 * Measures one host, real or simulated, the same way: loops of streamed requests on its first port alone, then on all
 * its ports at once ({@link HostMeasurement}).
 */
final class HostProbe {
    static final int STREAM_TOKENS = 32;
    static final int WARMUP = 200;
    /** Single-token requests a loop sends per stream a streams' loop sends, at the short prompt. */
    private static final int SINGLES = 16;

    private final int len, longLen, count;
    private final ExecutorService pool;

    /**
     * Measures with {@code len}-token prompts (prefills also {@code longLen}), {@code count} requests one after another
     * per port and loop.
     */
    HostProbe(int len, int longLen, int count, ExecutorService pool) {
        this.len = len;
        this.longLen = longLen;
        this.count = count;
        this.pool = pool;
    }

    int len() {
        return len;
    }

    int longLen() {
        return longLen;
    }

    /**
     * Single-token loops on every port until the host stops getting faster: a fresh server JVM answers its first
     * thousands of requests slower (JIT; our engine's server 10 % over its first 25 s), and a host measured before it
     * is warm makes a fit slower than the same server later (a calibrated sim then predicted a warm server 10-15 %
     * fast).
     */
    SteadyState warm(List<OpenAiClient> ports, String model, double windowSeconds, double maxSeconds) {
        int n = ports.size();
        return SteadyState.warm(WARMUP * n, 4 * n, windowSeconds, maxSeconds, k -> {
            loops(ports, model, len, 1, (k + n - 1) / n);
            return true;
        });
    }

    /** Alone on the first port, then both loops on every port at once (with more than one). */
    HostMeasurement measure(List<OpenAiClient> clients, String model) {
        List<OpenAiClient> first = clients.subList(0, 1);
        // single-token requests are cheap: sixteen times the count (four at the long prompt), so their loops last
        // about as long as the streams' (seconds). At four times (a second), one host's time to the first token beside
        // prefills read 40 % apart between two measurements, and its time alone (a fifth of a second) moved the
        // simulating server's own work by up to 0.7 ms between rounds (0.13 ms at most at sixteen), and each fit's
        // fixed work with it
        double ttftAlone = Percentiles.median(Calibrator.ttft(loops(first, model, len, 1, SINGLES * count)));
        List<OpenAiClient.Result> alone = loops(first, model, len, STREAM_TOKENS, count);
        double tpotAlone = Percentiles.median(tpot(alone)), cvAlone = Percentiles.median(itlCv(alone));
        if (clients.size() == 1) return HostMeasurement.alone(ttftAlone, tpotAlone, cvAlone);
        List<OpenAiClient.Result> streams = loops(clients, model, len, STREAM_TOKENS, count);
        List<OpenAiClient.Result> singles = loops(clients, model, len, 1, SINGLES * count);
        List<OpenAiClient.Result> longSingles = loops(clients, model, longLen, 1, SINGLES / 4 * count);
        // streams after the long prompt: the context term under load (fitted alone, e varied 15-fold between
        // calibrations and the long-prompt streams' prediction with it from 15 % fast to 23 % slow); half the count,
        // they are long
        double tpotLong =
                Percentiles.median(tpot(loops(clients, model, longLen, STREAM_TOKENS, Math.max(4, count / 2))));
        return new HostMeasurement(
                ttftAlone,
                tpotAlone,
                cvAlone,
                Percentiles.median(tpot(streams)),
                tpotLong,
                Percentiles.median(Calibrator.ttft(streams)),
                Percentiles.median(Calibrator.ttft(singles)),
                Percentiles.median(Calibrator.ttft(longSingles)),
                Percentiles.median(itlCv(streams)),
                new HostMeasurement.Waits(
                        waited(streams, ServerTimings::queueMs),
                        waited(singles, ServerTimings::queueMs),
                        waited(singles, ServerTimings::decodeMs)),
                new HostMeasurement.Duty(duty(singles), duty(longSingles)));
    }

    /**
     * The share of the requests' time their engines spent in prefill steps, as the server reported them; the client's
     * moments between one answer and its next request (about a tenth of a ms) are left out. NaN without timings.
     */
    static double duty(List<OpenAiClient.Result> rs) {
        double prefill = 0, whole = 0;
        for (OpenAiClient.Result r : rs) {
            double p = r.serverTimings().prefillMs();
            if (Double.isNaN(p)) return Double.NaN;
            prefill += p;
            whole += Calibrator.ms(r.endNs() - r.sentNs());
        }
        return whole > 0 ? prefill / whole : Double.NaN;
    }

    /**
     * How the requests waited, as the server reported {@code part} of their time: a single-token request's decode is
     * the time between its token and its end.
     */
    private static HostMeasurement.Waited waited(List<OpenAiClient.Result> rs, ToDoubleFunction<ServerTimings> part) {
        return HostMeasurement.Waited.of(rs.stream()
                .mapToDouble(r -> part.applyAsDouble(r.serverTimings()))
                .toArray());
    }

    /** Each stream's coefficient of variation of the time between its tokens. */
    private static double[] itlCv(List<OpenAiClient.Result> streams) {
        return streams.stream()
                .mapToDouble(r -> {
                    long[] t = r.chunkNs();
                    double sum = 0, sq = 0;
                    int k = t.length - 1;
                    for (int i = 1; i < t.length; i++) {
                        double g = t[i] - t[i - 1];
                        sum += g;
                        sq += g * g;
                    }
                    double mean = sum / k;
                    return k < 2 || mean <= 0 ? 0 : Math.sqrt(Math.max(0, sq / k - mean * mean)) / mean;
                })
                .toArray();
    }

    private static double[] tpot(List<OpenAiClient.Result> streams) {
        return streams.stream()
                .mapToDouble(r -> Calibrator.ms(r.endNs() - r.firstTokenNs()) / (r.completionTokens() - 1))
                .toArray();
    }

    /**
     * Each of {@code on} sends {@code count} streamed requests one after another, all of them at once; the middle
     * halves.
     */
    List<OpenAiClient.Result> loops(List<OpenAiClient> on, String model, int promptTokens, int maxTokens, int count) {
        List<CompletableFuture<List<OpenAiClient.Result>>> fs = new ArrayList<>();
        for (OpenAiClient c : on) {
            fs.add(CompletableFuture.supplyAsync(
                    () -> {
                        List<OpenAiClient.Result> rs = new ArrayList<>();
                        for (int i = 0; i < count; i++)
                            rs.add(Calibrator.checked(
                                    c.complete(Calibrator.request(model, promptTokens, maxTokens, i))));
                        return rs;
                    },
                    pool));
        }
        List<OpenAiClient.Result> out = new ArrayList<>();
        for (var f : fs) {
            List<OpenAiClient.Result> rs = f.join();
            out.addAll(rs.subList(count / 4, count - count / 4));
        }
        return out;
    }
}
