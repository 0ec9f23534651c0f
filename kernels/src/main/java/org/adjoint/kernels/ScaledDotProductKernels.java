package org.adjoint.kernels;

/**
 * Scaled dot-product attention of a {@link KernelProvider}, forward and gradients, blocked so
 * that the scores of all items are never held at once. The defaults run {@link AttentionKernels}
 * on this provider's {@link #sgemm} and plain row loops; the vector provider supplies its lanes.
 */
public interface ScaledDotProductKernels extends GemmKernels {

    /**
     * Scaled dot-product attention ({@link AttentionKernels}): {@code out = softmax(scale · q·kᵀ + mask)·v}
     * per batch item and each query row's log-sum-exp, without the {@code t × s} scores of all
     * items, reading and writing the operands where their {@link MatrixRows} say. The default
     * runs this provider's {@link #sgemm} on the blocks of long sequences and plain loops on the
     * rows.
     *
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
    default void attention(MatrixRows q, MatrixRows k, MatrixRows v, int[] batchShape, int t, int s, int d, int dv,
                           boolean causal, float scale, MatrixRows out, float[] logSumExp) {
        AttentionKernels.forward(this, AttentionKernels.SCALAR, q, k, v, batchShape, t, s, d, dv, causal, scale, out,
                logSumExp);
    }

    /**
     * {@link #attention(MatrixRows, MatrixRows, MatrixRows, int[], int, int, int, int, boolean, float, MatrixRows, float[])}
     * on packed operands: {@code q [batch, t, d]}, {@code k [batch, s, d]}, {@code v [batch, s, dv]},
     * {@code out [batch, t, dv]}.
     *
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
    default void attention(float[] q, float[] k, float[] v, int batch, int t, int s, int d, int dv, boolean causal,
                           float scale, float[] out, float[] logSumExp) {
        attention(MatrixRows.packed(q, 0, t, d), MatrixRows.packed(k, 0, s, d), MatrixRows.packed(v, 0, s, dv),
                new int[] {batch}, t, s, d, dv, causal, scale, MatrixRows.packed(out, 0, t, dv), logSumExp);
    }

    /**
     * Attention's gradients from the output's cotangent, recomputing the probabilities from the
     * log-sum-exp: {@code dq}, {@code dk}, {@code dv} written where their {@link MatrixRows}
     * say (every element of their rows; they may share an array). The default runs this
     * provider's {@link #sgemm} on the blocks of long sequences and plain loops on the rows.
     *
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
    default void attentionGrad(MatrixRows q, MatrixRows k, MatrixRows v, MatrixRows out, float[] logSumExp,
                               MatrixRows dOut, int[] batchShape, int t, int s, int d, int dv, boolean causal,
                               float scale, MatrixRows dQuery, MatrixRows dKey, MatrixRows dValue) {
        AttentionKernels.backward(this, AttentionKernels.SCALAR, q, k, v, out, logSumExp, dOut, batchShape, t, s, d,
                dv, causal, scale, dQuery, dKey, dValue);
    }

    /**
     * The gradients on packed operands, {@code dq}, {@code dk}, {@code dv} one after another
     * in {@code grads} (see the strided form).
     *
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
     * @param grads     {@code dq}, {@code dk}, {@code dv} one after another
     */
    default void attentionGrad(float[] q, float[] k, float[] v, float[] out, float[] logSumExp, float[] dOut,
                               int batch, int t, int s, int d, int dv, boolean causal, float scale, float[] grads) {
        int dkAt = batch * t * d;
        int dvAt = dkAt + batch * s * d;
        attentionGrad(MatrixRows.packed(q, 0, t, d), MatrixRows.packed(k, 0, s, d), MatrixRows.packed(v, 0, s, dv),
                MatrixRows.packed(out, 0, t, dv), logSumExp, MatrixRows.packed(dOut, 0, t, dv), new int[] {batch}, t,
                s, d, dv, causal, scale, MatrixRows.packed(grads, 0, t, d), MatrixRows.packed(grads, dkAt, s, d),
                MatrixRows.packed(grads, dvAt, s, dv));
    }
}
