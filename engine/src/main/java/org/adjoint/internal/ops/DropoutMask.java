package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.RandomOps;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Inverted dropout, {@code x · mask} with {@code mask} 0 (probability {@code p}) or
 * {@code 1 / (1 − p)}. The mask is a function of the attributes alone: element {@code i} keeps
 * its value when a counter-based hash of {@code (key, i)} ({@link RandomOps#bits}, the
 * SplitMix64 finaliser over {@code key + (i + 1)·γ}) is at least {@code p}, so that running the
 * forward computation again, on a recomputation or a re-run, draws the same mask bit for bit, on
 * any thread. The backend draws the mask where {@code x} lives ({@link RandomOps#dropoutMask}).
 * Nothing is kept for the rules: the mask goes back to the backend as soon as the product is
 * queued, and the VJP and the JVP draw it again from the key (a hash per element, where a kept
 * mask would hold as many floats as the activation it drops; the same bits either way).
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
        // Ops.apply records this primitive itself: the product here is never an op of its own.
        return dropped("dropout", draw, inputs[0], false);
    }

    @Override
    protected Tensor vjp(Draw draw, Values saved, int input, Tensor cotangent) {
        return dropped("dropout VJP", draw, cotangent, true);
    }

    @Override
    protected Tensor jvp(Draw draw, Values primals, Tensor[] tangents) {
        return tangents[0] == null ? null : dropped("dropout JVP", draw, tangents[0], true);
    }

    /**
     * {@code x · mask} with the mask drawn now: a temporary handed back once the product is
     * queued, or, in a rule whose product must itself be differentiable (a backward pass that
     * builds a graph, a tangent that carries one), a constant tensor of that product.
     */
    private static Tensor dropped(String op, Draw draw, Tensor x, boolean rule) {
        Backend backend = Compute.backend(op, x);
        int[] shape = Compute.shape(x);
        Buffer mask = backend.dropoutMask(draw.key(), draw.p(), Shapes.size(shape));
        if (rule && (Graph.recording(x) || Forward.any(x))) {
            return x.mul(Compute.wrap(backend, mask, shape));
        }
        try {
            return Compute.binary(op, BinaryOp.MUL, x, mask, shape);
        } finally {
            backend.release(mask);
        }
    }
}
