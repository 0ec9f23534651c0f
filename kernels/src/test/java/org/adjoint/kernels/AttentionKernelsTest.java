package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
        {1, 5, 260, 3, 1}, {4, 64, 64, 32, 32}, {2, 10, 40, 20, 24}, {2, 50, 7, 33, 17}, {1, 9, 12, 128, 128},
        {1, 9, 12, 129, 3},
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
        sameBitsOnOneThreadAsOnMany(6, 100, 100, 16, 16);
        sameBitsOnOneThreadAsOnMany(7, 64, 64, 32, 32); // the small-head form
    }

    /**
     * Heads read and written in place in {@code [batch, time, heads, width]} arrays (queries,
     * keys and values side by side in one array as a fused projection makes them, the output
     * and its cotangent in another, the three gradients side by side in a third) give the same
     * bits as packed copies of the heads.
     */
    @Test
    void headsReadInPlaceGiveTheBitsOfPackedCopies() {
        int[][] shapes = {{2, 3, 64, 32}, {2, 2, 5, 3}, {1, 2, 70, 8}}; // {batch, heads, time, width}
        for (KernelProvider provider : PROVIDERS) {
            for (int[] shape : shapes) {
                for (boolean causal : new boolean[] {false, true}) {
                    int batch = shape[0], heads = shape[1], t = shape[2], w = shape[3];
                    int width = heads * w;
                    String label = provider.name() + " " + java.util.Arrays.toString(shape) + (causal ? " causal" : "");
                    SplittableRandom random = new SplittableRandom(31);
                    float[] qkv = random(random, batch * t * 3 * width);
                    float[] dOut = random(random, batch * t * width);
                    // [batch, time, 3, heads, w] seen as [batch, heads] items of t rows 3·width apart.
                    int[] batchShape = {batch, heads};
                    int[] strides = {t * 3 * width, w};
                    MatrixRows q = new MatrixRows(qkv, 0, strides, 3 * width);
                    MatrixRows k = new MatrixRows(qkv, width, strides, 3 * width);
                    MatrixRows v = new MatrixRows(qkv, 2 * width, strides, 3 * width);
                    float[] out = new float[batch * t * width];
                    MatrixRows outRows = new MatrixRows(out, 0, new int[] {t * width, w}, width);
                    MatrixRows dOutRows = new MatrixRows(dOut, 0, new int[] {t * width, w}, width);
                    float[] lse = new float[batch * heads * t];
                    float scale = (float) (1 / Math.sqrt(w));
                    provider.attention(q, k, v, batchShape, t, t, w, w, causal, scale, outRows, lse);
                    float[] grads = new float[qkv.length];
                    java.util.Arrays.fill(grads, Float.NaN);
                    provider.attentionGrad(q, k, v, outRows, lse, dOutRows, batchShape, t, t, w, w, causal, scale,
                            new MatrixRows(grads, 0, strides, 3 * width), new MatrixRows(grads, width, strides, 3 * width),
                            new MatrixRows(grads, 2 * width, strides, 3 * width));
                    // The same heads packed [batch·heads, t, w].
                    int items = batch * heads;
                    float[][] packed = new float[4][items * t * w];
                    for (int b = 0; b < batch; b++) {
                        for (int h = 0; h < heads; h++) {
                            for (int i = 0; i < t; i++) {
                                for (int c = 0; c < w; c++) {
                                    int to = ((b * heads + h) * t + i) * w + c;
                                    int from = (b * t + i) * 3 * width + h * w + c;
                                    packed[0][to] = qkv[from];
                                    packed[1][to] = qkv[from + width];
                                    packed[2][to] = qkv[from + 2 * width];
                                    packed[3][to] = dOut[(b * t + i) * width + h * w + c];
                                }
                            }
                        }
                    }
                    float[] packedOut = new float[items * t * w];
                    float[] packedLse = new float[items * t];
                    provider.attention(packed[0], packed[1], packed[2], items, t, t, w, w, causal, scale, packedOut,
                            packedLse);
                    float[] packedGrads = new float[3 * items * t * w];
                    provider.attentionGrad(packed[0], packed[1], packed[2], packedOut, packedLse, packed[3], items, t, t,
                            w, w, causal, scale, packedGrads);
                    assertArrayEquals(packedLse, lse, label + " log-sum-exp");
                    for (int b = 0; b < batch; b++) {
                        for (int h = 0; h < heads; h++) {
                            for (int i = 0; i < t; i++) {
                                for (int c = 0; c < w; c++) {
                                    int at = ((b * heads + h) * t + i) * w + c;
                                    int row = (b * t + i) * 3 * width + h * w + c;
                                    String where = label + " at " + b + "," + h + "," + i + "," + c;
                                    assertEquals(packedOut[at], out[(b * t + i) * width + h * w + c], where + " out");
                                    assertEquals(packedGrads[at], grads[row], where + " dq");
                                    assertEquals(packedGrads[items * t * w + at], grads[row + width], where + " dk");
                                    assertEquals(packedGrads[2 * items * t * w + at], grads[row + 2 * width],
                                            where + " dv");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void sameBitsOnOneThreadAsOnMany(int batch, int t, int s, int d, int dv) {
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
