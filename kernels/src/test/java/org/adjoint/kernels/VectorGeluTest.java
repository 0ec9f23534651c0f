package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorGelu}'s loops, which run on the CPU's widest vectors (the last one masked),
 * against the provider-width loop they replaced, kept here as it was (one
 * {@link VectorMicroKernel#SPECIES} vector at a time, the scalar tail after it): the same bits
 * for every element, at lengths around both vector lengths and with the special values.
 */
class VectorGeluTest {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final float[] SPECIAL = {0f, -0f, 1f, -1f, 1e-30f, -1e-30f, 5f, -5f, 14.9f, -14.9f, 15f, -15f,
        20f, -20f, 1e4f, -1e4f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE};
    private static final int[] SIZES = {0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48, 63, 64, 65, 257, 1000,
        4096 + 8, 393_216};

    private static float[] data(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i % 7 == 0 ? SPECIAL[(i / 7) % SPECIAL.length] : (float) random.nextDouble(-9, 9);
        }
        return x;
    }

    /** The provider-width GELU that {@link VectorGelu} replaced, as it was. */
    private static FloatVector narrowGelu(FloatVector x, boolean grad) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector a = x.abs().min(ElementWise.NORMAL_TAIL_CLAMP);
        FloatVector square = a.mul(a);
        FloatVector remainder = a.fma(a, square.neg());
        FloatVector g = VectorElementWise.exp(square.mul(-0.5f));
        g = g.fma(remainder.mul(-0.5f), g);
        FloatVector tau = one.div(a.fma(FloatVector.broadcast(S, ElementWise.NORMAL_TAIL_SCALE), one));
        float[] c = ElementWise.NORMAL_TAIL;
        FloatVector p = FloatVector.broadcast(S, c[c.length - 1]);
        for (int k = c.length - 2; k >= 0; k--) {
            p = p.fma(tau, FloatVector.broadcast(S, c[k]));
        }
        FloatVector t = p.mul(tau).mul(g);
        FloatVector cdf = one.sub(t).blend(t, x.compare(VectorOperators.LT, 0f));
        return grad ? cdf.add(x.mul(g.mul(ElementWise.INV_SQRT_2PI))) : x.mul(cdf);
    }

    /** The loop before {@link VectorGelu}: provider-width vectors, then the scalar kernel. */
    private static void reference(float[] x, float[] grad, float[] out, int n, boolean derivative) {
        int bound = S.loopBound(n);
        for (int i = 0; i < bound; i += S.length()) {
            FloatVector value = narrowGelu(FloatVector.fromArray(S, x, i), derivative);
            if (grad != null) {
                value = FloatVector.fromArray(S, grad, i).mul(value);
            }
            value.intoArray(out, i);
        }
        for (int i = bound; i < n; i++) {
            float value = derivative ? ElementWise.geluGrad(x[i]) : ElementWise.gelu(x[i]);
            out[i] = grad != null ? grad[i] * value : value;
        }
    }

    private static void assertBitwise(float[] expected, float[] actual, String label) {
        for (int i = 0; i < expected.length; i++) {
            int element = i;
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    () -> label + ", element " + element);
        }
    }

    @Test
    void wideLoopsGiveTheProviderWidthBits() {
        for (int n : SIZES) {
            float[] x = data(n, n);
            float[] grad = data(n + 1L, n);
            for (boolean derivative : new boolean[] {false, true}) {
                float[] expected = new float[n];
                reference(x, null, expected, n, derivative);
                float[] actual = new float[n];
                VectorElementWise.unary(derivative ? ElementWise.Unary.GELU_GRAD : ElementWise.Unary.GELU, 0f, x, 0,
                        actual, 0, n);
                assertBitwise(expected, actual, (derivative ? "geluGrad" : "gelu") + " n=" + n);
            }
            float[] expected = new float[n];
            reference(x, grad, expected, n, true);
            float[] actual = new float[n];
            VectorElementWise.unaryTimes(ElementWise.Unary.GELU_GRAD, x, 0, grad, 0, actual, 0, n);
            assertBitwise(expected, actual, "geluGrad times n=" + n);
        }
    }

    @Test
    void offsetsAreHonoured() {
        int n = 77;
        float[] x = data(5, n + 3);
        float[] expected = new float[n];
        float[] shifted = new float[n];
        System.arraycopy(x, 3, shifted, 0, n);
        reference(shifted, null, expected, n, false);
        float[] actual = new float[n + 2];
        VectorElementWise.unary(ElementWise.Unary.GELU, 0f, x, 3, actual, 2, n);
        float[] window = new float[n];
        System.arraycopy(actual, 2, window, 0, n);
        assertBitwise(expected, window, "gelu at offsets");
    }
}
