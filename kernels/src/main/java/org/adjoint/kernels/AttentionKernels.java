package org.adjoint.kernels;

import java.util.Arrays;

/**
 * Scaled dot-product attention on the CPU without the {@code T × S} scores, in the style of
 * FlashAttention: blocks of {@link #QUERY_BLOCK} queries against blocks of {@link #KEY_BLOCK}
 * keys, each block product a small GEMM of the provider (serial at these sizes), the softmax
 * online across key blocks. Only one {@code QUERY_BLOCK × KEY_BLOCK} block of scores per
 * thread exists at a time.
 *
 * <p>Operands are contiguous: {@code q [batch, t, d]}, {@code k [batch, s, d]},
 * {@code v [batch, s, dv]}. Forward: threads over (batch item, query block); per query row a
 * running maximum, a running sum and an output accumulator, rescaled when the maximum grows;
 * the output and each row's log-sum-exp are written. Backward: threads over batch items (each
 * owns its rows of {@code dq}, {@code dk} and {@code dv}); per block pair
 * {@code P = exp(scores − lse)}, {@code dv += Pᵀ·dO}, {@code dP = dO·vᵀ},
 * {@code dS = P ⊙ (dP − rowsum(dO ⊙ o))}, {@code dq += scale·dS·k}, {@code dk += scale·dSᵀ·q}.
 * Each output element is computed by one thread in a fixed order, so results do not depend
 * on the thread count. The row operations are written once over {@link Lanes}: plain loops
 * for the scalar provider ({@link #SCALAR}), the Vector API for the vector one.
 */
public final class AttentionKernels {

    /** Queries per block. */
    static final int QUERY_BLOCK = 64;
    /** Keys per block (per online-softmax step). */
    static final int KEY_BLOCK = 64;

    /** The row operations the loops are written in; a provider supplies them. */
    interface Lanes {
        /** {@code Σ x[xo + i] · y[yo + i]}. */
        float dot(float[] x, int xo, float[] y, int yo, int n);

        /** {@code max x[o + i]}, or −∞ when {@code n} is 0. */
        float max(float[] x, int o, int n);

        /** {@code x[o + i] = exp(x[o + i] − shift)} in place; returns their sum. */
        float expShifted(float[] x, int o, int n, float shift);

        /** {@code y[o + i] *= a}. */
        void scale(float[] y, int o, int n, float a);

        /** {@code dp[o + i] = p[o + i] · (dp[o + i] − d)}: the softmax's VJP on one row. */
        void softmaxGrad(float[] p, float[] dp, int o, int n, float d);
    }

    /** Plain loops. */
    static final Lanes SCALAR = new Lanes() {
        @Override
        public float dot(float[] x, int xo, float[] y, int yo, int n) {
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                sum += x[xo + i] * y[yo + i];
            }
            return sum;
        }

        @Override
        public float max(float[] x, int o, int n) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[o + i]);
            }
            return max;
        }

        @Override
        public float expShifted(float[] x, int o, int n, float shift) {
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                float e = (float) Math.exp(x[o + i] - shift);
                x[o + i] = e;
                sum += e;
            }
            return sum;
        }

        @Override
        public void scale(float[] y, int o, int n, float a) {
            for (int i = 0; i < n; i++) {
                y[o + i] *= a;
            }
        }

        @Override
        public void softmaxGrad(float[] p, float[] dp, int o, int n, float d) {
            for (int i = o; i < o + n; i++) {
                dp[i] = p[i] * (dp[i] - d);
            }
        }
    };

    private AttentionKernels() {
    }

    /** With {@code causal}, masks the block's scores of keys after each query with −∞. */
    private static void mask(float[] scores, int first, int rows, int j0, int n, boolean causal) {
        if (!causal) {
            return;
        }
        for (int r = 0; r < rows; r++) {
            int visible = Math.max(0, first + r + 1 - j0);
            if (visible < n) {
                Arrays.fill(scores, r * n + visible, r * n + n, Float.NEGATIVE_INFINITY);
            }
        }
    }

    /**
     * The forward pass: {@code out} and the per-row log-sum-exp.
     *
     * @param gemm      the provider whose GEMM multiplies the blocks
     * @param lanes     the row operations
     * @param q         {@code [batch, t, d]}
     * @param k         {@code [batch, s, d]}
     * @param v         {@code [batch, s, dv]}
     * @param batch     batch items
     * @param t         queries
     * @param s         keys, at least 1
     * @param d         query and key width
     * @param dv        value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     factor of the scores
     * @param out       {@code [batch, t, dv]}
     * @param logSumExp {@code [batch, t]}
     */
    static void forward(KernelProvider gemm, Lanes lanes, float[] q, float[] k, float[] v, int batch, int t, int s,
                        int d, int dv, boolean causal, float scale, float[] out, float[] logSumExp) {
        if ((long) batch * t == 0) {
            return;
        }
        int blocks = (t + QUERY_BLOCK - 1) / QUERY_BLOCK;
        int tasks = batch * blocks;
        int parts = Math.min(Parallel.THREADS, tasks);
        Parallel.run(parts, part -> {
            float[] max = new float[QUERY_BLOCK];
            float[] sum = new float[QUERY_BLOCK];
            float[] acc = new float[QUERY_BLOCK * dv];
            float[] scores = new float[QUERY_BLOCK * KEY_BLOCK];
            // Causal blocks near the end cost more: hand tasks out round-robin.
            for (int task = part; task < tasks; task += parts) {
                int b = task / blocks;
                int first = task % blocks * QUERY_BLOCK;
                int rows = Math.min(QUERY_BLOCK, t - first);
                Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
                Arrays.fill(sum, 0, rows, 0f);
                Arrays.fill(acc, 0, rows * dv, 0f);
                int qOffset = (b * t + first) * d;
                int keyEnd = causal ? Math.min(s, first + rows) : s;
                for (int j0 = 0; j0 < keyEnd; j0 += KEY_BLOCK) {
                    int n = Math.min(KEY_BLOCK, keyEnd - j0);
                    gemm.sgemm(false, true, rows, n, d, scale, q, qOffset, d, k, (b * s + j0) * d, d, 0f, scores, 0, n);
                    mask(scores, first, rows, j0, n, causal);
                    for (int r = 0; r < rows; r++) {
                        float blockMax = lanes.max(scores, r * n, n);
                        if (blockMax == Float.NEGATIVE_INFINITY) {
                            Arrays.fill(scores, r * n, r * n + n, 0f); // no key of this block is visible
                            continue;
                        }
                        float newMax = Math.max(max[r], blockMax);
                        float rescale = (float) Math.exp(max[r] - newMax);
                        sum[r] = sum[r] * rescale + lanes.expShifted(scores, r * n, n, newMax);
                        if (rescale != 1f) {
                            lanes.scale(acc, r * dv, dv, rescale);
                        }
                        max[r] = newMax;
                    }
                    gemm.sgemm(false, false, rows, dv, n, 1f, scores, 0, n, v, (b * s + j0) * dv, dv, 1f, acc, 0, dv);
                }
                for (int r = 0; r < rows; r++) {
                    int i = b * t + first + r;
                    lanes.scale(acc, r * dv, dv, 1f / sum[r]);
                    System.arraycopy(acc, r * dv, out, i * dv, dv);
                    logSumExp[i] = max[r] + (float) Math.log(sum[r]);
                }
            }
        });
    }

    /**
     * The backward pass: {@code dq}, {@code dk}, {@code dv} one after another in {@code grads}.
     *
     * @param gemm      the provider whose GEMM multiplies the blocks
     * @param lanes     the row operations
     * @param q         {@code [batch, t, d]}
     * @param k         {@code [batch, s, d]}
     * @param v         {@code [batch, s, dv]}
     * @param out       the forward output, {@code [batch, t, dv]}
     * @param logSumExp what the forward wrote, {@code [batch, t]}
     * @param dOut      the output's cotangent, {@code [batch, t, dv]}
     * @param batch     batch items
     * @param t         queries
     * @param s         keys, at least 1
     * @param d         query and key width
     * @param dv        value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     factor of the scores
     * @param grads     {@code dq [batch, t, d]}, {@code dk [batch, s, d]}, {@code dv [batch, s, dv]}
     */
    static void backward(KernelProvider gemm, Lanes lanes, float[] q, float[] k, float[] v, float[] out,
                         float[] logSumExp, float[] dOut, int batch, int t, int s, int d, int dv, boolean causal,
                         float scale, float[] grads) {
        int dkAt = batch * t * d;
        int dvAt = dkAt + batch * s * d;
        Arrays.fill(grads, 0, dvAt + batch * s * dv, 0f);
        if ((long) batch * t == 0) {
            return;
        }
        int parts = Math.min(Parallel.THREADS, batch);
        Parallel.run(parts, part -> {
            float[] p = new float[QUERY_BLOCK * KEY_BLOCK];
            float[] ds = new float[QUERY_BLOCK * KEY_BLOCK];
            float[] rowDot = new float[QUERY_BLOCK];
            for (int b = part; b < batch; b += parts) {
                for (int first = 0; first < t; first += QUERY_BLOCK) {
                    int rows = Math.min(QUERY_BLOCK, t - first);
                    int qOffset = (b * t + first) * d;
                    int oOffset = (b * t + first) * dv;
                    for (int r = 0; r < rows; r++) {
                        rowDot[r] = lanes.dot(dOut, oOffset + r * dv, out, oOffset + r * dv, dv);
                    }
                    int keyEnd = causal ? Math.min(s, first + rows) : s;
                    for (int j0 = 0; j0 < keyEnd; j0 += KEY_BLOCK) {
                        int n = Math.min(KEY_BLOCK, keyEnd - j0);
                        int kOffset = (b * s + j0) * d;
                        int vOffset = (b * s + j0) * dv;
                        gemm.sgemm(false, true, rows, n, d, scale, q, qOffset, d, k, kOffset, d, 0f, p, 0, n);
                        mask(p, first, rows, j0, n, causal);
                        for (int r = 0; r < rows; r++) {
                            lanes.expShifted(p, r * n, n, logSumExp[b * t + first + r]);
                        }
                        gemm.sgemm(true, false, n, dv, rows, 1f, p, 0, n, dOut, oOffset, dv, 1f, grads, dvAt + vOffset,
                                dv);
                        gemm.sgemm(false, true, rows, n, dv, 1f, dOut, oOffset, dv, v, vOffset, dv, 0f, ds, 0, n);
                        for (int r = 0; r < rows; r++) {
                            lanes.softmaxGrad(p, ds, r * n, n, rowDot[r]);
                        }
                        gemm.sgemm(false, false, rows, d, n, scale, ds, 0, n, k, kOffset, d, 1f, grads, qOffset, d);
                        gemm.sgemm(true, false, n, d, rows, scale, ds, 0, n, q, qOffset, d, 1f, grads, dkAt + kOffset,
                                d);
                    }
                }
            }
        });
    }
}
