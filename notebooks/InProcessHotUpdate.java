///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS dev.rolloutlab:rollout-lab:0.1.0-SNAPSHOT
//JAVA_OPTIONS --add-modules jdk.incubator.vector

// The engine as a library, as a trainer or a notebook uses it: generate, swap weights in memory, generate again.
// Run: ./jbang notebooks/InProcessHotUpdate.java [model-dir]   (default: the built-in tiny model)

import dev.rolloutlab.engine.*;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.DefaultModels;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

public class InProcessHotUpdate {
    public static void main(String... args) {
        Path dir = DefaultModels.resolve(args.length > 0 ? Path.of(args[0]) : null, "tiny");
        try (InProcessEngine engine = InProcessEngine.open(dir)) {
            SamplingParams p = SamplingParams.greedy(12).withIgnoreEos(true);
            Sample before = engine.generate("Once upon a time", p, 1).samples().get(0);
            double checksumBefore = engine.weights().checksum();
            System.out.printf("version=%d checksum_before=%s tokens=%s%n", before.minVersion(), checksumBefore, java.util.Arrays.toString(before.tokenIds()));

            // what a trainer hands over after an optimiser step: new values for (some of) the tensors
            Map<String, Tensor> update = new LinkedHashMap<>();
            for (Tensor t : engine.weights().tensors().values()) {
                float[] d = t.data().clone();
                for (int i = 0; i < d.length; i++) d[i] *= 1.05f;
                update.put(t.name(), new Tensor(t.name(), t.shape(), d));
            }
            long t0 = System.nanoTime();
            long v = engine.updateWeights(update);
            double ms = (System.nanoTime() - t0) / 1e6;
            double checksumAfter = engine.weights().checksum();
            Sample after = engine.generate("Once upon a time", p, 1).samples().get(0);
            System.out.printf("version=%d checksum_after=%s checksum_delta=%s update_ms=%.3f tokens=%s%n", after.minVersion(), checksumAfter,
                    checksumAfter - checksumBefore, ms, java.util.Arrays.toString(after.tokenIds()));
            System.out.println("every token of the second sample was sampled under version " + after.maxVersion());
        }
    }
}
