package dev.rolloutlab.compare;

import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.StepTotals;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.Wire;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.util.List;

/**
 * The step totals of every engine an experiment runs, summed: those in this JVM read directly, serve's from each port's
 * {@code /get_load}. Read before and after a leg, the difference is that leg's steps, since the other engines idle
 * meanwhile; it tells whether one leg's engines batched their decoding worse than another's.
 */
final class EngineSteps {
    private final List<InProcessEngine> local;
    private final List<OpenAiClient> ports;

    EngineSteps(List<InProcessEngine> local, List<OpenAiClient> ports) {
        this.local = List.copyOf(local);
        this.ports = List.copyOf(ports);
    }

    /** The totals now; throws if a port does not report its steps (a server that is not ours). */
    StepTotals read() {
        StepTotals sum = StepTotals.NONE;
        for (InProcessEngine e : local) sum = sum.plus(e.steps());
        for (OpenAiClient p : ports) {
            OpenAiClient.Exchange x = p.get("/get_load");
            Wire.StepsLoad s = null;
            try {
                if (x.ok()) s = Json.read(x.body(), Wire.Load.class).steps();
            } catch (IOException e) {
                // not a load our serve writes: said below
            }
            if (s == null)
                throw new IllegalStateException(p.baseUrl() + "/get_load gave no engine steps (HTTP " + x.status()
                        + (x.error() != null ? ", " + x.error() : "") + ")");
            sum = sum.plus(new StepTotals(s.count(), s.decodeRows(), s.prefillTokens(), Math.round(s.busyMs() * 1e6)));
        }
        return sum;
    }
}
