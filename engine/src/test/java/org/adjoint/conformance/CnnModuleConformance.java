package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.AvgPool2d;
import org.adjoint.nn.BatchNorm2d;
import org.adjoint.nn.Composite;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Flatten;
import org.adjoint.nn.Functional;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.MaxPool2d;
import org.adjoint.nn.Module;
import org.adjoint.nn.ReLU;
import org.adjoint.nn.Sequential;
import org.junit.jupiter.api.Test;

/**
 * The modules of convolutional nets: {@code Conv2d}, the poolings and {@code Flatten} are their
 * functional forms; a {@link Composite} names its children's parameters and buffers as PyTorch
 * does; and a chain of residual blocks with batch norm gives, under every checkpoint policy,
 * the gradients and running statistics of storing everything, to the bit.
 */
public abstract class CnnModuleConformance extends BackendConformance {

    /** {@code relu(x + bn2(conv2(relu(bn1(conv1(x))))))}, written as a user would. */
    static final class Residual extends Composite {
        private final Conv2d conv1;
        private final BatchNorm2d bn1;
        private final Conv2d conv2;
        private final BatchNorm2d bn2;

        Residual(int channels, long seed) {
            conv1 = child("conv1", new Conv2d(channels, channels, 3, 1, 1, 1, 1, false, seed));
            bn1 = child("bn1", new BatchNorm2d(channels));
            conv2 = child("conv2", new Conv2d(channels, channels, 3, 1, 1, 1, 1, false, seed + 1));
            bn2 = child("bn2", new BatchNorm2d(channels));
        }

        @Override
        public Tensor apply(Tensor x) {
            return x.add(bn2.apply(conv2.apply(bn1.apply(conv1.apply(x)).relu()))).relu();
        }
    }

    @Test
    void modulesAreTheirFunctionalForms() {
        Tensor x = Tensor.randn(3, 2, 3, 7, 6);
        Conv2d conv = new Conv2d(3, 4, 3, 2, 1, 1, 1, true, 5);
        assertArrayEquals(Functional.conv2d(x, conv.weight(), conv.bias(), 2, 1, 1, 1).toFloatArray(),
                conv.apply(x).toFloatArray());
        assertArrayEquals(new int[] {4, 3, 3, 3}, conv.weight().shape());
        assertArrayEquals(Functional.maxPool2d(x, 2, 2, 0).toFloatArray(), new MaxPool2d(2).apply(x).toFloatArray());
        assertArrayEquals(Functional.avgPool2d(x, 3, 1, 1).toFloatArray(), new AvgPool2d(3, 1, 1).apply(x).toFloatArray());
        assertArrayEquals(new int[] {2, 126}, new Flatten().apply(x).shape());
        Conv2d depthwise = new Conv2d(4, 8, 3, 1, 1, 1, 4, false, 9);
        assertArrayEquals(new int[] {8, 1, 3, 3}, depthwise.weight().shape());
        assertEquals(List.of("weight"), List.copyOf(depthwise.namedParameters().keySet()));
        var error = assertThrows(IllegalArgumentException.class, () -> new Conv2d(6, 4, 3, 1, 0, 1, 4, true, 1));
        assertEquals("Conv2d: cannot make a convolution from 6 to 4 channels with a 3x3 kernel in 4 groups, stride 1, "
                + "padding 0, dilation 1 (channels, kernel, stride and dilation must be positive, padding not "
                + "negative, the groups must divide both channel counts)", error.getMessage());
        // Given parameters, the options are checked when constructed too, not first at apply.
        assertEquals("Conv2d: weight [4, 1, 3, 3] with stride -1, padding 0, dilation 1 and 1 groups (stride, dilation "
                + "and groups must be positive, padding not negative, the groups must divide the 4 output channels)",
                assertThrows(IllegalArgumentException.class,
                        () -> new Conv2d(Tensor.zeros(4, 1, 3, 3), null, -1, 0, 1, 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(Tensor.zeros(4, 1, 3, 3), null, 1, 0, 1, 3));
    }

    @Test
    void aCompositeNamesItsChildrenAsPyTorchDoes() {
        Residual block = new Residual(2, 3);
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"),
                List.copyOf(block.namedParameters().keySet()));
        assertEquals(List.of("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked"),
                List.copyOf(block.namedBuffers().keySet()));
        Sequential model = new Sequential(new Conv2d(1, 2, 3, 1, 7), block, new Flatten());
        assertEquals("1.bn2.num_batches_tracked", List.copyOf(model.stateDict().keySet()).get(13));
        // A state dict moves between two models of the same structure, buffers included.
        Sequential other = new Sequential(new Conv2d(1, 2, 3, 1, 8), new Residual(2, 4), new Flatten());
        model.apply(Tensor.randn(1, 2, 1, 5, 5));   // training: the running statistics move
        other.loadStateDict(model.stateDict());
        model.eval();
        other.eval();
        Tensor probe = Tensor.randn(2, 3, 1, 5, 5);
        assertArrayEquals(model.apply(probe).toFloatArray(), other.apply(probe).toFloatArray());
        var error = assertThrows(IllegalArgumentException.class, () -> new Composite() {
            private final Module a = child("a.b", new ReLU());

            @Override
            public Tensor apply(Tensor x) {
                return a.apply(x);
            }
        });
        assertEquals("a child's name must be non-empty and without dots, got 'a.b'",
                error.getMessage().substring(error.getMessage().indexOf(": ") + 2));
    }

    private static Sequential residualChain(long seed) {
        return new Sequential(new Conv2d(1, 4, 3, 1, 1, 1, 1, false, seed), new BatchNorm2d(4), new ReLU(),
                new Residual(4, seed + 10), new Residual(4, seed + 20), new MaxPool2d(2), new Residual(4, seed + 30),
                new Flatten(), new Linear(4 * 3 * 3, 5, seed + 40));
    }

    @Test
    void aChainOfResidualBlocksGivesTheSameBitsUnderEveryPolicy() {
        Tensor images = Tensor.randn(100, 3, 1, 6, 6);
        int[] labels = {1, 4, 0};
        List<float[]> expected = null;
        for (String policy : List.of("none", "every:1", "every:2", "sqrt", "binomial:2", "binomial:3",
                "budget:60000")) {
            Sequential chain = residualChain(42);
            for (int step = 0; step < 2; step++) {
                chain.zeroGrad();
                Losses.crossEntropy(chain.apply(images, CheckpointPolicy.parse(policy)), labels).backward();
            }
            List<float[]> got = new ArrayList<>();
            for (Tensor p : chain.parameters()) {
                got.add(p.grad().toFloatArray());
            }
            for (Map.Entry<String, Tensor> buffer : chain.namedBuffers().entrySet()) {
                got.add(buffer.getValue().toFloatArray());
            }
            if (expected == null) {
                expected = got;
                continue;
            }
            for (int i = 0; i < got.size(); i++) {
                if (!java.util.Arrays.equals(expected.get(i), got.get(i))) {
                    fail("policy " + policy + ": entry " + i + " of the gradients and buffers differs from policy none");
                }
            }
        }
    }
}
