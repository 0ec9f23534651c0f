package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The fused layers and losses, the optimizer, and in-place gradient accumulation. */
public abstract class NnConformance extends BackendConformance {

    private static Tensor activate(Tensor x, Activation activation) {
        return switch (activation) {
            case IDENTITY -> x;
            case RELU -> x.relu();
            case TANH -> x.tanh();
            case SIGMOID -> x.sigmoid();
        };
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void linearEqualsItsComposition(Activation activation) {
        Tensor x = Tensor.randn(1, 5, 7);
        Tensor w = Tensor.randn(2, 7, 3);
        Tensor b = Tensor.randn(3, 3);
        Tensor fused = new Linear(w, b, activation).apply(x);
        Tensor composed = activate(x.matmul(w).add(b), activation);
        assertClose(fused, shape(5, 3), 1e-5f, composed.toFloatArray());
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void linearGradientsMatchCentralDifferences(Activation activation) {
        float[] x = Tensor.randn(4, 4, 6).toFloatArray();
        for (int i = 0; i < x.length; i++) {
            x[i] += x[i] >= 0 ? 0.2f : -0.2f; // keep ReLU's pre-activations off the kink
        }
        List<Tensor> inputs = List.of(Tensor.of(x, 4, 6), Tensor.randn(5, 6, 3).mul(0.3f), Tensor.zeros(3));
        GradCheck.finiteDifferences(in -> new Linear(in.get(1), in.get(2), activation).apply(in.get(0)), inputs)
                .assertPassed();
        GradCheck.adjointIdentity(in -> new Linear(in.get(1), in.get(2), activation).apply(in.get(0)), inputs, 7)
                .assertPassed();
    }

    @Test
    void linearAcceptsBatchAxesAndNoBias() {
        Tensor w = Tensor.randn(2, 4, 3);
        Tensor x = Tensor.randn(1, 2, 5, 4);
        Tensor y = new Linear(w, null, Activation.IDENTITY).apply(x);
        assertClose(y, shape(2, 5, 3), 1e-5f, x.matmul(w).toFloatArray());
        assertEquals(List.of(w), new Linear(w, null, Activation.IDENTITY).parameters());
    }

    @Test
    void linearInitialisationAndErrors() {
        Linear layer = new Linear(8, 3, Activation.RELU, 42);
        assertTrue(layer.weight().requiresGrad() && layer.weight().isLeaf());
        assertTensor(layer.bias(), shape(3), 0, 0, 0);
        var error = assertThrows(IllegalArgumentException.class, () -> layer.apply(Tensor.zeros(2, 5)));
        assertEquals("linear: cannot apply weight [8, 3] and bias [3] to input [2, 5] (expected input [rows, 8], "
                + "weight [in, out], bias [out])", error.getMessage());
    }

    @Test
    void crossEntropyEqualsItsComposition() {
        Tensor logits = Tensor.randn(3, 4, 5).mul(3f);
        int[] labels = {0, 4, 2, 2};
        float[] oneHot = new float[20];
        for (int r = 0; r < 4; r++) {
            oneHot[r * 5 + labels[r]] = 1;
        }
        Tensor composed = logits.logSoftmax(1).mul(Tensor.of(oneHot, 4, 5)).sum().mul(-0.25f);
        assertClose(Losses.crossEntropy(logits, labels), shape(), 1e-5f, composed.item());
        GradCheck.finiteDifferences(in -> Losses.crossEntropy(in.get(0), labels), List.of(logits)).assertPassed();
        GradCheck.adjointIdentity(in -> Losses.crossEntropy(in.get(0).mul(2f), labels), List.of(logits), 3).assertPassed();
    }

    @Test
    void crossEntropyErrors() {
        var rows = assertThrows(IllegalArgumentException.class,
                () -> Losses.crossEntropy(Tensor.zeros(3, 4), new int[] {0, 1}));
        assertEquals("crossEntropy: logits [3, 4] do not match 2 labels (expected logits [2, classes])", rows.getMessage());
        var label = assertThrows(IllegalArgumentException.class,
                () -> Losses.crossEntropy(Tensor.zeros(2, 4), new int[] {0, 4}));
        assertEquals("crossEntropy: label 4 of row 1 is outside [0, 4)", label.getMessage());
    }

    @Test
    void sgdStepsInPlace() {
        Tensor w = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 0.5f);
        w.mul(w).sum().backward();        // grad 2w = [2, 4]
        sgd.step();
        assertTensor(w, shape(2), 0, 0);
        Tensor grad = w.grad();
        sgd.zeroGrad();
        assertSame(grad, w.grad());
        assertTensor(w.grad(), shape(2), 0, 0);
        w.add(3f).sum().backward();
        assertTensor(w.grad(), shape(2), 1, 1);
    }

    @Test
    void sgdWithMomentum() {
        Tensor w = Tensor.of(new float[] {0}).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 1f, 0.5f);
        for (int step = 0; step < 3; step++) {
            sgd.zeroGrad();
            w.sum().backward();           // gradient 1 every step: v = 1, 1.5, 1.75
            sgd.step();
        }
        assertTensor(w, shape(1), -4.25f);
    }

    @Test
    void aGraphRecordedBeforeAStepRefusesToUseTheChangedParameter() {
        Tensor w = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        Tensor x = Tensor.of(new float[] {3, 4}).requiresGrad(true);
        Tensor y = w.mul(x).sum();
        y.backward(Tensor.scalar(1), true);
        new SGD(List.of(w), 0.1f).step();
        var error = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(error.getMessage().startsWith("backward: a tensor of shape [2] that 'mul' saved for its gradient "
                + "was modified in place afterwards"), error.getMessage());
    }

    @Test
    void sgdErrors() {
        var rate = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(), 0f));
        assertEquals("SGD: learning rate must be finite and > 0, got 0.0", rate.getMessage());
        Tensor notLeaf = Tensor.zeros(2).requiresGrad(true).mul(2f);
        var leaf = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(notLeaf), 0.1f));
        assertEquals("SGD: parameter 0 of shape [2] must be a leaf that requires a gradient", leaf.getMessage());
    }

    /** Add hands one cotangent to both operands; their gradients must still be separate buffers. */
    @Test
    void gradientsOfOperandsSharingACotangentStaySeparate() {
        Tensor a = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {3, 4}).requiresGrad(true);
        a.add(b).sum().backward();
        assertNotSame(a.grad(), b.grad());
        a.mul(3f).sum().backward();       // accumulates into a's gradient only
        assertTensor(a.grad(), shape(2), 4, 4);
        assertTensor(b.grad(), shape(2), 1, 1);
    }

    @Test
    void aSeedIsNeverAccumulatedInto() {
        Tensor x = Tensor.of(new float[] {1, 2}).requiresGrad(true);
        Tensor seed = Tensor.of(new float[] {5, 6});
        x.backward(seed);
        x.mul(2f).backward(Tensor.of(new float[] {1, 1}));
        assertTensor(seed, shape(2), 5, 6);
        assertTensor(x.grad(), shape(2), 7, 8);
        assertFalse(x.grad().requiresGrad());
        x.zeroGrad();
        assertNull(x.grad());
    }

    /** A second pass through a retained graph must not reuse the first pass's recycled intermediate. */
    @Test
    void linearTwiceThroughARetainedGraph() {
        int n = 64; // 4096 elements: large enough for the buffer pool to recycle
        Tensor x = Tensor.randn(1, n, n).requiresGrad(true);
        Tensor w = Tensor.randn(2, n, n).requiresGrad(true);
        Tensor b = Tensor.randn(3, n).requiresGrad(true);
        Tensor y = new Linear(w, b, Activation.TANH).apply(x);
        Tensor seed = Tensor.randn(4, n, n);
        y.backward(seed, true);
        float[] once = w.grad().toFloatArray();
        y.backward(seed);
        float[] twice = w.grad().toFloatArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 1e-4 * (1 + Math.abs(once[i])), "element " + i);
        }
    }
}
