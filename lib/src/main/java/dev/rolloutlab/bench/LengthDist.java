package dev.rolloutlab.bench;

import java.util.SplittableRandom;

/** A token-length distribution: {@code N} (fixed), {@code uniform:A:B} or {@code normal:MEAN:STD} (clipped to >= 1). */
public record LengthDist(String kind, double a, double b) {

    public static LengthDist parse(String spec, String flag) {
        String[] p = spec.trim().split(":");
        try {
            return switch (p[0]) {
                case "uniform" -> {
                    if (p.length != 3) throw new IllegalArgumentException();
                    LengthDist d = new LengthDist("uniform", Double.parseDouble(p[1]), Double.parseDouble(p[2]));
                    if (d.a < 1 || d.b < d.a) throw new IllegalArgumentException();
                    yield d;
                }
                case "normal" -> {
                    if (p.length != 3) throw new IllegalArgumentException();
                    yield new LengthDist("normal", Double.parseDouble(p[1]), Double.parseDouble(p[2]));
                }
                case "fixed" -> new LengthDist("fixed", Double.parseDouble(p[1]), 0);
                default -> {
                    if (p.length != 1) throw new IllegalArgumentException();
                    double v = Double.parseDouble(p[0]);
                    if (v < 1) throw new IllegalArgumentException();
                    yield new LengthDist("fixed", v, 0);
                }
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                    flag + " " + spec + ": expected N, uniform:A:B (1 <= A <= B) or normal:MEAN:STD");
        }
    }

    public static LengthDist fixed(int n) {
        return new LengthDist("fixed", n, 0);
    }

    public int sample(SplittableRandom r) {
        double v = switch (kind) {
            case "uniform" -> a + r.nextDouble() * (b - a + 1);
            case "normal" -> a + b * gaussian(r);
            default -> a;
        };
        return Math.max(1, (int) Math.floor(v));
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    @Override
    public String toString() {
        return switch (kind) {
            case "uniform" -> "uniform:" + (int) a + ":" + (int) b;
            case "normal" -> "normal:" + a + ":" + b;
            default -> String.valueOf((int) a);
        };
    }
}
