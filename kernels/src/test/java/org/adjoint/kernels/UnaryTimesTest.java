package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.adjoint.kernels.ElementWise.Unary;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link KernelProvider#unaryTimes}, the one-pass pointwise VJP, gives the bits of the two
 * passes it replaces ({@link KernelProvider#unary} into a temporary, then a product) on both
 * providers, for lengths that are not whole vectors and lengths that split across threads,
 * with signed zeros, infinities and NaN among both operands (every NaN counted as one).
 */
class UnaryTimesTest {

    private static final float[] SPECIAL = {
        -1e20f, -100f, -20f, -3.5f, -1f, -1e-30f, -0f, 0f, 1e-30f, 1f, 3.5f, 20f, 100f, 1e20f,
        Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN};

    private static float[] values(long seed, int n, double range) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i % 5 == 3 ? SPECIAL[(int) ((i / 5 + seed) % SPECIAL.length)] : (float) random.nextDouble(-range, range);
        }
        return x;
    }

    private static KernelProvider provider(String name) {
        return name.equals("vector") ? VectorKernels.INSTANCE : ScalarKernels.INSTANCE;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            // floatToIntBits: one NaN for all, since which NaN a product of two returns is the JIT's choice.
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", the two passes give "
                        + expected[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7, 15, 16, 17, 64, 1023, 40_000, 131_101})
    void theSameBitsAsTheTwoPasses(int n) {
        for (String name : new String[] {"vector", "scalar"}) {
            KernelProvider kernels = provider(name);
            for (Unary function : new Unary[] {Unary.STEP, Unary.GELU_GRAD}) {
                float[] x = values(1, n, 6);
                float[] grad = values(2, n, 2);
                float[] factor = new float[n];
                kernels.unary(function, 0f, x, 0, factor, 0, n);
                float[] expected = new float[n];
                kernels.binary(Strided.Binary.MUL, grad, new int[] {1}, factor, new int[] {1}, expected, new int[] {n});
                float[] actual = new float[n];
                kernels.unaryTimes(function, x, grad, actual, n);
                assertSameBits(expected, actual, name + " " + function + " over " + n);
                float[] inPlace = x.clone();
                kernels.unaryTimes(function, inPlace, grad, inPlace, n);
                assertSameBits(expected, inPlace, name + " " + function + " over " + n + " in place");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Unary.class, names = {"STEP", "GELU_GRAD"}, mode = EnumSource.Mode.EXCLUDE)
    void otherFunctionsAreRefusedByName(Unary function) {
        for (String name : new String[] {"vector", "scalar"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> provider(name).unaryTimes(function, new float[1], new float[1], new float[1], 1));
            assertTrue(e.getMessage().contains("unaryTimes") && e.getMessage().contains(function.name()),
                    e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(floats = {-2f, -0f, 0f, 3f})
    void reluMasksWithAProductSoANegativeCotangentKeepsItsSign(float y) {
        float[] out = new float[16];
        float[] grad = new float[16];
        float[] x = new float[16];
        java.util.Arrays.fill(x, y);
        java.util.Arrays.fill(grad, -1.5f);
        VectorKernels.INSTANCE.unaryTimes(Unary.STEP, x, grad, out, 16);
        assertEquals(y > 0f ? -1.5f : -0f, out[0]);
        assertEquals(Float.floatToRawIntBits(y > 0f ? -1.5f : -0f), Float.floatToRawIntBits(out[15]));
    }
}
