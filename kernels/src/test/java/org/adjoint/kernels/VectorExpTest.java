package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorElementWise#exp} clamps its argument with compares and blends; the form it
 * replaced, {@code max(−104).min(89)}, is kept here as the reference. The two must give the
 * same bits for every float, NaNs, infinities, signed zeros and the clamps' neighbours included.
 * The reference repeats the polynomial on purpose: checked through the function under test
 * ({@code exp(x)} against {@code exp(x.max(−104).min(89))}), a clamp that turned NaN into −104
 * passed, since the same wrong clamp ran on both sides. The lower clamp is now
 * {@link VectorElementWise#EXP_FLOOR} (−176, where the result is 0 without a subnormal
 * product); below −104 both give 0, which every float from −100 down to −180 checks.
 */
class VectorExpTest {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;

    /** The exponential as it was, with Java's {@code max} and {@code min} as the clamp. */
    private static FloatVector minMaxExp(FloatVector x) {
        FloatVector clamped = x.max(-104f).min(89f);
        FloatVector shifted = clamped.fma(FloatVector.broadcast(S, VectorElementWise.LOG2_E),
                FloatVector.broadcast(S, VectorElementWise.ROUNDER));
        FloatVector n = shifted.sub(VectorElementWise.ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -VectorElementWise.LN2_HIGH), clamped);
        r = n.fma(FloatVector.broadcast(S, -VectorElementWise.LN2_LOW), r);
        FloatVector p = FloatVector.broadcast(S, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        IntVector whole = shifted.reinterpretAsInts().sub(VectorElementWise.ROUNDER_BITS);
        IntVector half = whole.lanewise(VectorOperators.ASHR, 1);
        IntVector rest = whole.sub(half);
        FloatVector first = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector second = rest.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(first).mul(second);
    }

    private static void assertSameBits(float[] x) {
        int lanes = S.length();
        float[] padded = Arrays.copyOf(x, (x.length + lanes - 1) / lanes * lanes);
        float[] ours = new float[padded.length];
        float[] theirs = new float[padded.length];
        for (int i = 0; i < padded.length; i += lanes) {
            FloatVector v = FloatVector.fromArray(S, padded, i);
            VectorElementWise.exp(v).intoArray(ours, i);
            minMaxExp(v).intoArray(theirs, i);
        }
        for (int i = 0; i < x.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(theirs[i]), Float.floatToRawIntBits(ours[i]),
                    () -> "exp(" + x[at] + ") [bits " + Integer.toHexString(Float.floatToRawIntBits(x[at])) + "]");
        }
    }

    @Test
    void clampByBlendsGivesTheMinMaxBitsAtTheEdges() {
        float[] edges = {-104f, 89f, 0f, -0f, 1f, -1f, Float.NaN, Float.intBitsToFloat(0xffc00001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE,
            -Float.MIN_VALUE, 88.72f, -87.33f, -103.97f, VectorElementWise.EXP_FLOOR, -175f, -177f};
        float[] x = new float[edges.length * 3];
        for (int i = 0; i < edges.length; i++) {
            x[3 * i] = Math.nextDown(edges[i]);
            x[3 * i + 1] = edges[i];
            x[3 * i + 2] = Math.nextUp(edges[i]);
        }
        assertSameBits(x);
    }

    @Test
    void everyFloatBetweenTheTwoFloorsGivesTheSameBits() {
        int from = Float.floatToRawIntBits(-100f);
        int to = Float.floatToRawIntBits(-180f);
        float[] x = new float[to - from + 1];
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.intBitsToFloat(from + i);
        }
        assertSameBits(x);
    }

    @Test
    void clampByBlendsGivesTheMinMaxBitsAcrossAllExponents() {
        // Every 4,099th bit pattern: both signs, every exponent, subnormals and NaN payloads.
        int count = (int) ((1L << 32) / 4099) + 1;
        float[] x = new float[count];
        long bits = 0;
        for (int i = 0; i < count; i++, bits += 4099) {
            x[i] = Float.intBitsToFloat((int) bits);
        }
        assertSameBits(x);
    }
}
