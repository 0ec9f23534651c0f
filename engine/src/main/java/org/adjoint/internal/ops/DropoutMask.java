package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.RandomOps;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;

/**
 * Inverted dropout, {@code x · mask} with {@code mask} 0 (probability {@code p}) or
 * {@code 1 / (1 − p)}. The mask is a function of the attributes alone: element {@code i} keeps
 * its value when a counter-based hash of {@code (key, i)} ({@link RandomOps#bits}, the
 * SplitMix64 finaliser over {@code key + (i + 1)·γ}) is at least {@code p}, so that running the
 * forward computation again, on a recomputation or a re-run, draws the same mask bit for bit, on
 * any thread. The backend draws the mask where {@code x} lives ({@link RandomOps#dropoutMask}).
 * The mask is a residual: both rules multiply by it.
 */
public final class DropoutMask extends Primitive<DropoutMask.Draw> {

    /**
     * One application's attributes.
     *
     * @param p   the probability of dropping an element
     * @param key the random key the mask is drawn from
     */
    public record Draw(float p, long key) {
    }

    private static final DropoutMask DROPOUT = new DropoutMask();

    private DropoutMask() {
        super("dropout");
    }

    /**
     * Drops elements of {@code x}.
     *
     * @param x   the input
     * @param p   probability of dropping an element, in {@code [0, 1)}
     * @param key the random key
     * @return the output, of {@code x}'s shape
     */
    public static Tensor apply(Tensor x, float p, long key) {
        return Ops.apply(DROPOUT, new Draw(p, key), x);
    }

    @Override
    protected Tensor forward(Draw draw, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        int[] shape = Compute.shape(x);
        Backend backend = Compute.backend("dropout", x);
        // Drawn where x lives: on the device, not on the host and uploaded.
        Tensor mask = Compute.wrap(backend, backend.dropoutMask(draw.key(), draw.p(), x.size()), shape);
        residuals.keep(mask);
        return Compute.binary("dropout", BinaryOp.MUL, x, mask, shape);
    }

    @Override
    protected Tensor vjp(Draw draw, Values saved, int input, Tensor cotangent) {
        return cotangent.mul(saved.residual(0));
    }

    @Override
    protected Tensor jvp(Draw draw, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : tangents[0].mul(primals.residual(0));
    }
}
