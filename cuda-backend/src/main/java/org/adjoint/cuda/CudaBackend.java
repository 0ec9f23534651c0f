package org.adjoint.cuda;

import java.util.List;
import java.util.Optional;

import org.adjoint.DType;
import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.backend.FusedAdam;
import org.adjoint.backend.FusedClipping;
import org.adjoint.backend.MemoryOps;
import org.adjoint.backend.UnaryOp;
import org.adjoint.cuda.internal.ColumnMajorGemm;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaSettings;
import org.adjoint.cuda.internal.KernelCodes;
import org.adjoint.cuda.internal.StridedArgument;
import org.adjoint.cuda.internal.UnavailableException;

/**
 * {@link Backend} on an NVIDIA GPU: buffers in device memory, GEMM through cuBLAS, convolutions
 * through cuDNN where {@code libcudnn.so.9} loads (else im2col and cuBLAS), everything else
 * through the CUDA C kernels of {@code adjoint-kernels}, compiled by NVRTC for the device on
 * first use. All work is queued on one stream; only {@link #download} (and so
 * {@code Tensor.toFloatArray()} or {@code item()}) waits for it.
 *
 * <p>Device memory goes through a caching allocator: requests are rounded up to a size class
 * (512-byte multiples up to 1 MiB, then four classes per power of two), freed blocks are kept
 * for reuse, and {@link #release} returns a block at once, so the tape's frees lower the
 * memory in use right away. Buffers the engine never releases return to the cache when the
 * garbage collector finds them unreachable. {@link #memoryStats()} reports bytes in use, their
 * peak and bytes cached.
 *
 * <p>Availability is worked out once per JVM, on first use: the CUDA driver
 * ({@code libcuda.so.1}), JCuda's natives, {@code cuInit}, a device, then cuBLAS and NVRTC, each
 * through JCuda (CUDA 12 libraries) or through {@code java.lang.foreign} (CUDA 13), with one
 * log line saying which and why. When anything is missing, {@link #unavailableReason()} says
 * what, and every other method throws {@link UnsupportedOperationException} with that reason.
 *
 * <p>One instance per device: {@link #onDevice(int)} makes a backend on a given GPU; the
 * instance {@link java.util.ServiceLoader} makes uses the device {@code adjoint.cuda.device}
 * names.
 *
 * <p>System properties: {@code adjoint.cuda.device} (ordinal, default 0),
 * {@code adjoint.cuda.tf32=true} (let cuBLAS use TF32 tensor cores; off by default, so
 * products are full float32), {@code adjoint.cuda.bindings=jcuda|ffm} (force a binding),
 * {@code adjoint.cuda.libraryPath} (extra folders to find {@code libcublas.so.13},
 * {@code libnvrtc.so.13} and {@code libcudnn.so.9} in), {@code adjoint.cuda.cudnn=true|false|require}
 * (cuDNN for convolutions where it loads and passes its checks, the default; never; or always,
 * with any convolution that would take the im2col path throwing). The log line's last part
 * says which convolution path runs, and why not cuDNN when it does not; see
 * {@link CudaConvolution} for the checks and fallbacks, and {@link #cudnnFallbacks()}.
 */
public final class CudaBackend implements Backend, FusedAdam, FusedClipping {

    private final int ordinal;
    /** {@code null} for {@link #im2colOnly}: the convolutions keep the composed path even where cuDNN loaded. */
    private final CudaConvolution convolutions;
    private final CudaStrided strided = new CudaStrided(this::gpu);
    private final CudaWindows windows = new CudaWindows(this::gpu);
    private final CudaAttention fusedAttention = new CudaAttention(this::gpu);
    private final CudaNormalization normalization = new CudaNormalization(this::gpu, this);
    private final CudaMultiTensor multiTensor = new CudaMultiTensor(this::gpu);
    private final CudaElementWise elementWise = new CudaElementWise(this::gpu);
    private final CudaAxes axes = new CudaAxes(this::gpu);

    /**
     * Creates the backend on the device {@code -Dadjoint.cuda.device} names (default 0);
     * {@link java.util.ServiceLoader} calls this.
     */
    public CudaBackend() {
        this(-1);
    }

    /**
     * Creates a backend on one device, so that several GPUs can be used in one process: each
     * instance holds its own buffers, and tensors on one cannot be mixed with tensors on another
     * without {@code Tensor.to}. Instances on the same ordinal share that device's context,
     * stream and memory cache.
     *
     * @param ordinal the CUDA device ordinal, from 0
     * @throws IllegalArgumentException when the ordinal is negative
     */
    public static CudaBackend onDevice(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("cuda backend: device ordinal " + ordinal + " is negative");
        }
        return new CudaBackend(ordinal);
    }

    private CudaBackend(int ordinal) {
        this(ordinal, true);
    }

    private CudaBackend(int ordinal, boolean cudnn) {
        this.ordinal = ordinal;
        this.convolutions = cudnn ? new CudaConvolution(new CudaBackend(ordinal, false)) : null;
    }

    /**
     * A backend on the device {@code -Dadjoint.cuda.device} names whose convolutions take the
     * im2col path whether or not cuDNN loaded, sharing the device with the other instances:
     * for tests and benchmarks that set the two paths side by side in one process.
     *
     * @return the backend
     */
    static CudaBackend im2colOnly() {
        return new CudaBackend(-1, false);
    }

    /**
     * The path this backend's convolutions take: through cuDNN, or im2col and cuBLAS GEMMs with
     * the reason cuDNN is not used. The first call on a device (or its first convolution) loads
     * and opens cuDNN, logging the outcome (the start-up line says only "cuDNN checked on first
     * convolution"); where cuDNN opened, it then runs the trial convolutions that decide whether
     * it is trusted (see {@link CudaConvolution}), so the answer is the path calls will take.
     *
     * @return for example {@code cuDNN 9.1.0 (libcudnn.so.9 at /opt/venv/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9)}
     *         or {@code im2col + cuBLAS (cuDNN: off, -Dadjoint.cuda.cudnn=false)}
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public String convolutionPath() {
        return convolutions != null ? convolutions.path(gpu()) : "im2col + cuBLAS (this instance does not use cuDNN)";
    }

    /**
     * Convolutions on this backend's device that cuDNN was trusted with but that took the im2col
     * path (a failing cuDNN call, no deterministic algorithm, no workspace that fits, a tensor
     * too large for cuDNN's descriptors); the first of each kind is logged. Always 0 under
     * {@code -Dadjoint.cuda.cudnn=require}, where those calls throw.
     *
     * @return the count since the device was opened, over every backend instance on it
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public long cudnnFallbacks() {
        return gpu().cudnnFallbacks();
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String device() {
        if (ordinal >= 0) {
            return "cuda:" + ordinal;
        }
        try {
            return "cuda:" + CudaSettings.deviceOrdinal();
        } catch (IllegalArgumentException e) {
            // A name for messages: the setting is refused where the device opens, with this text.
            return "cuda:" + System.getProperty(CudaSettings.DEVICE_PROPERTY);
        }
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Optional<String> unavailableReason() {
        try {
            open();
            return Optional.empty();
        } catch (UnavailableException e) {
            return Optional.of(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return Optional.of("checking for CUDA failed: " + e);
        }
    }

    private CudaDevice open() {
        return ordinal < 0 ? CudaDevice.shared() : CudaDevice.of(ordinal);
    }

    private CudaDevice gpu() {
        try {
            return open();
        } catch (UnavailableException e) {
            throw new UnsupportedOperationException("cuda backend unavailable: " + e.getMessage(), e);
        }
    }

    /**
     * The device's memory as the caching allocator sees it.
     *
     * @return a snapshot
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public DeviceMemoryStats memoryStats() {
        return gpu().memoryStats();
    }

    /**
     * Starts {@link DeviceMemoryStats#peakBytesInUse()} again from the bytes in use now, so that
     * one step's peak can be measured.
     *
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public void resetPeakMemoryStats() {
        gpu().resetPeakMemoryStats();
    }

    /**
     * Gives every cached (freed) block back to the driver, after the queued work is done.
     *
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public void emptyCache() {
        gpu().emptyCache();
    }

    /**
     * Waits until all queued work is done (for timing; results never need it, since
     * {@link #download} waits).
     *
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public void synchronize() {
        gpu().synchronize();
    }

    /**
     * The GPU's name, for example {@code NVIDIA H100 80GB HBM3}.
     *
     * @return the name
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public String deviceName() {
        return gpu().name();
    }

    @Override
    public Buffer allocate(DType dtype, long count) {
        MemoryOps.requireSupported(name(), "allocate", dtype);
        return allocate(count);
    }

    @Override
    public Buffer allocate(long size) {
        return gpu().allocate(size, true);
    }

    @Override
    public Buffer allocateUninitialized(long size) {
        // No memset: the caller writes every element before reading any.
        return gpu().allocate(size, false);
    }

    @Override
    public Buffer dropoutMask(long key, float p, long size) {
        CudaBuffer mask = cuda(allocateUninitialized(size));
        if (size > 0) {
            gpu().withKernels(kernels -> kernels.dropoutMask(key, p, mask.address(), size));
        }
        return mask;
    }

    @Override
    public void release(Buffer buffer) {
        CudaBuffer block = cuda(buffer);
        gpu().release(block);
    }

    @Override
    public Buffer upload(float[] data) {
        CudaDevice device = gpu();
        CudaBuffer buffer = device.allocate(data.length, false);
        device.upload(data, buffer);
        return buffer;
    }

    @Override
    public float[] download(Buffer buffer) {
        CudaBuffer source = cuda(buffer);
        return gpu().download(source);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     Buffer a, long aOffset, long aStride, Buffer b, long bOffset, long bStride,
                     float beta, Buffer c, long cOffset, long cStride) {
        CudaDevice device = gpu();
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            scaleEmptyProduct(device, beta, cuda(c), cOffset, (long) m * n, batch, cStride);
            return;
        }
        ColumnMajorGemm call = ColumnMajorGemm.forRowMajor(transA, transB, batch, m, n, k, aStride, bStride, cStride);
        // Column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS's first operand is our B.
        device.sgemm(call, alpha, cuda(b), bOffset, cuda(a), aOffset, beta, cuda(c), cOffset);
    }

    /**
     * An empty inner dimension leaves {@code C = beta·C}, each element rounded once as the CPU's
     * {@code c *= beta} (cuBLAS's handling of k = 0 is not documented): {@code binary}'s MUL by a
     * one-element buffer holding beta, read with stride 0.
     */
    private static void scaleEmptyProduct(CudaDevice device, float beta, CudaBuffer c, long first, long size, int batch,
                                          long stride) {
        if (beta == 1) {
            return;
        }
        int distinct = stride == 0 ? 1 : batch;
        if (beta == 0) {
            for (int p = 0; p < distinct; p++) {
                device.fill(c, first + p * stride, size, 0f);
            }
            return;
        }
        StridedArgument elements = StridedArgument.of(new long[] {size}, new long[] {1}, new long[] {0});
        int multiply = KernelCodes.binary(BinaryOp.MUL);
        CudaBuffer factor = device.allocate(1, false);
        try {
            device.fill(factor, 0, 1, beta);
            for (int p = 0; p < distinct; p++) {
                long offset = first + p * stride;
                device.withKernels(kernels -> kernels.binary(multiply, c.address(offset), factor.address(),
                        c.address(offset), elements));
            }
        } finally {
            device.release(factor);
        }
    }

    // Each launch reads its buffers' addresses inside withKernels, under the device's lock: see CudaDevice.

    @Override
    public void fill(Buffer buffer, float value) {
        CudaBuffer target = cuda(buffer);
        gpu().fill(target, 0, target.size(), value);
    }

    @Override
    public void cast(Buffer src, Buffer out) {
        MemoryOps.requireSupported(name(), "cast", src.dtype());
        MemoryOps.requireSupported(name(), "cast", out.dtype());
        CudaBuffer source = cuda(src);
        copyStrided(source, new int[] {1}, out, new int[] {Math.toIntExact(source.size())});
    }

    @Override
    public void gather(Buffer src, int outer, int length, int inner, Buffer indices, int count, Buffer out) {
        axes.gather(src, outer, length, inner, indices, count, out);
    }

    @Override
    public void scatterAdd(Buffer values, int outer, int count, int inner, Buffer indices, Buffer out, int length) {
        axes.scatterAdd(values, outer, count, inner, indices, out, length);
    }

    @Override
    public void im2col(Buffer input, ConvGeometry geometry, int firstImage, int images, float padValue,
                       Buffer columns) {
        windows.im2col(input, geometry, firstImage, images, padValue, columns);
    }

    @Override
    public void col2im(Buffer columns, ConvGeometry geometry, int firstImage, int images, Buffer input) {
        windows.col2im(columns, geometry, firstImage, images, input);
    }

    /**
     * Through cuDNN where the device trusts it (see {@link CudaConvolution}); else, and for
     * calls cuDNN does not take, the default's im2col and cuBLAS GEMMs.
     */
    @Override
    public void conv2d(Buffer input, Buffer weight, ConvGeometry geometry, int images, int outputs, int groups,
                       Buffer output) {
        if (convolutions == null) {
            Backend.super.conv2d(input, weight, geometry, images, outputs, groups, output);
        } else {
            convolutions.conv2d(gpu(), input, weight, geometry, images, outputs, groups, output);
        }
    }

    /** Through cuDNN where the device trusts it; else the default's GEMMs and col2im. */
    @Override
    public void conv2dInputGrad(Buffer outputGrad, Buffer weight, ConvGeometry geometry, int images, int outputs,
                                int groups, Buffer inputGrad) {
        if (convolutions == null) {
            Backend.super.conv2dInputGrad(outputGrad, weight, geometry, images, outputs, groups, inputGrad);
        } else {
            convolutions.conv2dInputGrad(gpu(), outputGrad, weight, geometry, images, outputs, groups, inputGrad);
        }
    }

    /** Through cuDNN where the device trusts it; else the default's im2col and GEMMs. */
    @Override
    public void conv2dWeightGrad(Buffer input, Buffer outputGrad, ConvGeometry geometry, int images, int outputs,
                                 int groups, Buffer weightGrad) {
        if (convolutions == null) {
            Backend.super.conv2dWeightGrad(input, outputGrad, geometry, images, outputs, groups, weightGrad);
        } else {
            convolutions.conv2dWeightGrad(gpu(), input, outputGrad, geometry, images, outputs, groups, weightGrad);
        }
    }

    @Override
    public void biasActivation(UnaryOp activation, Buffer y, Buffer bias, int rows, int cols) {
        elementWise.biasActivation(activation, y, bias, rows, cols);
    }

    @Override
    public void activationGrad(UnaryOp activation, Buffer y, Buffer cotangent, Buffer out) {
        elementWise.activationGrad(activation, y, cotangent, out);
    }

    @Override
    public void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out) {
        elementWise.negativeLogLikelihood(logProbabilities, labels, rows, cols, out);
    }

    @Override
    public void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out) {
        elementWise.crossEntropyGrad(logProbabilities, labels, rows, cols, scale, out);
    }

    /** The kernel reads the scale on the device: the backward pass does not wait for the forward here. */
    @Override
    public void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer cotangent,
                                 Buffer out) {
        elementWise.crossEntropyGrad(logProbabilities, labels, rows, cols, cotangent, out);
    }

    @Override
    public void adam(Buffer param, Buffer grad, Buffer m, Buffer v, float beta1, float beta2, float sqrtCorrection2,
                     float epsilon, float step, float decay, float shrink) {
        elementWise.adam(param, grad, m, v, beta1, beta2, sqrtCorrection2, epsilon, step, decay, shrink);
    }

    @Override
    public void adam(Buffer[] params, Buffer[] grads, Buffer[] firstMoments, Buffer[] secondMoments, int count,
                     float beta1, float beta2, float sqrtCorrection2, float epsilon, float step, float decay,
                     float shrink) {
        multiTensor.adam(params, grads, firstMoments, secondMoments, count, beta1, beta2, sqrtCorrection2, epsilon,
                step, decay, shrink);
    }

    @Override
    public void axpy(float alpha, Buffer[] xs, Buffer[] ys, int count) {
        multiTensor.axpy(alpha, xs, ys, count);
    }

    /** A launch per leaf's accumulation cost more than holding the contributions to the pass's end. */
    @Override
    public boolean gathersAccumulation() {
        return true;
    }

    @Override
    public void fill(List<Buffer> buffers, float value) {
        multiTensor.fill(buffers, value);
    }

    @Override
    public void globalNorm(List<Buffer> buffers, Buffer norm) {
        multiTensor.globalNorm(buffers, norm);
    }

    @Override
    public void clipToNorm(List<Buffer> buffers, Buffer norm, float maxNorm) {
        multiTensor.clipToNorm(buffers, norm, maxNorm);
    }

    @Override
    public void axpy(float alpha, Buffer x, Buffer y) {
        elementWise.axpy(alpha, x, y);
    }

    @Override
    public void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        elementWise.unary(op, parameter, x, out);
    }

    /** One launch where the default takes two: the composition's bits ({@code unary_times}). */
    @Override
    public void unaryTimes(UnaryOp op, float parameter, Buffer x, Buffer grad, Buffer out) {
        elementWise.unaryTimes(op, parameter, x, grad, out);
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape) {
        strided.binary(op, lhs, lhsStrides, rhs, rhsStrides, out, shape);
    }

    @Override
    public void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] shape) {
        strided.copyStrided(src, srcOffset, srcStrides, out, outOffset, shape);
    }

    @Override
    public void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        strided.sumTo(src, shape, out, outStrides);
    }

    @Override
    public void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        axes.max(x, outer, length, inner, values, mask);
    }

    @Override
    public void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        axes.softmax(x, outer, length, inner, log, out);
    }

    @Override
    public void layerNorm(Buffer x, Buffer weight, Buffer bias, int rows, int size, float eps, Buffer out, Buffer mean,
                          Buffer rstd) {
        normalization.forward(x, weight, bias, rows, size, eps, out, mean, rstd);
    }

    @Override
    public void layerNormGrad(Buffer x, Buffer weight, Buffer mean, Buffer rstd, Buffer cotangent, int rows, int size,
                              Buffer dx, Buffer dweight) {
        normalization.backward(x, weight, mean, rstd, cotangent, rows, size, dx, dweight);
    }

    @Override
    public void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] outStrides,
                            int[] shape) {
        strided.copyStrided(src, srcOffset, srcStrides, out, outOffset, outStrides, shape);
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, long lhsOffset, int[] lhsStrides, Buffer rhs, long rhsOffset,
                       int[] rhsStrides, Buffer out, int[] shape) {
        strided.binary(op, lhs, lhsOffset, lhsStrides, rhs, rhsOffset, rhsStrides, out, shape);
    }

    @Override
    public void maskedFill(Buffer x, long xOffset, int[] xStrides, Buffer mask, long maskOffset, int[] maskStrides,
                           float value, Buffer out, int[] shape) {
        strided.maskedFill(x, xOffset, xStrides, mask, maskOffset, maskStrides, value, out, shape);
    }

    /** The fused kernels ({@link CudaAttention}) where they take the shapes; the composed default elsewhere. */
    @Override
    public void attention(Buffer q, Buffer k, Buffer v, int batch, int t, int s, int d, int dv, boolean causal,
                          float scale, Buffer out, Buffer logSumExp) {
        if (!fusedAttention.forward(q, k, v, batch, t, s, d, dv, causal, scale, out, logSumExp)) {
            Backend.super.attention(q, k, v, batch, t, s, d, dv, causal, scale, out, logSumExp);
        }
    }

    /** The fused kernels read the operands where they lie (no copies), for one or two batch axes. */
    @Override
    public void attention(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t,
                          int s, int d, int dv, boolean causal, float scale, Buffer out, Rows outRows,
                          Buffer logSumExp) {
        if (!fusedAttention.forward(q, qRows, k, kRows, v, vRows, batchShape, t, s, d, dv, causal, scale, out,
                outRows, logSumExp)) {
            Backend.super.attention(q, qRows, k, kRows, v, vRows, batchShape, t, s, d, dv, causal, scale, out, outRows,
                    logSumExp);
        }
    }

    @Override
    public void attentionGrad(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch,
                              int t, int s, int d, int dv, boolean causal, float scale, Buffer grads) {
        if (!fusedAttention.backward(q, k, v, out, logSumExp, dOut, batch, t, s, d, dv, causal, scale, grads)) {
            Backend.super.attentionGrad(q, k, v, out, logSumExp, dOut, batch, t, s, d, dv, causal, scale, grads);
        }
    }

    @Override
    public void attentionGrad(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out,
                              Rows outRows, Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t,
                              int s, int d, int dv, boolean causal, float scale, Buffer grads, Rows dqRows,
                              Rows dkRows, Rows dvRows) {
        if (!fusedAttention.backward(q, qRows, k, kRows, v, vRows, out, outRows, logSumExp, dOut, dOutRows,
                batchShape, t, s, d, dv, causal, scale, grads, dqRows, dkRows, dvRows)) {
            Backend.super.attentionGrad(q, qRows, k, kRows, v, vRows, out, outRows, logSumExp, dOut, dOutRows,
                    batchShape, t, s, d, dv, causal, scale, grads, dqRows, dkRows, dvRows);
        }
    }

    /** The buffer as this backend's, or an error naming the other backend's buffer class. */
    static CudaBuffer cuda(Buffer buffer) {
        if (buffer instanceof CudaBuffer cuda) {
            return cuda;
        }
        throw new IllegalArgumentException("cuda backend: cannot use a buffer of another backend ("
                + (buffer == null ? "null" : buffer.getClass().getName()) + ")");
    }
}
