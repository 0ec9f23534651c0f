package org.adjoint.cpu;

import static org.adjoint.cpu.CpuBuffer.data;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.kernels.Pooling;

/** The pooling of a {@link CpuBackend}: the kernels' direct pooling over the images' channels as planes. */
final class CpuPooling {

    private final KernelProvider kernels;

    CpuPooling(KernelProvider kernels) {
        this.kernels = kernels;
    }

    void maxPool(Buffer input, ConvGeometry geometry, int images, Buffer values, Buffer argmax) {
        kernels.maxPool(data(input), window("maxPool", geometry, images), data(values),
                argmax == null ? null : data(argmax));
    }

    void maxPoolGather(Buffer input, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        kernels.maxPoolGather(data(input), data(argmax), window("maxPoolGather", geometry, images), data(out));
    }

    void maxPoolScatter(Buffer grad, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        kernels.maxPoolScatter(data(grad), data(argmax), window("maxPoolScatter", geometry, images), data(out));
    }

    /**
     * {@code g} and the bias gradient of a layer pooled by {@link org.adjoint.backend.PoolingOps#conv2dBiasReluMaxPool}
     * in one pass ({@link KernelProvider#maxPoolReluGrad}), with the bits of the scatter followed
     * by {@link CpuBackend#conv2dBiasActivationGrad}; {@code false} for one channel of several
     * images with the bias gradient, which that sums as one run, not plane by plane.
     */
    boolean conv2dBiasReluMaxPoolGrad(Buffer values, Buffer argmax, Buffer valuesGrad, ConvGeometry pool, int images,
                                      boolean biasGrad, Buffer grads) {
        if (biasGrad && pool.channels() == 1 && images > 1) {
            return false;
        }
        kernels.maxPoolReluGrad(data(values), data(argmax), data(valuesGrad),
                window("conv2dBiasReluMaxPoolGrad", pool, images), pool.channels(), biasGrad, data(grads));
        return true;
    }

    void avgPool(Buffer input, ConvGeometry geometry, int images, Buffer out) {
        kernels.avgPool(data(input), window("avgPool", geometry, images), data(out));
    }

    void avgPoolScatter(Buffer grad, ConvGeometry geometry, int images, Buffer out) {
        kernels.avgPoolScatter(data(grad), window("avgPoolScatter", geometry, images), data(out));
    }

    /** The pooling kernels' sizes: the images' channels as planes. */
    private static Pooling.Window window(String operation, ConvGeometry geometry, int images) {
        long planes = (long) images * geometry.channels();
        if (images < 0 || planes * geometry.height() * geometry.width() > CpuBackend.MAX_ELEMENTS) {
            throw new IllegalArgumentException("cpu " + operation + ": " + images + " images of " + geometry.imageSize()
                    + " elements do not fit a CPU buffer");
        }
        try {
            return new Pooling.Window((int) planes, geometry.height(), geometry.width(), geometry.kernelHeight(),
                    geometry.kernelWidth(), geometry.stride(), geometry.padding(), geometry.dilation());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cpu " + operation + ": " + e.getMessage(), e);
        }
    }
}
