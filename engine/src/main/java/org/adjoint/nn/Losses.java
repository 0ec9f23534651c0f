package org.adjoint.nn;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.CrossEntropy;

/** Loss functions. */
public final class Losses {

    private Losses() {
    }

    /**
     * Mean softmax cross-entropy of {@code [rows, classes]} logits against one class index
     * per row, fused: equal to
     * {@code logits.logSoftmax(1)} picked at the labels, negated and averaged, in one
     * forward and one backward pass.
     *
     * @param logits unnormalised scores
     * @param labels class indices in {@code [0, classes)}
     * @return a rank-0 tensor
     */
    public static Tensor crossEntropy(Tensor logits, int[] labels) {
        return CrossEntropy.apply(logits, labels);
    }
}
