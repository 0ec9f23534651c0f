package org.adjoint.bench.cli;

import java.util.List;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.nn.Activation;
import org.adjoint.nn.BatchNorm2d;
import org.adjoint.nn.Composite;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.Flatten;
import org.adjoint.nn.Linear;
import org.adjoint.nn.MaxPool2d;
import org.adjoint.nn.Module;
import org.adjoint.nn.ReLU;
import org.adjoint.nn.Sequential;

/**
 * The convolutional networks of {@code adjoint train --model cnn|resnet}, for square grey
 * images given as flat rows (the data sets' features); bench/peers/fashion_mnist.py builds the
 * same ones in PyTorch.
 */
final class Networks {

    private Networks() {
    }

    /**
     * Two 3×3 convolutions (32 and 64 channels, padding 1), each with ReLU (fused with the
     * convolution and its bias) and 2×2 max pooling, then 128 hidden units with ReLU (and
     * dropout, if asked) and the classes: for 28×28 images, 1→32→64 channels, 28→14→7 pixels,
     * 3,136→128→10 units, 421,642 parameters.
     *
     * @param side    the images' side ({@code √features})
     * @param classes output classes
     * @param dropout dropout before the last layer, or 0
     * @param seed    seed of the initial parameters
     * @return the network
     */
    static Sequential cnn(int side, int classes, float dropout, long seed) {
        int pooled = side / 4;
        List<Module> layers = new java.util.ArrayList<>(List.of(
                new Images(side),
                new Conv2d(1, 32, 3, 1, Activation.RELU, seed + 1), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, Activation.RELU, seed + 2), new MaxPool2d(2),
                new Flatten(),
                new Linear(64 * pooled * pooled, 128, Activation.RELU, seed + 3)));
        if (dropout > 0) {
            layers.add(new Dropout(dropout));
        }
        layers.add(new Linear(128, classes, seed + 4));
        return new Sequential(List.copyOf(layers));
    }

    /**
     * A small residual network with batch norm: a 3×3 stem (32 channels) with batch norm, ReLU
     * and 2×2 max pooling; two residual blocks; a strided 3×3 convolution to 64 channels (half
     * the side) with batch norm and ReLU; one residual block; the mean over the pixels; the
     * classes.
     *
     * @param side    the images' side
     * @param classes output classes
     * @param seed    seed of the initial parameters
     * @return the network
     */
    static Sequential resnet(int side, int classes, long seed) {
        return new Sequential(List.of(
                new Images(side),
                new Conv2d(1, 32, 3, 1, 1, 1, 1, false, seed + 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
                new Residual(32, seed + 10), new Residual(32, seed + 20),
                new Conv2d(32, 64, 3, 2, 1, 1, 1, false, seed + 2), new BatchNorm2d(64), new ReLU(),
                new Residual(64, seed + 30),
                new PixelMean(),
                new Linear(64, classes, seed + 3)));
    }

    /**
     * {@code relu(x + bn2(conv2(relu(bn1(conv1(x))))))}: a residual block with two 3×3
     * convolutions that keep the channels and the size, written as PyTorch users subclass
     * {@code nn.Module}.
     */
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

    /** Flat rows {@code [N, side²]} as one-channel images {@code [N, 1, side, side]}. */
    private static final class Images implements Module {
        private final int side;

        Images(int side) {
            this.side = side;
        }

        @Override
        public Tensor apply(Tensor x) {
            return x.reshape(-1, 1, side, side);
        }

        @Override
        public Map<String, Tensor> namedParameters() {
            return Map.of();
        }

        @Override
        public String toString() {
            return "Images(" + side + "x" + side + ")";
        }
    }

    /** The mean over the pixels, {@code [N, C, H, W] → [N, C]}: global average pooling. */
    private static final class PixelMean implements Module {
        @Override
        public Tensor apply(Tensor x) {
            return x.mean(3, false).mean(2, false);
        }

        @Override
        public Map<String, Tensor> namedParameters() {
            return Map.of();
        }

        @Override
        public String toString() {
            return "PixelMean()";
        }
    }
}
