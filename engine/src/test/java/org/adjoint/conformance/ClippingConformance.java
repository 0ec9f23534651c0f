package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.GradientClipping;
import org.adjoint.optim.ParameterGroup;
import org.junit.jupiter.api.Test;

/**
 * Clipping by the global gradient norm ({@link GradientClipping}): the rule against hand-worked
 * values, gradients of many sizes, a parameter listed twice, and more parameters than a
 * device's multi-tensor table holds (with an AdamW step and {@code zeroGrad} over them).
 */
public abstract class ClippingConformance extends BackendConformance {

    @Test
    void clipGradNormScalesEveryGradientByTheGlobalNorm() {
        Tensor a = vec(1f, 2f).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {1f, 1f, 1f, 1f}, 2, 2).requiresGrad(true);
        Tensor unused = vec(5f).requiresGrad(true);
        // Gradients 3a and 2b: (3, 6) and four 2s, norm sqrt(9 + 36 + 16) = sqrt(61).
        a.mul(a).mul(1.5f).sum().add(b.mul(b).sum()).backward();
        Tensor kept = a.grad();
        float norm = GradientClipping.clipGradNorm(List.of(a, b, unused), 2f);
        assertEquals(Math.sqrt(61), norm, 1e-5);
        float scale = (float) (2 / (Math.sqrt(61) + 1e-6));
        float[] ga = a.grad().toFloatArray();
        assertEquals(3 * scale, ga[0], 1e-6f);
        assertEquals(6 * scale, ga[1], 1e-6f);
        assertEquals(2 * scale, b.grad().toFloatArray()[3], 1e-6f);
        assertSame(kept, a.grad());
        assertEquals(6 * scale, kept.toFloatArray()[1], 1e-6f);
        // Now the norm is 2 (to rounding): a norm under the limit changes nothing.
        float[] before = b.grad().toFloatArray();
        assertEquals(2f, GradientClipping.clipGradNorm(List.of(a, b), 3f), 1e-5f);
        assertArrayEquals(before, b.grad().toFloatArray());
        assertEquals(0f, GradientClipping.clipGradNorm(List.of(unused), 1f));
        assertEquals("clipGradNorm: the maximal norm must be finite and > 0, got 0.0", assertThrows(
                IllegalArgumentException.class, () -> GradientClipping.clipGradNorm(List.of(a), 0f)).getMessage());
    }

    @Test
    void clipGradNormTensorFollowsTheRuleOnGradientsOfManySizes() {
        // Sizes that span many of a device's chunks, end inside one, or are one element.
        int[] sizes = {5000, 1, 300, 70_000};
        java.util.SplittableRandom random = new java.util.SplittableRandom(17);
        for (float maxNorm : new float[] {1f, 1e6f}) {
            List<Tensor> parameters = new ArrayList<>();
            List<float[]> gradients = new ArrayList<>();
            Tensor loss = null;
            double squares = 0;
            for (int size : sizes) {
                float[] g = new float[size];
                for (int i = 0; i < size; i++) {
                    g[i] = (float) random.nextDouble(-0.5, 0.5);
                    squares += (double) g[i] * g[i];
                }
                Tensor p = Tensor.zeros(size).requiresGrad(true);
                // d/dp Σ p·g = g, exactly.
                Tensor term = p.mul(Tensor.of(g)).sum();
                loss = loss == null ? term : loss.add(term);
                parameters.add(p);
                gradients.add(g);
            }
            loss.backward();
            Tensor norm = GradientClipping.clipGradNormTensor(parameters, maxNorm);
            assertArrayEquals(new int[0], norm.shape());
            float value = norm.item();
            // A float sum of 75,000 squares (the composed path) is good to a few parts in 10^6.
            assertEquals(Math.sqrt(squares), value, Math.sqrt(squares) * 5e-5, "the norm of all gradients together");
            float coefficient = (float) (maxNorm / ((double) value + 1e-6));
            for (int k = 0; k < sizes.length; k++) {
                float[] expected = gradients.get(k).clone();
                if (coefficient < 1f) {
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] = expected[i] * coefficient;
                    }
                }
                float[] actual = parameters.get(k).grad().toFloatArray();
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                            "max norm " + maxNorm + ", gradient " + k + " element " + i);
                }
            }
        }
    }

    @Test
    void aParameterListedTwiceIsRefusedByClippingAndNoGradientChanges() {
        Tensor a = vec(3f, 4f).requiresGrad(true);
        Tensor b = vec(12f).requiresGrad(true);
        a.mul(vec(3f, 4f)).sum().add(b.mul(vec(12f)).sum()).backward();
        // Counted twice it would weigh twice in the norm and be scaled twice; the optimizers refuse it too.
        var error = assertThrows(IllegalArgumentException.class,
                () -> GradientClipping.clipGradNormTensor(List.of(b, a, a), 1f));
        assertEquals("clipGradNorm: parameter 2 of shape [2] is the same tensor as parameter 1 (pass each parameter "
                + "once)", error.getMessage());
        assertArrayEquals(new float[] {3f, 4f}, a.grad().toFloatArray());
        assertArrayEquals(new float[] {12f}, b.grad().toFloatArray());
    }

    /**
     * More parameters than one of a device's multi-tensor tables holds (1,365): clipping, an
     * AdamW step with two weight decays, and {@code zeroGrad} over all of them, against the
     * rule and against the update composed on the same backend seen without its fused parts.
     */
    @Test
    void manyParametersAreClippedUpdatedAndZeroedLikeFew() {
        int count = 1500;
        List<float[]> gradients = new ArrayList<>();
        java.util.SplittableRandom random = new java.util.SplittableRandom(23);
        for (int i = 0; i < count; i++) {
            gradients.add(new float[] {(float) random.nextDouble(-1, 1), (float) random.nextDouble(-1, 1),
                (float) random.nextDouble(-1, 1)});
        }
        Function<Backend, List<float[]>> train = backend -> using(backend, () -> {
            List<Tensor> parameters = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                parameters.add(vec(0.5f, -0.25f, i % 7).requiresGrad(true));
            }
            AdamW optimizer = AdamW.grouped(List.of(new ParameterGroup(parameters.subList(0, count / 2), 0.1f),
                    new ParameterGroup(parameters.subList(count / 2, count), 0f)), 0.01f);
            List<float[]> values = new ArrayList<>();
            for (int step = 0; step < 2; step++) {
                optimizer.zeroGrad();
                Tensor loss = null;
                for (int i = 0; i < count; i++) {
                    Tensor term = parameters.get(i).mul(Tensor.of(gradients.get(i))).sum();
                    loss = loss == null ? term : loss.add(term);
                }
                loss.backward();
                float norm = GradientClipping.clipGradNormTensor(parameters, 1f).item();
                float c = (float) (1f / ((double) norm + 1e-6));
                for (int i = 0; i < count; i += 97) {
                    float[] g = parameters.get(i).grad().toFloatArray();
                    for (int j = 0; j < 3; j++) {
                        assertEquals(Float.floatToRawIntBits(gradients.get(i)[j] * c), Float.floatToRawIntBits(g[j]),
                                "step " + step + ", clipped gradient " + i + " element " + j);
                    }
                }
                optimizer.step();
            }
            optimizer.zeroGrad();
            for (int i = 0; i < count; i++) {
                assertArrayEquals(new float[3], parameters.get(i).grad().toFloatArray(), "zeroed gradient " + i);
                values.add(parameters.get(i).toFloatArray());
            }
            return values;
        });
        List<float[]> fused = train.apply(backend());
        List<float[]> composed = train.apply(spiView(backend(), null));
        for (int i = 0; i < count; i++) {
            // The same gradients clipped by norms that may differ in the last bit: close, not equal.
            assertArrayEquals(composed.get(i), fused.get(i), 1e-5f, "parameter " + i);
        }
    }
}
