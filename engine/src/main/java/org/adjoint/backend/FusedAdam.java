package org.adjoint.backend;

/**
 * An optional part of the backend SPI: the whole Adam (or AdamW) update of one parameter in
 * one pass. A backend without it is still complete: the optimizer then composes the update
 * from {@link UpdateOps#axpy}, {@link ArithmeticOps#binary} and {@link ArithmeticOps#unary}, ten passes over
 * the parameter's arrays. A backend that implements it must give the bits of that composition
 * on itself (the same operations in the same order, each rounded as its own kernels round
 * it), so that choosing the fused form never changes a result.
 */
public interface FusedAdam {

    /**
     * In place, element by element:
     * <pre>
     *   p ← p·shrink                            (decoupled decay; shrink = 1: none)
     *   d ← g, or p·decay + g                   (coupled decay; decay = 0: none)
     *   m ← m·β1 + (1−β1)·d      v ← v·β2 + (1−β2)·d²
     *   p ← p + step · m / (√v / √c2 + ε)
     * </pre>
     * All four buffers have the same size and belong to this backend.
     *
     * @param param           parameters, updated
     * @param grad            gradient
     * @param m               first moments, updated
     * @param v               second moments, updated
     * @param beta1           β1
     * @param beta2           β2
     * @param sqrtCorrection2 √(1 − β2^t)
     * @param epsilon         ε
     * @param step            −lr / (1 − β1^t)
     * @param decay           coupled weight decay, 0 for none
     * @param shrink          decoupled factor 1 − lr·λ, 1 for none
     */
    void adam(Buffer param, Buffer grad, Buffer m, Buffer v, float beta1, float beta2, float sqrtCorrection2,
              float epsilon, float step, float decay, float shrink);

    /**
     * {@link #adam(Buffer, Buffer, Buffer, Buffer, float, float, float, float, float, float, float)}
     * on the first {@code count} parameters of the arrays, all with the same scalars (an
     * optimizer's parameters of one weight decay at one step), each with the bits it gets
     * alone. The default updates them one by one; a backend that launches work overrides it
     * with one launch for all. Arrays rather than a list of records, so that an optimizer can
     * reuse them and a warm step allocates nothing.
     *
     * @param params          parameters, updated
     * @param grads           their gradients
     * @param firstMoments    first moments, updated
     * @param secondMoments   second moments, updated
     * @param count           how many of each array's leading entries to update
     * @param beta1           β1
     * @param beta2           β2
     * @param sqrtCorrection2 √(1 − β2^t)
     * @param epsilon         ε
     * @param step            −lr / (1 − β1^t)
     * @param decay           coupled weight decay, 0 for none
     * @param shrink          decoupled factor 1 − lr·λ, 1 for none
     */
    default void adam(Buffer[] params, Buffer[] grads, Buffer[] firstMoments, Buffer[] secondMoments, int count,
                      float beta1, float beta2, float sqrtCorrection2, float epsilon, float step, float decay,
                      float shrink) {
        for (int i = 0; i < count; i++) {
            adam(params[i], grads[i], firstMoments[i], secondMoments[i], beta1, beta2, sqrtCorrection2, epsilon, step,
                    decay, shrink);
        }
    }
}
