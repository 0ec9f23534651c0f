package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.LAUNCHES;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.check;
import static org.adjoint.kernels.cuda.EmulatorSupport.extent;
import static org.adjoint.kernels.cuda.EmulatorSupport.ints;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.adjoint.kernels.cuda.EmulatorSupport.space;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.RandomDraws;
import org.adjoint.kernels.Strided;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The element-wise and strided device kernels ({@code fill}, {@code dropout_mask}, {@code axpy}, {@code adam}, {@code unary},
 * {@code binary}, {@code copy_strided}, {@code copy_strided_to}, {@code masked_fill}) on the
 * emulator against {@link ElementWise} and {@link Strided}; see {@link EmulatorSupport} for
 * what must agree how closely.
 */
class EmulatedElementWiseTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    private static final float[] SPECIAL = {
        0f, -0f, 1f, -1f, 0.5f, -0.5f, 2f, -2f, 3f, -3f, Float.NaN, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, 1e-30f, -1e-30f, 88f, 89f, -88f, -104f, 100f, -100f, Float.MIN_VALUE,
        Float.MAX_VALUE, -Float.MAX_VALUE, 1e-3f, 7.25f
    };

    @Test
    void stridedStructHasTheDocumentedLayout() throws IOException {
        assertArrayEquals(new long[] {CudaKernelSource.STRIDED_BYTES, 8, 0, CudaKernelSource.STRIDED_SHAPE_OFFSET,
            CudaKernelSource.STRIDED_A_OFFSET, CudaKernelSource.STRIDED_B_OFFSET}, EMULATOR.stridedLayout());
    }

    @Test
    void fillAndAxpy() throws IOException {
        for (int n : new int[] {0, 1, 37, 600}) {
            float[] x = random(n, 1, -4, 4);
            float[] y = random(n, 2, -4, 4);
            float[] expected = y.clone();
            ElementWise.axpy(-0.37f, x, expected, n);
            for (int[] launch : LAUNCHES) {
                List<float[]> filled = EMULATOR.launch("fill", launch[0], launch[1], y, -2.5f, (long) n);
                float[] constant = new float[n];
                Arrays.fill(constant, -2.5f);
                assertBits(constant, filled.get(0), "fill n=" + n);
                List<float[]> result = EMULATOR.launch("axpy", launch[0], launch[1], -0.37f, x, y, (long) n);
                assertBits(expected, result.get(1), "axpy n=" + n);
            }
        }
    }

    @Test
    void adamMatchesElementWise() throws IOException {
        int n = 1000;
        // {decay, shrink}: plain Adam, coupled decay (Adam's weight_decay), decoupled (AdamW).
        float[][] decays = {{0f, 1f}, {0.01f, 1f}, {0f, 0.9999f}};
        for (float[] decay : decays) {
            float[] p = random(n, 31, -1, 1);
            float[] g = random(n, 32, -0.1f, 0.1f);
            float[] m = random(n, 33, -0.01f, 0.01f);
            float[] v = random(n, 34, 0, 1e-4f);
            float[] expectedP = p.clone();
            float[] expectedM = m.clone();
            float[] expectedV = v.clone();
            ElementWise.adam(expectedP, g, expectedM, expectedV, n, 0.9f, 0.99f, 0.3f, 1e-8f, -1e-3f, decay[0],
                    decay[1]);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = EMULATOR.launch("adam", launch[0], launch[1], p, g, m, v, (long) n, 0.9f, 0.99f,
                        0.3f, 1e-8f, -1e-3f, decay[0], decay[1]);
                String what = "adam decay " + decay[0] + " shrink " + decay[1] + " grid " + launch[0];
                assertBits(expectedP, result.get(0), what + ": parameters");
                assertBits(expectedM, result.get(2), what + ": first moments");
                assertBits(expectedV, result.get(3), what + ": second moments");
            }
        }
    }

    @Test
    void dropoutMaskMatchesRandomDraws() throws IOException {
        long[] keys = {0L, -1L, 0x0123456789ABCDEFL};
        float[] probabilities = {0f, 0.2f, 0.5f};
        int n = 3001;
        for (int draw = 0; draw < keys.length; draw++) {
            float[] expected = new float[n];
            RandomDraws.dropoutMask(keys[draw], probabilities[draw], expected, n);
            for (int[] launch : LAUNCHES) {
                List<float[]> result = EMULATOR.launch("dropout_mask", launch[0], launch[1], keys[draw],
                        probabilities[draw], new float[n], (long) n);
                assertBits(expected, result.get(0), "dropout_mask key " + keys[draw] + " grid " + launch[0]);
            }
        }
    }

    @Test
    void unaryMatchesElementWise() throws IOException {
        float[] x = concat(SPECIAL, random(40, 3, -10, 10));
        float[] exponents = {2f, 1f, -1f, 0.5f, 3f, -2f, -2.5f, 0f, -0f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY};
        for (ElementWise.Unary op : ElementWise.Unary.values()) {
            float[] parameters = op == ElementWise.Unary.POW ? exponents : new float[] {0f};
            for (float p : parameters) {
                float[] expected = new float[x.length];
                ElementWise.apply(op, p, x, 0, expected, 0, x.length);
                boolean exact = switch (op) {
                    case NEG, SQRT, RELU, STEP -> true;
                    case POW -> p == 2f || p == 1f || p == -1f;
                    default -> false;
                };
                String what = "unary " + op + (op == ElementWise.Unary.POW ? " p=" + p : "");
                for (int[] launch : LAUNCHES) {
                    float[] out = new float[x.length];
                    List<float[]> result = EMULATOR.launch("unary", launch[0], launch[1], op.ordinal(), p, x, out,
                            (long) x.length);
                    check(exact, expected, result.get(1), what);
                }
                List<float[]> inPlace = EMULATOR.launch("unary", 2, 32, op.ordinal(), p, x, new HostEmulator.Alias(0),
                        (long) x.length);
                check(exact, expected, inPlace.get(0), what + " in place");
            }
        }
    }

    @Test
    void unaryTimesHasTheBitsOfUnaryThenMultiply() throws IOException {
        float[] x = concat(SPECIAL, random(40, 5, -10, 10));
        float[] grad = random(x.length, 6, -3, 3);
        for (ElementWise.Unary op : new ElementWise.Unary[] {ElementWise.Unary.STEP, ElementWise.Unary.GELU_GRAD,
            ElementWise.Unary.TANH, ElementWise.Unary.POW}) {
            float p = op == ElementWise.Unary.POW ? 1.5f : 0f;
            String what = "unary_times " + op;
            for (int[] launch : LAUNCHES) {
                float[] composed = EMULATOR.launch("unary", launch[0], launch[1], op.ordinal(), p, x,
                        new float[x.length], (long) x.length).get(1);
                for (int i = 0; i < composed.length; i++) {
                    composed[i] = grad[i] * composed[i];
                }
                List<float[]> fused = EMULATOR.launch("unary_times", launch[0], launch[1], op.ordinal(), p, x, grad,
                        new float[x.length], (long) x.length);
                assertBits(composed, fused.get(2), what + " grid " + launch[0]);
                List<float[]> inPlace = EMULATOR.launch("unary_times", launch[0], launch[1], op.ordinal(), p, x, grad,
                        new HostEmulator.Alias(0), (long) x.length);
                assertBits(composed, inPlace.get(0), what + " into x, grid " + launch[0]);
            }
        }
    }

    /** A shape with each operand's strides over it (0 broadcasts). */
    private record Layout(String name, int[] shape, int[] a, int[] b) {
    }

    private static final List<Layout> LAYOUTS = List.of(
            new Layout("same shape", ints(5, 7), ints(7, 1), ints(7, 1)),
            new Layout("row broadcast", ints(5, 7), ints(7, 1), ints(0, 1)),
            new Layout("column broadcast", ints(5, 7), ints(7, 1), ints(1, 0)),
            new Layout("scalar lhs", ints(5, 7), ints(0, 0), ints(7, 1)),
            new Layout("transposed rhs", ints(5, 7), ints(7, 1), ints(1, 5)),
            new Layout("rank 0", ints(), ints(), ints()),
            new Layout("unit axes", ints(3, 1, 4), ints(4, 4, 1), ints(0, 9, 1)),
            new Layout("rank 4 mixed", ints(2, 3, 4, 5), ints(60, 20, 5, 1), ints(0, 5, 0, 1)),
            new Layout("rank 4 permuted", ints(2, 3, 4, 5), ints(1, 2, 6, 24), ints(60, 1, 15, 3)),
            new Layout("rank 8", ints(2, 2, 2, 2, 2, 2, 2, 2), ints(128, 64, 32, 16, 8, 4, 2, 1),
                    ints(1, 2, 4, 8, 16, 32, 64, 128)),
            new Layout("empty", ints(0, 3), ints(3, 1), ints(0, 1)),
            new Layout("long odd", ints(1031), ints(1), ints(2)));

    @Test
    void binaryMatchesStrided() throws IOException {
        for (Layout layout : LAYOUTS) {
            float[] lhs = random(extent(layout.shape(), layout.a()), 4, -3, 3);
            float[] rhs = random(extent(layout.shape(), layout.b()), 5, -3, 3);
            rhs[0] = 0f; // a division by zero somewhere
            int n = Strided.size(layout.shape());
            for (Strided.Binary op : Strided.Binary.values()) {
                float[] expected = new float[n];
                Strided.binary(op, lhs, 0, layout.a(), rhs, 0, layout.b(), expected, 0, layout.shape());
                EMULATOR.assertBitsOnEveryLaunch(expected, 2, "binary " + op + " " + layout.name(), "binary",
                        op.ordinal(), lhs, rhs, new float[n], space(layout.shape(), layout.a(), layout.b()), (long) n);
            }
        }
    }

    @Test
    void copyStridedMatchesStrided() throws IOException {
        for (Layout layout : LAYOUTS) {
            for (int[] strides : new int[][] {layout.a(), layout.b()}) {
                float[] src = random(extent(layout.shape(), strides), 6, -3, 3);
                int n = Strided.size(layout.shape());
                float[] expected = new float[n];
                Strided.copy(src, 0, strides, expected, 0, layout.shape());
                EMULATOR.assertBitsOnEveryLaunch(expected, 1,
                        "copy_strided " + layout.name() + " " + Arrays.toString(strides), "copy_strided", src,
                        new float[n], space(layout.shape(), strides, new int[strides.length]), (long) n);
            }
        }
    }

    /** Whether strides over a shape reach each position at most once (an output view may use them). */
    private static boolean injective(int[] shape, int[] strides) {
        int n = Strided.size(shape);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            long at = 0;
            int rest = i;
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                at += (long) (rest % shape[axis]) * strides[axis];
                rest /= shape[axis];
            }
            if (!seen.add(at)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void copyStridedToMatchesStrided() throws IOException {
        int checked = 0;
        for (Layout layout : LAYOUTS) {
            if (!injective(layout.shape(), layout.b())) {
                continue;
            }
            float[] src = random(extent(layout.shape(), layout.a()), 7, -3, 3);
            float[] before = random(extent(layout.shape(), layout.b()), 8, -3, 3);
            float[] expected = before.clone();
            Strided.copy(src, 0, layout.a(), expected, 0, layout.b(), layout.shape());
            EMULATOR.assertBitsOnEveryLaunch(expected, 1, "copy_strided_to " + layout.name(), "copy_strided_to", src,
                    before, space(layout.shape(), layout.a(), layout.b()), (long) Strided.size(layout.shape()));
            checked++;
        }
        assertTrue(checked >= 6, checked + " layouts");
    }

    @Test
    void maskedFillMatchesStrided() throws IOException {
        for (Layout layout : LAYOUTS) {
            float[] x = random(extent(layout.shape(), layout.a()), 9, -3, 3);
            float[] mask = random(extent(layout.shape(), layout.b()), 10, -1, 1);
            for (int i = 0; i < mask.length; i += 2) {
                mask[i] = 0f;
            }
            if (x.length > 2) {
                x[1] = Float.NaN;
                x[2] = Float.NEGATIVE_INFINITY;
            }
            if (mask.length > 3) {
                mask[3] = Float.NaN;
            }
            int n = Strided.size(layout.shape());
            float[] expected = new float[n];
            Strided.maskedFill(x, 0, layout.a(), mask, 0, layout.b(), -1.5f, expected, 0, layout.shape());
            EMULATOR.assertBitsOnEveryLaunch(expected, 2, "masked_fill " + layout.name(), "masked_fill", x, mask, -1.5f,
                    new float[n], space(layout.shape(), layout.a(), layout.b()), (long) n);
        }
    }

    private static float[] concat(float[] first, float[] second) {
        float[] all = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }
}
