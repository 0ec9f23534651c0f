package org.adjoint.kernels;

import java.util.Arrays;

/**
 * Scaled dot-product attention on the CPU without the {@code T × S} scores: the forward is
 * blocked with an online softmax in the style of FlashAttention, the backward recomputes the
 * probabilities one query row at a time from the saved log-sum-exp.
 *
 * <p>Operands are contiguous: {@code q [batch, t, d]}, {@code k [batch, s, d]},
 * {@code v [batch, s, dv]}. The keys and values are first transposed per batch item, so that
 * every row operation runs along the keys: one query's scores against a block of keys are
 * {@code d} AXPYs, its share of {@code P·v} is {@code dv} dot products, and backward its
 * contributions to {@code dq}, {@code dkᵀ} and {@code dvᵀ} are one dot product or AXPY per
 * column; the number of calls per query row grows with the widths, not with {@code s}. The loops are written once over {@link Lanes};
 * the scalar provider runs {@link #SCALAR}, the vector provider its own {@code Lanes}.
 *
 * <p>Forward: threads over (batch item, block of {@link #QUERY_BLOCK} queries); per query row
 * a running maximum, a running sum and an output accumulator, updated once per block of
 * {@link #KEY_BLOCK} keys. Backward: threads over batch items (each owns its rows of
 * {@code dk} and {@code dv}); per query row {@code P = exp(scores − lse)},
 * {@code dS = P ⊙ (dO·vᵀ − dO·o)}, then {@code dq = scale·dS·k}, {@code dk += scale·dSᵀ·q},
 * {@code dv += Pᵀ·dO} (the last two accumulated transposed, then transposed into place). Each output element is computed by one thread in a fixed order, so
 * results do not depend on the thread count.
 */
public final class AttentionKernels {

    /** Queries per forward task. */
    static final int QUERY_BLOCK = 32;
    /** Keys per online-softmax step. */
    static final int KEY_BLOCK = 128;

    /** The row operations the loops are written in; a provider supplies them. */
    interface Lanes {
        /** {@code y[yo + i] += a · x[xo + i]} for {@code i < n}. */
        void axpy(float a, float[] x, int xo, float[] y, int yo, int n);

        /** {@code Σ x[xo + i] · y[yo + i]}. */
        float dot(float[] x, int xo, float[] y, int yo, int n);

        /** {@code max x[o + i]}, or −∞ when {@code n} is 0. */
        float max(float[] x, int o, int n);

        /** {@code x[o + i] = exp(x[o + i] − shift)} in place; returns their sum. */
        float expShifted(float[] x, int o, int n, float shift);

        /** {@code y[o + i] *= a}. */
        void scale(float[] y, int o, int n, float a);

        /** {@code dp[i] = p[i] · (dp[i] − d)}: the softmax's VJP on one row. */
        void softmaxGrad(float[] p, float[] dp, int n, float d);
    }

    /** Plain loops. */
    static final Lanes SCALAR = new Lanes() {
        @Override
        public void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
            for (int i = 0; i < n; i++) {
                y[yo + i] += a * x[xo + i];
            }
        }

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
        public void softmaxGrad(float[] p, float[] dp, int n, float d) {
            for (int i = 0; i < n; i++) {
                dp[i] = p[i] * (dp[i] - d);
            }
        }
    };

    private AttentionKernels() {
    }

    /** One {@code rows × cols} matrix of {@code in} written transposed ({@code cols × rows}) into {@code out}. */
    private static void transpose(float[] in, int inOffset, int rows, int cols, float[] out, int outOffset) {
        for (int r = 0; r < rows; r++) {
            int from = inOffset + r * cols;
            for (int c = 0; c < cols; c++) {
                out[outOffset + c * rows + r] = in[from + c];
            }
        }
    }

    /**
     * The forward pass: {@code out} and the per-row log-sum-exp.
     *
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
    static void forward(Lanes lanes, float[] q, float[] k, float[] v, int batch, int t, int s, int d, int dv,
                        boolean causal, float scale, float[] out, float[] logSumExp) {
        if ((long) batch * t == 0) {
            return;
        }
        float[] keysT = new float[Math.multiplyExact(batch, s * d)];
        float[] valuesT = new float[Math.multiplyExact(batch, s * dv)];
        int transposeParts = Math.min(Parallel.THREADS, batch);
        Parallel.run(transposeParts, part -> {
            for (int b = part; b < batch; b += transposeParts) {
                transpose(k, b * s * d, s, d, keysT, b * s * d);
                transpose(v, b * s * dv, s, dv, valuesT, b * s * dv);
            }
        });
        int blocks = (t + QUERY_BLOCK - 1) / QUERY_BLOCK;
        int tasks = batch * blocks;
        int parts = Math.min(Parallel.THREADS, tasks);
        Parallel.run(parts, part -> {
            float[] max = new float[QUERY_BLOCK];
            float[] sum = new float[QUERY_BLOCK];
            float[] acc = new float[QUERY_BLOCK * dv];
            float[] row = new float[KEY_BLOCK];
            // Causal blocks near the end cost more: hand tasks out round-robin.
            for (int task = part; task < tasks; task += parts) {
                int b = task / blocks;
                int first = task % blocks * QUERY_BLOCK;
                int rows = Math.min(QUERY_BLOCK, t - first);
                forwardBlock(lanes, q, keysT, valuesT, b, first, rows, t, s, d, dv, causal, scale, out, logSumExp,
                        max, sum, acc, row);
            }
        });
    }

    private static void forwardBlock(Lanes lanes, float[] q, float[] keysT, float[] valuesT, int b, int first,
                                     int rows, int t, int s, int d, int dv, boolean causal, float scale, float[] out,
                                     float[] logSumExp, float[] max, float[] sum, float[] acc, float[] row) {
        Arrays.fill(max, 0, rows, Float.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, rows, 0f);
        Arrays.fill(acc, 0, rows * dv, 0f);
        int kt = b * s * d;
        int vt = b * s * dv;
        int keyEnd = causal ? Math.min(s, first + rows) : s;
        for (int j0 = 0; j0 < keyEnd; j0 += KEY_BLOCK) {
            for (int r = 0; r < rows; r++) {
                int i = first + r;
                int n = Math.min(KEY_BLOCK, (causal ? Math.min(s, i + 1) : s) - j0);
                if (n <= 0) {
                    continue;
                }
                Arrays.fill(row, 0, n, 0f);
                int qi = (b * t + i) * d;
                for (int c = 0; c < d; c++) {
                    lanes.axpy(q[qi + c] * scale, keysT, kt + c * s + j0, row, 0, n);
                }
                float newMax = Math.max(max[r], lanes.max(row, 0, n));
                float rescale = (float) Math.exp(max[r] - newMax);
                float blockSum = lanes.expShifted(row, 0, n, newMax);
                sum[r] = sum[r] * rescale + blockSum;
                int a = r * dv;
                for (int c = 0; c < dv; c++) {
                    acc[a + c] = acc[a + c] * rescale + lanes.dot(row, 0, valuesT, vt + c * s + j0, n);
                }
                max[r] = newMax;
            }
        }
        for (int r = 0; r < rows; r++) {
            int i = first + r;
            int o = (b * t + i) * dv;
            float inverse = 1f / sum[r];
            for (int c = 0; c < dv; c++) {
                out[o + c] = acc[r * dv + c] * inverse;
            }
            logSumExp[b * t + i] = max[r] + (float) Math.log(sum[r]);
        }
    }

    /**
     * The backward pass: {@code dq}, {@code dk}, {@code dv} one after another in {@code grads}.
     *
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
    static void backward(Lanes lanes, float[] q, float[] k, float[] v, float[] out, float[] logSumExp, float[] dOut,
                         int batch, int t, int s, int d, int dv, boolean causal, float scale, float[] grads) {
        int dkAt = batch * t * d;
        int dvAt = dkAt + batch * s * d;
        Arrays.fill(grads, 0, dvAt + batch * s * dv, 0f);
        if ((long) batch * t == 0) {
            return;
        }
        int parts = Math.min(Parallel.THREADS, batch);
        Parallel.run(parts, part -> {
            float[] keysT = new float[s * d];
            float[] valuesT = new float[s * dv];
            float[] keyGradT = new float[s * d];
            float[] valueGradT = new float[s * dv];
            float[] p = new float[s];
            float[] ds = new float[s];
            for (int b = part; b < batch; b += parts) {
                transpose(k, b * s * d, s, d, keysT, 0);
                transpose(v, b * s * dv, s, dv, valuesT, 0);
                Arrays.fill(keyGradT, 0f);
                Arrays.fill(valueGradT, 0f);
                for (int i = 0; i < t; i++) {
                    int n = causal ? Math.min(s, i + 1) : s;
                    int qi = (b * t + i) * d;
                    int oi = (b * t + i) * dv;
                    float rowDot = lanes.dot(dOut, oi, out, oi, dv);
                    Arrays.fill(p, 0, n, 0f);
                    Arrays.fill(ds, 0, n, 0f);
                    for (int c = 0; c < d; c++) {
                        lanes.axpy(q[qi + c] * scale, keysT, c * s, p, 0, n);
                    }
                    lanes.expShifted(p, 0, n, logSumExp[b * t + i]);
                    for (int c = 0; c < dv; c++) {
                        lanes.axpy(dOut[oi + c], valuesT, c * s, ds, 0, n);
                    }
                    lanes.softmaxGrad(p, ds, n, rowDot);
                    // Along the keys, one row operation per column: dq = scale·dS·k, dkᵀ += scale·q ⊗ dS, dvᵀ += dO ⊗ P.
                    for (int c = 0; c < d; c++) {
                        grads[qi + c] = scale * lanes.dot(ds, 0, keysT, c * s, n);
                        lanes.axpy(scale * q[qi + c], ds, 0, keyGradT, c * s, n);
                    }
                    for (int c = 0; c < dv; c++) {
                        lanes.axpy(dOut[oi + c], p, 0, valueGradT, c * s, n);
                    }
                }
                transpose(keyGradT, 0, d, s, grads, dkAt + b * s * d);
                transpose(valueGradT, 0, dv, s, grads, dvAt + b * s * dv);
            }
        });
    }
}
