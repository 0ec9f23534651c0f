package org.adjoint.kernels;

import static org.adjoint.kernels.AttentionKernels.GROUP;

import org.adjoint.kernels.AttentionKernels.Lanes;

/**
 * The small-head form of {@link AttentionKernels}: one thread's per-item scratch and loops for
 * the forward ({@link Forward}) and backward ({@link Backward}) passes, each product a loop of
 * broadcast multiply-adds over groups of {@link AttentionKernels#GROUP} rows. The class comment
 * of {@link AttentionKernels} describes the method; the blocked form for long sequences stays
 * there.
 */
final class SmallHeadAttention {

    private SmallHeadAttention() {
    }

    static int padded(int n, int unit) {
        return (n + unit - 1) / unit * unit;
    }

    /** How many keys query {@code i} sees. */
    static int visible(int i, int s, boolean causal) {
        return causal ? Math.min(s, i + 1) : s;
    }

    /** Rows {@code [0, rows)} of width {@code width} copied from {@code src} into {@code dst}, rows {@code ld} apart. */
    static void packRows(float[] src, int at, int stride, int rows, int width, float[] dst, int ld) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, at + r * stride, dst, r * ld, width);
        }
    }

    /** One thread's scratch for the small-head forward pass, reused across its batch items. */
    static final class Forward {
        private final Lanes lanes;
        private final int t;
        private final int s;
        private final int d;
        private final int dv;
        private final int sp;
        private final int dvp;
        private final float[] keysT;
        private final float[] values;
        private final float[] scores;
        private final float[] acc;
        /** Each query's largest score and its sum of exponentials, for the logarithms at the end of an item. */
        private final float[] rowMax;
        private final float[] rowSum;

        Forward(Lanes lanes, int t, int s, int d, int dv) {
            this.lanes = lanes;
            this.t = t;
            this.s = s;
            this.d = d;
            this.dv = dv;
            int unit = lanes.padding();
            this.sp = padded(s, unit);
            this.dvp = padded(dv, unit);
            this.keysT = new float[d * sp];
            // Rows of whole units are used where they lie (see item).
            this.values = new float[dv == dvp ? 0 : s * dvp];
            this.scores = new float[GROUP * sp];
            this.acc = new float[dv == dvp ? 0 : GROUP * dvp];
            this.rowMax = new float[t];
            this.rowSum = new float[t];
        }

        /**
         * One batch item. The row loop calls nothing that is not inlined: {@code Math.log} and
         * {@code Arrays.fill} are calls of stubs, and a runtime call in a loop most likely
         * makes C2 spill the vectors it keeps in registers across it (the exponential's
         * constants among them) and load them again. The logarithms wait for the end of the
         * item, and the few masked scores of a row are zeroed one by one. On the Zen 5 of
         * 2026-12-07 (the GPT's 48 heads of 64 × 32, causal, one thread, the two forms
         * alternating in one JVM) the forward pass took 0.93–0.96 of the time of a logarithm
         * per row, with the same bits (the fill's form made no difference here).
         */
        void item(float[] q, int qAt, int qs, float[] k, int kAt, int ks, float[] v, int vAt, int vs, boolean causal,
                  float scale, float[] out, int outAt, int os, float[] logSumExp, int lseAt) {
            lanes.packColumns(k, kAt, ks, s, d, keysT, sp);
            // Rows of whole padding units are read and written where they lie: the products
            // touch no column beyond them.
            boolean direct = dv == dvp;
            float[] valueRows = direct ? v : values;
            int valuesAt = direct ? vAt : 0;
            int valuesLd = direct ? vs : dvp;
            if (!direct) {
                packRows(v, vAt, vs, s, dv, values, dvp);
            }
            for (int i0 = 0; i0 < t; i0 += GROUP) {
                int rows = Math.min(GROUP, t - i0);
                int cols = causal ? Math.min(s, i0 + rows) : s;
                lanes.product(rows, cols, 0, d, scale, q, qAt + i0 * qs, qs, 1, keysT, 0, sp, scores, 0, sp);
                for (int r = 0; r < rows; r++) {
                    int n = visible(i0 + r, s, causal);
                    float max = lanes.max(scores, r * sp, n);
                    rowMax[i0 + r] = max;
                    rowSum[i0 + r] = lanes.expShiftedPadded(scores, r * sp, n, max);
                    for (int j = r * sp + n, end = r * sp + cols; j < end; j++) {
                        scores[j] = 0f;
                    }
                }
                if (direct) {
                    int to = outAt + i0 * os;
                    lanes.product(rows, dv, 0, cols, 1f, scores, 0, sp, 1, valueRows, valuesAt, valuesLd, out, to, os);
                    for (int r = 0; r < rows; r++) {
                        lanes.scale(out, to + r * os, dv, 1f / rowSum[i0 + r]);
                    }
                    continue;
                }
                lanes.product(rows, dv, 0, cols, 1f, scores, 0, sp, 1, valueRows, valuesAt, valuesLd, acc, 0, dvp);
                for (int r = 0; r < rows; r++) {
                    lanes.scale(acc, r * dvp, dv, 1f / rowSum[i0 + r]);
                    System.arraycopy(acc, r * dvp, out, outAt + (i0 + r) * os, dv);
                }
            }
            for (int i = 0; i < t; i++) {
                logSumExp[lseAt + i] = rowMax[i] + (float) Math.log(rowSum[i]);
            }
        }
    }

    /** Rows a product reads: {@code data} from {@code at}, {@code ld} apart. */
    private record Operand(float[] data, int at, int ld) {
    }

    /** {@link #packRows} into {@code dst}, as an operand. */
    private static Operand packed(float[] src, int at, int stride, int rows, int width, float[] dst, int ld) {
        packRows(src, at, stride, rows, width, dst, ld);
        return new Operand(dst, 0, ld);
    }

    /** One thread's scratch for the small-head backward pass, reused across its batch items. */
    static final class Backward {
        private final Lanes lanes;
        private final int t;
        private final int s;
        private final int d;
        private final int dv;
        private final int sp;
        private final int dp;
        private final int dvp;
        private final float[] keysT;
        private final float[] keys;
        private final float[] valuesT;
        private final float[] queries;
        private final float[] cotangents;
        private final float[] p;
        private final float[] ds;
        private final float[] rows;

        Backward(Lanes lanes, int t, int s, int d, int dv) {
            this.lanes = lanes;
            this.t = t;
            this.s = s;
            this.d = d;
            this.dv = dv;
            int unit = lanes.padding();
            this.sp = padded(s, unit);
            this.dp = padded(d, unit);
            this.dvp = padded(dv, unit);
            this.keysT = new float[d * sp];
            // Rows of whole units are used where they lie (see item).
            this.keys = new float[d == dp ? 0 : s * dp];
            this.valuesT = new float[dv * sp];
            this.queries = new float[d == dp ? 0 : t * dp];
            this.cotangents = new float[dv == dvp ? 0 : t * dvp];
            this.p = new float[t * sp];
            this.ds = new float[t * sp];
            this.rows = new float[d == dp && dv == dvp ? 0 : GROUP * Math.max(dp, dvp)];
        }

        void item(MatrixRows q, int qAt, MatrixRows k, int kAt, MatrixRows v, int vAt, MatrixRows out, int oAt,
                  float[] logSumExp, int lseAt, MatrixRows dOut, int doAt, boolean causal, float scale,
                  MatrixRows dQuery, int dqAt, MatrixRows dKey, int dkAt, MatrixRows dValue, int dvAt) {
            int qs = q.rowStride();
            int dos = dOut.rowStride();
            lanes.packColumns(k.data(), kAt, k.rowStride(), s, d, keysT, sp);
            lanes.packColumns(v.data(), vAt, v.rowStride(), s, dv, valuesT, sp);
            // Rows of whole padding units are read and written where they lie (the products
            // touch no column beyond them); others go through padded copies.
            boolean wholeD = d == dp;
            boolean wholeDv = dv == dvp;
            Operand keyRows = wholeD ? new Operand(k.data(), kAt, k.rowStride()) : packed(k.data(), kAt, k.rowStride(),
                    s, d, keys, dp);
            Operand queryRows = wholeD ? new Operand(q.data(), qAt, qs) : packed(q.data(), qAt, qs, t, d, queries, dp);
            Operand cotangentRows = wholeDv ? new Operand(dOut.data(), doAt, dos)
                    : packed(dOut.data(), doAt, dos, t, dv, cotangents, dvp);
            // Per query group: P, dS and dq.
            for (int i0 = 0; i0 < t; i0 += GROUP) {
                int count = Math.min(GROUP, t - i0);
                int cols = causal ? Math.min(s, i0 + count) : s;
                int at = i0 * sp;
                // The key groups below read the rows of this group up to key i0 + GROUP (the
                // last group of queries may be shorter than the keys'): masked keys up to there
                // are zeroed, and nothing reads a row further on.
                int masked = causal ? Math.min(s, i0 + GROUP) : s;
                lanes.product(count, cols, 0, d, scale, q.data(), qAt + i0 * qs, qs, 1, keysT, 0, sp, p, at, sp);
                lanes.product(count, cols, 0, dv, 1f, dOut.data(), doAt + i0 * dos, dos, 1, valuesT, 0, sp, ds, at,
                        sp);
                for (int r = 0; r < count; r++) {
                    int i = i0 + r;
                    int n = visible(i, s, causal);
                    int row = i * sp;
                    float rowDot = lanes.dot(dOut.data(), doAt + i * dos, out.data(), oAt + i * out.rowStride(), dv);
                    lanes.expShiftedPadded(p, row, n, logSumExp[lseAt + i]);
                    lanes.softmaxGrad(p, ds, row, n, rowDot);
                    // One by one, as in the forward pass, and no further than the products
                    // read: the backward pass took 0.96–0.97 of the time of two fills to the
                    // row's end with fills this short, 0.91–0.93 with them as loops (measured as
                    // the forward's).
                    for (int j = row + n, end = row + masked; j < end; j++) {
                        p[j] = 0f;
                        ds[j] = 0f;
                    }
                }
                if (wholeD) {
                    lanes.product(count, d, 0, cols, scale, ds, at, sp, 1, keyRows.data, keyRows.at, keyRows.ld,
                            dQuery.data(), dqAt + i0 * dQuery.rowStride(), dQuery.rowStride());
                } else {
                    lanes.product(count, d, 0, cols, scale, ds, at, sp, 1, keyRows.data, keyRows.at, keyRows.ld, rows,
                            0, dp);
                    for (int r = 0; r < count; r++) {
                        System.arraycopy(rows, r * dp, dQuery.data(), dqAt + (i0 + r) * dQuery.rowStride(), d);
                    }
                }
            }
            // Per key group: dv and dk from the queries that see it.
            for (int j0 = 0; j0 < s; j0 += GROUP) {
                int count = Math.min(GROUP, s - j0);
                int from = causal ? Math.min(t, j0) : 0;
                if (wholeDv) {
                    lanes.product(count, dv, from, t, 1f, p, j0, 1, sp, cotangentRows.data, cotangentRows.at,
                            cotangentRows.ld, dValue.data(), dvAt + j0 * dValue.rowStride(), dValue.rowStride());
                } else {
                    lanes.product(count, dv, from, t, 1f, p, j0, 1, sp, cotangentRows.data, cotangentRows.at,
                            cotangentRows.ld, rows, 0, dvp);
                    for (int r = 0; r < count; r++) {
                        System.arraycopy(rows, r * dvp, dValue.data(), dvAt + (j0 + r) * dValue.rowStride(), dv);
                    }
                }
                if (wholeD) {
                    lanes.product(count, d, from, t, scale, ds, j0, 1, sp, queryRows.data, queryRows.at, queryRows.ld,
                            dKey.data(), dkAt + j0 * dKey.rowStride(), dKey.rowStride());
                } else {
                    lanes.product(count, d, from, t, scale, ds, j0, 1, sp, queryRows.data, queryRows.at, queryRows.ld,
                            rows, 0, dp);
                    for (int r = 0; r < count; r++) {
                        System.arraycopy(rows, r * dp, dKey.data(), dkAt + (j0 + r) * dKey.rowStride(), d);
                    }
                }
            }
        }
    }
}
