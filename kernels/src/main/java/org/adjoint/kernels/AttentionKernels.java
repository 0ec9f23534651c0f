package org.adjoint.kernels;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Scaled dot-product attention on the CPU without the {@code T × S} scores of all batch items,
 * in two forms. Operands are read and written where they lie ({@link MatrixRows}: any strides
 * between batch items and rows, each row contiguous), so a caller can hand over the heads of a
 * {@code [batch, time, heads, width]} tensor without copying them out.
 *
 * <p><b>Small heads</b> (at most {@link #QUERY_BLOCK} queries, {@link #KEY_BLOCK} keys and
 * {@link #SMALL_WIDTH} columns, as in a small GPT; {@link SmallHeadAttention}): threads over batch items; each item's keys
 * and values are first transposed into padded per-thread scratch ({@link Lanes#packColumns}:
 * 8 × 8 register tiles in the vector provider), rows whose width is a whole number of
 * {@link Lanes#padding() padding} units are read and written where they lie (others through
 * padded copies), then every product is a loop of broadcast multiply-adds over groups of {@link #GROUP} rows
 * ({@link Lanes#product}), and a causal item skips the keys after each group's last query (and,
 * backward, the queries before each group's first key). Forward per group: scores, a plain
 * softmax per row, the probabilities times the values. Backward: per query group
 * {@code P = exp(scores − lse)}, {@code dP = dO·vᵀ}, {@code dS = P ⊙ (dP − rowsum(dO ⊙ o))},
 * {@code dq = scale·dS·k}; then per key group {@code dv = Pᵀ·dO}, {@code dk = scale·dSᵀ·q}
 * from the item's {@code P} and {@code dS} kept in scratch.
 *
 * <p><b>Otherwise</b>, in the style of FlashAttention: blocks of {@link #QUERY_BLOCK} queries
 * against blocks of {@link #KEY_BLOCK} keys, each block product a small GEMM of the provider
 * (serial at these sizes), the softmax online across key blocks. Forward: threads over (batch
 * item, query block); per query row a running maximum, a running sum and an output
 * accumulator, rescaled when the maximum grows. Backward: threads over batch items (each owns
 * its rows of {@code dq}, {@code dk} and {@code dv}); per block pair the same formulas.
 *
 * <p>Each output element is computed by one thread in a fixed order, so results do not depend
 * on the thread count, nor on where a row is read or written from. The outputs never share
 * an array with the inputs. The row operations are written once over {@link Lanes}: plain loops for
 * the scalar provider ({@link #SCALAR}), the Vector API for the vector one.
 */
public final class AttentionKernels {

    /** Queries per block. */
    static final int QUERY_BLOCK = 64;
    /** Keys per block (per online-softmax step). */
    static final int KEY_BLOCK = 64;
    /** The widest rows of query, key and value the small-head form takes. */
    static final int SMALL_WIDTH = 128;
    /** Rows per product of the small-head form. */
    static final int GROUP = 4;

    /** The row operations the loops are written in; a provider supplies them. */
    interface Lanes {
        /** {@code Σ x[xo + i] · y[yo + i]}. */
        float dot(float[] x, int xo, float[] y, int yo, int n);

        /** {@code max x[o + i]}, or −∞ when {@code n} is 0. */
        float max(float[] x, int o, int n);

        /** {@code x[o + i] = exp(x[o + i] − shift)} in place; returns their sum. */
        float expShifted(float[] x, int o, int n, float shift);

        /**
         * {@link #expShifted}, but {@code x} has room up to the next multiple of
         * {@link #padding()}, which may be written (with zeros).
         */
        float expShiftedPadded(float[] x, int o, int n, float shift);

        /** {@code y[o + i] *= a}. */
        void scale(float[] y, int o, int n, float a);

        /** {@code dp[o + i] = p[o + i] · (dp[o + i] − d)}: the softmax's VJP on one row. */
        void softmaxGrad(float[] p, float[] dp, int o, int n, float d);

        /** Rows transposed: {@code dst[c·ld + r] = src[at + r·stride + c]} for {@code r < rows}, {@code c < width}. */
        void packColumns(float[] src, int at, int stride, int rows, int width, float[] dst, int ld);

        /**
         * The unit rows of scratch are padded to: {@link #product} may write up to the next
         * multiple of it, and read {@code b}'s rows that far.
         */
        int padding();

        /**
         * {@code c[co + r·ldc + x] = alpha · Σ_{y ∈ [k0, k1)} a[ao + r·ars + y·acs] · b[bo + y·ldb + x]}
         * for {@code r < rows}, {@code x < cols}, the sum in the order of {@code y}; columns up
         * to the next multiple of {@link #padding()} may be written too.
         */
        void product(int rows, int cols, int k0, int k1, float alpha, float[] a, int ao, int ars, int acs, float[] b,
                     int bo, int ldb, float[] c, int co, int ldc);
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
        public float expShiftedPadded(float[] x, int o, int n, float shift) {
            return expShifted(x, o, n, shift);
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

        @Override
        public void packColumns(float[] src, int at, int stride, int rows, int width, float[] dst, int ld) {
            for (int r = 0; r < rows; r++) {
                int from = at + r * stride;
                for (int c = 0; c < width; c++) {
                    dst[c * ld + r] = src[from + c];
                }
            }
        }

        @Override
        public int padding() {
            return 1;
        }

        @Override
        public void product(int rows, int cols, int k0, int k1, float alpha, float[] a, int ao, int ars, int acs,
                            float[] b, int bo, int ldb, float[] c, int co, int ldc) {
            for (int r = 0; r < rows; r++) {
                for (int x = 0; x < cols; x++) {
                    float sum = 0f;
                    for (int y = k0; y < k1; y++) {
                        sum += a[ao + r * ars + y * acs] * b[bo + y * ldb + x];
                    }
                    c[co + r * ldc + x] = alpha * sum;
                }
            }
        }
    };

    private AttentionKernels() {
    }

    /** Whether the small-head form takes these sizes. */
    static boolean small(int t, int s, int d, int dv) {
        return t <= QUERY_BLOCK && s <= KEY_BLOCK && d <= SMALL_WIDTH && dv <= SMALL_WIDTH;
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

    /** {@code rows} rows of {@code width} from {@code at}, {@code stride} apart, set to 0. */
    private static void zeroRows(float[] x, int at, int rows, int stride, int width) {
        for (int r = 0; r < rows; r++) {
            Arrays.fill(x, at + r * stride, at + r * stride + width, 0f);
        }
    }

    /** The batch items of {@code batchShape}. */
    private static int items(int[] batchShape) {
        int batch = 1;
        for (int n : batchShape) {
            batch *= n;
        }
        return batch;
    }

    /**
     * The forward pass: {@code out} and the per-row log-sum-exp.
     *
     * @param gemm       the provider whose GEMM multiplies the blocks of long sequences
     * @param lanes      the row operations
     * @param q          queries, {@code t} rows of {@code d} per item
     * @param k          keys, {@code s} rows of {@code d}
     * @param v          values, {@code s} rows of {@code dv}
     * @param batchShape the batch axes the operands' strides walk
     * @param t          queries
     * @param s          keys, at least 1
     * @param d          query and key width
     * @param dv         value width
     * @param causal     whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale      factor of the scores
     * @param out        output, {@code t} rows of {@code dv}
     * @param logSumExp  {@code [batch, t]}, packed
     */
    static void forward(GemmKernels gemm, Lanes lanes, MatrixRows q, MatrixRows k, MatrixRows v, int[] batchShape,
                        int t, int s, int d, int dv, boolean causal, float scale, MatrixRows out, float[] logSumExp) {
        int batch = items(batchShape);
        if ((long) batch * t == 0) {
            return;
        }
        int[] qAt = q.starts(batchShape, batch);
        int[] kAt = k.starts(batchShape, batch);
        int[] vAt = v.starts(batchShape, batch);
        int[] outAt = out.starts(batchShape, batch);
        if (small(t, s, d, dv)) {
            int parts = Math.min(Parallel.THREADS, batch);
            // Items claimed one at a time rather than dealt out in turn: a thread that starts
            // late takes fewer instead of keeping the others waiting. An item's result does not
            // depend on the scratch's history, so not on which thread does it.
            AtomicInteger next = new AtomicInteger();
            Parallel.run(parts, part -> {
                SmallHeadAttention.Forward scratch = null;
                for (int b = next.getAndIncrement(); b < batch; b = next.getAndIncrement()) {
                    if (scratch == null) {
                        scratch = new SmallHeadAttention.Forward(lanes, t, s, d, dv);
                    }
                    scratch.item(q.data(), qAt[b], q.rowStride(), k.data(), kAt[b], k.rowStride(), v.data(), vAt[b],
                            v.rowStride(), causal, scale, out.data(), outAt[b], out.rowStride(), logSumExp, b * t);
                }
            });
            return;
        }
        int blocks = (t + QUERY_BLOCK - 1) / QUERY_BLOCK;
        int tasks = batch * blocks;
        int parts = Math.min(Parallel.THREADS, tasks);
        Parallel.run(parts, part -> {
            float[] max = new float[QUERY_BLOCK];
            float[] sum = new float[QUERY_BLOCK];
            float[] blockMax = new float[QUERY_BLOCK];
            float[] rescale = new float[QUERY_BLOCK];
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
                int qOffset = qAt[b] + first * q.rowStride();
                int keyEnd = causal ? Math.min(s, first + rows) : s;
                for (int j0 = 0; j0 < keyEnd; j0 += KEY_BLOCK) {
                    int n = Math.min(KEY_BLOCK, keyEnd - j0);
                    gemm.sgemm(false, true, rows, n, d, scale, q.data(), qOffset, q.rowStride(), k.data(),
                            kAt[b] + j0 * k.rowStride(), k.rowStride(), 0f, scores, 0, n);
                    mask(scores, first, rows, j0, n, causal);
                    for (int r = 0; r < rows; r++) {
                        blockMax[r] = lanes.max(scores, r * n, n);
                    }
                    // The rescales apart, in a loop of scalars: Math.exp is a call of a stub,
                    // which in the vector row loop below most likely made C2 spill and reload
                    // the vectors it keeps in registers (as in SmallHeadAttention's forward
                    // pass). With it in that loop the forward pass at T = 256 and 1024 (48 heads
                    // of 32, causal, one thread, on the Zen 5 of 2026-12-07, alternating in one
                    // JVM) took 1.06–1.08 times as long.
                    for (int r = 0; r < rows; r++) {
                        rescale[r] = blockMax[r] == Float.NEGATIVE_INFINITY ? 1f
                                : (float) Math.exp(max[r] - Math.max(max[r], blockMax[r]));
                    }
                    for (int r = 0; r < rows; r++) {
                        if (blockMax[r] == Float.NEGATIVE_INFINITY) {
                            Arrays.fill(scores, r * n, r * n + n, 0f); // no key of this block is visible
                            continue;
                        }
                        float newMax = Math.max(max[r], blockMax[r]);
                        sum[r] = sum[r] * rescale[r] + lanes.expShifted(scores, r * n, n, newMax);
                        if (rescale[r] != 1f) {
                            lanes.scale(acc, r * dv, dv, rescale[r]);
                        }
                        max[r] = newMax;
                    }
                    gemm.sgemm(false, false, rows, dv, n, 1f, scores, 0, n, v.data(), vAt[b] + j0 * v.rowStride(),
                            v.rowStride(), 1f, acc, 0, dv);
                }
                for (int r = 0; r < rows; r++) {
                    lanes.scale(acc, r * dv, dv, 1f / sum[r]);
                    System.arraycopy(acc, r * dv, out.data(), outAt[b] + (first + r) * out.rowStride(), dv);
                    logSumExp[b * t + first + r] = max[r] + (float) Math.log(sum[r]);
                }
            }
        });
    }

    /**
     * The backward pass: {@code dq}, {@code dk} and {@code dv}, each written where its
     * {@link MatrixRows} say (they may share one array).
     *
     * @param gemm       the provider whose GEMM multiplies the blocks of long sequences
     * @param lanes      the row operations
     * @param q          queries, {@code t} rows of {@code d} per item
     * @param k          keys, {@code s} rows of {@code d}
     * @param v          values, {@code s} rows of {@code dv}
     * @param out        the forward output, {@code t} rows of {@code dv}
     * @param logSumExp  what the forward wrote, {@code [batch, t]} packed
     * @param dOut       the output's cotangent, {@code t} rows of {@code dv}
     * @param batchShape the batch axes the operands' strides walk
     * @param t          queries
     * @param s          keys, at least 1
     * @param d          query and key width
     * @param dv         value width
     * @param causal     whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale      factor of the scores
     * @param dQuery     output, {@code t} rows of {@code d}
     * @param dKey       output, {@code s} rows of {@code d}
     * @param dValue     output, {@code s} rows of {@code dv}
     */
    static void backward(GemmKernels gemm, Lanes lanes, MatrixRows q, MatrixRows k, MatrixRows v, MatrixRows out,
                         float[] logSumExp, MatrixRows dOut, int[] batchShape, int t, int s, int d, int dv,
                         boolean causal, float scale, MatrixRows dQuery, MatrixRows dKey, MatrixRows dValue) {
        int batch = items(batchShape);
        if (batch == 0) {
            return;
        }
        int[] qAt = q.starts(batchShape, batch);
        int[] kAt = k.starts(batchShape, batch);
        int[] vAt = v.starts(batchShape, batch);
        int[] oAt = out.starts(batchShape, batch);
        int[] doAt = dOut.starts(batchShape, batch);
        int[] dqAt = dQuery.starts(batchShape, batch);
        int[] dkAt = dKey.starts(batchShape, batch);
        int[] dvAt = dValue.starts(batchShape, batch);
        int parts = Math.min(Parallel.THREADS, batch);
        if (t == 0) {
            for (int b = 0; b < batch; b++) {
                zeroRows(dKey.data(), dkAt[b], s, dKey.rowStride(), d);
                zeroRows(dValue.data(), dvAt[b], s, dValue.rowStride(), dv);
            }
            return;
        }
        if (small(t, s, d, dv)) {
            // Items claimed one at a time, as in the forward pass.
            AtomicInteger next = new AtomicInteger();
            Parallel.run(parts, part -> {
                SmallHeadAttention.Backward scratch = null;
                for (int b = next.getAndIncrement(); b < batch; b = next.getAndIncrement()) {
                    if (scratch == null) {
                        scratch = new SmallHeadAttention.Backward(lanes, t, s, d, dv);
                    }
                    scratch.item(q, qAt[b], k, kAt[b], v, vAt[b], out, oAt[b], logSumExp, b * t, dOut, doAt[b],
                            causal, scale, dQuery, dqAt[b], dKey, dkAt[b], dValue, dvAt[b]);
                }
            });
            return;
        }
        Parallel.run(parts, part -> {
            float[] p = new float[QUERY_BLOCK * KEY_BLOCK];
            float[] ds = new float[QUERY_BLOCK * KEY_BLOCK];
            float[] rowDot = new float[QUERY_BLOCK];
            int qs = q.rowStride();
            int ks = k.rowStride();
            int vs = v.rowStride();
            int os = out.rowStride();
            int dos = dOut.rowStride();
            int dqs = dQuery.rowStride();
            int dks = dKey.rowStride();
            int dvs = dValue.rowStride();
            for (int b = part; b < batch; b += parts) {
                zeroRows(dQuery.data(), dqAt[b], t, dqs, d);
                zeroRows(dKey.data(), dkAt[b], s, dks, d);
                zeroRows(dValue.data(), dvAt[b], s, dvs, dv);
                for (int first = 0; first < t; first += QUERY_BLOCK) {
                    int rows = Math.min(QUERY_BLOCK, t - first);
                    int qOffset = qAt[b] + first * qs;
                    int doOffset = doAt[b] + first * dos;
                    for (int r = 0; r < rows; r++) {
                        rowDot[r] = lanes.dot(dOut.data(), doOffset + r * dos, out.data(),
                                oAt[b] + (first + r) * os, dv);
                    }
                    int keyEnd = causal ? Math.min(s, first + rows) : s;
                    for (int j0 = 0; j0 < keyEnd; j0 += KEY_BLOCK) {
                        int n = Math.min(KEY_BLOCK, keyEnd - j0);
                        int kOffset = kAt[b] + j0 * ks;
                        int vOffset = vAt[b] + j0 * vs;
                        gemm.sgemm(false, true, rows, n, d, scale, q.data(), qOffset, qs, k.data(), kOffset, ks, 0f,
                                p, 0, n);
                        mask(p, first, rows, j0, n, causal);
                        for (int r = 0; r < rows; r++) {
                            lanes.expShifted(p, r * n, n, logSumExp[b * t + first + r]);
                        }
                        gemm.sgemm(true, false, n, dv, rows, 1f, p, 0, n, dOut.data(), doOffset, dos, 1f,
                                dValue.data(), dvAt[b] + j0 * dvs, dvs);
                        gemm.sgemm(false, true, rows, n, dv, 1f, dOut.data(), doOffset, dos, v.data(), vOffset, vs, 0f,
                                ds, 0, n);
                        for (int r = 0; r < rows; r++) {
                            lanes.softmaxGrad(p, ds, r * n, n, rowDot[r]);
                        }
                        gemm.sgemm(false, false, rows, d, n, scale, ds, 0, n, k.data(), kOffset, ks, 1f,
                                dQuery.data(), dqAt[b] + first * dqs, dqs);
                        gemm.sgemm(true, false, n, d, rows, scale, ds, 0, n, q.data(), qOffset, qs, 1f, dKey.data(),
                                dkAt[b] + j0 * dks, dks);
                    }
                }
            }
        });
    }

}
