package org.adjoint.data;

import org.adjoint.Tensor;

/**
 * A mini-batch: features ready for a model and the labels that
 * {@link org.adjoint.nn.Losses#crossEntropy(Tensor, int[])} takes as targets.
 *
 * @param features a tensor of shape {@code [size(), width]}
 * @param labels   one class index per row of {@code features}
 */
public record Batch(Tensor features, int[] labels) {

    /**
     * The number of examples.
     *
     * @return the row count
     */
    public int size() {
        return labels.length;
    }
}
