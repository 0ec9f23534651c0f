package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.backend.Backends;
import org.adjoint.internal.Compute;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.junit.jupiter.api.Test;

/**
 * The structure operations on every backend: {@code permute}, {@code transpose(a, b)},
 * {@code narrow}, {@code split}, {@code cat}, {@code stack}, {@code indexSelect} and
 * {@code maskedFill}. Values and gradients against PyTorch 1.13
 * ({@code reference/structure_reference.py}); views that share storage; finite differences,
 * the adjoint identity and forward mode against reverse mode; second derivatives through the
 * adjoint primitives; matrix products of views against their contiguous copies, bit for bit;
 * the error messages.
 */
public abstract class StructureConformance extends BackendConformance {

    private static final String REFERENCE = "reference/structure.safetensors";

    private static Map<String, Tensor> reference() {
        return ReferenceFiles.load(REFERENCE);
    }

    /** Element-wise closeness with a tolerance that scales with the expected magnitudes; infinities must match exactly. */
    private static void assertNear(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        double scale = 1;
        for (float v : e) {
            if (Float.isFinite(v)) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double tolerance = 1e-5 * scale;
        for (int i = 0; i < e.length; i++) {
            if (!(e[i] == a[i] || Math.abs(e[i] - a[i]) <= tolerance)) {
                fail(what + ", element " + i + ": expected " + e[i] + " but was " + a[i] + " (tolerance " + tolerance + ")");
            }
        }
    }

    private static Tensor leaf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape()).requiresGrad(true);
    }

    /** A reference case: its output and input gradients for the stored cotangent. */
    private static void checkCase(Map<String, Tensor> ref, String name, int inputs, Function<List<Tensor>, Tensor> f) {
        List<Tensor> leaves = new ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            leaves.add(leaf(ref.get(name + ".x" + i)));
        }
        Tensor y = f.apply(leaves);
        assertNear(ref.get(name + ".y"), y, name + " output");
        y.backward(ref.get(name + ".u"));
        for (int i = 0; i < inputs; i++) {
            assertNear(ref.get(name + ".dx" + i), leaves.get(i).grad(), name + " gradient of input " + i);
        }
    }

    private static Tensor scaledSplit(Tensor x) {
        List<Tensor> pieces = x.split(2, -1);
        List<Tensor> scaled = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            scaled.add(pieces.get(i).mul(i + 1));
        }
        return Tensor.cat(scaled, 1);
    }

    @Test
    void valuesAndGradientsMatchPyTorch() {
        Map<String, Tensor> ref = reference();
        checkCase(ref, "permute", 1, in -> in.get(0).permute(2, 0, 1));
        checkCase(ref, "permute_negative", 1, in -> in.get(0).permute(-1, 1, -4, 2));
        checkCase(ref, "transpose", 1, in -> in.get(0).transpose(0, 2));
        checkCase(ref, "transpose_negative", 1, in -> in.get(0).transpose(-3, -2));
        checkCase(ref, "narrow", 1, in -> in.get(0).narrow(1, 1, 2));
        checkCase(ref, "narrow_negative", 1, in -> in.get(0).narrow(-1, 2, 3));
        checkCase(ref, "split", 1, in -> scaledSplit(in.get(0)));
        checkCase(ref, "cat", 3, in -> Tensor.cat(in, 1));
        checkCase(ref, "cat_negative", 2, in -> Tensor.cat(in, -3));
        checkCase(ref, "stack", 3, in -> Tensor.stack(in, 1));
        checkCase(ref, "stack_negative", 2, in -> Tensor.stack(in, -1));
        checkCase(ref, "index_select", 1, in -> in.get(0).indexSelect(0, new int[] {2, 0, 2, 1, 2}));
        checkCase(ref, "index_select_negative", 1, in -> in.get(0).indexSelect(-2, new int[] {1, 1, 0}));
        checkCase(ref, "masked_fill", 1, in -> in.get(0).maskedFill(ref.get("masked_fill.mask"), -1.5f));
        checkCase(ref, "masked_fill_inf", 1,
                in -> in.get(0).maskedFill(ref.get("masked_fill_inf.mask"), Float.NEGATIVE_INFINITY).softmax(-1));
    }

    @Test
    void permuteTransposeNarrowAndSplitAreViewsOfTheSameStorage() {
        Tensor x = Tensor.randn(1, 2, 3, 4);
        List<Tensor> views = new ArrayList<>(List.of(x.permute(2, 0, 1), x.transpose(0, 1), x.transpose(-1, 0),
                x.narrow(1, 1, 2), x.narrow(0, 1, 1), x.narrow(-1, 3, 1), x.permute(1, 2, 0).narrow(0, 2, 1)));
        views.addAll(x.split(3, -1));
        for (Tensor v : views) {
            assertSame(Compute.storage(x), Compute.storage(v), "a view shares the storage: " + Compute.layout(v));
        }
        // A narrowed view reads its own elements: [1, 1:3, :] of a 2x3x4 tensor.
        float[] all = x.toFloatArray();
        float[] slice = x.narrow(0, 1, 1).narrow(1, 1, 2).toFloatArray();
        for (int i = 0; i < slice.length; i++) {
            assertEquals(all[12 + 4 + i], slice[i], "element " + i);
        }
        // cat, stack and indexSelect produce storage of their own.
        assertNotSame(Compute.storage(x), Compute.storage(Tensor.cat(List.of(x), 0)));
        assertNotSame(Compute.storage(x), Compute.storage(Tensor.stack(List.of(x), 0)));
    }

    @Test
    void splitGivesPiecesOfSizeAndAShorterLastOne() {
        Tensor x = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6}, 7);
        List<Tensor> pieces = x.split(3, 0);
        assertEquals(3, pieces.size());
        assertTensor(pieces.get(0), shape(3), 0, 1, 2);
        assertTensor(pieces.get(1), shape(3), 3, 4, 5);
        assertTensor(pieces.get(2), shape(1), 6);
        assertEquals(1, x.split(7, 0).size());
        assertEquals(1, x.split(100, -1).size());
        assertEquals(0, Tensor.zeros(2, 0).split(2, 1).size());
        // The last start would pass Integer.MAX_VALUE on an axis this long (no elements: a 0 beside it).
        List<Tensor> long2 = Tensor.zeros(0, Integer.MAX_VALUE).split((1 << 30) + 1, 1);
        assertEquals(2, long2.size());
        assertArrayEquals(new int[] {0, Integer.MAX_VALUE - (1 << 30) - 1}, long2.get(1).shape());
    }

    @Test
    void sumAlwaysReturnsANewTensor() {
        // Nothing to sum (a scalar, an axis of length 1 kept): a view, not the input itself, so
        // that the result's flags and gradient are its own.
        Tensor w = Tensor.ones(3, 1).requiresGrad(true);
        Tensor kept = w.sum(1, true);
        assertNotSame(w, kept);
        assertTrue(!kept.isLeaf());
        assertThrows(IllegalStateException.class, () -> kept.requiresGrad(false));
        assertTrue(w.requiresGrad());
        Tensor s = Tensor.scalar(2f).requiresGrad(true);
        assertNotSame(s, s.sum());
        kept.mul(2f).sum().add(s.sum()).backward();
        assertTensor(w.grad(), shape(3, 1), 2, 2, 2);
        assertTensor(s.grad(), shape(), 1);
    }

    @Test
    void aReshapeWhoseCountWrapsPastALongIsRefused() {
        // 3·11·131·2731·409891·7623851 = 2·2^64 + 1: a long product would wrap to the input's 1.
        var error = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(new float[] {1f}, 1).reshape(3, 11, 131, 2731, 409891, 7623851));
        assertTrue(error.getMessage().startsWith("reshape: cannot reshape [1] (1 elements) to "
                + "[3, 11, 131, 2731, 409891, 7623851]"), error.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(5).reshape(-1, 3, 11, 131, 2731, 409891, 7623851));
    }

    @Test
    void emptySlicesScalarsAndEmptySelectionsWork() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor none = x.narrow(1, 3, 0);
        assertArrayEquals(new int[] {2, 0}, none.shape());
        Tensor joined = Tensor.cat(List.of(none, x, x.narrow(0, 0, 0).reshape(2, 0)), 1);
        assertTensor(joined, shape(2, 3), 1, 2, 3, 4, 5, 6);
        Tensor.cat(List.of(none, x.indexSelect(0, new int[0]).reshape(2, 0)), 1).sum().add(joined.sum()).backward();
        assertTensor(x.grad(), shape(2, 3), 1, 1, 1, 1, 1, 1);
        Tensor a = Tensor.scalar(2f).requiresGrad(true);
        Tensor b = Tensor.scalar(-3f);
        Tensor stacked = Tensor.stack(List.of(a, b, a), 0);
        assertTensor(stacked, shape(3), 2, -3, 2);
        stacked.mul(Tensor.of(new float[] {1, 10, 100})).sum().backward();
        assertTensor(a.grad(), shape(), 101);
        assertTensor(Tensor.scalar(5f).permute(), shape(), 5);
        assertTensor(Tensor.stack(List.of(Tensor.scalar(1f)), -1), shape(1), 1);
    }

    @Test
    void transposeOfTheLastTwoAxesIsTheOldTranspose() {
        Tensor x = Tensor.randn(2, 2, 3, 4);
        assertArrayEquals(x.transpose().toFloatArray(), x.transpose(-2, -1).toFloatArray());
        assertArrayEquals(x.transpose().toFloatArray(), x.permute(0, 2, 1).toFloatArray());
        assertArrayEquals(x.toFloatArray(), x.transpose(1, 1).toFloatArray());
    }

    @Test
    void partsThatAreViewsJoinAsTheirCopies() {
        Tensor x = Tensor.randn(3, 3, 4, 5);
        Tensor a = x.permute(2, 0, 1).narrow(1, 1, 2);
        Tensor b = x.narrow(0, 1, 2).transpose(0, 1);
        Tensor ac = Tensor.of(a.toFloatArray(), a.shape());
        Tensor bc = Tensor.of(b.toFloatArray(), b.shape());
        assertArrayEquals(new int[] {5, 2, 4}, a.shape());
        assertArrayEquals(new int[] {4, 2, 5}, b.shape());
        Tensor a2 = a.transpose(0, 2);
        Tensor a2c = Tensor.of(a2.toFloatArray(), a2.shape());
        assertArrayEquals(Tensor.cat(List.of(a2c, bc), 0).toFloatArray(), Tensor.cat(List.of(a2, b), 0).toFloatArray());
        assertArrayEquals(Tensor.cat(List.of(a2c, bc, a2c), 1).toFloatArray(), Tensor.cat(List.of(a2, b, a2), 1).toFloatArray());
        assertArrayEquals(Tensor.stack(List.of(a2c, bc), 2).toFloatArray(), Tensor.stack(List.of(a2, b), 2).toFloatArray());
        // Other operations see a narrowed view as its copy.
        assertArrayEquals(ac.exp().toFloatArray(), a.exp().toFloatArray());
        assertArrayEquals(ac.add(bc.permute(2, 1, 0).narrow(0, 0, 1)).toFloatArray(),
                a.add(b.permute(2, 1, 0).narrow(0, 0, 1)).toFloatArray());
        assertArrayEquals(ac.sum(1, false).toFloatArray(), a.sum(1, false).toFloatArray());
        assertArrayEquals(ac.softmax(-1).toFloatArray(), a.softmax(-1).toFloatArray());
        assertArrayEquals(ac.reshape(-1).toFloatArray(), a.reshape(-1).toFloatArray());
        assertArrayEquals(ac.indexSelect(2, new int[] {3, 0, 3}).toFloatArray(), a.indexSelect(2, new int[] {3, 0, 3}).toFloatArray());
    }

    @Test
    void productsOfViewsGiveTheBitsOfTheirContiguousCopies() {
        Tensor x = Tensor.randn(10, 2, 5, 3, 4);
        Tensor w = Tensor.randn(11, 4, 6);
        List<Tensor> lefts = List.of(
                x.narrow(0, 1, 1),                               // offset, packed
                x.narrow(1, 1, 3),                               // batch stride 12 with an offset
                x.narrow(2, 1, 2),                               // rows narrowed: offset and row stride 4 (packed)
                x.permute(1, 0, 2, 3),                           // batch axes out of order: copied
                x.permute(0, 2, 1, 3),                           // rows from a batch axis: copied
                x.transpose(-1, -2).narrow(0, 1, 1).transpose(-1, -2),
                x.narrow(-1, 1, 3).narrow(-1, 0, 3));           // columns narrowed: copied
        for (Tensor left : lefts) {
            Tensor copy = Tensor.of(left.toFloatArray(), left.shape());
            Tensor right = w.narrow(0, 0, left.shape()[3]);
            assertArrayEquals(copy.matmul(right).toFloatArray(), left.matmul(right).toFloatArray(),
                    "matmul of " + Compute.layout(left));
            Tensor rightCopy = Tensor.of(right.toFloatArray(), right.shape());
            assertArrayEquals(copy.matmul(rightCopy).toFloatArray(), left.matmul(right).toFloatArray());
            Tensor leftT = left.transpose(-1, -2);
            Tensor copyT = Tensor.of(leftT.toFloatArray(), leftT.shape());
            Tensor other = Tensor.randn(12, left.shape()[2], 2);
            assertArrayEquals(copyT.matmul(other).toFloatArray(), leftT.matmul(other).toFloatArray(),
                    "matmul of " + Compute.layout(leftT));
        }
        // A linear layer's operands: a narrowed batch of rows and a narrowed weight.
        Tensor rows = Tensor.randn(13, 6, 4).narrow(0, 2, 3);
        Tensor weight = Tensor.randn(14, 5, 4).narrow(0, 1, 4);
        Tensor rowsCopy = Tensor.of(rows.toFloatArray(), rows.shape());
        Tensor weightCopy = Tensor.of(weight.toFloatArray(), weight.shape());
        assertArrayEquals(rowsCopy.matmul(weightCopy).toFloatArray(), rows.matmul(weight).toFloatArray());
        Tensor bias = Tensor.randn(15, 4);
        assertArrayEquals(new Linear(weightCopy, bias, Activation.RELU).apply(rowsCopy).toFloatArray(),
                new Linear(weight, bias, Activation.RELU).apply(rows).toFloatArray());
        assertArrayEquals(new Linear(weightCopy.transpose(), null, Activation.IDENTITY).apply(rowsCopy).toFloatArray(),
                new Linear(weight.transpose(), null, Activation.IDENTITY).apply(rows).toFloatArray());
    }

    @Test
    void elementWiseOperationsProductsAndJoinsReadViewsInPlace() {
        CountingBackend counting = new CountingBackend(backend());
        Backends.use(counting.backend());
        Tensor x = Tensor.randn(20, 4, 6, 5);
        Tensor y = Tensor.randn(21, 6, 5);
        Tensor mask = Tensor.of(new float[] {1, 0, 0, 1, 0}, 5);
        Tensor xc = Tensor.of(x.narrow(0, 1, 2).toFloatArray(), 2, 6, 5);
        Tensor yc = Tensor.of(y.narrow(0, 2, 1).toFloatArray(), 1, 5);
        long before = counting.buffers();
        // Each makes its output and nothing else: the views (offsets, permuted strides) are read where they lie.
        Tensor sum = x.narrow(0, 1, 2).add(y.narrow(0, 2, 1));
        Tensor product = x.permute(0, 2, 1).narrow(2, 1, 4).mul(y.transpose(0, 1).narrow(1, 0, 4));
        Tensor matrices = x.narrow(0, 1, 2).matmul(x.narrow(0, 0, 2).transpose(-1, -2));
        Tensor joined = Tensor.cat(List.of(x.narrow(1, 3, 3), x.narrow(1, 0, 3).permute(0, 1, 2)), 2);
        Tensor filled = x.narrow(2, 1, 4).maskedFill(mask.narrow(0, 1, 4), 9f);
        assertEquals(before + 5, counting.buffers(), "buffers asked of the backend");
        assertArrayEquals(xc.add(yc).toFloatArray(), sum.toFloatArray());
        assertArrayEquals(new int[] {4, 5, 4}, product.shape());
        assertArrayEquals(new int[] {2, 6, 6}, matrices.shape());
        assertArrayEquals(new int[] {4, 3, 10}, joined.shape());
        assertArrayEquals(new int[] {4, 6, 4}, filled.shape());
    }

    @Test
    void anEmbeddingLookupAddsTheGradientsOfRepeatedIds() {
        Tensor weight = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad(true);
        Tensor picked = weight.indexSelect(0, new int[] {2, 0, 2, 2});
        assertTensor(picked, shape(4, 2), 5, 6, 1, 2, 5, 6, 5, 6);
        picked.mul(Tensor.of(new float[] {1, 10, 2, 20, 3, 30, 4, 40}, 4, 2)).sum().backward();
        assertTensor(weight.grad(), shape(3, 2), 2, 20, 0, 0, 8, 80);
        assertArrayEquals(new int[] {0, 2}, weight.indexSelect(0, new int[0]).shape());
    }

    @Test
    void maskedFillGivesExactlyTheValueWhateverTheInputHoldsAndNoGradientThere() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        Tensor x = Tensor.of(new float[] {nan, inf, -inf, 1, nan, -0f}, 2, 3).requiresGrad(true);
        Tensor mask = Tensor.of(new float[] {1, -2, 0.5f}, 3);
        Tensor filled = x.maskedFill(mask, 7f);
        assertTensor(filled, shape(2, 3), 7, 7, 7, 7, 7, 7);
        Tensor columns = Tensor.of(new float[] {0, 1, 0}, 3);
        Tensor some = x.maskedFill(columns, -inf);
        float[] v = some.toFloatArray();
        assertTrue(Float.isNaN(v[0]) && v[1] == -inf && v[2] == -inf && v[3] == 1 && v[4] == -inf
                && Float.floatToIntBits(v[5]) == Float.floatToIntBits(-0f), "values " + java.util.Arrays.toString(v));
        x.maskedFill(columns, -inf).backward(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertTensor(x.grad(), shape(2, 3), 1, 0, 3, 4, 0, 6);
        // A mask larger than the input broadcasts the result; the gradient sums back.
        Tensor row = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor wide = row.maskedFill(Tensor.of(new float[] {1, 0, 0, 0, 0, 1}, 3, 2), 0f);
        assertTensor(wide, shape(3, 2), 0, 2, 1, 2, 1, 0);
        wide.sum().backward();
        assertTensor(row.grad(), shape(2), 2, 2);
        // The mask is never differentiated, and a mask that is a view is read in place.
        Tensor m = Tensor.of(new float[] {0, 1, 1, 0}, 2, 2).requiresGrad(true);
        Tensor y = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).maskedFill(m.transpose(), 9f);
        assertTensor(y, shape(2, 2), 1, 9, 9, 4);
        Tensor z = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        z.maskedFill(m, 0f).sum().backward();
        assertEquals(null, m.grad());
    }

    /** Functions of one or more inputs through each operation, for the numerical checks. */
    private static final List<Function<List<Tensor>, Tensor>> FUNCTIONS = List.of(
            in -> in.get(0).permute(2, 0, 1).mul(in.get(0).permute(2, 0, 1)),
            in -> in.get(0).transpose(0, 2).exp(),
            in -> in.get(0).narrow(1, 1, 2).mul(in.get(0).narrow(1, 0, 2)),
            in -> scaledSplit(in.get(0).reshape(4, 6)).tanh(),
            in -> Tensor.cat(List.of(in.get(0).narrow(2, 1, 3), in.get(0).mul(in.get(0)), in.get(0).narrow(2, 0, 1)), -1),
            in -> Tensor.stack(List.of(in.get(0), in.get(0).transpose(0, 0).sigmoid()), 1),
            in -> in.get(0).indexSelect(1, new int[] {2, 0, 2, 1, 2}).mul(in.get(0).indexSelect(1, new int[] {1, 1, 0, 0, 2})),
            in -> in.get(0).maskedFill(Tensor.of(new float[] {1, 0, 0, 1}, 4), -1f).mul(in.get(0)));

    @Test
    void gradientsPassFiniteDifferencesTheAdjointIdentityAndForwardMode() {
        long seed = 100;
        for (Function<List<Tensor>, Tensor> f : FUNCTIONS) {
            List<Tensor> inputs = List.of(Tensor.randn(seed, 2, 3, 4));
            GradCheck.finiteDifferences(f, inputs).assertPassed();
            GradCheck.adjointIdentity(f, inputs, seed).assertPassed();
            GradCheck.forwardMode(f, inputs, seed).assertPassed();
            seed++;
        }
    }

    @Test
    void secondDerivativesGoThroughTheAdjointPrimitives() {
        long seed = 200;
        for (Function<List<Tensor>, Tensor> f : FUNCTIONS) {
            // The gradient of ½·Σ f² reads f's VJP (a pad, a scatter-add, a masked fill): its own derivatives must hold.
            Function<List<Tensor>, Tensor> energy = in -> {
                Tensor y = f.apply(in);
                return y.mul(y).sum().mul(0.5f);
            };
            Function<List<Tensor>, Tensor> gradient = in -> Autodiff.grad(energy, in).get(0);
            List<Tensor> inputs = List.of(Tensor.randn(seed, 2, 3, 4).mul(0.5f));
            GradCheck.finiteDifferences(gradient, inputs).assertPassed();
            // Through the products the gradient is cubic: central differences carry h²·(its constant third
            // derivative) along the direction. Halving point and direction together brings it within tolerance.
            Function<List<Tensor>, Tensor> halved = in -> gradient.apply(List.of(in.get(0).mul(0.5f)));
            GradCheck.forwardMode(halved, inputs, seed).assertPassed();
            seed++;
        }
    }

    /** {@code part} placed in zeros along {@code axis} at {@code start} of a tensor {@code size} long there. */
    private static Tensor padded(Tensor part, int axis, int start, int size) {
        List<Tensor> pieces = new ArrayList<>();
        int[] shape = part.shape();
        if (start > 0) {
            shape[axis] = start;
            pieces.add(Tensor.zeros(shape.clone()));
        }
        pieces.add(part);
        int after = size - start - part.shape()[axis];
        if (after > 0) {
            shape[axis] = after;
            pieces.add(Tensor.zeros(shape.clone()));
        }
        return Tensor.cat(pieces, axis);
    }

    /** Weights whose products with the seed give the slices' cotangents: ±0, a NaN and an infinity among them. */
    private static Tensor weights(long seed, int... shape) {
        float[] w = Tensor.randn(seed, shape).toFloatArray();
        w[0] = -0f;
        w[1 % w.length] = 0f;
        w[2 % w.length] = -0f;
        w[w.length - 1] = seed % 2 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
        return Tensor.of(w, shape);
    }

    /** The same shape and the same bits, element by element (NaNs by their payload too). */
    static void assertSameBits(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                fail(what + ", element " + i + ": expected " + e[i] + " but was " + a[i]);
            }
        }
    }

    @Test
    void slicesOfOneTensorSumTheirGradientsWithTheBitsOfPaddingAndAdding() {
        // The reverse pass sums the cotangents of several narrow views of one intermediate tensor
        // in one buffer: the gradient must be exactly the padded cotangents added in order, -0
        // (which the additions turn into +0), NaN and infinities included.
        int[][][] cases = {
            {{2, 0, 3}, {2, 3, 3}, {2, 6, 3}},        // one axis, covered: a transformer's q, k and v
            {{2, 6, 3}, {2, 0, 2}},                   // disjoint, out of order, a gap between
            {{2, 0, 5}, {2, 3, 6}},                   // overlapping
            {{0, 1, 2}, {2, 4, 5}},                   // two axes
            {{1, 2, 2}},                              // one slice alone
            {{2, 0, 4}, {2, 4, 5}, {1, 0, 1}},        // a third slice on another axis after two that cover
        };
        long seed = 300;
        for (int[][] slices : cases) {
            Tensor x = Tensor.randn(seed, 3, 4, 9).requiresGrad(true);
            List<Tensor> w = new ArrayList<>();
            for (int[] slice : slices) {
                int[] shape = {3, 4, 9};
                shape[slice[0]] = slice[2];
                w.add(weights(seed + w.size() + 1, shape));
            }
            Tensor h = x.mul(1.5f);
            Tensor loss = null;
            for (int i = 0; i < slices.length; i++) {
                Tensor term = h.narrow(slices[i][0], slices[i][1], slices[i][2]).mul(w.get(i)).sum();
                loss = loss == null ? term : loss.add(term);
            }
            loss.backward();
            // The seed is 1, so each slice's cotangent is its weight; h's is their padded sum in order
            // (the reverse pass reaches the terms last to first), and x's is that times 1.5.
            Tensor expected = null;
            for (int i = slices.length - 1; i >= 0; i--) {
                Tensor part = padded(w.get(i), slices[i][0], slices[i][1], new int[] {3, 4, 9}[slices[i][0]]);
                expected = expected == null ? part : expected.add(part);
            }
            assertSameBits(expected.mul(1.5f), x.grad(), "slices " + java.util.Arrays.deepToString(slices));
            seed += 10;
        }
    }

    @Test
    void slicesMixedWithOtherUsesOfTheTensorAddInTheOrderTheyArrive() {
        Tensor x = Tensor.randn(400, 3, 8).requiresGrad(true);
        Tensor wa = weights(401, 3, 4);
        Tensor wb = weights(402, 3, 4);
        Tensor wh = weights(403, 3, 8);
        Tensor h = x.mul(1.5f);
        // Reached last to first: a slice, the whole tensor, then two slices.
        h.narrow(1, 0, 4).mul(wa).sum().add(h.narrow(1, 4, 4).mul(wb).sum()).add(h.mul(wh).sum())
                .add(h.narrow(1, 2, 4).mul(wa).sum()).backward();
        Tensor expected = padded(wa, 1, 2, 8).add(wh).add(padded(wb, 1, 4, 8)).add(padded(wa, 1, 0, 8));
        assertSameBits(expected.mul(1.5f), x.grad(), "slices around the whole tensor");
    }

    @Test
    void aSecondBackwardThroughReleasedSlicesIsRefused() {
        Tensor x = Tensor.randn(404, 2, 6).requiresGrad(true);
        Tensor h = x.mul(2f);
        Tensor loss = h.narrow(1, 0, 3).sum().add(h.narrow(1, 3, 3).mul(3f).sum());
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("freed by an earlier backward"), e.getMessage());
    }

    private static void assertRejected(String expected, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expected), "message \"" + e.getMessage() + "\" should contain \"" + expected + "\"");
    }

    @Test
    void badArgumentsAreRejectedWithTheValuesInvolved() {
        Tensor x = Tensor.zeros(2, 3, 4);
        assertRejected("permute: [0, 1] has 2 axes but the tensor of shape [2, 3, 4] has rank 3", () -> x.permute(0, 1));
        assertRejected("permute: [0, 2, -1] is not a permutation of the axes of shape [2, 3, 4] (axis 2 appears twice)",
                () -> x.permute(0, 2, -1));
        assertRejected("permute: axis 3 is out of range for shape [2, 3, 4] (rank 3)", () -> x.permute(0, 1, 3));
        assertRejected("transpose: axis -4 is out of range for shape [2, 3, 4] (rank 3)", () -> x.transpose(-4, 0));
        assertRejected("narrow: axis 3 is out of range", () -> x.narrow(3, 0, 1));
        assertRejected("narrow: start 2 and length 2 do not fit axis 1 of size 3 (shape [2, 3, 4])", () -> x.narrow(1, 2, 2));
        assertRejected("narrow: start -1 and length 1 do not fit axis -1 of size 4", () -> x.narrow(-1, -1, 1));
        assertRejected("narrow: start 0 and length -1", () -> x.narrow(0, 0, -1));
        assertRejected("split: size 0 must be positive", () -> x.split(0, 0));
        assertRejected("split: axis 5 is out of range", () -> x.split(1, 5));
        assertRejected("cat: needs at least one tensor, got an empty list", () -> Tensor.cat(List.of(), 0));
        assertRejected("stack: needs at least one tensor, got an empty list", () -> Tensor.stack(List.of(), 0));
        assertRejected("cat: part 1 has shape [2, 4, 4] but part 0 has [2, 3, 4]; shapes must agree except along axis 0",
                () -> Tensor.cat(List.of(x, Tensor.zeros(2, 4, 4)), 0));
        assertRejected("cat: part 1 has shape [3, 4]", () -> Tensor.cat(List.of(x, Tensor.zeros(3, 4)), 0));
        assertRejected("cat: axis -4 is out of range for shape [2, 3, 4]", () -> Tensor.cat(List.of(x, x), -4));
        assertRejected("stack: part 1 has shape [2, 3, 5] but part 0 has [2, 3, 4]; all parts must have one shape",
                () -> Tensor.stack(List.of(x, Tensor.zeros(2, 3, 5)), 0));
        assertRejected("stack: axis 4 is out of range for stacking parts of shape [2, 3, 4] (the result has rank 4)",
                () -> Tensor.stack(List.of(x, x), 4));
        assertRejected("indexSelect: index 3 (position 1) is out of range for axis 1 of size 3 (shape [2, 3, 4])",
                () -> x.indexSelect(1, new int[] {0, 3}));
        assertRejected("indexSelect: index -1 (position 0) is out of range for axis -1 of size 4",
                () -> x.indexSelect(-1, new int[] {-1}));
        assertRejected("indexSelect: axis 3 is out of range", () -> x.indexSelect(3, new int[] {0}));
        assertRejected("maskedFill", () -> x.maskedFill(Tensor.zeros(2, 4), 0f));
        assertRejected("maskedFill: the mask must not be null", () -> x.maskedFill(null, 0f));
        // Stacking along the new last axis, counted from the end, is allowed.
        assertArrayEquals(new int[] {2, 3, 4, 2}, Tensor.stack(List.of(x, x), -1).shape());
        assertArrayEquals(new int[] {2, 2, 3, 4}, Tensor.stack(List.of(x, x), -4).shape());
    }
}
