package org.adjoint.conformance;

import static org.adjoint.conformance.AttentionConformance.assertNear;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.internal.ops.Attention;
import org.adjoint.internal.ops.HeadsAttention;
import org.adjoint.nn.Functional;
import org.junit.jupiter.api.Test;

/**
 * Attention over the heads of a fused projection as one primitive ({@link HeadsAttention},
 * what {@code MultiHeadAttention} runs): the output's bits and the projection's gradient of
 * the heads split by views, given to {@link Functional#scaledDotProductAttention} and joined
 * again; projections read through strides; finite differences, the adjoint identity, forward
 * mode, the recorded backward and second derivatives; the errors.
 */
public abstract class HeadsAttentionConformance extends BackendConformance {

    /** {@code {batch..., time, heads, head width}}: a small GPT's, odd sizes, one of each, two batch axes, none. */
    private static final int[][] SHAPES = {{2, 64, 4, 32}, {3, 7, 3, 5}, {1, 1, 1, 1}, {2, 2, 9, 2, 3}, {9, 2, 4}};

    private static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    /** The projection's shape {@code [batch..., time, 3·heads·width]} for a row of {@link #SHAPES}. */
    private static int[] projection(int[] shape) {
        int r = shape.length;
        int[] projected = Arrays.copyOf(shape, r - 1);
        projected[r - 2] = 3 * shape[r - 2] * shape[r - 1];
        return projected;
    }

    /** The output's shape {@code [batch..., time, heads·width]}. */
    private static int[] joined(int[] shape) {
        int[] out = projection(shape);
        out[out.length - 1] /= 3;
        return out;
    }

    /** The heads split by views, attended by the public function, joined by a transpose and a reshape. */
    private static Tensor composed(Tensor projected, int heads, boolean causal) {
        return composed(projected, heads, parts -> Functional.scaledDotProductAttention(parts[0], parts[1], parts[2],
                causal));
    }

    /** The heads split by views as {@code MultiHeadAttention} once split them, {@code attention}, joined again. */
    private static Tensor composed(Tensor projected, int heads, Function<Tensor[], Tensor> attention) {
        int[] shape = projected.shape();
        int r = shape.length;
        int width = shape[r - 1] / 3;
        int[] split = Arrays.copyOf(shape, r + 1);
        split[r - 1] = heads;
        split[r] = width / heads;
        Tensor[] parts = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            parts[i] = projected.narrow(-1, i * width, width).reshape(split).transpose(-3, -2);
        }
        int[] out = shape.clone();
        out[r - 1] = width;
        return attention.apply(parts).transpose(-3, -2).reshape(out);
    }

    /** Equal values element by element ({@code −0} equals {@code +0}). */
    private static void assertSameValues(Tensor expected, Tensor actual, String label) {
        assertArrayEquals(expected.shape(), actual.shape(), label + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            if (!(e[i] == a[i])) {
                fail(label + ", element " + i + ": expected " + e[i] + " but was " + a[i]);
            }
        }
    }

    /**
     * The output has the bits of the split heads' attention, and the projection's gradient
     * their values (the composition adds its gathered gradient to zero, which may turn a −0
     * into +0); both are near the plain composition ({@link Attention#reference}).
     */
    @Test
    void givesTheBitsOfTheHeadsSplitByViews() {
        long seed = 3100;
        for (int[] shape : SHAPES) {
            for (boolean causal : new boolean[] {false, true}) {
                int heads = shape[shape.length - 2];
                String label = Arrays.toString(shape) + (causal ? " causal" : "");
                Tensor projected = Tensor.randn(seed++, projection(shape));
                Tensor u = Tensor.randn(seed++, joined(shape));
                Tensor fused = copyOf(projected).requiresGrad(true);
                Tensor y = HeadsAttention.apply(fused, heads, causal);
                y.mul(u).sum().backward();
                Tensor split = copyOf(projected).requiresGrad(true);
                Tensor expected = composed(split, heads, causal);
                expected.mul(u).sum().backward();
                assertArrayEquals(expected.toFloatArray(), y.toFloatArray(), label + " output");
                assertSameValues(split.grad(), fused.grad(), label + " gradient");
                Tensor reference = composed(copyOf(projected), heads,
                        parts -> Attention.reference(parts[0], parts[1], parts[2], causal));
                assertNear(reference, y, 1e-5 * (1 + Math.sqrt(shape[shape.length - 3])), label + " against the composition");
            }
        }
    }

    /**
     * A projection whose rows are not contiguous (a transposed view) is copied once; one read in
     * place through a row stride and an offset (a narrow of a wider tensor) is not: both give the
     * bits of a contiguous projection, forward and back.
     */
    @Test
    void projectionsReadThroughStridesGiveTheBitsOfContiguousOnes() {
        int batch = 2;
        int time = 11;
        int heads = 3;
        int columns = 3 * heads * 4;
        Tensor values = Tensor.randn(3200, batch, time, columns);
        Tensor u = Tensor.randn(3201, batch, time, columns / 3);
        Tensor contiguous = copyOf(values).requiresGrad(true);
        Tensor y = HeadsAttention.apply(contiguous, heads, true);
        y.mul(u).sum().backward();

        Tensor transposed = copyOf(values.transpose(-1, -2)).requiresGrad(true);
        Tensor a = HeadsAttention.apply(transposed.transpose(-1, -2), heads, true);
        a.mul(u).sum().backward();
        assertArrayEquals(y.toFloatArray(), a.toFloatArray(), "transposed: output");
        assertArrayEquals(contiguous.grad().toFloatArray(), transposed.grad().transpose(-1, -2).toFloatArray(),
                "transposed: gradient");

        Tensor wider = Tensor.cat(List.of(Tensor.randn(3202, batch, time, 5), values, Tensor.randn(3203, batch, time, 2)),
                -1);
        Tensor widerLeaf = copyOf(wider).requiresGrad(true);
        Tensor b = HeadsAttention.apply(widerLeaf.narrow(-1, 5, columns), heads, true);
        b.mul(u).sum().backward();
        assertArrayEquals(y.toFloatArray(), b.toFloatArray(), "narrowed: output");
        assertArrayEquals(contiguous.grad().toFloatArray(), widerLeaf.grad().narrow(-1, 5, columns).toFloatArray(),
                "narrowed: gradient");
        float[] outside = Tensor.cat(List.of(widerLeaf.grad().narrow(-1, 0, 5),
                widerLeaf.grad().narrow(-1, 5 + columns, 2)), -1).toFloatArray();
        assertArrayEquals(new float[outside.length], outside, "narrowed: no gradient outside the projection");
    }

    private static Function<List<Tensor>, Tensor> attention(int heads, boolean causal) {
        return args -> HeadsAttention.apply(args.get(0), heads, causal);
    }

    @Test
    void gradientsPassFiniteDifferencesTheAdjointIdentityAndForwardMode() {
        long seed = 3300;
        for (int[] shape : new int[][] {{2, 5, 2, 3}, {6, 1, 2}, {2, 1, 4, 3, 1}}) {
            for (boolean causal : new boolean[] {false, true}) {
                int heads = shape[shape.length - 2];
                List<Tensor> inputs = List.of(Tensor.randn(seed, projection(shape)));
                GradCheck.finiteDifferences(attention(heads, causal), inputs).assertPassed();
                GradCheck.adjointIdentity(attention(heads, causal), inputs, seed).assertPassed();
                GradCheck.forwardMode(attention(heads, causal), inputs, seed).assertPassed();
                seed += 10;
            }
        }
    }

    /** The recorded backward (a concatenation of the composed gradients) agrees with the unrecorded one and differentiates again. */
    @Test
    void theRecordedBackwardAgreesAndGivesSecondDerivatives() {
        long seed = 3400;
        for (boolean causal : new boolean[] {false, true}) {
            Tensor projected = Tensor.randn(seed++, 3, 6, 12).requiresGrad(true);
            Function<List<Tensor>, Tensor> energy = args -> {
                Tensor y = HeadsAttention.apply(args.get(0), 2, causal);
                return y.mul(y).sum().mul(0.5f);
            };
            Tensor recorded = Autodiff.grad(energy, List.of(projected)).get(0);
            energy.apply(List.of(projected)).backward();
            assertNear(recorded, projected.grad(), 1e-5, "recorded against unrecorded" + (causal ? ", causal" : ""));
            List<Tensor> point = List.of(Tensor.randn(seed++, 2, 4, 6));
            Function<List<Tensor>, Tensor> derivative = args -> Autodiff.grad(energy, args).get(0);
            GradCheck.finiteDifferences(derivative, point).assertPassed();
        }
    }

    private static void assertRefused(String expected, int[] shape, int heads) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeadsAttention.apply(Tensor.zeros(shape), heads, true));
        assertTrue(e.getMessage().startsWith("headsAttention: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void badInputIsRefusedNamingIt() {
        assertRefused("rank at least 2", shape(12), 2);
        assertRefused("the head count must be at least 1 (projection [4, 12], 0 heads)", shape(4, 12), 0);
        assertRefused("the last axis 12 is not 3 × 3 heads", shape(4, 12), 3);
        assertRefused("the last axis 10 is not 3 × 1 heads", shape(2, 4, 10), 1);
        assertRefused("the last axis 0", shape(4, 0), 1);
        assertRefused("no positions", shape(2, 0, 6), 1);
        // 3 × heads past the int range: refused, not wrapped to 2 and then allocated.
        assertRefused("the last axis 6 is not 3 × 1431655766 heads", shape(4, 6), 1431655766);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeadsAttention.apply(null, 1, false));
        assertTrue(e.getMessage().contains("the projection is null"), e.getMessage());
    }
}
