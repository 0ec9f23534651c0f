package org.adjoint.optim;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.FusedClipping;
import org.adjoint.internal.Compute;
import org.adjoint.internal.TensorImpl;

/**
 * Clipping of gradients by their global norm, as PyTorch's
 * {@code torch.nn.utils.clip_grad_norm_}: between {@code backward()} and {@code step()},
 *
 * <pre>{@code
 * float norm = GradientClipping.clipGradNorm(model.parameters(), 1f);
 * }</pre>
 *
 * <p>On a device, {@link #clipGradNormTensor} does the same without waiting for the device:
 * the norm stays there, as a one-element tensor, until someone reads it.
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
     * @throws IllegalArgumentException for a bad {@code maxNorm}, or a tensor that stands twice
     *                                  in {@code parameters}
     */
    public static float clipGradNorm(List<Tensor> parameters, float maxNorm) {
        return clipGradNormTensor(parameters, maxNorm).item();
    }

    /**
     * {@link #clipGradNorm}, returning the norm as a tensor of shape {@code []} (0 on the
     * default backend when no parameter has a gradient). When every gradient lives on one
     * backend with {@link FusedClipping} (CUDA), the norm and the scaling are computed there in
     * three launches, without waiting for the device; the norm's bits may then differ from
     * the CPU's within float rounding (see {@link FusedClipping}). Elsewhere each backend gives
     * its gradients' sums of squares ({@link Backend#sumsOfSquares}, the bits of
     * {@code g.mul(g).sum()}), read on the host and added in float in the gradients' order, as
     * {@link #clipGradNorm} always did; gradients on different backends are summed on each.
     *
     * @param parameters the leaves whose gradients to clip
     * @param maxNorm    the largest norm allowed, finite and {@code > 0}
     * @return the norm before clipping
     * @throws IllegalArgumentException for a bad {@code maxNorm}, or a tensor that stands twice
     *                                  in {@code parameters}
     */
    public static Tensor clipGradNormTensor(List<Tensor> parameters, float maxNorm) {
        if (!(maxNorm > 0f && maxNorm < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("clipGradNorm: the maximal norm must be finite and > 0, got " + maxNorm);
        }
        // A gradient counted twice would weigh twice in the norm and be scaled twice.
        InPlace.checkDistinct("clipGradNorm", parameters);
        List<Tensor> grads = new ArrayList<>();
        for (Tensor p : parameters) {
            if (p.grad() != null) {
                grads.add(p.grad());
            }
        }
        if (grads.isEmpty()) {
            return Tensor.scalar(0f);
        }
        Backend backend = TensorImpl.of(grads.getFirst()).backend();
        boolean oneBackend = grads.stream().allMatch(g -> TensorImpl.of(g).backend() == backend);
        if (oneBackend && backend instanceof FusedClipping fused) {
            List<Buffer> buffers = new ArrayList<>(grads.size());
            for (Tensor g : grads) {
                buffers.add(InPlace.buffer(g));
            }
            Buffer norm = Compute.allocateUninitialized(backend, 1);
            fused.globalNorm(buffers, norm);
            fused.clipToNorm(buffers, norm, maxNorm);
            grads.forEach(InPlace::changed);
            return Compute.wrap(backend, norm, new int[0]);
        }
        // Each gradient's Σ g², as g.mul(g).sum() gives it, added in float in the gradients' order.
        float squares = 0f;
        if (oneBackend) {
            squares = sumOfSquares(backend, grads);
        } else {
            for (Tensor g : grads) {
                squares += sumOfSquares(Compute.backend("clipGradNorm", g), List.of(g));
            }
        }
        float norm = (float) Math.sqrt(squares);
        float coefficient = (float) (maxNorm / ((double) norm + 1e-6));
        if (coefficient < 1f || Float.isNaN(coefficient)) {
            InPlace inPlace = new InPlace();
            for (Tensor g : grads) {
                Backend own = Compute.backend("clipGradNorm", g);
                inPlace.withScalar(own, BinaryOp.MUL, InPlace.buffer(g), coefficient, InPlace.buffer(g),
                        InPlace.flat(g));
                InPlace.changed(g);
            }
        }
        return Compute.full(backend, norm, new int[0]);
    }

    /** The gradients' sums of squares ({@link Backend#sumsOfSquares}) added in order in float, all on {@code backend}. */
    private static float sumOfSquares(Backend backend, List<Tensor> grads) {
        Buffer[] buffers = new Buffer[grads.size()];
        for (int k = 0; k < buffers.length; k++) {
            buffers[k] = InPlace.buffer(grads.get(k));
        }
        Buffer sums = Compute.allocate(backend, buffers.length);
        try {
            backend.sumsOfSquares(buffers, buffers.length, sums);
            float[] each = backend.download(sums);
            float total = each[0];
            for (int k = 1; k < each.length; k++) {
                total += each[k];
            }
            return total;
        } finally {
            backend.release(sums);
        }
    }
}
