package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.io.SafeTensors;
import org.adjoint.nn.Functional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Functional#conv2d} on every backend: values and gradients against PyTorch 1.13
 * ({@code reference/conv2d_reference.py}), with the columns workspace at its default size and
 * lowered to one image per tile (the {@code adjoint.conv.tileFloats} system property); finite
 * differences, the adjoint identity and forward mode against reverse mode; second derivatives
 * through the three bilinear primitives; inputs that are views; the error messages.
 */
public abstract class ConvolutionConformance extends BackendConformance {

    private static final String REFERENCE = "reference/conv2d_reference.safetensors";
    private static final String TILE_PROPERTY = "adjoint.conv.tileFloats";

    /** The reference file's tensors and its metadata (case name to "stride,padding,dilation,groups"). */
    private static SafeTensors.Contents reference() {
        return ReferenceFiles.read(REFERENCE);
    }

    /** Runs {@code body} with the columns workspace limited to {@code floats} (one image per tile for tiny values). */
    private static <T> T withTile(long floats, Supplier<T> body) {
        String previous = System.getProperty(TILE_PROPERTY);
        System.setProperty(TILE_PROPERTY, Long.toString(floats));
        try {
            return body.get();
        } finally {
            if (previous == null) {
                System.clearProperty(TILE_PROPERTY);
            } else {
                System.setProperty(TILE_PROPERTY, previous);
            }
        }
    }

    /** Element-wise closeness with a tolerance that scales with the expected magnitudes. */
    private static void assertNear(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double scale = 1;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        double tolerance = 2e-5 * scale;
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= tolerance)) {
                fail(what + ", element " + i + ": expected " + e[i] + " but was " + a[i] + " (tolerance " + tolerance + ")");
            }
        }
    }

    private static Tensor leaf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape()).requiresGrad(true);
    }

    /** Every reference case: output and the gradients of {@code sum(output · u)} for input, weight and bias. */
    @ParameterizedTest(name = "columns workspace {0} floats")
    @ValueSource(longs = {4L << 20, 1})
    void matchesPyTorchValuesAndGradients(long tileFloats) {
        SafeTensors.Contents contents = reference();
        Map<String, Tensor> tensors = contents.tensors();
        assertTrue(contents.metadata().size() >= 10, "reference cases: " + contents.metadata().keySet());
        withTile(tileFloats, () -> {
            for (Map.Entry<String, String> entry : contents.metadata().entrySet()) {
                String name = entry.getKey();
                String[] attributes = entry.getValue().split(",");
                int stride = Integer.parseInt(attributes[0]);
                int padding = Integer.parseInt(attributes[1]);
                int dilation = Integer.parseInt(attributes[2]);
                int groups = Integer.parseInt(attributes[3]);
                Tensor x = leaf(tensors.get(name + ".input"));
                Tensor w = leaf(tensors.get(name + ".weight"));
                Tensor b = tensors.containsKey(name + ".bias") ? leaf(tensors.get(name + ".bias")) : null;
                Tensor y = Functional.conv2d(x, w, b, stride, padding, dilation, groups);
                assertNear(tensors.get(name + ".output"), y, name + " output");
                y.backward(tensors.get(name + ".cotangent"));
                assertNear(tensors.get(name + ".grad_input"), x.grad(), name + " input gradient");
                assertNear(tensors.get(name + ".grad_weight"), w.grad(), name + " weight gradient");
                if (b != null) {
                    assertNear(tensors.get(name + ".grad_bias"), b.grad(), name + " bias gradient");
                }
            }
            return null;
        });
    }

    /** Convolutions checked numerically: {stride, padding, dilation, groups, N, C, H, W, O, kH, kW, bias}. */
    private static final int[][] CONFIGS = {
        {1, 1, 1, 1, 2, 2, 4, 5, 3, 3, 3, 1},
        {2, 1, 1, 1, 1, 3, 5, 4, 2, 2, 3, 0},
        {1, 2, 2, 2, 2, 4, 3, 4, 2, 2, 2, 1},
        {1, 1, 1, 3, 1, 3, 4, 4, 6, 3, 3, 1},
        {1, 0, 1, 1, 2, 3, 3, 4, 2, 1, 1, 1},
        {3, 2, 1, 1, 1, 2, 5, 5, 2, 3, 2, 0},
        // Groups of at least 4 channels in and out (the CPU backend's implicit GEMMs), padding past the span.
        {1, 1, 1, 1, 2, 4, 4, 5, 4, 3, 3, 1},
        {1, 3, 1, 2, 1, 8, 3, 4, 8, 2, 2, 0},
    };

    private record Case(int stride, int padding, int dilation, int groups, List<Tensor> inputs) {

        static Case of(int[] c, long seed) {
            List<Tensor> inputs = new ArrayList<>();
            inputs.add(Tensor.randn(seed, c[4], c[5], c[6], c[7]));
            inputs.add(Tensor.randn(seed + 1, c[8], c[5] / c[3], c[9], c[10]).mul(0.5f));
            if (c[11] == 1) {
                inputs.add(Tensor.randn(seed + 2, c[8]));
            }
            return new Case(c[0], c[1], c[2], c[3], inputs);
        }

        Tensor apply(List<Tensor> args) {
            return Functional.conv2d(args.get(0), args.get(1), args.size() > 2 ? args.get(2) : null,
                    stride, padding, dilation, groups);
        }

        /** {@code ½·Σ y²}: its gradients read the output, so their derivatives reach every primitive's VJP. */
        Tensor energy(List<Tensor> args) {
            Tensor y = apply(args);
            return y.mul(y).sum().mul(0.5f);
        }
    }

    @Test
    void gradientsPassFiniteDifferencesTheAdjointIdentityAndForwardMode() {
        long seed = 160;
        for (int[] config : CONFIGS) {
            Case c = Case.of(config, seed);
            Function<List<Tensor>, Tensor> f = c::apply;
            GradCheck.finiteDifferences(f, c.inputs()).assertPassed();
            GradCheck.adjointIdentity(f, c.inputs(), seed).assertPassed();
            GradCheck.forwardMode(f, c.inputs(), seed).assertPassed();
            seed += 10;
        }
    }

    @Test
    void secondDerivativesGoThroughTheInputAndWeightGradientPrimitives() {
        long seed = 260;
        for (int[] config : new int[][] {CONFIGS[0], CONFIGS[2], CONFIGS[3]}) {
            Case c = Case.of(config, seed);
            for (int wrt = 0; wrt < 2; wrt++) {
                int index = wrt;
                // Each is a function of x and w: dx = inputGrad(y, w), dw = weightGrad(x, y) with y = conv(x, w).
                Function<List<Tensor>, Tensor> derivative =
                        args -> Autodiff.grad(c::energy, args).get(index);
                List<Tensor> point = c.inputs().subList(0, 2);
                GradCheck.finiteDifferences(derivative, point).assertPassed();
                // The derivative is cubic in (x, w): central differences carry h²·(the cubic term), about 2 % at
                // this scale (it falls 4× when h halves). Halving point and direction together brings it within
                // tolerance.
                Function<List<Tensor>, Tensor> halved =
                        args -> derivative.apply(List.of(args.get(0).mul(0.5f), args.get(1).mul(0.5f)));
                GradCheck.forwardMode(halved, point, seed + index).assertPassed();
            }
            seed += 10;
        }
    }

    @Test
    void aHessianVectorProductMatchesFiniteDifferencesOfTheGradient() {
        Case c = Case.of(CONFIGS[1], 300);
        List<Tensor> point = c.inputs();
        List<Tensor> direction = List.of(Tensor.randn(310, point.get(0).shape()), Tensor.randn(311, point.get(1).shape()));
        List<Tensor> hv = Autodiff.hvp(c::energy, point, direction);
        float h = 1e-2f;
        List<Tensor> plus = List.of(point.get(0).add(direction.get(0).mul(h)), point.get(1).add(direction.get(1).mul(h)));
        List<Tensor> minus = List.of(point.get(0).sub(direction.get(0).mul(h)), point.get(1).sub(direction.get(1).mul(h)));
        List<Tensor> high = Autodiff.grad(c::energy, plus);
        List<Tensor> low = Autodiff.grad(c::energy, minus);
        for (int i = 0; i < 2; i++) {
            Tensor numeric = high.get(i).sub(low.get(i)).div(2 * h);
            float[] expected = numeric.toFloatArray();
            float[] actual = hv.get(i).toFloatArray();
            for (int e = 0; e < expected.length; e++) {
                double tolerance = 1e-2 * (1 + Math.abs(expected[e]));
                if (!(Math.abs(expected[e] - actual[e]) <= tolerance)) {
                    fail("hvp input " + i + ", element " + e + ": central differences " + expected[e] + ", hvp "
                            + actual[e]);
                }
            }
        }
    }

    @Test
    void severalTilesGiveWhatOneTileGives() {
        Tensor x = Tensor.randn(400, 5, 3, 9, 7);
        Tensor w = Tensor.randn(401, 4, 3, 3, 2);
        Tensor b = Tensor.randn(402, 4);
        Tensor u = Tensor.randn(403, 5, 4, 5, 4);
        List<Tensor> whole = convolveAndPull(x, w, b, u, 2, 1, 1);
        // 3·3·2 rows × 5·4 positions = 360 floats per image: 800 floats hold 2 images, so tiles of 2, 2 and 1.
        for (long floats : new long[] {1, 800}) {
            List<Tensor> tiled = withTile(floats, () -> convolveAndPull(x, w, b, u, 2, 1, 1));
            String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
            for (int i = 0; i < names.length; i++) {
                assertNear(whole.get(i), tiled.get(i), names[i] + " with " + floats + " floats per tile");
            }
        }
    }

    @Test
    void theDefaultWorkspaceSplitsALargeBatchIntoTiles() {
        // 3·3·3 rows × 64·64 positions = 110,592 floats per image: the default 4 Mi floats hold 37 images, so 2 tiles.
        Tensor x = Tensor.randn(410, 40, 3, 64, 64);
        Tensor w = Tensor.randn(411, 1, 3, 3, 3);
        Tensor b = Tensor.randn(412, 1);
        Tensor u = Tensor.randn(413, 40, 1, 64, 64);
        List<Tensor> tiled = convolveAndPull(x, w, b, u, 1, 1, 1);
        List<Tensor> whole = withTile(Long.MAX_VALUE, () -> convolveAndPull(x, w, b, u, 1, 1, 1));
        String[] names = {"output", "input gradient", "weight gradient", "bias gradient"};
        for (int i = 0; i < names.length; i++) {
            assertNear(whole.get(i), tiled.get(i), names[i] + " in default tiles");
        }
    }

    private static List<Tensor> convolveAndPull(Tensor x, Tensor w, Tensor b, Tensor u, int stride, int padding,
                                                int dilation) {
        Tensor xl = leaf(x);
        Tensor wl = leaf(w);
        Tensor bl = leaf(b);
        Tensor y = Functional.conv2d(xl, wl, bl, stride, padding, dilation, 1);
        y.backward(u);
        return List.of(y.detach(), xl.grad(), wl.grad(), bl.grad());
    }

    @Test
    void anInputThatIsAViewConvolvesAsItsContiguousCopy() {
        Tensor stored = Tensor.randn(500, 2, 3, 6, 5);
        Tensor view = stored.transpose();
        Tensor copy = Tensor.of(view.toFloatArray(), view.shape());
        Tensor w = Tensor.randn(501, 4, 3, 2, 3);
        Tensor u = Tensor.randn(502, 2, 4, 3, 3);
        Tensor fromView = Functional.conv2d(view, w, null, 2, 1, 1, 1);
        Tensor fromCopy = Functional.conv2d(copy, w, null, 2, 1, 1, 1);
        assertNear(fromCopy, fromView, "output of a transposed view");
        Tensor storedLeaf = leaf(stored);
        Functional.conv2d(storedLeaf.transpose(), w, null, 2, 1, 1, 1).backward(u);
        Tensor copyLeaf = leaf(copy);
        Functional.conv2d(copyLeaf, w, null, 2, 1, 1, 1).backward(u);
        assertNear(copyLeaf.grad().transpose(), storedLeaf.grad(), "gradient through a transposed view");
    }

    @Test
    void onlyTheOperandsThatNeedAGradientGetOne() {
        Tensor x = Tensor.randn(600, 1, 2, 4, 4);
        Tensor w = leaf(Tensor.randn(601, 3, 2, 3, 3));
        Functional.conv2d(x, w, null, 1, 1, 1, 1).sum().backward();
        assertNull(x.grad());
        assertArrayEquals(new int[] {3, 2, 3, 3}, w.grad().shape());
        // Each weight sees every input value its taps cover, so the all-ones cotangent sums the inputs under it.
        Tensor ones = Tensor.ones(1, 1, 3, 3);
        Tensor centre = leaf(Tensor.ones(1, 1, 1, 1));
        Functional.conv2d(ones, centre, null, 1, 0, 1, 1).sum().backward();
        assertArrayEquals(new float[] {9f}, centre.grad().toFloatArray());
    }

    @Test
    void anEmptyBatchGivesAnEmptyOutputAndZeroWeightGradient() {
        Tensor x = leaf(Tensor.zeros(0, 2, 5, 5));
        Tensor w = leaf(Tensor.randn(700, 3, 2, 3, 3));
        Tensor y = Functional.conv2d(x, w, null, 2, 1, 1, 1);
        assertArrayEquals(new int[] {0, 3, 3, 3}, y.shape());
        y.sum().backward();
        assertArrayEquals(new float[3 * 2 * 3 * 3], w.grad().toFloatArray());
    }

    private static void assertRejected(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith("conv2d: ") && e.getMessage().contains(expected),
                "message \"" + e.getMessage() + "\" should name conv2d and contain \"" + expected + "\"");
    }

    @Test
    void badArgumentsAreRejectedWithTheShapes() {
        Tensor x = Tensor.zeros(1, 4, 5, 5);
        Tensor w = Tensor.zeros(2, 4, 3, 3);
        assertRejected("input must have rank 4 [N, C, H, W], got [4, 5, 5]",
                () -> Functional.conv2d(Tensor.zeros(4, 5, 5), w, null, 1, 0, 1, 1));
        assertRejected("weight must have rank 4 [O, C/groups, kH, kW], got [2, 4, 3]",
                () -> Functional.conv2d(x, Tensor.zeros(2, 4, 3), null, 1, 0, 1, 1));
        assertRejected("input has 4 channels but the weight expects 3 per group × 1 groups = 3 (input [1, 4, 5, 5], "
                + "weight [2, 3, 3, 3])", () -> Functional.conv2d(x, Tensor.zeros(2, 3, 3, 3), null, 1, 0, 1, 1));
        assertRejected("input has 4 channels but the weight expects 4 per group × 2 groups = 8",
                () -> Functional.conv2d(x, Tensor.zeros(2, 4, 3, 3), null, 1, 0, 1, 2));
        assertRejected("groups 3 does not divide the input's 4 channels (input [1, 4, 5, 5], weight [3, 1, 3, 3])",
                () -> Functional.conv2d(x, Tensor.zeros(3, 1, 3, 3), null, 1, 0, 1, 3));
        assertRejected("groups 2 does not divide the weight's 3 output channels (input [1, 4, 5, 5], weight [3, 2, 3, 3])",
                () -> Functional.conv2d(x, Tensor.zeros(3, 2, 3, 3), null, 1, 0, 1, 2));
        assertRejected("groups must be at least 1, got 0",
                () -> Functional.conv2d(x, w, null, 1, 0, 1, 0));
        assertRejected("kernel 3x3 with dilation 4 spans 9x9, larger than the padded input 7x7",
                () -> Functional.conv2d(x, w, null, 1, 1, 4, 1));
        assertRejected("kernel 6x2 with dilation 1 spans 6x2, larger than the padded input 5x5 (padding 0) "
                + "(input [1, 4, 5, 5], weight [2, 4, 6, 2])",
                () -> Functional.conv2d(x, Tensor.zeros(2, 4, 6, 2), null, 1, 0, 1, 1));
        assertRejected("stride must be at least 1, got 0", () -> Functional.conv2d(x, w, null, 0, 0, 1, 1));
        assertRejected("dilation must be at least 1, got 0", () -> Functional.conv2d(x, w, null, 1, 0, 0, 1));
        assertRejected("padding must not be negative, got -1", () -> Functional.conv2d(x, w, null, 1, -1, 1, 1));
        assertRejected("bias must be [2] (one per output channel of weight [2, 4, 3, 3]), got [4]",
                () -> Functional.conv2d(x, w, Tensor.zeros(4), 1, 0, 1, 1));
        assertRejected("bias must be [2] (one per output channel of weight [2, 4, 3, 3]), got [1, 2]",
                () -> Functional.conv2d(x, w, Tensor.zeros(1, 2), 1, 0, 1, 1));
        assertRejected("channels must not be empty", () -> Functional.conv2d(Tensor.zeros(1, 0, 5, 5),
                Tensor.zeros(2, 0, 3, 3), null, 1, 0, 1, 1));
        assertRejected("input and weight must not be null", () -> Functional.conv2d(x, null, null, 1, 0, 1, 1));
    }
}
