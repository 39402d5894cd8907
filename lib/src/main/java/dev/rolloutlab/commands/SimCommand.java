package dev.rolloutlab.commands;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerProbe;
import dev.rolloutlab.report.SimReport;
import dev.rolloutlab.sim.Calibrator;
import dev.rolloutlab.sim.LinkProfile;
import dev.rolloutlab.sim.NetnsFleet;
import dev.rolloutlab.sim.Profile;
import dev.rolloutlab.sim.Sweep;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code sim}: timing-model profiles of engines, for simulated servers ({@code serve --engine sim}). */
@Command(
        name = "sim",
        mixinStandardHelpOptions = true,
        subcommands = {SimCommand.Calibrate.class, SimCommand.SweepHosts.class},
        description =
                "Pod-scale prediction with simulated engines: calibrate fits a timing model (prefill a + b*prompt, "
                        + "decode step c + d*batch + e*context) to a real server and writes it as a profile "
                        + "for serve --engine sim; sweep runs "
                        + "simulated hosts (network namespaces with shaped links, needs root) at growing host counts.")
public final class SimCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a subcommand: calibrate or sweep");
    }

    @Command(
            name = "calibrate",
            mixinStandardHelpOptions = true,
            description = "Fit a timing model to a running OpenAI server "
                    + "(ours, sglang-jax, vLLM) and write it as a profile.")
    static final class Calibrate implements Callable<Integer> {
        @ParentCommand
        SimCommand parent;

        @Option(
                names = "--target",
                required = true,
                split = ",",
                description = "Base URL of the server, e.g. http://127.0.0.1:31000; "
                        + "several ports of one host, comma-separated: the first is fitted alone, "
                        + "then all are loaded at once to measure how many engines the host runs at full speed.")
        List<String> target;

        @Option(names = "--out", required = true, description = "Profile file to write (JSON).")
        Path out;

        @Option(names = "--name", description = "Profile name. Default: the file name without .json.")
        String name;

        @Option(names = "--model", description = "Model id to request. Default: the first one /v1/models lists.")
        String model;

        @Option(names = "--api-key", description = "Bearer token the server requires.")
        String apiKey;

        @Option(
                names = "--max-context",
                defaultValue = "512",
                description = "Longest prompt plus output to send; prompts of 8 to this "
                        + "less 64 tokens are fitted. Fit the range you will simulate: the model's prefill is "
                        + "a line and an engine's is not (ours: 0.37 ms a "
                        + "token up to 128, 0.7 at 448). Default: ${DEFAULT-VALUE}")
        int maxContext;

        @Option(
                names = "--max-batch",
                defaultValue = "16",
                description = "Largest batch measured, and the profile's batch cap. Default: ${DEFAULT-VALUE}")
        int maxBatch;

        @Option(
                names = "--reps",
                defaultValue = "5",
                description = "Repetitions per point (medians are fitted; on a busy 2-core machine 3 left c to vary "
                        + "2.7x between runs). Default: ${DEFAULT-VALUE}")
        int reps;

        @Override
        public Integer call() {
            if (maxContext < 96 || maxContext > 1 << 20)
                throw new Cli.UserError("--max-context must be in [96, 1048576], got " + maxContext);
            if (maxBatch < 1 || maxBatch > 4096)
                throw new Cli.UserError("--max-batch must be in [1, 4096], got " + maxBatch);
            if (reps < 1 || reps > 50) throw new Cli.UserError("--reps must be in [1, 50], got " + reps);
            var http = OpenAiClient.http(256, Duration.ofSeconds(120));
            List<OpenAiClient> cs = target.stream()
                    .map(t -> new OpenAiClient(http, t, apiKey, true))
                    .toList();
            String m = model != null ? model : ServerProbe.servedModel(cs.get(0));
            String n = name != null ? name : out.getFileName().toString().replaceFirst("\\.json$", "");
            System.err.println("sim calibrate: fitting " + String.join(",", target) + " (model " + m + ")");
            Profile p = new Calibrator(cs, String.join(",", target), m, System.err).run(n, maxContext, maxBatch, reps);
            p.write(out);
            System.out.printf(
                    Locale.ROOT,
                    "a=%.3f ms b=%.5f ms/token (R2 %.3f)  c=%.3f ms d=%.4f ms/seq e=%.6f ms/context token (R2 %.3f)  "
                            + "full speed at once: %s decodes, %s empty prefills, %s long ones, "
                            + "prefills %.2fx slower beside decodes  -> %s%n",
                    p.model().a(),
                    p.model().b(),
                    p.r2Prefill(),
                    p.model().c(),
                    p.model().d(),
                    p.model().e(),
                    p.r2Decode(),
                    atOnce(p.model().contention().decodes()),
                    atOnce(p.model().contention().prefills()),
                    atOnce(p.model().contention().longPrefills()),
                    p.model().contention().prefillBesideDecodes(),
                    out);
            return 0;
        }

        private static String atOnce(double k) {
            return k == 0 ? "any" : String.format(Locale.ROOT, "%.2f", k);
        }
    }

    @Command(
            name = "sweep",
            mixinStandardHelpOptions = true,
            description = "Throughput, p99 and weight propagation against host count, "
                    + "on simulated hosts (network namespaces with tc-shaped links, simulated engines); needs "
                    + "root. Writes a results folder with "
                    + "sim_sweep.csv, sim_weights.csv, plots and REPORT.md.")
    static final class SweepHosts implements Callable<Integer> {
        @Option(
                names = "--hosts",
                split = ",",
                defaultValue = "8,16,32,64",
                description = "Host counts. Default: ${DEFAULT-VALUE}")
        List<Integer> hosts;

        @Option(
                names = "--ports",
                defaultValue = "4",
                description = "Ports per host (one serve process per host). Default: ${DEFAULT-VALUE}")
        int ports;

        @Option(
                names = "--profile",
                defaultValue = "rollout-lab-small-2core",
                description = "Engine timing profile. Default: ${DEFAULT-VALUE}")
        String profile;

        @Option(
                names = "--link",
                defaultValue = "cross-zone",
                description = "cross-zone (2 ms, 10 Gbit/s), slow-link (20 ms, 100 Mbit/s), "
                        + "same-rack (0.2 ms, 25 Gbit/s), loopback, or rtt=MS,rate=MBIT[,jitter=MS][,loss=PCT]; "
                        + "the delay by tc netem where the kernel has it, else inside each host's server "
                        + "(no loss then). "
                        + "Default: ${DEFAULT-VALUE}")
        String link;

        @picocli.CommandLine.Mixin
        WeightScale weights;

        @Option(
                names = "--requests-per-port",
                defaultValue = "8",
                description = "Requests per port and host count (p99 needs 1,000 in all: "
                        + "from 32 hosts x 4 ports up at the default). Default: ${DEFAULT-VALUE}")
        int requestsPerPort;

        @Option(names = "--concurrency-per-port", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}")
        int concurrencyPerPort;

        @Option(
                names = "--prompt-tokens",
                description = "Default: 64, and 448 with --group-size (a group's shared prompt is what it saves).")
        Integer promptTokens;

        @Option(names = "--output-tokens", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}")
        int outputTokens;

        @Option(
                names = "--group-size",
                defaultValue = "0",
                description = "Sweep GRPO groups instead: each prompt sent as this many separate requests to simulated "
                        + "engines with prefix caches, through client round robin and the balancer's round-robin, "
                        + "cache-aware and sticky policies; writes sim_prefix.csv. 0: the throughput and weights "
                        + "sweep. Default: ${DEFAULT-VALUE}")
        int groupSize;

        @Option(names = "--out", description = "Results folder. Default: results/<run-id>.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (groupSize != 0 && (groupSize < 2 || groupSize > 64))
                throw new Cli.UserError("--group-size must be 0 (off) or in [2, 64], got " + groupSize);
            int promptTokens = this.promptTokens != null ? this.promptTokens : groupSize > 0 ? 448 : 64;
            for (int h : hosts)
                if (h < 1 || h > NetnsFleet.MAX_HOSTS)
                    throw new Cli.UserError("--hosts: each count must be in [1, 200], got " + h);
            if (ports < 1 || ports > 16) throw new Cli.UserError("--ports must be in [1, 16], got " + ports);
            weights.check();
            if (requestsPerPort < 1 || requestsPerPort > 1000 || concurrencyPerPort < 1 || concurrencyPerPort > 256) {
                throw new Cli.UserError(
                        "--requests-per-port must be in [1, 1000] and --concurrency-per-port in [1, 256]");
            }
            if (promptTokens < 1 || outputTokens < 1 || promptTokens + outputTokens > 500)
                throw new Cli.UserError("--prompt-tokens + --output-tokens must be at most 500");
            String why = NetnsFleet.unsupportedReason();
            if (why != null) throw new Cli.UserError(why);
            LinkProfile l;
            try {
                l = LinkProfile.parse(link);
                Profile.load(profile);
            } catch (IllegalArgumentException e) {
                throw new Cli.UserError(e.getMessage());
            }
            var cfg = new Sweep.Config(
                    hosts.stream().sorted().toList(),
                    ports,
                    profile,
                    l,
                    weights.bytesScale,
                    weights.modelGb,
                    requestsPerPort,
                    concurrencyPerPort,
                    promptTokens,
                    outputTokens,
                    groupSize);
            Path dir = new Sweep(cfg, System.err).run(out);
            System.out.println("report: " + SimReport.write(dir));
            System.out.println("results: " + dir);
            return 0;
        }
    }
}
