package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.nn.Functional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input throws with a message that names the operation and every shape involved. */
public abstract class ErrorConformance extends BackendConformance {

    private static void assertMessage(Class<? extends Throwable> type, String expected, Executable call) {
        assertEquals(expected, assertThrows(type, call).getMessage());
    }

    @Test
    void broadcastingErrors() {
        Tensor a = Tensor.zeros(2, 3);
        Tensor b = Tensor.zeros(4);
        String detail = " (axis 1 of the result: 3 vs 4)";
        assertMessage(IllegalArgumentException.class, "add: cannot broadcast [2, 3] with [4]" + detail, () -> a.add(b));
        assertMessage(IllegalArgumentException.class, "mul: cannot broadcast [2, 3] with [4]" + detail, () -> a.mul(b));
        assertMessage(IllegalArgumentException.class, "sub: cannot broadcast [2, 3] with [4]" + detail, () -> a.sub(b));
        assertMessage(IllegalArgumentException.class, "div: cannot broadcast [2, 3] with [4]" + detail, () -> a.div(b));
    }

    @Test
    void aNullOperandNamesTheOperation() {
        Tensor a = Tensor.zeros(2, 3);
        Map<String, Executable> calls = Map.of("add", () -> a.add(null), "sub", () -> a.sub(null), "mul",
                () -> a.mul(null), "div", () -> a.div(null), "matmul", () -> a.matmul(null));
        calls.forEach((op, call) -> assertMessage(IllegalArgumentException.class, op + ": the other operand is null",
                call));
        Tensor q = Tensor.zeros(1, 2, 4);
        assertMessage(IllegalArgumentException.class, "scaledDotProductAttention: the key is null",
                () -> Functional.scaledDotProductAttention(q, null, q, true));
        assertMessage(IllegalArgumentException.class, "batchNorm: input is null",
                () -> Functional.batchNorm(null, null, null, null, null, true, 0.1f, 1e-5f));
        Tensor loss = Tensor.zeros(2).requiresGrad(true).sum();
        assertMessage(IllegalArgumentException.class, "backward: the seed is null; pass a tensor of the output's shape [],"
                + " or call backward() on a one-element output", () -> loss.backward(null));
    }

    @Test
    void aProductOverAnEmptyInnerAxisIsZeros() {
        // As NumPy and PyTorch: nothing to add up, so every entry is 0 (it divided by the inner length).
        Tensor stacked = Tensor.zeros(2, 3, 0).matmul(Tensor.zeros(0, 4));
        assertArrayEquals(new int[] {2, 3, 4}, stacked.shape());
        assertArrayEquals(new float[24], stacked.toFloatArray());
        assertArrayEquals(new int[] {2, 3}, Tensor.zeros(2, 3, 0).matmul(Tensor.zeros(0)).shape());
    }

    @Test
    void matmulErrors() {
        assertMessage(IllegalArgumentException.class,
                "matmul: cannot multiply [2, 3] by [4, 5] (inner dimensions 3 and 4 differ)",
                () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)));
        assertMessage(IllegalArgumentException.class,
                "matmul: cannot multiply [3] by [4] (inner dimensions 3 and 4 differ)",
                () -> Tensor.zeros(3).matmul(Tensor.zeros(4)));
        assertMessage(IllegalArgumentException.class,
                "matmul: cannot multiply [] by [3] (operands must have rank at least 1)",
                () -> Tensor.scalar(1).matmul(Tensor.zeros(3)));
        assertMessage(IllegalArgumentException.class,
                "matmul: cannot multiply [2, 2, 2] by [3, 2, 2] (their batch axes [2] and [3] do not broadcast)",
                () -> Tensor.zeros(2, 2, 2).matmul(Tensor.zeros(3, 2, 2)));
    }

    @Test
    void shapeAndAxisErrors() {
        Tensor a = Tensor.zeros(2, 3);
        assertMessage(IllegalArgumentException.class,
                "reshape: cannot reshape [2, 3] (6 elements) to [4] (4 elements)", () -> a.reshape(4));
        assertMessage(IllegalArgumentException.class,
                "reshape: cannot reshape [2, 3] (6 elements) to [4, -1]", () -> a.reshape(4, -1));
        assertMessage(IllegalArgumentException.class,
                "reshape: cannot reshape [2, 3] to [-1, -1] (more than one dimension is -1)", () -> a.reshape(-1, -1));
        assertMessage(IllegalArgumentException.class,
                "sum: axis 2 is out of range for shape [2, 3] (rank 2)", () -> a.sum(2, false));
        assertMessage(IllegalArgumentException.class,
                "max: axis -3 is out of range for shape [2, 3] (rank 2)", () -> a.max(-3, true));
        assertMessage(IllegalArgumentException.class,
                "softmax: axis 0 is out of range for shape [] (rank 0)", () -> Tensor.scalar(1).softmax(0));
        assertMessage(IllegalArgumentException.class,
                "transpose: needs rank at least 2, got shape [3]", () -> Tensor.zeros(3).transpose());
        assertMessage(IllegalArgumentException.class,
                "max: axis 0 of shape [0, 2] is empty, and an empty lane has no maximum",
                () -> Tensor.zeros(0, 2).max(0, false));
    }

    @Test
    void creationErrors() {
        assertMessage(IllegalArgumentException.class,
                "Tensor.of: data has 5 elements but shape [2, 3] needs 6", () -> Tensor.of(new float[5], 2, 3));
        assertMessage(IllegalArgumentException.class,
                "Tensor.zeros: negative dimension in shape [2, -1]", () -> Tensor.zeros(2, -1));
    }

    @Test
    void convolutionalLayersNameWhatIsWrong() {
        assertMessage(IllegalArgumentException.class,
                "conv2d: the kernel must be at least 1x1, got 0x3 (input [1, 3, 8, 8], weight [4, 3, 0, 3])",
                () -> org.adjoint.nn.Functional.conv2d(Tensor.zeros(1, 3, 8, 8), Tensor.zeros(4, 3, 0, 3), null, 1, 0, 1,
                        1));
        assertMessage(IllegalArgumentException.class,
                "conv2d: the output would be 2147483649x1073741825 per image, more than a dimension holds (2147483647) "
                        + "(input [1, 1, 1, 1], weight [1, 1, 1, 2])",
                () -> org.adjoint.nn.Functional.conv2d(Tensor.ones(1, 1, 1, 1), Tensor.ones(1, 1, 1, 2), null, 1,
                        1 << 30, 1 << 30, 1));
        assertMessage(IllegalArgumentException.class,
                "Linear: the activation must not be null (Activation.IDENTITY for none)",
                () -> new org.adjoint.nn.Linear(4, 3, null, 1L));
        assertMessage(IllegalArgumentException.class,
                "maxPool2d: the kernel must be at least 1 (kernel 0, stride 0, padding 0)",
                () -> new org.adjoint.nn.MaxPool2d(0));
        assertMessage(IllegalArgumentException.class,
                "avgPool2d: the padding must be at most half the kernel (1) (kernel 3, stride 1, padding 2)",
                () -> new org.adjoint.nn.AvgPool2d(3, 1, 2));
        assertMessage(IllegalArgumentException.class, "Sequential: layer 1 of 2 is null",
                () -> new org.adjoint.nn.Sequential(new org.adjoint.nn.Linear(2, 2, 1L), null));
        assertMessage(IllegalArgumentException.class,
                "Flatten: the axes after the first of [0, 65536, 65536] hold more than 2147483647 elements, more than "
                        + "one axis can", () -> new org.adjoint.nn.Flatten().apply(Tensor.zeros(0, 65536, 65536)));
        assertMessage(IllegalArgumentException.class,
                "crossEntropy: 16777218 classes, more than the 16777216 that float32 labels tell apart",
                () -> org.adjoint.nn.Losses.crossEntropy(Tensor.zeros(1, 16_777_218), new int[] {16_777_217}));
    }

    @Test
    void itemNeedsExactlyOneElement() {
        assertMessage(IllegalStateException.class,
                "item: tensor of shape [2, 2] has 4 elements; item() needs exactly one",
                () -> Tensor.zeros(2, 2).item());
        assertMessage(IllegalStateException.class,
                "item: tensor of shape [0] has 0 elements; item() needs exactly one", () -> Tensor.zeros(0).item());
    }
}
