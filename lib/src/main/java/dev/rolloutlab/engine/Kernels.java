package dev.rolloutlab.engine;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The numeric kernels of the forward pass. {@code dot} uses the JDK Vector API when the JVM was started with
 * {@code --add-modules jdk.incubator.vector} and a scalar loop otherwise; matmul splits output rows across cores.
 */
final class Kernels {
    static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !Boolean.getBoolean("rolloutlab.scalar");
    /** Below this many multiply-adds a matmul runs on the calling thread: forking costs more than it saves. */
    private static final long PARALLEL_WORK = 1L << 17;
    private static final ForkJoinPool POOL = ForkJoinPool.commonPool();

    private Kernels() {
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        return VECTOR ? VectorKernels.dot(a, ao, b, bo, n) : scalarDot(a, ao, b, bo, n);
    }

    static float scalarDot(float[] a, int ao, float[] b, int bo, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + 1] * b[bo + i + 1];
            s2 += a[ao + i + 2] * b[bo + i + 2];
            s3 += a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < n; i++) s0 += a[ao + i] * b[bo + i];
        return (s0 + s1) + (s2 + s3);
    }

    /** y[b][o] = sum_i x[b][i] * w[o][i] + bias[o], for {@code rows} input rows; w is [out][in] as in HF Linear. */
    static void matmul(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y) {
        long work = (long) rows * in * out;
        if (work < PARALLEL_WORK || POOL.getParallelism() < 2) {
            matmulRange(x, rows, in, w, bias, out, y, 0, out);
        } else {
            int chunks = Math.min(out, POOL.getParallelism() * 4);
            POOL.invoke(new MatmulTask(x, rows, in, w, bias, out, y, 0, chunks, chunks));
        }
    }

    private static void matmulRange(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y, int from, int to) {
        float[] four = new float[4];
        for (int o = from; o < to; o++) {
            int wo = o * in;
            float bo = bias == null ? 0f : bias[o];
            int r = 0;
            if (VECTOR) {
                for (; r + 3 < rows; r += 4) {
                    VectorKernels.dot4(w, wo, x, r * in, (r + 1) * in, (r + 2) * in, (r + 3) * in, in, four);
                    y[r * out + o] = four[0] + bo;
                    y[(r + 1) * out + o] = four[1] + bo;
                    y[(r + 2) * out + o] = four[2] + bo;
                    y[(r + 3) * out + o] = four[3] + bo;
                }
            }
            for (; r < rows; r++) y[r * out + o] = dot(w, wo, x, r * in, in) + bo;
        }
    }

    private static final class MatmulTask extends RecursiveAction {
        final float[] x, w, bias, y;
        final int rows, in, out, lo, hi, chunks;

        MatmulTask(float[] x, int rows, int in, float[] w, float[] bias, int out, float[] y, int lo, int hi, int chunks) {
            this.x = x;
            this.rows = rows;
            this.in = in;
            this.w = w;
            this.bias = bias;
            this.out = out;
            this.y = y;
            this.lo = lo;
            this.hi = hi;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                int from = (int) ((long) out * lo / chunks), to = (int) ((long) out * hi / chunks);
                matmulRange(x, rows, in, w, bias, out, y, from, to);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new MatmulTask(x, rows, in, w, bias, out, y, lo, mid, chunks),
                    new MatmulTask(x, rows, in, w, bias, out, y, mid, hi, chunks));
        }
    }

    /** Runs body(i) for i in [0, n), in parallel when {@code work} is large enough to pay for it. */
    static void parallelFor(int n, long work, java.util.function.IntConsumer body) {
        if (n <= 1 || work < PARALLEL_WORK || POOL.getParallelism() < 2) {
            for (int i = 0; i < n; i++) body.accept(i);
        } else {
            java.util.stream.IntStream.range(0, n).parallel().forEach(body);
        }
    }

    static void rmsnorm(float[] x, int xo, float[] w, float eps, float[] y, int yo, int n) {
        float ss = 0;
        for (int i = 0; i < n; i++) ss += x[xo + i] * x[xo + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * inv * w[i];
    }

    /** y[i] += s * x[i]. */
    static void axpy(float s, float[] x, int xo, float[] y, int yo, int n) {
        if (VECTOR) VectorKernels.axpy(s, x, xo, y, yo, n);
        else for (int i = 0; i < n; i++) y[yo + i] += s * x[xo + i];
    }
}
