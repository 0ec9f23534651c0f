package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.adjoint.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The lecture's worked examples ({@code shared/reference/worked-examples.md}, 1 to 3) through
 * the public API, exactly: every number there is a small integer, so float32 reproduces them
 * without rounding.
 */
public abstract class WorkedExamplesConformance extends BackendConformance {

    /** Example 1: {@code y = Wf (Wg x)}; Jacobians of y by both weights, row by row through reverse mode. */
    @Test
    void example1TwoLayersJacobiansOfTheWeights() {
        Tensor wg = Tensor.of(new float[] {2, 1, 1, 2}, 2, 2).requiresGrad(true);
        Tensor wf = Tensor.of(new float[] {1, 2, 1, 1}, 2, 2).requiresGrad(true);
        Tensor x = vec(2, 1);

        Tensor z = wg.matmul(x);
        Tensor y = wf.matmul(z);
        assertTensor(z, shape(2), 5, 4);
        assertTensor(y, shape(2), 13, 9);

        float[][] dyDwg = new float[2][];
        float[][] dyDwf = new float[2][];
        for (int row = 0; row < 2; row++) {
            wg.zeroGrad();
            wf.zeroGrad();
            float[] seed = new float[2];
            seed[row] = 1;
            y.backward(vec(seed), true);
            dyDwg[row] = wg.grad().toFloatArray();
            dyDwf[row] = wf.grad().toFloatArray();
        }
        assertTensor(Tensor.of(concat(dyDwg), 2, 4), shape(2, 4), 2, 1, 4, 2, 2, 1, 2, 1);
        assertTensor(Tensor.of(concat(dyDwf), 2, 4), shape(2, 4), 5, 4, 0, 0, 0, 0, 5, 4);
    }

    /** Example 1 again: the weight Jacobian of {@code g} alone is {@code [[x1, x2, 0, 0], [0, 0, x1, x2]]}. */
    @Test
    void example1WeightJacobianOfOneLayer() {
        Tensor wg = Tensor.of(new float[] {2, 1, 1, 2}, 2, 2).requiresGrad(true);
        Tensor z = wg.matmul(vec(2, 1));
        z.backward(vec(1, 0), true);
        assertTensor(wg.grad(), shape(2, 2), 2, 1, 0, 0);
        wg.zeroGrad();
        z.backward(vec(0, 1));
        assertTensor(wg.grad(), shape(2, 2), 0, 0, 2, 1);
    }

    private static Tensor[] example2Weights() {
        return new Tensor[] {
            Tensor.of(new float[] {1, 1, 1, 1}, 2, 2).requiresGrad(true),
            Tensor.of(new float[] {1, 2, 1, 1}, 2, 2).requiresGrad(true),
            Tensor.of(new float[] {1, 1, 2, 1}, 2, 2).requiresGrad(true),
            Tensor.of(new float[] {2, 1}, 1, 2).requiresGrad(true),
        };
    }

    /** Example 2: four layers and a squared loss with target 2 — forward values and all 14 gradients. */
    @Test
    void example2FourLayersSquaredLoss() {
        Tensor[] w = example2Weights();
        Tensor h1 = w[0].matmul(vec(1, 1));
        Tensor h2 = w[1].matmul(h1);
        Tensor h3 = w[2].matmul(h2);
        Tensor h4 = w[3].matmul(h3);
        Tensor loss = h4.sub(2f).pow(2f).sum();
        assertTensor(h1, shape(2), 2, 2);
        assertTensor(h2, shape(2), 6, 4);
        assertTensor(h3, shape(2), 10, 16);
        assertTensor(h4, shape(1), 36);
        assertEquals(1156f, loss.item());

        loss.backward();
        assertTensor(w[0].grad(), shape(2, 2), 476, 476, 748, 748);
        assertTensor(w[1].grad(), shape(2, 2), 544, 544, 408, 408);
        assertTensor(w[2].grad(), shape(2, 2), 816, 544, 408, 272);
        assertTensor(w[3].grad(), shape(1, 2), 680, 1088);
    }

    /** Example 2: the tangents {@code ∂h4/∂Wi} just before the loss. */
    @Test
    void example2OutputDerivativesByEachWeight() {
        Tensor[] w = example2Weights();
        Tensor h4 = w[3].matmul(w[2].matmul(w[1].matmul(w[0].matmul(vec(1, 1)))));
        h4.sum().backward();
        assertTensor(w[0].grad(), shape(2, 2), 7, 7, 11, 11);
        assertTensor(w[1].grad(), shape(2, 2), 8, 8, 6, 6);
        assertTensor(w[2].grad(), shape(2, 2), 12, 8, 6, 4);
        assertTensor(w[3].grad(), shape(1, 2), 10, 16);
    }

    /**
     * Example 2: the row vector that reverse mode carries backwards,
     * {@code [68] → [136, 68] → [272, 204] → [476, 748]}, read as the gradients of the
     * intermediate activations (each cut out as a new leaf).
     */
    @Test
    void example2ReverseSweepCarriesOneRowVector() {
        Tensor[] w = example2Weights();
        Tensor h1 = w[0].matmul(vec(1, 1)).detach().requiresGrad(true);
        Tensor h2 = w[1].matmul(h1);
        Tensor h3 = w[2].matmul(h2);
        Tensor h4 = w[3].matmul(h3);
        Tensor h2Leaf = h2.detach().requiresGrad(true);
        Tensor h3Leaf = h3.detach().requiresGrad(true);
        Tensor h4Leaf = h4.detach().requiresGrad(true);

        h4Leaf.sub(2f).pow(2f).sum().backward();
        assertTensor(h4Leaf.grad(), shape(1), 68);
        w[3].matmul(h3Leaf).backward(h4Leaf.grad());
        assertTensor(h3Leaf.grad(), shape(2), 136, 68);
        w[2].matmul(h2Leaf).backward(h3Leaf.grad());
        assertTensor(h2Leaf.grad(), shape(2), 272, 204);
        h2.backward(h2Leaf.grad());
        assertTensor(h1.grad(), shape(2), 476, 748);
    }

    /** Example 3: {@code c = a + b}, {@code d = c²} at a = 2, b = 3. */
    @Test
    void example3ScalarGraph() {
        Tensor a = Tensor.scalar(2).requiresGrad(true);
        Tensor b = Tensor.scalar(3).requiresGrad(true);
        Tensor c = a.add(b);
        Tensor d = c.pow(2);
        assertEquals(25f, d.item());
        d.backward();
        assertEquals(10f, a.grad().item());
        assertEquals(10f, b.grad().item());
        assertEquals(0, a.grad().rank());

        Tensor cLeaf = c.detach().requiresGrad(true);
        cLeaf.mul(cLeaf).backward();
        assertEquals(10f, cLeaf.grad().item());
    }

    private static float[] concat(float[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[i].length, rows[i].length);
        }
        return out;
    }
}
