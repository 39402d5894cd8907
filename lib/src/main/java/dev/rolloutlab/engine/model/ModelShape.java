package dev.rolloutlab.engine.model;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import java.util.List;

/**
 * Named model sizes for random checkpoints: {@code tiny} for fast tests, {@code small} like stories15M (hidden 288, 6
 * layers, 6 heads, vocab 32000), or {@code HxLxV} (hidden x layers x vocab).
 */
public final class ModelShape {
    private ModelShape() {}

    public static ModelConfig parse(String shape, ModelConfig.Architecture arch) {
        String s = shape.trim().toLowerCase();
        int eos = -1;
        return switch (s) {
            case "tiny" -> config(arch, 64, 2, 4, 2, 176, 1024, 512);
            case "small" -> config(arch, 288, 6, 6, 6, 768, 32000, 1024);
            default -> {
                String[] p = s.split("x");
                if (p.length != 3) throw badShape(shape);
                int h, l, v;
                try {
                    h = Integer.parseInt(p[0]);
                    l = Integer.parseInt(p[1]);
                    v = Integer.parseInt(p[2]);
                } catch (NumberFormatException e) {
                    throw badShape(shape);
                }
                int hd = h % 64 == 0 ? 64 : h % 48 == 0 ? 48 : h % 32 == 0 ? 32 : h % 16 == 0 ? 16 : -1;
                if (hd < 0 || h > MAX_HIDDEN || l < 1 || l > MAX_LAYERS || v < 259 || v > MAX_VOCAB) {
                    throw new IllegalArgumentException("--shape " + shape + ": hidden must be a multiple of 16 up to "
                            + MAX_HIDDEN + ", layers 1-" + MAX_LAYERS + ", vocab 259-" + MAX_VOCAB);
                }
                int inter = ((h * 8 / 3) + 15) / 16 * 16;
                // counted in longs: the product of in-range dimensions still overflows an int
                long params = 2L * v * h + (long) l * (4L * h * h + 3L * h * inter);
                if (params > MAX_PARAMS) {
                    throw new IllegalArgumentException(
                            "--shape " + shape + ": " + params + " parameters; random checkpoints are capped at "
                                    + MAX_PARAMS + " (" + (MAX_PARAMS * 4 >> 30) + " GiB in F32)");
                }
                yield config(arch, h, l, h / hd, h / hd, inter, v, 1024);
            }
        };
    }

    /** Bounds of an {@code HxLxV} shape: past them a random checkpoint is no longer a test model. */
    public static final int MAX_HIDDEN = 8192, MAX_LAYERS = 128, MAX_VOCAB = 262_144;

    public static final long MAX_PARAMS = 1L << 30;

    private static IllegalArgumentException badShape(String shape) {
        return new IllegalArgumentException("--shape " + shape + ": expected tiny, small or HxLxV such as 288x6x32000");
    }

    private static ModelConfig config(
            ModelConfig.Architecture arch,
            int hidden,
            int layers,
            int heads,
            int kvHeads,
            int inter,
            int vocab,
            int ctx) {
        int imEnd = vocab - 1; // TokenizerBuilder puts <|endoftext|>, <|im_start|>, <|im_end|> last
        return new ModelConfig(
                arch,
                hidden,
                inter,
                layers,
                heads,
                kvHeads,
                hidden / heads,
                vocab,
                ctx,
                arch == ModelConfig.Architecture.QWEN2 ? 1_000_000.0 : 10_000.0,
                1e-5,
                arch == ModelConfig.Architecture.QWEN2,
                vocab - 3,
                List.of(imEnd),
                DType.F32);
    }
}
