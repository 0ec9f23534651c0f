package org.adjoint.backend;

import java.util.List;

/**
 * An optional part of the backend SPI: the global norm of many buffers, and their clipping to
 * it, each in a few passes over all of them and without a wait for the device. A backend
 * without it is still complete: {@code GradientClipping} then composes the norm from
 * {@link ArithmeticOps#binary} and {@link ReductionOps#sumTo} per gradient, reads it on the
 * host and scales each gradient with {@code binary}.
 *
 * <p>Unlike {@link FusedAdam}, the fused form does not promise the composition's bits: it adds
 * the squares in double, in an order that depends on the buffers' sizes alone (so the same
 * gradients give the same norm on every run), where the composition adds float sums.
 */
public interface FusedClipping {

    /**
     * {@code norm[0] ← sqrtf((float) Σ x²)} over every element of every buffer, the sum taken
     * in double.
     *
     * @param buffers the buffers, of this backend (empty ones count as nothing)
     * @param norm    a one-element buffer of this backend, written
     */
    void globalNorm(List<Buffer> buffers, Buffer norm);

    /**
     * Scales every buffer in place by {@code c = (float) (maxNorm / ((double) norm[0] + 1e-6))}
     * (each product rounded as {@link BinaryOp#MUL}), when {@code c < 1} or {@code c} is NaN;
     * otherwise leaves them as they are. PyTorch's {@code clip_grad_norm_} rule.
     *
     * @param buffers the buffers, of this backend
     * @param norm    a one-element buffer of this backend holding the norm
     * @param maxNorm the largest norm allowed
     */
    void clipToNorm(List<Buffer> buffers, Buffer norm, float maxNorm);
}
