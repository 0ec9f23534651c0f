package org.adjoint.optim;

import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;

/**
 * Clipping of gradients by their global norm, as PyTorch's
 * {@code torch.nn.utils.clip_grad_norm_}: between {@code backward()} and {@code step()},
 *
 * <pre>{@code
 * float norm = GradientClipping.clipGradNorm(model.parameters(), 1f);
 * }</pre>
 */
public final class GradientClipping {

    private GradientClipping() {
    }

    /**
     * Scales every gradient in place by {@code min(1, maxNorm / (norm + 1e-6))}, where
     * {@code norm} is the Euclidean norm of all the gradients together, as if concatenated.
     * Parameters without a gradient are skipped. The gradients keep their buffers, so a
     * gradient tensor obtained earlier sees the scaled values.
     *
     * @param parameters the leaves whose gradients to clip
     * @param maxNorm    the largest norm allowed, finite and {@code > 0}
     * @return the norm before clipping (infinite or NaN when a gradient is; the gradients are
     *         then scaled by the same rule, as PyTorch does without {@code error_if_nonfinite})
     * @throws IllegalArgumentException for a bad {@code maxNorm}
     */
    public static float clipGradNorm(List<Tensor> parameters, float maxNorm) {
        if (!(maxNorm > 0f && maxNorm < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("clipGradNorm: the maximal norm must be finite and > 0, got " + maxNorm);
        }
        Tensor squares = null;
        try (var _ = GradMode.noGrad()) {
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (g != null) {
                    Tensor s = g.mul(g).sum();
                    squares = squares == null ? s : squares.add(s);
                }
            }
        }
        if (squares == null) {
            return 0f;
        }
        float norm = (float) Math.sqrt(squares.item());
        float coefficient = (float) (maxNorm / ((double) norm + 1e-6));
        if (coefficient < 1f || Float.isNaN(coefficient)) {
            InPlace inPlace = new InPlace();
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (g != null) {
                    Backend backend = Compute.backend("clipGradNorm", g);
                    inPlace.withScalar(backend, BinaryOp.MUL, InPlace.buffer(g), coefficient, InPlace.buffer(g),
                            InPlace.flat(g));
                    InPlace.changed(g);
                }
            }
        }
        return norm;
    }
}
