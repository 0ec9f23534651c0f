package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudnnException;
import org.adjoint.cuda.internal.CudnnShape;
import org.adjoint.cuda.internal.CudnnUse;

/**
 * The convolutions of a {@link CudaBackend} that uses cuDNN: each call goes through cuDNN when
 * the device trusts it, else through the same device's im2col and cuBLAS path (another backend
 * instance that never uses cuDNN).
 *
 * <p>Before the device trusts cuDNN, the first convolution (or {@link CudaBackend#convolutionPath()})
 * runs a trial: one small grouped, padded, strided and dilated convolution in each direction through cuDNN and
 * through im2col, on small integers, so that both paths should agree to rounding; a cuDNN
 * failure or a difference makes the device drop cuDNN, with a logged reason. It runs on first
 * use rather than when the device opens because the im2col side needs the compiled kernels,
 * which a program without convolutions never compiles.
 *
 * <p>After that, a call that cuDNN cannot take (a tensor of 2³¹ elements or more, no
 * deterministic algorithm, no workspace that fits) or whose cuDNN call fails takes the im2col
 * path; the device counts it ({@link CudaBackend#cudnnFallbacks()}) and logs the first of each
 * kind. Under {@code -Dadjoint.cuda.cudnn=require} any such call, and any convolution while
 * cuDNN is absent or refused, throws {@link IllegalStateException} instead.
 */
final class CudaConvolution {

    /** Largest difference the trial accepts, relative to 1 + |im2col's value|. */
    static final float TRIAL_TOLERANCE = 1e-3f;

    /** The im2col path, on the same device. */
    private final CudaBackend im2col;

    CudaConvolution(CudaBackend im2col) {
        this.im2col = im2col;
    }

    /**
     * The path the convolutions take, after the trial.
     *
     * @param device the backend's device
     * @return the log line's convolution part
     */
    String path(CudaDevice device) {
        device.cudnnRefusal(this::trial);
        return device.convolutionPath();
    }

    void conv2d(CudaDevice device, Buffer input, Buffer weight, ConvGeometry geometry, int images, int outputs,
                int groups, Buffer output) {
        if (!convolve(device, CudnnShape.Direction.FORWARD, "conv2d", geometry, images, outputs, groups,
                "input", input, "weight", weight, "output", output)) {
            im2col.conv2d(input, weight, geometry, images, outputs, groups, output);
        }
    }

    void conv2dInputGrad(CudaDevice device, Buffer outputGrad, Buffer weight, ConvGeometry geometry, int images,
                         int outputs, int groups, Buffer inputGrad) {
        if (!convolve(device, CudnnShape.Direction.BACKWARD_DATA, "conv2dInputGrad", geometry, images, outputs, groups,
                "weight", weight, "output gradient", outputGrad, "input gradient", inputGrad)) {
            im2col.conv2dInputGrad(outputGrad, weight, geometry, images, outputs, groups, inputGrad);
        }
    }

    void conv2dWeightGrad(CudaDevice device, Buffer input, Buffer outputGrad, ConvGeometry geometry, int images,
                          int outputs, int groups, Buffer weightGrad) {
        if (!convolve(device, CudnnShape.Direction.BACKWARD_FILTER, "conv2dWeightGrad", geometry, images, outputs,
                groups, "input", input, "output gradient", outputGrad, "weight gradient", weightGrad)) {
            im2col.conv2dWeightGrad(input, outputGrad, geometry, images, outputs, groups, weightGrad);
        }
    }

    /**
     * One convolution through cuDNN, after checking that the three buffers hold their sizes
     * (cuDNN trusts its pointers); false, with nothing done, when it is to take the im2col path.
     * The buffers come in cuDNN's order: for the forward pass x, w, y; for the input gradient
     * w, dy, dx; for the weight gradient x, dy, dw.
     */
    private boolean convolve(CudaDevice device, CudnnShape.Direction direction, String operation,
                             ConvGeometry geometry, int images, int outputs, int groups, String firstName, Buffer first,
                             String secondName, Buffer second, String resultName, Buffer result) {
        if (images < 1 || outputs < 1 || groups < 1 || geometry.channels() < 1 || geometry.height() < 1
                || geometry.width() < 1 || geometry.channels() % groups != 0 || outputs % groups != 0) {
            // Nothing to compute, or arguments the im2col path refuses: not cuDNN's business.
            return false;
        }
        String refusal = device.cudnnRefusal(this::trial);
        if (refusal != null) {
            if (device.cudnnUse() == CudnnUse.REQUIRE) {
                throw new IllegalStateException("cuda " + operation + ": -D" + CudnnUse.PROPERTY
                        + "=require, but cuDNN is not used: " + refusal);
            }
            return false;
        }
        CudnnShape shape = CudnnShape.of(geometry, images, outputs, groups);
        if (shape == null) {
            return fallback(device, operation, direction.name() + " too large", "cuDNN's descriptors count elements"
                    + " in int, and a tensor of " + images + " images, " + outputs + " outputs, geometry " + geometry
                    + " has 2^31 or more", null);
        }
        long imageElements = (long) images * geometry.imageSize();
        long weightElements = (long) outputs * (geometry.columnRows() / groups);
        long outputElements = (long) images * outputs * geometry.columnCols();
        long[] needed = switch (direction) {
            case FORWARD -> new long[] {imageElements, weightElements, outputElements};
            case BACKWARD_DATA -> new long[] {weightElements, outputElements, imageElements};
            case BACKWARD_FILTER -> new long[] {imageElements, outputElements, weightElements};
        };
        String[] names = {firstName, secondName, resultName};
        CudaBuffer[] buffers = {cuda(first), cuda(second), cuda(result)};
        for (int i = 0; i < 3; i++) {
            if (buffers[i].size() < needed[i]) {
                throw new IllegalArgumentException("cuda " + operation + ": the " + names[i] + " holds "
                        + buffers[i].size() + " elements, fewer than the " + needed[i] + " of " + images + " images, "
                        + outputs + " outputs in " + groups + " groups, geometry " + geometry);
            }
        }
        String declined;
        try {
            declined = device.convolve(direction, shape, buffers[0], buffers[1], buffers[2]);
        } catch (CudnnException e) {
            return fallback(device, operation, e.call() + " " + e.status(), e.getMessage(), e);
        }
        return declined == null || fallback(device, operation, direction.name() + " declined", declined, null);
    }

    /** False after counting and logging a fallback; under {@code require}, throws instead. */
    private static boolean fallback(CudaDevice device, String operation, String kind, String reason, Throwable cause) {
        if (device.cudnnUse() == CudnnUse.REQUIRE) {
            throw new IllegalStateException("cuda " + operation + ": " + reason + "; -D" + CudnnUse.PROPERTY
                    + "=require allows no fallback to the im2col path", cause);
        }
        device.noteCudnnFallback(kind, "cuda " + operation + ": " + reason);
        return false;
    }

    /**
     * The trial: each direction once through cuDNN and once through im2col on a small grouped,
     * padded, strided and dilated shape of small integers (whose products and sums float32 holds
     * exactly, in any order, so that only a wrong result differs by more than an FFT's or
     * Winograd's rounding). Padding, stride and dilation differ (1, 2, 3), so that a binding that
     * passes one in another's place changes the output's size or values.
     *
     * @return the first failure or difference, or {@code null}
     * @throws CudnnException when a cuDNN call fails
     */
    private String trial(CudaDevice device) {
        // 4 channels of 7x8, a 3x2 window, stride 2, padding 1, dilation 3; 2 images, 6 outputs in 2 groups.
        ConvGeometry geometry = new ConvGeometry(4, 7, 8, 3, 2, 2, 1, 3);
        int images = 2;
        int outputs = 6;
        int groups = 2;
        CudnnShape shape = CudnnShape.of(geometry, images, outputs, groups);
        List<Buffer> held = new ArrayList<>();
        try {
            Buffer x = hold(held, im2col.upload(integers(images * (int) geometry.imageSize(), 3)));
            Buffer w = hold(held, im2col.upload(integers(outputs * (int) (geometry.columnRows() / groups), 5)));
            Buffer dy = hold(held, im2col.upload(integers(images * outputs * (int) geometry.columnCols(), 7)));
            for (CudnnShape.Direction direction : CudnnShape.Direction.values()) {
                long size = switch (direction) {
                    case FORWARD -> images * outputs * geometry.columnCols();
                    case BACKWARD_DATA -> images * geometry.imageSize();
                    case BACKWARD_FILTER -> outputs * (geometry.columnRows() / groups);
                };
                Buffer viaCudnn = hold(held, im2col.allocate(size));
                Buffer viaIm2col = hold(held, im2col.allocate(size));
                String declined = switch (direction) {
                    case FORWARD -> device.convolve(direction, shape, cuda(x), cuda(w), cuda(viaCudnn));
                    case BACKWARD_DATA -> device.convolve(direction, shape, cuda(w), cuda(dy), cuda(viaCudnn));
                    case BACKWARD_FILTER -> device.convolve(direction, shape, cuda(x), cuda(dy), cuda(viaCudnn));
                };
                if (declined != null) {
                    return "the trial " + direction.call() + " was declined: " + declined;
                }
                switch (direction) {
                    case FORWARD -> im2col.conv2d(x, w, geometry, images, outputs, groups, viaIm2col);
                    case BACKWARD_DATA -> im2col.conv2dInputGrad(dy, w, geometry, images, outputs, groups, viaIm2col);
                    case BACKWARD_FILTER -> im2col.conv2dWeightGrad(x, dy, geometry, images, outputs, groups,
                            viaIm2col);
                }
                String difference = difference(im2col.download(viaCudnn), im2col.download(viaIm2col));
                if (difference != null) {
                    return "the trial " + direction.call() + " differs from the im2col path: " + difference;
                }
            }
            return null;
        } finally {
            held.forEach(im2col::release);
        }
    }

    private static Buffer hold(List<Buffer> held, Buffer buffer) {
        held.add(buffer);
        return buffer;
    }

    /** Integers from -2 to 2, in an order that depends on {@code step}. */
    private static float[] integers(int count, int step) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (i * step) % 5 - 2;
        }
        return values;
    }

    /** The first element where {@code cudnn} is off {@code reference} by more than the tolerance, or {@code null}. */
    static String difference(float[] cudnn, float[] reference) {
        for (int i = 0; i < reference.length; i++) {
            float error = Math.abs(cudnn[i] - reference[i]);
            if (!(error <= TRIAL_TOLERANCE * (1 + Math.abs(reference[i])))) {
                return "element " + i + " is " + cudnn[i] + " where im2col gives " + reference[i];
            }
        }
        return null;
    }
}
