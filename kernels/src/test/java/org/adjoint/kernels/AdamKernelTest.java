package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused Adam update gives the bits of the update composed from the same provider's
 * operations, the ten passes {@code org.adjoint.optim.AdaptiveMoments} makes without it: with
 * no decay, coupled decay and decoupled decay, at the first step and a later one, for lengths
 * with and without a vector tail.
 */
class AdamKernelTest {

    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPSILON = 1e-8f;
    private static final float LR = 1e-3f;

    @ParameterizedTest(name = "{0}, {1}, n={2}, t={3}")
    @CsvSource({
            "scalar, none, 1, 1", "scalar, coupled, 37, 1", "scalar, decoupled, 1000, 7", "scalar, none, 1003, 12",
            "vector, none, 1, 1", "vector, none, 8, 1", "vector, coupled, 37, 1", "vector, decoupled, 1000, 7",
            "vector, none, 1003, 12", "vector, coupled, 4099, 3", "vector, decoupled, 16, 2"})
    void fusedGivesTheComposedBits(String provider, String decayKind, int n, int t) {
        KernelProvider kernels = KernelProvider.named(provider);
        SplittableRandom random = new SplittableRandom(31L * n + t);
        float[] p = values(random, n, 1f);
        float[] g = values(random, n, 1e-2f);
        g[0] = 0f;
        float[] m = values(random, n, 1e-3f);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextDouble() * 1e-4);
        }
        float weightDecay = decayKind.equals("none") ? 0f : 0.01f;
        boolean decoupled = decayKind.equals("decoupled");
        double correction1 = 1.0 - Math.pow(BETA1, t);
        double correction2 = 1.0 - Math.pow(BETA2, t);
        float root2 = (float) Math.sqrt(correction2);
        float step = (float) (-LR / correction1);

        float[] cp = p.clone();
        float[] cm = m.clone();
        float[] cv = v.clone();
        composed(kernels, cp, g, cm, cv, weightDecay, decoupled, root2, step);

        float decay = weightDecay > 0f && !decoupled ? weightDecay : 0f;
        float shrink = weightDecay > 0f && decoupled ? (float) (1.0 - (double) LR * weightDecay) : 1f;
        kernels.adam(p, g, m, v, n, BETA1, BETA2, root2, EPSILON, step, decay, shrink);

        same("parameter", cp, p);
        same("first moment", cm, m);
        same("second moment", cv, v);
    }

    /**
     * Many parameters at once, split end to end across the threads (ranges that begin and end
     * inside parameters, and empty ones), give each parameter's bits from the one-parameter
     * update: one block of the GPT's sizes with its embeddings (16 arrays, 215,040 floats) and a
     * set of odd lengths, with coupled or decoupled decay.
     */
    @ParameterizedTest(name = "{0}, {1}, {2}")
    @CsvSource({"vector, gpt, decoupled", "scalar, gpt, decoupled", "vector, odd, coupled", "scalar, odd, coupled",
            "vector, odd, decoupled"})
    void manyParametersAtOnceGiveEachOnesBits(String provider, String sizes, String decayKind) {
        KernelProvider kernels = KernelProvider.named(provider);
        int[] lengths = sizes.equals("gpt")
                ? new int[] {8320, 8192, 128, 128, 49152, 384, 16384, 128, 128, 128, 65536, 512, 65536, 128, 128, 128}
                : new int[] {3, 0, 40001, 17, 0, 70003, 1, 33333};
        SplittableRandom random = new SplittableRandom(lengths.length);
        int count = lengths.length;
        float[][] p = new float[count][];
        float[][] g = new float[count][];
        float[][] m = new float[count][];
        float[][] v = new float[count][];
        float[][][] one = new float[4][count][];
        for (int k = 0; k < count; k++) {
            p[k] = values(random, lengths[k], 1f);
            g[k] = values(random, lengths[k], 1e-2f);
            m[k] = values(random, lengths[k], 1e-3f);
            v[k] = values(random, lengths[k], 1e-2f);
            for (int i = 0; i < lengths[k]; i++) {
                v[k][i] *= v[k][i];
            }
            one[0][k] = p[k].clone();
            one[1][k] = g[k];
            one[2][k] = m[k].clone();
            one[3][k] = v[k].clone();
        }
        float root2 = (float) Math.sqrt(1.0 - Math.pow(BETA2, 5));
        float step = (float) (-LR / (1.0 - Math.pow(BETA1, 5)));
        boolean decoupled = decayKind.equals("decoupled");
        float shrink = decoupled ? (float) (1.0 - (double) LR * 0.1) : 1f;
        float decay = decoupled ? 0f : 0.01f;
        for (int k = 0; k < count; k++) {
            kernels.adam(one[0][k], one[1][k], one[2][k], one[3][k], lengths[k], BETA1, BETA2, root2, EPSILON, step,
                    decay, shrink);
        }
        kernels.adam(p, g, m, v, count, BETA1, BETA2, root2, EPSILON, step, decay, shrink);
        for (int k = 0; k < count; k++) {
            same("parameter of array " + k, one[0][k], p[k]);
            same("first moment of array " + k, one[2][k], m[k]);
            same("second moment of array " + k, one[3][k], v[k]);
        }
    }

    /** The composition of AdaptiveMoments.update, operation for operation. */
    private static void composed(KernelProvider k, float[] p, float[] g, float[] m, float[] v, float weightDecay,
                                 boolean decoupled, float root2, float step) {
        int n = p.length;
        float[] scratch = new float[n];
        float[] direction = g;
        if (weightDecay > 0f) {
            if (decoupled) {
                withScalar(k, Strided.Binary.MUL, p, (float) (1.0 - (double) LR * weightDecay), p);
            } else {
                withScalar(k, Strided.Binary.MUL, p, weightDecay, scratch);
                k.axpy(1f, g, scratch, n);
                direction = scratch;
            }
        }
        withScalar(k, Strided.Binary.MUL, m, BETA1, m);
        k.axpy(1f - BETA1, direction, m, n);
        withScalar(k, Strided.Binary.MUL, v, BETA2, v);
        k.binary(Strided.Binary.MUL, direction, new int[] {1}, direction, new int[] {1}, scratch, new int[] {n});
        k.axpy(1f - BETA2, scratch, v, n);
        k.unary(ElementWise.Unary.SQRT, 0f, v, 0, scratch, 0, n);
        withScalar(k, Strided.Binary.DIV, scratch, root2, scratch);
        withScalar(k, Strided.Binary.ADD, scratch, EPSILON, scratch);
        k.binary(Strided.Binary.DIV, m, new int[] {1}, scratch, new int[] {1}, scratch, new int[] {n});
        k.axpy(step, scratch, p, n);
    }

    private static void withScalar(KernelProvider k, Strided.Binary op, float[] x, float value, float[] out) {
        k.binary(op, x, new int[] {1}, new float[] {value}, new int[] {0}, out, new int[] {x.length});
    }

    private static float[] values(SplittableRandom random, int n, float scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }

    private static void same(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + " " + i + " of " + expected.length + ": composed " + expected[i] + ", fused " + actual[i]);
            }
        }
    }
}
