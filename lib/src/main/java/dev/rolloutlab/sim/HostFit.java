package dev.rolloutlab.sim;

import dev.rolloutlab.engine.Contention;
import dev.rolloutlab.engine.TimingModel;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;

/**
 * What the engine's lines cannot say about a host, fitted by simulating it: the work a simulated server does itself
 * per request (it is in the measured lines once and a simulated server adds its own again: about 1–2 ms a request
 * here, 10–30 % of a small prefill), and how the engines of one host slow each other under sustained load on all its
 * ports ({@link Contention}). A closed form gives the first guess; then a simulated host with the guess is measured
 * the same way and corrected until it reproduces the real one (the closed form assumes every neighbour busy all the
 * time; engines idle between steps and requests, and on a simulated host of known contention it was 23 % off).
 */
final class HostFit {
    /**
     * What one host measured, ms: alone on its first port, the time to first token, per token, and how much the time
     * between tokens varies within a stream (coefficient of variation); then, with sustained loops on every port at
     * once (NaN with one port), the time per token of whole streams, their time to first token (a prefill beside
     * decoding engines), that of single-token requests (beside prefills), and the variation between tokens.
     */
    record Measured(double ttftAlone, double tpotAlone, double itlCvAlone, double tpot, double ttftBesideDecodes, double ttftBesidePrefills, double itlCv) {
        /** The largest relative difference to {@code real}. */
        double worstError(Measured real) {
            double[] mine = values(), theirs = real.values();
            double worst = 0;
            for (int i = 0; i < mine.length; i++) if (!Double.isNaN(theirs[i])) worst = Math.max(worst, Math.abs(mine[i] / theirs[i] - 1));
            return worst;
        }

        private double[] values() {
            return new double[]{ttftAlone, tpotAlone, tpot, ttftBesideDecodes, ttftBesidePrefills, itlCv};
        }

        @Override
        public String toString() {
            String alone = String.format(Locale.ROOT, "alone %.2f ms to the first token, %.2f a token (cv %.2f)", ttftAlone, tpotAlone, itlCvAlone);
            return Double.isNaN(tpot) ? alone : alone + String.format(Locale.ROOT, "; all ports: %.2f a token (cv %.2f), %.2f to the first token beside "
                    + "decodes, %.2f beside prefills", tpot, itlCv, ttftBesideDecodes, ttftBesidePrefills);
        }
    }

    static final int STREAM_TOKENS = 32;
    private static final int MAX_ROUNDS = 4, WARMUP = 200;
    private static final double CLOSE_ENOUGH = 0.05;

    private final int len, count;
    private final ExecutorService pool;
    private final PrintStream log;

    /** Measures with {@code len}-token prompts, {@code count} requests one after another per port and loop. */
    HostFit(int len, int count, ExecutorService pool, PrintStream log) {
        this.len = len;
        this.count = count;
        this.pool = pool;
        this.log = log;
    }

    /** Measures {@code clients} (the ports of one host) and returns {@code fitted} corrected so a simulated host reproduces them. */
    TimingModel fit(List<OpenAiClient> clients, String model, TimingModel fitted) {
        int n = clients.size();
        Measured real = measure(clients, model);
        log.printf("  %s%n", real);
        if (n == 1) return refine(fitted, real, n);
        double decodeAlone = fitted.stepNanos(0, 1, len + STREAM_TOKENS / 2.0) / 1e6, prefillAlone = fitted.stepNanos(len, 0, 0) / 1e6;
        double rd = real.tpot / decodeAlone, rm = real.ttftBesideDecodes / prefillAlone, rp = real.ttftBesidePrefills / prefillAlone;
        log.printf(Locale.ROOT, "  on all %d ports at once: %.2fx, %.2fx and %.2fx the fit alone%n", n, rd, rm, rp);
        if (rd < 1.1 && rp < 1.1) {
            log.println("  no contention: the engines run at full speed together");
            return refine(fitted, real, n);
        }
        return refine(fitted.with(closedForm(n, real, rd, rm, rp)).withStepCv(Math.min(3, real.itlCv)), real, n);
    }

    /**
     * n prefills together demand {@code rp} hosts; a decode sees its own demand and its n-1 neighbours', each
     * prefilling a fraction f of the time (two linear equations); what a prefill beside decodes loses beyond its
     * share is its own factor.
     */
    private static Contention closedForm(int n, Measured real, double rd, double rm, double rp) {
        double f = real.ttftBesideDecodes / (real.ttftBesideDecodes + (STREAM_TOKENS - 1) * real.tpot);
        double sp = rp / n;
        double sd = Math.max(0.05 / n, (rd - (n - 1) * f * sp) / (1 + (n - 1) * (1 - f)));
        return clamp(n, 1 / sd, 1 / sp, rm / Math.max(1, sp + (n - 1) * sd));
    }

    private TimingModel refine(TimingModel guess, Measured real, int n) {
        TimingModel m = guess, best = guess;
        double bestError = Double.POSITIVE_INFINITY;
        for (int round = 1; round <= MAX_ROUNDS; round++) {
            Measured sim = simulate(m, n);
            double error = sim.worstError(real);
            log.printf(Locale.ROOT, "  simulated with %s: %s (%.0f %% off at worst)%n", describe(m), sim, 100 * error);
            if (error < bestError) {
                best = m;
                bestError = error;
            }
            if (error < CLOSE_ENOUGH) break;
            // the simulated server's own work is constant: shift a and c by it. A step's slowdown against its time alone
            // grows with the demand, 1/k: scale k by how much more the simulated host slowed down (slowdowns, not
            // times, so that the two corrections do not chase each other)
            Contention k = m.contention();
            if (k.contends()) {
                k = clamp(n, k.decodes() * (sim.tpot / sim.tpotAlone) / (real.tpot / real.tpotAlone),
                        k.prefills() * (sim.ttftBesidePrefills / sim.ttftAlone) / (real.ttftBesidePrefills / real.ttftAlone),
                        k.prefillBesideDecodes() * (real.ttftBesideDecodes / real.ttftAlone) / (sim.ttftBesideDecodes / sim.ttftAlone));
            }
            double cv = k.contends() && sim.itlCv > 0 ? m.stepCv() * real.itlCv / sim.itlCv : m.stepCv();
            m = new TimingModel(Math.max(0, m.a() - (sim.ttftAlone - real.ttftAlone)), m.b(), Math.max(0, m.c() - (sim.tpotAlone - real.tpotAlone)), m.d(), m.e(),
                    m.maxBatch(), k, Math.min(3, cv));
        }
        log.printf(Locale.ROOT, "  kept %s: a simulated host within %.0f %% of this one%n", describe(best), 100 * bestError);
        return best;
    }

    private static String describe(TimingModel m) {
        Contention k = m.contention();
        return String.format(Locale.ROOT, "a=%.2f c=%.2f step cv %.2f", m.a(), m.c(), m.stepCv()) + (k.contends() ? String.format(Locale.ROOT,
                ", %.2f decodes and %.2f prefills at full speed, prefills %.2fx slower beside decodes", k.decodes(), k.prefills(), k.prefillBesideDecodes()) : "");
    }

    /** The same loops against a simulated host of {@code model} with {@code n} ports (a child JVM, as {@code serve --engine sim} runs). */
    private Measured simulate(TimingModel model, int n) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("rollout-lab-calibrate");
            Path profile = dir.resolve("profile.json");
            new Profile("calibrating", model, Double.NaN, Double.NaN, "sim calibrate, fitting contention", "", "").write(profile);
            var http = OpenAiClient.http(64, Duration.ofSeconds(120));
            try (ServeProcess host = ServeProcess.start(List.of("--engine", "sim", "--sim-profile", profile.toString(), "--shape", "tiny",
                    "--num-servers", String.valueOf(n), "--base-port", "0", "--served-model-name", "sim"), dir.resolve("serve.log"), Duration.ofSeconds(120))) {
                List<OpenAiClient> ports = host.urls().stream().map(u -> new OpenAiClient(http, u, null, true)).toList();
                // a fresh JVM answers its first hundreds of requests slower (JIT): 5 ms more a request here, as much as a small prefill
                loops(ports, "sim", 1, WARMUP);
                loops(ports, "sim", STREAM_TOKENS, WARMUP / 20);
                return measure(ports, "sim");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (dir != null) deleteQuietly(dir);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }

    private static Contention clamp(int n, double decodes, double prefills, double beside) {
        return new Contention(Math.max(0.05, Math.min(n, decodes)), Math.max(0.05, Math.min(n, prefills)), Math.max(1, Math.min(100, beside)));
    }

    /** Alone on the first port, then both loops on every port at once (with more than one). */
    Measured measure(List<OpenAiClient> clients, String model) {
        List<OpenAiClient> first = clients.subList(0, 1);
        double ttftAlone = Calibrator.median(Calibrator.ttft(loops(first, model, 1)));
        List<OpenAiClient.Result> alone = loops(first, model, STREAM_TOKENS);
        double tpotAlone = Calibrator.median(tpot(alone)), cvAlone = Calibrator.median(itlCv(alone));
        if (clients.size() == 1) return new Measured(ttftAlone, tpotAlone, cvAlone, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        List<OpenAiClient.Result> streams = loops(clients, model, STREAM_TOKENS);
        List<OpenAiClient.Result> singles = loops(clients, model, 1);
        return new Measured(ttftAlone, tpotAlone, cvAlone, Calibrator.median(tpot(streams)), Calibrator.median(Calibrator.ttft(streams)),
                Calibrator.median(Calibrator.ttft(singles)), Calibrator.median(itlCv(streams)));
    }

    /** Each stream's coefficient of variation of the time between its tokens. */
    private static double[] itlCv(List<OpenAiClient.Result> streams) {
        return streams.stream().mapToDouble(r -> {
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
        }).toArray();
    }

    private static double[] tpot(List<OpenAiClient.Result> streams) {
        return streams.stream().mapToDouble(r -> Calibrator.ms(r.endNs() - r.firstTokenNs()) / (r.completionTokens() - 1)).toArray();
    }

    private List<OpenAiClient.Result> loops(List<OpenAiClient> on, String model, int maxTokens) {
        return loops(on, model, maxTokens, count);
    }

    /** Each of {@code on} sends {@code count} streamed requests one after another, all of them at once; the middle halves. */
    private List<OpenAiClient.Result> loops(List<OpenAiClient> on, String model, int maxTokens, int count) {
        List<CompletableFuture<List<OpenAiClient.Result>>> fs = new ArrayList<>();
        for (OpenAiClient c : on) {
            fs.add(CompletableFuture.supplyAsync(() -> {
                List<OpenAiClient.Result> rs = new ArrayList<>();
                for (int i = 0; i < count; i++) rs.add(Calibrator.checked(c.complete(Calibrator.request(model, len, maxTokens, i))));
                return rs;
            }, pool));
        }
        List<OpenAiClient.Result> out = new ArrayList<>();
        for (var f : fs) {
            List<OpenAiClient.Result> rs = f.join();
            out.addAll(rs.subList(count / 4, count - count / 4));
        }
        return out;
    }
}
