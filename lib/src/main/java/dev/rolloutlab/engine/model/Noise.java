package dev.rolloutlab.engine.model;

import dev.rolloutlab.engine.kernels.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded Gaussian noise: random checkpoints and the perturbation that stands in for a training step. */
public final class Noise {
    private Noise() {}

    /** A standard normal draw (Box-Muller), reproducible from the generator's state. */
    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /**
     * Copies of {@code tensors} with noise times {@code scale} added; tensor i draws from its own stream of
     * {@code seed}.
     */
    public static Map<String, Tensor> added(List<Tensor> tensors, long seed, double scale) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
            float[] d = t.data().clone();
            for (int j = 0; j < d.length; j++) d[j] += (float) (gaussian(rnd) * scale);
            out.put(t.name(), new Tensor(t.name(), t.shape(), d));
        }
        return out;
    }
}
