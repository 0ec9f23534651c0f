package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.internal.ops.Attention;
import org.adjoint.nn.Functional;
import org.junit.jupiter.api.Test;

/**
 * Scaled dot-product attention ({@link Functional#scaledDotProductAttention}): the fused
 * primitive against PyTorch 1.13 (the formula in float64, see
 * {@code reference/attention_reference.py}) and against the plain composition
 * ({@link Attention#reference}) on random shapes, values and all three gradients; finite
 * differences, the adjoint identity, forward mode, second derivatives; the errors.
 */
public abstract class AttentionConformance extends BackendConformance {

    private static final String REFERENCE = "/org/adjoint/conformance/reference/attention_reference.safetensors";

    private static Map<String, Tensor> reference() {
        return ReferenceFiles.load(REFERENCE);
    }

    private static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape());
    }

    /** Within {@code tolerance·max(1, |expected|)}, element by element (shared by the suites of this package). */
    static void assertNear(Tensor expected, Tensor actual, double tolerance, String label) {
        assertArrayEquals(expected.shape(), actual.shape(), label + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= tolerance * Math.max(1, Math.abs(e[i])))) {
                fail(label + ", element " + i + ": expected " + e[i] + " but was " + a[i]);
            }
        }
    }

    private static void checkCase(String name, boolean causal) {
        Map<String, Tensor> ref = reference();
        Tensor q = copyOf(ref.get(name + ".q")).requiresGrad(true);
        Tensor k = copyOf(ref.get(name + ".k")).requiresGrad(true);
        Tensor v = copyOf(ref.get(name + ".v")).requiresGrad(true);
        Tensor y = Functional.scaledDotProductAttention(q, k, v, causal);
        y.mul(copyOf(ref.get(name + ".u"))).sum().backward();
        double tolerance = 1e-5 * (1 + Math.sqrt(ref.get(name + ".k").shape()[ref.get(name + ".k").rank() - 2]));
        assertNear(ref.get(name + ".y"), y, tolerance, name + " output");
        assertNear(ref.get(name + ".grad_q"), q.grad(), tolerance, name + " query gradient");
        assertNear(ref.get(name + ".grad_k"), k.grad(), tolerance, name + " key gradient");
        assertNear(ref.get(name + ".grad_v"), v.grad(), tolerance, name + " value gradient");
    }

    @Test
    void matchesPyTorchOverHeads() {
        checkCase("heads", false);
    }

    @Test
    void matchesPyTorchOverHeadsWhenCausal() {
        checkCase("heads_causal", true);
    }

    @Test
    void matchesPyTorchWithMoreKeysThanQueries() {
        checkCase("cross", false);
        checkCase("cross_causal_wide", true);
    }

    @Test
    void matchesPyTorchWithFewerKeysThanQueriesWhenCausal() {
        checkCase("cross_causal_tall", true);
    }

    @Test
    void matchesPyTorchWithBroadcastBatchAxes() {
        checkCase("broadcast", false);
    }

    @Test
    void matchesPyTorchForOneQueryAndForRankTwo() {
        checkCase("one_query", true);
        checkCase("rank2_long", true);
    }

    /** Shapes {@code {qBatch..., T, d}, {kBatch..., S, d}, {vBatch..., S, dv}}. */
    private static final int[][][] SHAPES = {
        {{1, 1}, {1, 1}, {1, 1}},
        {{2, 1, 4}, {2, 1, 4}, {2, 1, 4}},
        {{3, 7, 5}, {3, 7, 5}, {3, 7, 5}},
        {{2, 2, 9, 3}, {2, 2, 4, 3}, {2, 2, 4, 6}},
        {{2, 3, 4, 3}, {2, 3, 11, 3}, {2, 3, 11, 1}},
        {{2, 1, 5, 4}, {3, 6, 4}, {1, 3, 6, 2}},
        {{4, 70, 8}, {4, 70, 8}, {4, 70, 8}},
        {{1, 130, 33}, {1, 67, 33}, {1, 67, 17}},
        {{2, 2, 65, 32}, {2, 2, 65, 32}, {2, 2, 65, 32}},
        {{1, 3, 7}, {1, 200, 7}, {1, 200, 7}},
        // Rows for two lanes (the larger GPT's 64) and for four (65 to 128) in CUDA's kernels.
        {{2, 40, 64}, {2, 40, 64}, {2, 40, 64}},
        {{1, 37, 100}, {1, 45, 100}, {1, 45, 72}},
    };

    @Test
    void fusedMatchesTheCompositionOnRandomShapesInValuesAndAllThreeGradients() {
        long seed = 1700;
        for (int[][] shapes : SHAPES) {
            for (boolean causal : new boolean[] {false, true}) {
                compareWithReference(shapes, causal, seed++);
            }
        }
    }

    @Test
    void fusedMatchesTheCompositionOnGeneratedShapes() {
        Random random = new Random(1717);
        for (int trial = 0; trial < 12; trial++) {
            int t = 1 + random.nextInt(40);
            int s = random.nextBoolean() ? t : 1 + random.nextInt(40);
            int d = 1 + random.nextInt(12);
            int dv = random.nextBoolean() ? d : 1 + random.nextInt(12);
            int heads = 1 + random.nextInt(3);
            int[][] shapes = {{heads, t, d}, {heads, s, d}, {heads, s, dv}};
            compareWithReference(shapes, random.nextBoolean(), 1800 + trial);
        }
    }

    private static void compareWithReference(int[][] shapes, boolean causal, long seed) {
        String label = "q " + java.util.Arrays.toString(shapes[0]) + ", k " + java.util.Arrays.toString(shapes[1])
                + ", v " + java.util.Arrays.toString(shapes[2]) + (causal ? ", causal" : "");
        Tensor[] fused = operands(shapes, seed);
        Tensor[] composed = {copyOf(fused[0]).requiresGrad(true), copyOf(fused[1]).requiresGrad(true),
            copyOf(fused[2]).requiresGrad(true)};
        Tensor y = Functional.scaledDotProductAttention(fused[0], fused[1], fused[2], causal);
        Tensor expected = Attention.reference(composed[0], composed[1], composed[2], causal);
        Tensor u = Tensor.randn(seed + 99, expected.shape());
        y.mul(u).sum().backward();
        expected.mul(u).sum().backward();
        double tolerance = 2e-5 * (1 + Math.sqrt(shapes[1][shapes[1].length - 2]));
        assertNear(expected, y, tolerance, label + " output");
        String[] names = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            assertNear(composed[i].grad(), fused[i].grad(), tolerance, label + " " + names[i] + " gradient");
        }
    }

    private static Tensor[] operands(int[][] shapes, long seed) {
        return new Tensor[] {
            Tensor.randn(seed, shapes[0]).requiresGrad(true),
            Tensor.randn(seed + 1, shapes[1]).requiresGrad(true),
            Tensor.randn(seed + 2, shapes[2]).requiresGrad(true)};
    }

    private static Tensor[] constants(int[][] shapes, long seed) {
        return new Tensor[] {Tensor.randn(seed, shapes[0]), Tensor.randn(seed + 1, shapes[1]), Tensor.randn(seed + 2, shapes[2])};
    }

    @Test
    void largeScoresStayFinite() {
        // Scores of a few hundred: a softmax without the running maximum would overflow.
        Tensor q = Tensor.randn(5, 2, 9, 4).mul(40f).requiresGrad(true);
        Tensor k = Tensor.randn(6, 2, 9, 4).mul(40f).requiresGrad(true);
        Tensor v = Tensor.randn(7, 2, 9, 4).requiresGrad(true);
        Tensor y = Functional.scaledDotProductAttention(q, k, v, true);
        y.sum().backward();
        for (Tensor t : List.of(y, q.grad(), k.grad(), v.grad())) {
            for (float x : t.toFloatArray()) {
                assertTrue(Float.isFinite(x), "a non-finite value in " + t);
            }
        }
        assertNear(Attention.reference(q.detach(), k.detach(), v.detach(), true), y, 1e-4, "output");
    }

    @Test
    void causalFirstRowIsTheFirstValue() {
        Tensor q = Tensor.randn(8, 3, 5, 2);
        Tensor k = Tensor.randn(9, 3, 5, 2);
        Tensor v = Tensor.randn(10, 3, 5, 2);
        float[] y = Functional.scaledDotProductAttention(q, k, v, true).toFloatArray();
        float[] values = v.toFloatArray();
        for (int h = 0; h < 3; h++) {
            for (int c = 0; c < 2; c++) {
                int at = h * 10 + c;
                assertTrue(Math.abs(y[at] - values[at]) < 1e-6, "head " + h + ": row 0 sees key 0 only");
            }
        }
    }

    private static Function<List<Tensor>, Tensor> attention(boolean causal) {
        return args -> Functional.scaledDotProductAttention(args.get(0), args.get(1), args.get(2), causal);
    }

    @Test
    void gradientsPassFiniteDifferencesTheAdjointIdentityAndForwardMode() {
        long seed = 1900;
        for (int[][] shapes : new int[][][] {SHAPES[3], SHAPES[5]}) {
            for (boolean causal : new boolean[] {false, true}) {
                List<Tensor> inputs = List.of(constants(shapes, seed));
                GradCheck.finiteDifferences(attention(causal), inputs).assertPassed();
                GradCheck.adjointIdentity(attention(causal), inputs, seed).assertPassed();
                GradCheck.forwardMode(attention(causal), inputs, seed).assertPassed();
                seed += 10;
            }
        }
    }

    @Test
    void secondDerivativesGoThroughTheRecordedBackward() {
        long seed = 2000;
        for (boolean causal : new boolean[] {false, true}) {
            List<Tensor> point = List.of(constants(new int[][] {{2, 4, 3}, {2, 5, 3}, {2, 5, 2}}, seed));
            Function<List<Tensor>, Tensor> energy = args -> {
                Tensor y = attention(causal).apply(args);
                return y.mul(y).sum().mul(0.5f);
            };
            for (int wrt = 0; wrt < 3; wrt++) {
                int index = wrt;
                Function<List<Tensor>, Tensor> derivative = args -> Autodiff.grad(energy, args).get(index);
                GradCheck.finiteDifferences(derivative, point).assertPassed();
            }
            seed += 10;
        }
    }

    @Test
    void theUnrecordedAndRecordedBackwardAgree() {
        Tensor[] operands = operands(new int[][] {{3, 6, 5}, {3, 6, 5}, {3, 6, 4}}, 2100);
        Function<List<Tensor>, Tensor> energy = args -> attention(true).apply(args).sum();
        List<Tensor> recorded = Autodiff.grad(energy, List.of(operands));
        Functional.scaledDotProductAttention(operands[0], operands[1], operands[2], true).sum().backward();
        for (int i = 0; i < 3; i++) {
            assertNear(recorded.get(i), operands[i].grad(), 1e-5, "input " + i);
        }
    }

    @Test
    void aCheckpointedSelfAttentionGivesTheSameGradients() {
        // x [2, 5, 6] projected to q, k, v by three weights, causal attention, then a product with u.
        Tensor u = Tensor.randn(2250, 2, 5, 6);
        float[][] results = new float[2][];
        for (int run = 0; run < 2; run++) {
            Tensor x = Tensor.randn(2200, 2, 5, 6).requiresGrad(true);
            List<Tensor> weights = List.of(Tensor.randn(2201, 6, 6).requiresGrad(true),
                    Tensor.randn(2202, 6, 6).requiresGrad(true), Tensor.randn(2203, 6, 6).requiresGrad(true));
            java.util.function.UnaryOperator<Tensor> block = h -> Functional.scaledDotProductAttention(
                    h.matmul(weights.get(0)), h.matmul(weights.get(1)), h.matmul(weights.get(2)), true).tanh();
            Tensor y = run == 0 ? block.apply(x) : org.adjoint.checkpoint.Checkpoint.segment(block, x, weights);
            y.mul(u).sum().backward();
            float[] all = new float[(int) x.size() + 3 * 36];
            System.arraycopy(x.grad().toFloatArray(), 0, all, 0, (int) x.size());
            for (int w = 0; w < 3; w++) {
                System.arraycopy(weights.get(w).grad().toFloatArray(), 0, all, (int) x.size() + 36 * w, 36);
            }
            results[run] = all;
        }
        assertArrayEquals(results[0], results[1], "the re-run computes the same forward, bit for bit");
    }

    /** Records the largest buffer asked of a backend through it (not what the backend allocates inside its own calls). */
    private static final class LargestAllocation implements java.lang.reflect.InvocationHandler {
        private final Backend target;
        private long largest;

        LargestAllocation(Backend target) {
            this.target = target;
        }

        Backend proxy() {
            return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, this);
        }

        @Override
        public Object invoke(Object self, java.lang.reflect.Method method, Object[] arguments) throws Throwable {
            switch (method.getName()) {
                case "allocate", "allocateUninitialized" ->
                        largest = Math.max(largest, (long) arguments[arguments.length - 1]);
                case "upload" -> largest = Math.max(largest, ((float[]) arguments[0]).length);
                case "equals" -> {
                    return self == arguments[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(self);
                }
                default -> {
                }
            }
            try {
                return method.invoke(target, arguments);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    /**
     * The heads of a fused projection {@code [batch, time, 3·heads·width]}, split by a reshape, a
     * transpose and a narrow, or as {@code MultiHeadAttention} does by a narrow, a reshape and a
     * transpose (views, read in place), give the output and the projection's
     * gradient of contiguous copies of the heads, to the bit; the output is laid out so that
     * joining the heads again needs no copy. A small GPT's shape and one off every block and
     * lane count, causal and not.
     */
    @Test
    void headsReadInPlaceGiveTheBitsOfContiguousHeads() {
        int[][] shapes = {{2, 64, 4, 32}, {3, 7, 3, 5}}; // {batch, time, heads, width}
        long seed = 41;
        for (int[] shape : shapes) {
            for (boolean causal : new boolean[] {false, true}) {
                int batch = shape[0], time = shape[1], heads = shape[2], width = shape[3];
                int all = heads * width;
                String label = java.util.Arrays.toString(shape) + (causal ? " causal" : "");
                Tensor projected = Tensor.randn(seed++, batch, time, 3 * all);
                Tensor weight = Tensor.randn(seed++, batch, time, all);
                Tensor[] qkv = new Tensor[3];
                Tensor[] outputs = new Tensor[3];
                for (int run = 0; run < 3; run++) {
                    qkv[run] = copyOf(projected).requiresGrad(true);
                    Tensor split = qkv[run].reshape(batch, time, 3 * heads, width).transpose(1, 2);
                    Tensor[] operands = new Tensor[3];
                    for (int i = 0; i < 3; i++) {
                        operands[i] = switch (run) {
                            case 0 -> split.narrow(1, i * heads, heads);
                            case 1 -> split.narrow(1, i * heads, heads).mul(1f); // a contiguous copy of the heads
                            default -> qkv[run].narrow(-1, i * all, all).reshape(batch, time, heads, width)
                                    .transpose(1, 2); // as MultiHeadAttention splits them
                        };
                    }
                    Tensor y = Functional.scaledDotProductAttention(operands[0], operands[1], operands[2], causal);
                    outputs[run] = y.transpose(1, 2).reshape(batch, time, all);
                    if (run != 1) {
                        assertTrue(org.adjoint.internal.Compute.storage(outputs[run])
                                == org.adjoint.internal.Compute.storage(y), label + ": the heads joined without a copy");
                    }
                    outputs[run].mul(weight).sum().backward();
                }
                assertArrayEquals(outputs[1].toFloatArray(), outputs[0].toFloatArray(), label + " output");
                assertArrayEquals(qkv[1].grad().toFloatArray(), qkv[0].grad().toFloatArray(), label + " gradient");
                assertArrayEquals(outputs[1].toFloatArray(), outputs[2].toFloatArray(), label + " output, split late");
                assertArrayEquals(qkv[1].grad().toFloatArray(), qkv[2].grad().toFloatArray(),
                        label + " gradient, split late");
                Tensor reference = Attention.reference(
                        qkv[0].reshape(batch, time, 3 * heads, width).transpose(1, 2).narrow(1, 0, heads),
                        qkv[0].reshape(batch, time, 3 * heads, width).transpose(1, 2).narrow(1, heads, heads),
                        qkv[0].reshape(batch, time, 3 * heads, width).transpose(1, 2).narrow(1, 2 * heads, heads),
                        causal).transpose(1, 2).reshape(batch, time, all);
                assertNear(reference, outputs[0], 1e-5 * (1 + Math.sqrt(time)), label + " against the composition");
            }
        }
    }

    @Test
    void neitherPassAllocatesTheScoresOfEveryHead() {
        LargestAllocation recorder = new LargestAllocation(backend());
        Backends.use(recorder.proxy());
        int batch = 6;
        int t = 48;
        int d = 4;
        Tensor q = Tensor.randn(1, batch, t, d).requiresGrad(true);
        Tensor k = Tensor.randn(2, batch, t, d).requiresGrad(true);
        Tensor v = Tensor.randn(3, batch, t, d).requiresGrad(true);
        recorder.largest = 0;
        Functional.scaledDotProductAttention(q, k, v, true).sum().backward();
        assertTrue(recorder.largest < (long) batch * t * t,
                "a buffer of " + recorder.largest + " elements: the scores of every head are " + batch * t * t);
        assertTrue(recorder.largest >= 3L * batch * t * d, "the three gradients, one after another");
    }

    private static void assertRefused(String expected, int[] q, int[] k, int[] v) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Functional.scaledDotProductAttention(Tensor.zeros(q), Tensor.zeros(k), Tensor.zeros(v), false));
        assertTrue(e.getMessage().startsWith("scaledDotProductAttention: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void badShapesAreRefusedNamingThem() {
        assertRefused("rank at least 2", shape(4), shape(4, 4), shape(4, 4));
        assertRefused("query [4, 3], key [5, 2], value [5, 2]", shape(4, 3), shape(5, 2), shape(5, 2));
        assertRefused("query width 3 and key width 2 differ", shape(4, 3), shape(5, 2), shape(5, 2));
        assertRefused("key length 5 and value length 6 differ", shape(4, 3), shape(5, 3), shape(6, 3));
        assertRefused("batch axes do not broadcast", shape(2, 4, 3), shape(3, 5, 3), shape(3, 5, 3));
        assertRefused("value [2, 0, 3]", shape(2, 4, 3), shape(2, 0, 3), shape(2, 0, 3));
    }

    @Test
    void noQueriesGiveAnEmptyOutput() {
        Tensor q = Tensor.zeros(2, 0, 3).requiresGrad(true);
        Tensor k = Tensor.randn(3, 2, 4, 3).requiresGrad(true);
        Tensor v = Tensor.randn(4, 2, 4, 5).requiresGrad(true);
        Tensor y = Functional.scaledDotProductAttention(q, k, v, true);
        assertArrayEquals(shape(2, 0, 5), y.shape());
        y.sum().backward();
        assertArrayEquals(new float[2 * 4 * 3], k.grad().toFloatArray());
    }
}
