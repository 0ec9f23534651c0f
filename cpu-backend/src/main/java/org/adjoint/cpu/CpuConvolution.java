package org.adjoint.cpu;

import static org.adjoint.cpu.CpuBuffer.data;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.Im2col;
import org.adjoint.kernels.KernelProvider;

/**
 * The convolutions of a {@link CpuBackend}: im2col and col2im, and the choice per call between
 * the kernels' implicit GEMMs (or direct weight gradient, or folded input gradient) and the
 * SPI's default GEMMs over columns. Each convolution answers {@code false} when the backend
 * should run the {@link Backend} default itself (an interface's default body can only be
 * called from the class that implements it); the reasons for each choice are on the
 * backend's methods.
 */
final class CpuConvolution {

    /** Rows of a group's product below which a convolution runs the default's GEMMs. */
    private static final int IMPLICIT_MIN_ROWS = 4;

    /** Columns rows of a group up to which the weight gradient runs the default's GEMMs. */
    private static final int IMPLICIT_MIN_TAPS = 16;

    private final KernelProvider kernels;
    /** The backend this belongs to, whose {@link Backend#conv2d} the fused layer's default path calls. */
    private final Backend backend;

    CpuConvolution(KernelProvider kernels, Backend backend) {
        this.kernels = kernels;
        this.backend = backend;
    }

    void im2col(Buffer input, ConvGeometry geometry, int firstImage, int images, float padValue, Buffer columns) {
        Im2col.im2col(data(input), imageOffset("im2col", geometry, firstImage), geometry.channels(), geometry.height(),
                geometry.width(), geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(), geometry.padding(),
                geometry.dilation(), images, padValue, data(columns), 0);
    }

    void col2im(Buffer columns, ConvGeometry geometry, int firstImage, int images, Buffer input) {
        Im2col.col2im(data(columns), 0, geometry.channels(), geometry.height(), geometry.width(),
                geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(), geometry.padding(),
                geometry.dilation(), images, data(input), imageOffset("col2im", geometry, firstImage));
    }

    /** Whether the forward convolution runs the implicit GEMMs; {@link #conv2dBiasActivation} relies on it. */
    private boolean implicitForward(int outputs, int groups) {
        return kernels.implicitConvolution() && outputs / groups >= IMPLICIT_MIN_ROWS;
    }

    boolean conv2d(Buffer input, Buffer weight, ConvGeometry geometry, int images, int outputs, int groups,
                   Buffer output) {
        if (!implicitForward(outputs, groups)) {
            return false;
        }
        checkConv("conv2d", geometry, images, outputs, groups, "input", input, "weight", weight, "output", output);
        kernels.conv2d(data(input), data(weight), data(output), images, geometry.channels(), geometry.height(),
                geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(),
                geometry.padding(), geometry.dilation());
        return true;
    }

    boolean conv2dInputGrad(Buffer outputGrad, Buffer weight, ConvGeometry geometry, int images, int outputs,
                            int groups, Buffer inputGrad) {
        if (!kernels.implicitConvolution() || geometry.stride() != 1
                || geometry.channels() / groups < IMPLICIT_MIN_ROWS || outputs > geometry.channels()) {
            boolean pointwise = geometry.kernelHeight() == 1 && geometry.kernelWidth() == 1 && geometry.stride() == 1
                    && geometry.padding() == 0;
            if (pointwise) {
                return false;
            }
            checkConv("conv2dInputGrad", geometry, images, outputs, groups, "input gradient", inputGrad, "weight",
                    weight, "output gradient", outputGrad);
            kernels.conv2dInputGradFolded(data(outputGrad), data(weight), data(inputGrad), images, geometry.channels(),
                    geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(),
                    geometry.kernelWidth(), geometry.stride(), geometry.padding(), geometry.dilation());
            return true;
        }
        checkConv("conv2dInputGrad", geometry, images, outputs, groups, "input gradient", inputGrad, "weight", weight,
                "output gradient", outputGrad);
        kernels.conv2dInputGrad(data(outputGrad), data(weight), data(inputGrad), images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.padding(), geometry.dilation());
        return true;
    }

    boolean conv2dWeightGrad(Buffer input, Buffer outputGrad, ConvGeometry geometry, int images, int outputs,
                             int groups, Buffer weightGrad) {
        boolean direct = kernels.implicitConvolution() && kernels.directConv2dWeightGrad(geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation());
        if (!direct && (!kernels.implicitConvolution() || outputs / groups < IMPLICIT_MIN_ROWS
                || geometry.columnRows() / groups <= IMPLICIT_MIN_TAPS)) {
            return false;
        }
        checkConv("conv2dWeightGrad", geometry, images, outputs, groups, "input", input, "weight gradient", weightGrad,
                "output gradient", outputGrad);
        kernels.conv2dWeightGrad(data(input), data(outputGrad), data(weightGrad), images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation());
        return true;
    }

    boolean conv2dBiasActivation(Buffer input, Buffer weight, Buffer bias, UnaryOp activation, ConvGeometry geometry,
                                 int images, int outputs, int groups, Buffer output) {
        if (activation == UnaryOp.TANH || activation == UnaryOp.SIGMOID) {
            // The bias in the copy-out, then the activation in place: the default's passes but one.
            conv2dBiasActivation(input, weight, bias, null, geometry, images, outputs, groups, output);
            backend.unary(activation, 0f, output, output);
            return true;
        }
        if (activation != null && activation != UnaryOp.RELU) {
            return false;
        }
        boolean relu = activation == UnaryOp.RELU;
        float[] b = bias == null ? null : data(bias);
        if (b != null && b.length < outputs) {
            throw new IllegalArgumentException("cpu conv2dBiasActivation: the bias holds " + b.length
                    + " elements, fewer than the " + outputs + " outputs");
        }
        if (!implicitForward(outputs, groups)) {
            // The backend's conv2d takes the default's GEMMs for these shapes too.
            backend.conv2d(input, weight, geometry, images, outputs, groups, output);
            kernels.channelBiasRelu(data(output), b, relu, images, outputs, Math.toIntExact(geometry.columnCols()));
            return true;
        }
        checkConv("conv2dBiasActivation", geometry, images, outputs, groups, "input", input, "weight", weight,
                "output", output);
        kernels.conv2dBiasRelu(data(input), data(weight), b, relu, data(output), images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation());
        return true;
    }

    /**
     * The layer with 2 × 2 max pooling of stride 2 pooled inside the direct convolution's
     * copy-out, where the kernels do that ({@link KernelProvider#poolsConvolution}) and the
     * unfused layer would run the same direct convolution; else {@code false}.
     */
    boolean conv2dBiasReluMaxPool(Buffer input, Buffer weight, Buffer bias, ConvGeometry geometry, int images,
                                  int outputs, int groups, ConvGeometry pool, Buffer values, Buffer argmax) {
        boolean halving = pool.kernelHeight() == 2 && pool.kernelWidth() == 2 && pool.stride() == 2
                && pool.padding() == 0 && pool.dilation() == 1;
        if (!halving || !implicitForward(outputs, groups) || !kernels.poolsConvolution(images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation())) {
            return false;
        }
        float[] b = bias == null ? null : data(bias);
        if (b != null && b.length < outputs) {
            throw new IllegalArgumentException("cpu conv2dBiasReluMaxPool: the bias holds " + b.length
                    + " elements, fewer than the " + outputs + " outputs");
        }
        long pooled = (long) images * outputs * pool.outHeight() * pool.outWidth();
        checkConv("conv2dBiasReluMaxPool", geometry, images, outputs, groups, "input", input, "weight", weight, null,
                null);
        for (Buffer out : new Buffer[] {values, argmax}) {
            if (out != null && data(out).length < pooled) {
                throw new IllegalArgumentException("cpu conv2dBiasReluMaxPool: the " + (out == values ? "values"
                        : "argmax") + " hold " + data(out).length + " elements, fewer than the " + pooled + " of "
                        + images + " images pooled by " + pool);
            }
        }
        kernels.conv2dBiasReluMaxPool(data(input), data(weight), b, true, data(values),
                argmax == null ? null : data(argmax), images, geometry.channels(), geometry.height(),
                geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(),
                geometry.padding(), geometry.dilation());
        return true;
    }

    boolean conv2dBiasActivationGrad(UnaryOp activation, Buffer output, Buffer outputGrad, int images, int outputs,
                                     int positions, boolean biasGrad, Buffer grads) {
        boolean smooth = activation == UnaryOp.TANH || activation == UnaryOp.SIGMOID;
        if (!smooth && (activation != UnaryOp.RELU || biasGrad && outputs == 1 && images > 1)) {
            return false;
        }
        long n = (long) images * outputs * positions;
        float[] y = data(output);
        float[] dy = data(outputGrad);
        float[] g = data(grads);
        if (images < 0 || y.length < n || dy.length < n || g.length < n + (biasGrad ? outputs : 0)) {
            throw new IllegalArgumentException("cpu conv2dBiasActivationGrad: buffers of " + y.length + ", "
                    + dy.length + " and " + g.length + " elements do not hold " + images + " images of " + outputs
                    + " channels of " + positions + " positions" + (biasGrad ? " and the bias gradient" : ""));
        }
        if (!smooth) {
            kernels.channelReluGrad(y, dy, g, biasGrad, images, outputs, positions);
            return true;
        }
        // dy·(1 − y²) or dy·(y·(1 − y)) in one pass, rounded as the default's three passes round
        // it (a product, a difference, a product); then the default's sum for the bias.
        kernels.activationGrad(KernelTable.activation(activation), y, dy, g, Math.toIntExact(n));
        if (biasGrad) {
            float[] sums = new float[outputs];
            kernels.sumTo(g, new int[] {images, outputs, positions}, sums, new int[] {0, 1, 0});
            System.arraycopy(sums, 0, g, Math.toIntExact(n), outputs);
        }
        return true;
    }

    /**
     * Checks that a convolution's three buffers hold their sizes (the implicit kernels trust
     * their arguments): the images, the weight {@code [outputs, C/groups, kH, kW]} and the
     * outputs {@code [images, outputs, H', W']}.
     */
    private static void checkConv(String operation, ConvGeometry geometry, int images, int outputs, int groups,
                                  String imageName, Buffer image, String weightName, Buffer weight, String outName,
                                  Buffer out) {
        long[] needed = {(long) images * geometry.imageSize(), (long) outputs * (geometry.columnRows() / groups),
            (long) images * outputs * geometry.columnCols()};
        String[] names = {imageName, weightName, outName};
        Buffer[] buffers = {image, weight, out};
        for (int i = 0; i < 3; i++) {
            if (buffers[i] == null) {
                continue;
            }
            int length = data(buffers[i]).length;
            if (images < 0 || length < needed[i]) {
                throw new IllegalArgumentException("cpu " + operation + ": the " + names[i] + " holds " + length
                        + " elements, fewer than the " + needed[i] + " of " + images + " images, " + outputs
                        + " outputs in " + groups + " groups, geometry " + geometry);
            }
        }
    }

    /** Where image {@code firstImage} starts; the kernels check that the images fit the buffer. */
    private static int imageOffset(String operation, ConvGeometry geometry, int firstImage) {
        long offset = firstImage * geometry.imageSize();
        if (firstImage < 0 || offset > CpuBackend.MAX_ELEMENTS) {
            throw new IllegalArgumentException("cpu " + operation + ": image " + firstImage + " of " + geometry.imageSize()
                    + " elements does not start inside a CPU buffer");
        }
        return (int) offset;
    }
}
