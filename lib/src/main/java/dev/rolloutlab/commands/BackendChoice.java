package dev.rolloutlab.commands;

import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.util.HostPort;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where requests go, exactly one of three (a picocli argument group): one URL, a list, or a commander registry. */
final class BackendChoice {
    @Option(names = "--target", description = "One OpenAI base URL (our serve, the LB, sglang-jax, vLLM, …).")
    String target;

    @Option(names = "--backends", split = ",", description = "Several base URLs or host:port.")
    List<String> backends;

    @Option(names = "--registry-url", description = "A commander registry; its GET /backends lists the servers.")
    String registryUrl;

    /** The backends as normalised URLs; the registry's answer also carries its model name. */
    Registry.BackendList resolve() {
        List<String> urls = new ArrayList<>();
        String model = null;
        try {
            if (target != null) urls.add(HostPort.url(target));
            if (backends != null) for (String b : backends) urls.add(HostPort.url(b));
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage() + " (flag " + (target != null ? "--target" : "--backends") + ")");
        }
        if (registryUrl != null) {
            Registry.BackendList r;
            try {
                r = Registry.fetchBackends(registryUrl, Duration.ofSeconds(10));
            } catch (IllegalStateException e) {
                throw new Cli.UserError(e.getMessage() + " (flag --registry-url)", 1);
            }
            r.backends().forEach(b -> urls.add(HostPort.url(b)));
            model = r.model();
        }
        if (urls.isEmpty())
            throw new Cli.UserError(registryUrl != null ? "the registry lists no backends" : "no backends to send to");
        return new Registry.BackendList(true, model, urls, Map.of());
    }

    /** The flags as given (for run.json). */
    List<String> given() {
        if (target != null) return List.of(target);
        if (backends != null) return backends;
        return List.of(registryUrl);
    }
}
