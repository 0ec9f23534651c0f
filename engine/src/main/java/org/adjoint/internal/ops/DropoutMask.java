package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;

/**
 * Inverted dropout, {@code x · mask} with {@code mask} 0 (probability {@code p}) or
 * {@code 1 / (1 − p)}. The mask is a function of the attributes alone: element {@code i} keeps
 * its value when a counter-based hash of {@code (key, i)} (the SplitMix64 finaliser over
 * {@code key + (i + 1)·γ}) is at least {@code p}, so that running the forward computation again,
 * on a recomputation or a re-run, draws the same mask bit for bit, on any thread. The mask is a
 * residual: both rules multiply by it.
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
    private static final long GAMMA = 0x9E3779B97F4A7C15L;

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

    /**
     * The 64 random bits a key gives at a counter: the SplitMix64 finaliser of
     * {@code key + (counter + 1)·γ}, so that a key and a counter alone say what is drawn.
     *
     * @param key     the key
     * @param counter the element's index
     * @return the bits
     */
    public static long bits(long key, long counter) {
        long z = key + (counter + 1) * GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    protected Tensor forward(Draw draw, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        int[] shape = Compute.shape(x);
        Backend backend = Compute.backend("dropout", x);
        float[] values = HostArrays.floats("dropout mask", x.size());
        float keep = 1f / (1f - draw.p());
        for (int i = 0; i < values.length; i++) {
            // 24 bits: a float in [0, 1) with every value equally likely.
            values[i] = (bits(draw.key(), i) >>> 40) * 0x1.0p-24f < draw.p() ? 0f : keep;
        }
        Tensor mask = Compute.wrap(backend, backend.upload(values), shape);
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
