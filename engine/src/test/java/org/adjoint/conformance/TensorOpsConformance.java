package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adjoint.Tensor;
import org.junit.jupiter.api.Test;

/** Forward values of every creation, inspection and operation of {@link Tensor}. */
public abstract class TensorOpsConformance extends BackendConformance {

    @Test
    void creation() {
        assertTensor(Tensor.of(new float[] {1, 2, 3}), shape(3), 1, 2, 3);
        assertTensor(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), shape(2, 3), 1, 2, 3, 4, 5, 6);
        assertTensor(Tensor.scalar(7), shape(), 7);
        assertTensor(Tensor.zeros(2, 2), shape(2, 2), 0, 0, 0, 0);
        assertTensor(Tensor.ones(3), shape(3), 1, 1, 1);
        assertTensor(Tensor.full(2.5f, 1, 2), shape(1, 2), 2.5f, 2.5f);
        assertTensor(Tensor.zeros(2, 0, 3), shape(2, 0, 3));
        assertTensor(Tensor.ones(), shape(), 1);
    }

    @Test
    void ofCopiesItsData() {
        float[] data = {1, 2};
        Tensor t = Tensor.of(data);
        data[0] = 99;
        assertTensor(t, shape(2), 1, 2);
        t.toFloatArray()[1] = 99;
        assertTensor(t, shape(2), 1, 2);
    }

    @Test
    void randomTensorsAreReproducibleAndPlausible() {
        assertArrayEquals(Tensor.randn(7, 1000).toFloatArray(), Tensor.randn(7, 1000).toFloatArray());
        assertArrayEquals(Tensor.rand(7, 1000).toFloatArray(), Tensor.rand(7, 1000).toFloatArray());
        assertNotEquals(Tensor.randn(7, 4).toFloatArray()[0], Tensor.randn(8, 4).toFloatArray()[0]);
        float[] normal = Tensor.randn(1, 20001).toFloatArray();
        double mean = 0;
        double square = 0;
        for (float v : normal) {
            mean += v;
            square += v * v;
        }
        mean /= normal.length;
        double variance = square / normal.length - mean * mean;
        assertEquals(0, mean, 0.03);
        assertEquals(1, variance, 0.05);
        for (float v : Tensor.rand(2, 5000).toFloatArray()) {
            assertTrue(v >= 0 && v < 1, "rand value " + v);
        }
    }

    @Test
    void inspection() {
        Tensor t = Tensor.zeros(2, 3, 4);
        assertEquals(3, t.rank());
        assertEquals(24, t.size());
        assertArrayEquals(new int[] {2, 3, 4}, t.shape());
        t.shape()[0] = 9;
        assertArrayEquals(new int[] {2, 3, 4}, t.shape());
        assertEquals(5f, Tensor.scalar(5).item());
        assertEquals(5f, Tensor.of(new float[] {5}, 1, 1).item());
        assertEquals(0, Tensor.scalar(1).rank());
        assertEquals(1, Tensor.scalar(1).size());
    }

    @Test
    void arithmeticWithBroadcasting() {
        Tensor m = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor row = vec(10, 20, 30);
        Tensor column = Tensor.of(new float[] {100, 200}, 2, 1);
        assertTensor(m.add(row), shape(2, 3), 11, 22, 33, 14, 25, 36);
        assertTensor(m.add(column), shape(2, 3), 101, 102, 103, 204, 205, 206);
        assertTensor(row.add(column), shape(2, 3), 110, 120, 130, 210, 220, 230);
        assertTensor(m.sub(row), shape(2, 3), -9, -18, -27, -6, -15, -24);
        assertTensor(m.mul(column), shape(2, 3), 100, 200, 300, 800, 1000, 1200);
        assertClose(m.div(row), shape(2, 3), 1e-7, 0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f);
        // One IEEE division an element, as PyTorch: exact where the quotient is, and a subnormal
        // divisor is no reciprocal overflowing to infinity.
        assertTensor(vec(1, 7, 0, 1e-3f).div(vec(3, 7, 1e-39f, 1e-39f)), shape(4), 1f / 3, 1, 0, 1e-3f / 1e-39f);
        assertTensor(vec(0, 1e-3f).div(1e-39f), shape(2), 0, 1e-3f / 1e-39f);
        assertTensor(m.add(Tensor.scalar(1)), shape(2, 3), 2, 3, 4, 5, 6, 7);
        assertTensor(Tensor.scalar(1).sub(m), shape(2, 3), 0, -1, -2, -3, -4, -5);
        assertTensor(m.add(1), shape(2, 3), 2, 3, 4, 5, 6, 7);
        assertTensor(m.sub(1), shape(2, 3), 0, 1, 2, 3, 4, 5);
        assertTensor(m.mul(2), shape(2, 3), 2, 4, 6, 8, 10, 12);
        assertTensor(m.div(2), shape(2, 3), 0.5f, 1, 1.5f, 2, 2.5f, 3);
        assertTensor(m.neg(), shape(2, 3), -1, -2, -3, -4, -5, -6);
        assertTensor(m.pow(2), shape(2, 3), 1, 4, 9, 16, 25, 36);
        assertClose(vec(4, 9).pow(0.5f), shape(2), 1e-6, 2, 3);
        Tensor a = Tensor.of(new float[] {1, 2}, 2, 1, 1);
        Tensor b = Tensor.of(new float[] {10, 20, 30}, 1, 3, 1);
        assertTensor(a.add(b), shape(2, 3, 1), 11, 21, 31, 12, 22, 32);
        assertTensor(Tensor.zeros(0, 3).add(row), shape(0, 3));
    }

    @Test
    void elementWiseFunctions() {
        Tensor x = vec(-1, 0, 0.5f, 2);
        assertClose(x.exp(), shape(4), 1e-6, (float) Math.exp(-1), 1, (float) Math.exp(0.5), (float) Math.exp(2));
        assertClose(vec(1, 2, 0.5f).log(), shape(3), 1e-6, 0, (float) Math.log(2), (float) Math.log(0.5));
        assertClose(vec(4, 2).sqrt(), shape(2), 1e-6, 2, (float) Math.sqrt(2));
        assertClose(x.tanh(), shape(4), 1e-6, (float) Math.tanh(-1), 0, (float) Math.tanh(0.5), (float) Math.tanh(2));
        assertClose(x.sigmoid(), shape(4), 1e-6, (float) (1 / (1 + Math.exp(1))), 0.5f,
                (float) (1 / (1 + Math.exp(-0.5))), (float) (1 / (1 + Math.exp(-2))));
        assertTensor(x.relu(), shape(4), 0, 0, 0.5f, 2);
        assertTensor(vec(-100, 100).sigmoid(), shape(2), (float) (1 / (1 + Math.exp(100))), 1);
    }

    @Test
    void matmulFollowsNumpy() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertTensor(a.matmul(b), shape(2, 2), 4, 5, 10, 11);
        assertTensor(vec(1, 2, 3).matmul(vec(4, 5, 6)), shape(), 32);
        assertTensor(a.matmul(vec(1, 1, 1)), shape(2), 6, 15);
        assertTensor(vec(1, 1).matmul(a), shape(3), 5, 7, 9);
        Tensor stack = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2);
        Tensor eye = Tensor.of(new float[] {1, 0, 0, 1}, 2, 2);
        assertTensor(stack.matmul(eye), shape(2, 2, 2), 1, 2, 3, 4, 5, 6, 7, 8);
        assertTensor(eye.matmul(stack), shape(2, 2, 2), 1, 2, 3, 4, 5, 6, 7, 8);
        assertTensor(stack.matmul(stack), shape(2, 2, 2), 7, 10, 15, 22, 67, 78, 91, 106);
        Tensor left = Tensor.of(new float[] {1, 2, 3, 4}, 2, 1, 1, 2);
        Tensor right = Tensor.of(new float[] {1, 1, 2, 2, 3, 3}, 3, 2, 1);
        assertTensor(left.matmul(right), shape(2, 3, 1, 1), 3, 6, 9, 7, 14, 21);
        assertTensor(stack.matmul(vec(1, 1)), shape(2, 2), 3, 7, 11, 15);
        assertTensor(Tensor.zeros(2, 0).matmul(Tensor.zeros(0, 3)), shape(2, 3), 0, 0, 0, 0, 0, 0);
    }

    @Test
    void transposeAndReshape() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertTensor(a.transpose(), shape(3, 2), 1, 4, 2, 5, 3, 6);
        Tensor stack = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2);
        assertTensor(stack.transpose(), shape(2, 2, 2), 1, 3, 2, 4, 5, 7, 6, 8);
        assertTensor(a.reshape(3, 2), shape(3, 2), 1, 2, 3, 4, 5, 6);
        assertTensor(a.reshape(-1), shape(6), 1, 2, 3, 4, 5, 6);
        assertTensor(a.reshape(1, -1, 2), shape(1, 3, 2), 1, 2, 3, 4, 5, 6);
        assertTensor(Tensor.of(new float[] {3}, 1, 1).reshape(), shape(), 3);
    }

    @Test
    void reductions() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertTensor(a.sum(), shape(), 21);
        assertTensor(a.mean(), shape(), 3.5f);
        assertTensor(a.sum(0, false), shape(3), 5, 7, 9);
        assertTensor(a.sum(1, true), shape(2, 1), 6, 15);
        assertTensor(a.sum(-1, false), shape(2), 6, 15);
        assertTensor(a.mean(0, true), shape(1, 3), 2.5f, 3.5f, 4.5f);
        assertTensor(a.mean(1, false), shape(2), 2, 5);
        Tensor m = Tensor.of(new float[] {3, 9, 1, 7, 2, 8}, 2, 3);
        assertTensor(m.max(1, false), shape(2), 9, 8);
        assertTensor(m.max(0, true), shape(1, 3), 7, 9, 8);
        assertTensor(Tensor.scalar(4).sum(), shape(), 4);
        assertTensor(Tensor.zeros(0, 3).sum(0, false), shape(3), 0, 0, 0);
        Tensor cube = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2);
        assertTensor(cube.sum(1, false), shape(2, 2), 4, 6, 12, 14);
        assertTensor(cube.max(2, false), shape(2, 2), 2, 4, 6, 8);
    }

    @Test
    void softmaxFamily() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 1000, 1000, 1000}, 2, 3);
        double e = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertClose(x.softmax(1), shape(2, 3), 1e-6,
                (float) (Math.exp(1) / e), (float) (Math.exp(2) / e), (float) (Math.exp(3) / e), 1f / 3, 1f / 3, 1f / 3);
        float log3 = (float) Math.log(3);
        assertClose(x.logSoftmax(-1), shape(2, 3), 1e-5,
                (float) (1 - Math.log(e)), (float) (2 - Math.log(e)), (float) (3 - Math.log(e)), -log3, -log3, -log3);
        assertClose(Tensor.of(new float[] {0, 0, 5, 5}, 2, 2).softmax(0), shape(2, 2), 1e-6,
                (float) (1 / (1 + Math.exp(5))), (float) (1 / (1 + Math.exp(5))),
                (float) (1 / (1 + Math.exp(-5))), (float) (1 / (1 + Math.exp(-5))));
    }

    @Test
    void operationsDoNotChangeTheirInputs() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        a.add(a).mul(a).exp().transpose().sum(0, false).softmax(0);
        assertTensor(a, shape(2, 2), 1, 2, 3, 4);
    }

    @Test
    void toStringShowsShapeAndValues() {
        assertEquals("Tensor[2, 2] [[1.0, 2.0], [3.0, 4.0]]", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).toString());
        assertEquals("Tensor[] 3.0", Tensor.scalar(3).toString());
        assertEquals("Tensor[8] [0.0, 0.0, 0.0, ..., 0.0, 0.0, 0.0]", Tensor.zeros(8).toString());
    }
}
