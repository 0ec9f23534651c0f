package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The blocked attention kernels of both providers against a double-precision evaluation of
 * the formula, over shapes that cross the query and key blocks (a partial last block, one
 * query, one key, widths off the lane count), causal and not; and the same results whatever
 * the number of threads (each output element is computed by one thread in one order).
 */
class AttentionKernelsTest {

    private static final KernelProvider[] PROVIDERS = {KernelProvider.named("scalar"), KernelProvider.named("vector")};

    /** {batch, t, s, d, dv}. */
    private static final int[][] SHAPES = {
        {1, 1, 1, 1, 1}, {2, 3, 5, 4, 4}, {3, 33, 33, 7, 9}, {1, 70, 300, 16, 8}, {2, 300, 129, 32, 32},
        {1, 5, 260, 3, 1}, {4, 64, 64, 32, 32},
    };

    private static float[] random(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /** Output, log-sum-exp and the three gradients in double, straight from the definition. */
    private static double[][] reference(float[] q, float[] k, float[] v, float[] dOut, int[] shape, boolean causal) {
        int batch = shape[0], t = shape[1], s = shape[2], d = shape[3], dv = shape[4];
        double scale = 1 / Math.sqrt(d);
        double[] out = new double[batch * t * dv];
        double[] lse = new double[batch * t];
        double[] dq = new double[batch * t * d];
        double[] dk = new double[batch * s * d];
        double[] dvv = new double[batch * s * dv];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < t; i++) {
                int n = causal ? Math.min(s, i + 1) : s;
                double[] p = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += (double) q[(b * t + i) * d + c] * k[(b * s + j) * d + c];
                    }
                    p[j] = dot * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += Math.exp(p[j] - max);
                }
                lse[b * t + i] = max + Math.log(sum);
                for (int j = 0; j < n; j++) {
                    p[j] = Math.exp(p[j] - lse[b * t + i]);
                    for (int c = 0; c < dv; c++) {
                        out[(b * t + i) * dv + c] += p[j] * v[(b * s + j) * dv + c];
                    }
                }
                double[] dp = new double[n];
                double rowDot = 0;
                for (int j = 0; j < n; j++) {
                    for (int c = 0; c < dv; c++) {
                        dp[j] += (double) dOut[(b * t + i) * dv + c] * v[(b * s + j) * dv + c];
                    }
                    rowDot += p[j] * dp[j];
                }
                for (int j = 0; j < n; j++) {
                    double ds = p[j] * (dp[j] - rowDot) * scale;
                    for (int c = 0; c < d; c++) {
                        dq[(b * t + i) * d + c] += ds * k[(b * s + j) * d + c];
                        dk[(b * s + j) * d + c] += ds * q[(b * t + i) * d + c];
                    }
                    for (int c = 0; c < dv; c++) {
                        dvv[(b * s + j) * dv + c] += p[j] * dOut[(b * t + i) * dv + c];
                    }
                }
            }
        }
        return new double[][] {out, lse, dq, dk, dvv};
    }

    private static void assertNear(double[] expected, float[] actual, int from, double tolerance, String label) {
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[from + i]) <= tolerance * Math.max(1, Math.abs(expected[i])))) {
                fail(label + ", element " + i + ": expected " + expected[i] + " but was " + actual[from + i]);
            }
        }
    }

    @Test
    void bothProvidersMatchTheDefinitionInDouble() {
        long seed = 17;
        for (int[] shape : SHAPES) {
            for (boolean causal : new boolean[] {false, true}) {
                int batch = shape[0], t = shape[1], s = shape[2], d = shape[3], dv = shape[4];
                SplittableRandom random = new SplittableRandom(seed++);
                float[] q = random(random, batch * t * d);
                float[] k = random(random, batch * s * d);
                float[] v = random(random, batch * s * dv);
                float[] dOut = random(random, batch * t * dv);
                double[][] expected = reference(q, k, v, dOut, shape, causal);
                double tolerance = 1e-5 * (1 + Math.sqrt(s));
                for (KernelProvider provider : PROVIDERS) {
                    String label = provider.name() + " " + java.util.Arrays.toString(shape) + (causal ? " causal" : "");
                    float[] out = new float[batch * t * dv];
                    float[] lse = new float[batch * t];
                    provider.attention(q, k, v, batch, t, s, d, dv, causal, (float) (1 / Math.sqrt(d)), out, lse);
                    assertNear(expected[0], out, 0, tolerance, label + " output");
                    assertNear(expected[1], lse, 0, tolerance, label + " log-sum-exp");
                    float[] grads = new float[batch * (t * d + s * d + s * dv) + 3];
                    java.util.Arrays.fill(grads, Float.NaN);
                    provider.attentionGrad(q, k, v, out, lse, dOut, batch, t, s, d, dv, causal,
                            (float) (1 / Math.sqrt(d)), grads);
                    assertNear(expected[2], grads, 0, tolerance, label + " dq");
                    assertNear(expected[3], grads, batch * t * d, tolerance, label + " dk");
                    assertNear(expected[4], grads, batch * (t * d + s * d), tolerance, label + " dv");
                }
            }
        }
    }

    @Test
    void theVectorKernelsGiveTheSameBitsOnOneThreadAsOnMany() {
        int batch = 6, t = 100, s = 100, d = 16, dv = 16;
        SplittableRandom random = new SplittableRandom(5);
        float[] q = random(random, batch * t * d);
        float[] k = random(random, batch * s * d);
        float[] v = random(random, batch * s * dv);
        float[] dOut = random(random, batch * t * dv);
        float[][] results = new float[2][];
        for (int run = 0; run < 2; run++) {
            float[] out = new float[batch * t * dv];
            float[] lse = new float[batch * t];
            float[] grads = new float[batch * (t * d + s * d + s * dv)];
            Runnable body = () -> {
                PROVIDERS[1].attention(q, k, v, batch, t, s, d, dv, true, 0.25f, out, lse);
                PROVIDERS[1].attentionGrad(q, k, v, out, lse, dOut, batch, t, s, d, dv, true, 0.25f, grads);
            };
            if (run == 0) {
                body.run();
            } else {
                // Inside any fork-join pool (here the common one), Parallel.run runs every part on the calling thread.
                java.util.concurrent.ForkJoinPool.commonPool().submit(body).join();
            }
            float[] all = new float[out.length + grads.length];
            System.arraycopy(out, 0, all, 0, out.length);
            System.arraycopy(grads, 0, all, out.length, grads.length);
            results[run] = all;
        }
        assertArrayEquals(results[0], results[1]);
    }
}
