package org.adjoint.optim;

import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.FusedAdam;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;

/**
 * The update shared by {@link Adam} and {@link AdamW}, which differ only in how weight decay
 * enters: through the gradient (coupled, an L2 penalty) or straight on the parameter
 * (decoupled).
 */
public abstract sealed class AdaptiveMoments extends InPlaceOptimizer permits Adam, AdamW {

    private final boolean decoupled;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final Buffer[] firstMoments;
    private final Buffer[] secondMoments;
    /** Each parameter's scratch buffer (shared by parameters of one size), found once. */
    private final Buffer[] scratches;
    private final int[] steps;
    /** Each parameter's weight decay: {@link #weightDecay} for all, unless groups gave their own. */
    private final float[] decays;
    /** Reused by each step: which parameters still wait for their update, and a fused call's operands. */
    private final boolean[] pending;
    private final int[] batchIndices;
    private final Buffer[] batchParams;
    private final Buffer[] batchGrads;
    private final Buffer[] batchFirst;
    private final Buffer[] batchSecond;

    AdaptiveMoments(String name, boolean decoupled, List<Tensor> parameters, float learningRate,
                    float beta1, float beta2, float epsilon, float weightDecay) {
        this(name, decoupled, parameters, learningRate, beta1, beta2, epsilon, weightDecay, null);
    }

    /**
     * The optimizer with a weight decay per parameter.
     *
     * @param decays each parameter's decay, checked by the caller, or {@code null} for
     *               {@code weightDecay} on every parameter
     */
    AdaptiveMoments(String name, boolean decoupled, List<Tensor> parameters, float learningRate,
                    float beta1, float beta2, float epsilon, float weightDecay, float[] decays) {
        if (!(learningRate > 0f && learningRate < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(name + ": learning rate must be finite and > 0, got " + learningRate);
        }
        checkBeta(name, "beta1", beta1);
        checkBeta(name, "beta2", beta2);
        if (!(epsilon > 0f && epsilon < Float.POSITIVE_INFINITY)) {
            // 0 would turn a parameter whose gradient and moments are still 0 into 0/0 = NaN.
            throw new IllegalArgumentException(name + ": epsilon must be finite and > 0, got " + epsilon);
        }
        super(name, parameters, learningRate, weightDecay);
        this.decoupled = decoupled;
        int count = this.parameters.size();
        this.firstMoments = new Buffer[count];
        this.secondMoments = new Buffer[count];
        this.scratches = new Buffer[count];
        this.pending = new boolean[count];
        this.batchIndices = new int[count];
        this.batchParams = new Buffer[count];
        this.batchGrads = new Buffer[count];
        this.batchFirst = new Buffer[count];
        this.batchSecond = new Buffer[count];
        this.steps = new int[count];
        this.decays = new float[count];
        for (int i = 0; i < count; i++) {
            this.decays[i] = decays == null ? weightDecay : decays[i];
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    private static void checkBeta(String name, String which, float beta) {
        if (!(beta >= 0f && beta < 1f)) {
            throw new IllegalArgumentException(name + ": " + which + " must be in [0, 1), got " + beta);
        }
    }

    @Override
    public void step() {
        // Every buffer is allocated before the first parameter changes, so that an allocation
        // that fails leaves the model as it was instead of with half a step applied.
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            if (p.grad() != null) {
                allocateState(Compute.backend(stepName, p, p.grad()), i);
                // A strided parameter or gradient gets its contiguous copy here, not mid-step.
                InPlace.buffer(p);
                InPlace.buffer(p.grad());
            }
        }
        for (int i = 0; i < parameters.size(); i++) {
            pending[i] = parameters.get(i).grad() != null;
        }
        for (int i = 0; i < parameters.size(); i++) {
            if (!pending[i]) {
                continue;
            }
            Tensor p = parameters.get(i);
            Backend backend = Compute.backend(stepName, p, p.grad());
            int t = steps[i] + 1;
            if (backend instanceof FusedAdam fused) {
                updateTogether(fused, backend, i, t);
            } else {
                pending[i] = false;
                update(backend, i, t, InPlace.buffer(p), InPlace.buffer(p.grad()));
                // Counted once the update is done, as in updateTogether.
                steps[i] = t;
                InPlace.changed(p);
            }
        }
    }

    /**
     * Updates parameter {@code first} and every later pending one on the same backend with the
     * same step count and weight decay in one call: one launch on a device for all of them.
     * The arrays are reused, so a warm step allocates nothing.
     */
    private void updateTogether(FusedAdam fused, Backend backend, int first, int t) {
        float lambda = decays[first];
        int count = 0;
        for (int i = first; i < parameters.size(); i++) {
            if (!pending[i] || steps[i] + 1 != t || Float.compare(decays[i], lambda) != 0) {
                continue;
            }
            Tensor p = parameters.get(i);
            if (Compute.backend(stepName, p, p.grad()) != backend) {
                continue;
            }
            pending[i] = false;
            batchIndices[count] = i;
            batchParams[count] = InPlace.buffer(p);
            batchGrads[count] = InPlace.buffer(p.grad());
            batchFirst[count] = firstMoments[i];
            batchSecond[count] = secondMoments[i];
            count++;
        }
        Scalars s = scalars(t, lambda);
        try {
            // The same operations as update's, in one pass (FusedAdam promises the same bits).
            fused.adam(batchParams, batchGrads, batchFirst, batchSecond, count, beta1, beta2, s.root2(), epsilon,
                    s.step(), s.decay(), s.shrink());
            // Counted once the update is queued: a call that fails (a device that cannot take
            // the launch) leaves these parameters' step counts as they were.
            for (int k = 0; k < count; k++) {
                steps[batchIndices[k]] = t;
                InPlace.changed(parameters.get(batchIndices[k]));
            }
        } finally {
            // The arrays must not keep gradients alive until the next step.
            Arrays.fill(batchParams, 0, count, null);
            Arrays.fill(batchGrads, 0, count, null);
            Arrays.fill(batchFirst, 0, count, null);
            Arrays.fill(batchSecond, 0, count, null);
        }
    }

    /**
     * The scalars of one update.
     *
     * @param root2  √(1 − β2^t)
     * @param step   −lr / (1 − β1^t)
     * @param decay  coupled weight decay, 0 for none
     * @param shrink decoupled factor 1 − lr·λ, 1 for none
     */
    private record Scalars(float root2, float step, float decay, float shrink) {
    }

    private Scalars scalars(int t, float lambda) {
        // In double: 1 − β2^t subtracts nearly equal numbers while t is small.
        double correction1 = 1.0 - Math.pow(beta1, t);
        double correction2 = 1.0 - Math.pow(beta2, t);
        float root2 = (float) Math.sqrt(correction2);
        float step = (float) (-learningRate / correction1);
        // Coupled decay enters the gradient (an L2 penalty); decoupled decay shrinks the parameter.
        float decay = lambda > 0f && !decoupled ? lambda : 0f;
        float shrink = lambda > 0f && decoupled ? (float) (1.0 - (double) learningRate * lambda) : 1f;
        return new Scalars(root2, step, decay, shrink);
    }

    private void allocateState(Backend backend, int index) {
        if (firstMoments[index] != null) {
            return;
        }
        int[] flat = flats[index];
        Buffer m = backend.allocate(flat[0]);
        Buffer v = backend.allocate(flat[0]);
        Buffer scratch = inPlace.scratch(backend, flat);
        inPlace.prepareScalar(backend);
        // All or nothing: a first moment without its second or its scratch would break the next step.
        firstMoments[index] = m;
        secondMoments[index] = v;
        scratches[index] = scratch;
    }

    private void update(Backend backend, int index, int t, Buffer param, Buffer gradient) {
        int[] flat = flats[index];
        Buffer m = firstMoments[index];
        Buffer v = secondMoments[index];
        Buffer scratch = scratches[index];
        Scalars s = scalars(t, decays[index]);
        float root2 = s.root2();
        float step = s.step();
        float decay = s.decay();
        float shrink = s.shrink();
        Buffer direction = gradient;
        if (shrink != 1f) {
            inPlace.withScalar(backend, BinaryOp.MUL, param, shrink, param, flat);
        }
        if (decay != 0f) {
            inPlace.withScalar(backend, BinaryOp.MUL, param, decay, scratch, flat);
            backend.axpy(1f, gradient, scratch);
            direction = scratch;
        }
        inPlace.withScalar(backend, BinaryOp.MUL, m, beta1, m, flat);
        backend.axpy(1f - beta1, direction, m);
        inPlace.withScalar(backend, BinaryOp.MUL, v, beta2, v, flat);
        InPlace.elementWise(backend, BinaryOp.MUL, direction, direction, scratch, flat);
        backend.axpy(1f - beta2, scratch, v);
        // p ← p − (lr / c1) · m / (√v / √c2 + ε): the corrections stay scalars, as in PyTorch,
        // so m̂ and v̂ never need buffers of their own.
        backend.unary(UnaryOp.SQRT, 0f, v, scratch);
        inPlace.withScalar(backend, BinaryOp.DIV, scratch, root2, scratch, flat);
        inPlace.withScalar(backend, BinaryOp.ADD, scratch, epsilon, scratch, flat);
        InPlace.elementWise(backend, BinaryOp.DIV, m, scratch, scratch, flat);
        backend.axpy(step, scratch, param);
    }

    /**
     * The weight decay applied to one parameter: {@link #weightDecay()} unless the optimizer
     * was made from groups with their own.
     *
     * @param parameter one of {@link #parameters()}
     * @return its λ
     * @throws IllegalArgumentException when the optimizer does not update that tensor
     */
    public float weightDecay(Tensor parameter) {
        for (int i = 0; i < parameters.size(); i++) {
            if (parameters.get(i) == parameter) {
                return decays[i];
            }
        }
        throw new IllegalArgumentException(name + ": the tensor " + java.util.Arrays.toString(parameter.shape())
                + " is not one of its parameters");
    }

    /**
     * The first moment's decay.
     *
     * @return β1
     */
    public float beta1() {
        return beta1;
    }

    /**
     * The second moment's decay.
     *
     * @return β2
     */
    public float beta2() {
        return beta2;
    }

    /**
     * The term added to the denominator.
     *
     * @return ε
     */
    public float epsilon() {
        return epsilon;
    }
}
