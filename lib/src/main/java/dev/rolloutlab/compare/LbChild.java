package dev.rolloutlab.compare;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.OkHttpClient;

/** A balancer that compare starts in a child JVM on a free loopback port, and its URL once {@code /health} answers. */
record LbChild(ChildJvm jvm, String url, OpenAiClient client) {
    /**
     * {@code lb} in front of {@code backends} under {@code policy}, with {@code extraArgs}; its log goes to
     * {@code log}.
     */
    static LbChild start(List<String> backends, String policy, List<String> extraArgs, Path log, OkHttpClient http) {
        int port = Ports.free();
        List<String> args = new ArrayList<>(List.of(
                "--listen-port",
                String.valueOf(port),
                "--backends",
                String.join(",", backends),
                "--policy",
                policy,
                "--quiet"));
        args.addAll(extraArgs);
        ChildJvm lb = ChildJvm.start("lb", args, log);
        String url = "http://127.0.0.1:" + port;
        OpenAiClient probe = new OpenAiClient(http, url, null, true);
        if (!Await.until(() -> !lb.alive() || probe.get("/health").status() == 200, Duration.ofSeconds(60))
                || !lb.alive()) {
            String why = "lb --policy " + policy + " did not start:\n" + lb.tail(20);
            lb.close();
            throw new IllegalStateException(why);
        }
        return new LbChild(lb, url, probe);
    }
}
