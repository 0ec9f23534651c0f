package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.adjoint.DType;
import org.adjoint.Tensor;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Layout;
import org.adjoint.internal.TensorImpl;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.Adam;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;

/**
 * Tensors with a layout: {@code transpose} is a view of the same storage, products read it in
 * place, every other operation sees the same values as on a contiguous copy (forward and
 * gradients), in-place writers give a view storage of its own, and views share the version
 * counter of their storage.
 */
public abstract class LayoutConformance extends BackendConformance {

    private static final float[] SIX = {1, -2, 3, 0.5f, -5, 6};

    private static Tensor matrix() {
        return Tensor.of(SIX.clone(), 2, 3);
    }

    /** The transpose written out element by element, as a new contiguous tensor. */
    private static Tensor transposedCopy(Tensor x) {
        int[] s = x.shape();
        int rows = s[s.length - 2];
        int cols = s[s.length - 1];
        float[] v = x.toFloatArray();
        float[] out = new float[v.length];
        for (int b = 0; b < v.length / (rows * cols); b++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    out[b * rows * cols + j * rows + i] = v[b * rows * cols + i * cols + j];
                }
            }
        }
        int[] t = s.clone();
        t[s.length - 2] = cols;
        t[s.length - 1] = rows;
        return Tensor.of(out, t);
    }

    @Test
    void transposeIsAViewOfTheSameStorage() {
        Tensor x = matrix();
        Tensor y = x.transpose();
        TensorImpl view = TensorImpl.of(y);
        assertSame(TensorImpl.of(x).storage(), view.storage());
        assertFalse(view.layout().isContiguous());
        assertArrayEquals(new int[] {1, 3}, view.layout().strides());
        assertTensor(y, shape(3, 2), 1, 0.5f, -2, -5, 3, 6);
        Tensor back = y.transpose();
        assertTrue(TensorImpl.of(back).layout().isContiguous(), "the transpose of a transpose is row-major again");
        assertSame(TensorImpl.of(x).storage(), TensorImpl.of(back).storage());
        assertEquals(DType.F32, y.dtype());
    }

    @Test
    void aProductReadsATransposedOperandWithoutCopyingIt() {
        CountingBackend counting = new CountingBackend(backend());
        Backends.use(counting.backend());
        Tensor a = Tensor.randn(1, 4, 5);
        Tensor b = Tensor.randn(2, 3, 5);
        Tensor bt = b.transpose();
        long before = counting.buffers();
        Tensor product = a.matmul(bt);
        assertEquals(1, counting.buffers() - before, "only the result is allocated");
        assertClose(product, shape(4, 3), 1e-5, a.matmul(transposedCopy(b)).toFloatArray());
        Tensor at = Tensor.randn(3, 5, 4).transpose();          // [4, 5], read with its flag flipped
        before = counting.buffers();
        Tensor both = at.matmul(bt);
        assertEquals(1, counting.buffers() - before, "only the result is allocated");
        assertClose(both, shape(4, 3), 1e-5, transposedCopy(at.transpose()).matmul(transposedCopy(b)).toFloatArray());
        Tensor batched = Tensor.randn(4, 2, 3, 5);
        Tensor stack = Tensor.randn(5, 2, 3, 5).transpose();     // [2, 5, 3]
        assertClose(batched.matmul(stack), shape(2, 3, 3), 1e-5,
                batched.matmul(transposedCopy(stack.transpose())).toFloatArray());
        Tensor weight = Tensor.randn(6, 5, 3);
        Tensor bias = Tensor.randn(7, 3);
        Tensor viaView = new Linear(transposedCopy(weight).transpose(), bias, Activation.TANH).apply(a);
        assertClose(viaView, shape(4, 3), 1e-5, new Linear(weight, bias, Activation.TANH).apply(a).toFloatArray());
    }

    @Test
    void everyOperationSeesTheSameValuesAsOnAContiguousCopy() {
        Tensor x = Tensor.randn(11, 4, 3);
        Tensor view = x.transpose();
        Tensor copy = transposedCopy(x);
        Map<String, UnaryOperator<Tensor>> ops = new java.util.LinkedHashMap<>();
        ops.put("exp", Tensor::exp);
        ops.put("relu", Tensor::relu);
        ops.put("neg", Tensor::neg);
        ops.put("pow", t -> t.pow(2f));
        ops.put("add row", t -> t.add(Tensor.of(new float[] {1, 2, 3, 4})));
        ops.put("mul column", t -> t.mul(Tensor.of(new float[] {2, 3, 4}, 3, 1)));
        ops.put("sub itself", t -> t.sub(t.exp()));
        ops.put("div", t -> t.div(2f));
        ops.put("sum", Tensor::sum);
        ops.put("sum axis 0", t -> t.sum(0, false));
        ops.put("sum axis 1", t -> t.sum(1, true));
        ops.put("max axis 1", t -> t.max(1, false));
        ops.put("softmax", t -> t.softmax(1));
        ops.put("logSoftmax 0", t -> t.logSoftmax(0));
        ops.put("reshape", t -> t.reshape(2, 6));
        ops.put("reshape flat", t -> t.reshape(-1));
        ops.put("transpose again", Tensor::transpose);
        for (Map.Entry<String, UnaryOperator<Tensor>> op : ops.entrySet()) {
            assertArrayEquals(op.getValue().apply(copy).toFloatArray(), op.getValue().apply(view).toFloatArray(),
                    op.getKey());
        }
        int[] labels = {0, 3, 1};
        assertArrayEquals(Losses.crossEntropy(copy, labels).toFloatArray(),
                Losses.crossEntropy(view, labels).toFloatArray(), "crossEntropy");
        assertArrayEquals(copy.to(backend()).toFloatArray(), view.to(backend()).toFloatArray(), "to");
    }

    @Test
    void gradientsThroughAViewAreTheTransposedGradients() {
        Tensor w = Tensor.randn(3, 3, 4).requiresGrad(true);
        Tensor x = Tensor.randn(4, 2, 3);
        int[] labels = {1, 0};
        Losses.crossEntropy(x.matmul(w).tanh().add(w.transpose().sum(1, false).exp().sum()), labels).backward();
        Tensor expected = w.grad();

        Tensor wt = transposedCopy(w.detach()).requiresGrad(true);   // [4, 3], the same values transposed
        Tensor throughView = wt.transpose();                          // a view of wt's storage
        Losses.crossEntropy(x.matmul(throughView).tanh().add(throughView.transpose().sum(1, false).exp().sum()),
                labels).backward();
        assertTrue(TensorImpl.of(wt.grad()).layout().isContiguous(), "a gradient is always contiguous");
        assertClose(wt.grad(), shape(4, 3), 1e-5, transposedCopy(expected).toFloatArray());
    }

    /** {@code x ↦ xᵀ·2}, whose rule returns a fresh result that is a view: {@code (g·2)ᵀ}. */
    private static final class TwiceTransposed extends CustomFunction {
        @Override
        protected Tensor forward(Context ctx, List<Tensor> in) {
            return in.get(0).transpose().mul(2f);
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            return cotangent.mul(2f).transpose();
        }
    }

    @Test
    void aLeafsGradientIsContiguousEvenWhenARuleReturnsAView() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor weights = Tensor.of(new float[] {1, 10, 100, 1000, 10000, 100000}, 3, 2);
        for (int pass = 1; pass <= 2; pass++) {
            new TwiceTransposed().apply(w).mul(weights).sum().backward();   // the second pass accumulates
            assertTrue(TensorImpl.of(w.grad()).layout().isContiguous(), "pass " + pass);
            float f = 2 * pass;
            assertTensor(w.grad(), shape(2, 3), f, 100 * f, 10000 * f, 10 * f, 1000 * f, 100000 * f);
        }
    }

    @Test
    void aParameterThatIsAViewIsUpdatedLikeItsContiguousCopy() {
        for (boolean adam : new boolean[] {false, true}) {
            Tensor base = Tensor.randn(5, 4, 3);
            Tensor viewParam = base.transpose().requiresGrad(true);   // a leaf over base's storage
            Tensor copyParam = transposedCopy(base).requiresGrad(true);
            Tensor x = Tensor.randn(6, 2, 3);
            for (Tensor p : List.of(viewParam, copyParam)) {
                var optimizer = adam ? new Adam(List.of(p), 0.1f) : new SGD(List.of(p), 0.1f, 0.9f, 0f);
                for (int step = 0; step < 2; step++) {
                    optimizer.zeroGrad();
                    x.matmul(p).tanh().sum().backward();
                    optimizer.step();
                }
            }
            // Close, not bitwise: a backend's product may take another path for a transposed operand.
            assertClose(viewParam, shape(3, 4), 1e-5, copyParam.toFloatArray());
            assertTrue(TensorImpl.of(viewParam).layout().isContiguous(), "written in place: storage of its own");
            assertArrayEquals(Tensor.randn(5, 4, 3).toFloatArray(), base.toFloatArray(),
                    "the tensor it was a view of keeps its values");
        }
    }

    @Test
    void aStateDictOfViewsLoadsTheirValues() {
        Linear layer = new Linear(3, 2, Activation.IDENTITY, 1);
        Tensor weight = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose();   // [3, 2]
        Tensor bias = Tensor.of(new float[] {7, 8});
        layer.loadStateDict(Map.of("weight", weight, "bias", bias));
        assertTensor(layer.parameters().get(0), shape(3, 2), 1, 4, 2, 5, 3, 6);
        // Loading a module's own weight, transposed onto itself (square), reads before it writes.
        Linear square = new Linear(2, 2, Activation.IDENTITY, 3);
        Tensor w = square.parameters().get(0);
        float[] before = w.toFloatArray();
        square.loadStateDict(Map.of("weight", w.transpose(), "bias", square.parameters().get(1)));
        assertTensor(w, shape(2, 2), before[0], before[2], before[1], before[3]);
    }

    @Test
    void viewsShareTheVersionOfTheirStorage() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 0.1f);
        w.sum().backward();
        Tensor t = w.transpose();
        Tensor product = t.mul(t).sum();      // mul saves the view
        sgd.step();                           // writes w's storage: the view's values changed
        var error = assertThrows(IllegalStateException.class, product::backward);
        assertTrue(error.getMessage().contains("'mul' saved"), error.getMessage());
    }

    @Test
    void copyStridedStartsAtAnOffset() {
        Backend b = backend();
        Buffer src = b.upload(new float[] {9, 9, 1, 2, 3, 4, 5, 6});
        Buffer out = b.allocate(6);
        b.copyStrided(src, 2, new int[] {1, 3}, out, 0, new int[] {3, 2});   // a transposed view from element 2
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, b.download(out));
        Buffer wide = b.upload(new float[] {7, 7, 7, 7, 7, 7, 7, 7});
        b.copyStrided(src, 2, new int[] {2}, wide, 5, new int[] {3});         // every other element, into 5..7
        assertArrayEquals(new float[] {7, 7, 7, 7, 7, 1, 3, 5}, b.download(wide));
    }

    @Test
    void gemmStartsEachMatrixAtItsOffset() {
        Backend b = backend();
        // Two 2x2 · 2x1 products, A from element 1 (stride 4), B from element 2 (stride 0: one B for both).
        Buffer a = b.upload(new float[] {9, 1, 2, 3, 4, 5, 6, 7, 8});
        Buffer x = b.upload(new float[] {9, 9, 1, -1});
        Buffer c = b.upload(new float[] {5, 5, 5, 5, 5});
        b.gemm(false, false, 2, 2, 1, 2, 1f, a, 1, 4, x, 2, 0, 0f, c, 1, 2);
        assertArrayEquals(new float[] {5, -1, -1, -1, -1}, b.download(c));
        b.gemm(true, false, 1, 2, 1, 2, 2f, a, 5, 0, x, 2, 0, 1f, c, 3, 0);   // c[3..4] += 2·[[5,7],[6,8]]·[1,-1]
        assertArrayEquals(new float[] {5, -1, -1, -5, -5}, b.download(c));
    }

    @Test
    void layoutsRejectWhatCannotBeAView() {
        assertThrows(IllegalArgumentException.class, () -> Layout.strided(new int[] {2, 3}, new int[] {1}, 0));
        assertThrows(IllegalArgumentException.class, () -> Layout.strided(new int[] {2, 3}, new int[] {3, 1}, -1));
        assertThrows(IllegalArgumentException.class, () -> Layout.strided(new int[] {2, 3}, new int[] {-3, 1}, 0));
        assertTrue(Layout.strided(new int[] {2, 3}, new int[] {3, 1}, 0).isContiguous());
        assertFalse(Layout.strided(new int[] {2, 3}, new int[] {3, 1}, 4).isContiguous());
        Layout t = Layout.contiguous(new int[] {2, 3, 4}).transposed();
        assertTrue(t.isTransposedContiguous());
        assertArrayEquals(new int[] {2, 4, 3}, t.shape());
        assertArrayEquals(new int[] {12, 1, 4}, t.strides());
        assertArrayEquals(new int[] {0, 1, 4}, Layout.strided(new int[] {1, 4, 3}, new int[] {12, 1, 4}, 0)
                .broadcastStrides(new int[] {5, 4, 3}));
        var error = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[] {1, 2}).transpose());
        assertEquals("transpose: needs rank at least 2, got shape [2]", error.getMessage());
        assertNotSame(t, t.transposed());
    }

    /**
     * A reshape is a view when strides can express it (splitting an axis of a slice, merging the
     * row-major axes of a transpose's batch) and a copy otherwise (merging transposed axes), with
     * the values of a contiguous copy either way.
     */
    private static float[] range(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        return x;
    }

    @Test
    void aReshapeIsAViewWhereStridesCanExpressIt() {
        Tensor x = Tensor.of(range(24), 2, 12);
        Tensor split = x.narrow(-1, 4, 8).reshape(2, 2, 4); // the heads of one third of a fused projection
        assertSame(TensorImpl.of(x).storage(), TensorImpl.of(split).storage());
        assertArrayEquals(new int[] {12, 4, 1}, TensorImpl.of(split).layout().strides());
        assertEquals(4, TensorImpl.of(split).layout().offset());
        assertTensor(split, shape(2, 2, 4), 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23);
        Tensor merged = split.reshape(2, 8);
        assertSame(TensorImpl.of(x).storage(), TensorImpl.of(merged).storage());
        assertArrayEquals(x.narrow(-1, 4, 8).toFloatArray(), merged.toFloatArray());
        Tensor transposed = Tensor.of(range(120), 2, 3, 4, 5).transpose();
        Tensor batch = transposed.reshape(6, 5, 4);
        assertArrayEquals(new int[] {20, 1, 5}, TensorImpl.of(batch).layout().strides(), "batch axes merged: a view");
        assertArrayEquals(transposed.toFloatArray(), batch.toFloatArray());
        Tensor copied = Tensor.of(range(6), 2, 3).transpose().reshape(6);
        assertTrue(TensorImpl.of(copied).layout().isContiguous(), "transposed axes merged: a copy");
        assertTensor(copied, shape(6), 0, 3, 1, 4, 2, 5);
        assertNull(Layout.contiguous(new int[] {2, 3}).transposed().reshaped(new int[] {6}));
    }
}
