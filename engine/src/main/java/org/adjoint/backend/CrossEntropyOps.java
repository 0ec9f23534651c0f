package org.adjoint.backend;

/**
 * Softmax cross-entropy on labelled rows, from log-probabilities: the mean negative
 * log-likelihood and its VJP with respect to the logits, composed from the core's gather,
 * scatter-add, sum and element-wise functions.
 */
public interface CrossEntropyOps extends BackendCore {

    /**
     * Mean negative log-likelihood {@code −(1/rows) Σ_r logp[r, label_r]} into a one-element
     * buffer (NaN when there are no rows).
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @param out              one element
     */
    default void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out) {
        if (rows == 0) {
            fill(out, Float.NaN);
            return;
        }
        Buffer picked = allocate(rows);
        Buffer divisor = Scratch.scalar(this, -rows);
        try {
            gather(logProbabilities, rows, cols, 1, labels, 1, picked);
            sumTo(picked, new int[] {rows}, out, new int[] {0});
            binary(BinaryOp.DIV, out, new int[] {0}, divisor, new int[] {0}, out, new int[] {1});
        } finally {
            release(divisor);
            release(picked);
        }
    }

    /**
     * VJP of softmax cross-entropy with respect to the logits:
     * {@code out = scale · (e^logp − onehot(labels))}.
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @param scale            the loss's cotangent divided by {@code rows}
     * @param out              {@code rows × cols}
     */
    default void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out) {
        if ((long) rows * cols == 0) {
            return;
        }
        Buffer factor = Scratch.scalar(this, scale);
        Buffer minusScale = allocate(rows);
        try {
            unary(UnaryOp.EXP, 0f, logProbabilities, out);
            binary(BinaryOp.MUL, factor, new int[] {0, 0}, out, new int[] {cols, 1}, out, new int[] {rows, cols});
            fill(minusScale, -scale);
            scatterAdd(minusScale, rows, 1, 1, labels, out, cols);
        } finally {
            release(minusScale);
            release(factor);
        }
    }

    /**
     * {@link #crossEntropyGrad(Buffer, Buffer, int, int, float, Buffer)} with
     * {@code scale = cotangent[0] / rows} (float division), the loss's cotangent read where it
     * lies. The default reads it on the host; a device backend overrides this so that the
     * backward pass need not wait for the device there.
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @param cotangent        one element: the loss's cotangent
     * @param out              {@code rows × cols}
     */
    default void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer cotangent,
                                  Buffer out) {
        crossEntropyGrad(logProbabilities, labels, rows, cols, download(cotangent)[0] / rows, out);
    }
}
