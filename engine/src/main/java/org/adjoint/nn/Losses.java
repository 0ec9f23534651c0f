package org.adjoint.nn;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.internal.Shapes;
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

    /**
     * Mean squared error {@code mean((prediction − target)²)} over all elements, built from
     * {@code sub}, {@code mul} and {@code mean}, so both arguments get gradients
     * ({@code 2 (prediction − target) / n} for the prediction).
     *
     * <p>The shapes must be equal. Broadcasting is refused on purpose: a {@code [n, 1]}
     * prediction against an {@code [n]} target would broadcast to {@code [n, n]} and silently
     * compare every prediction with every target (PyTorch only warns).
     *
     * @param prediction the model's output
     * @param target     the values to match, of the same shape
     * @return a rank-0 tensor (NaN for empty tensors, as the mean of nothing)
     * @throws IllegalArgumentException when the shapes differ, naming both
     */
    public static Tensor meanSquaredError(Tensor prediction, Tensor target) {
        int[] predictionShape = prediction.shape();
        int[] targetShape = target.shape();
        if (!Arrays.equals(predictionShape, targetShape)) {
            throw new IllegalArgumentException("meanSquaredError: prediction " + Shapes.str(predictionShape)
                    + " and target " + Shapes.str(targetShape) + " must have the same shape (no broadcasting)");
        }
        Tensor difference = prediction.sub(target);
        return difference.mul(difference).mean();
    }
}
