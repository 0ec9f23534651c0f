package org.adjoint.cuda;

import java.util.Optional;

import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.cuda.internal.ColumnMajorGemm;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.StridedArgument;
import org.adjoint.cuda.internal.SumSplit;
import org.adjoint.cuda.internal.UnavailableException;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Strided;
import org.adjoint.nn.Activation;

/**
 * {@link Backend} on an NVIDIA GPU: buffers in device memory, GEMM through cuBLAS, everything
 * else through the CUDA C kernels of {@code adjoint-kernels}, compiled by NVRTC for the device
 * on first use. All work is queued on one stream; only {@link #download} (and so
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
 * <p>System properties: {@code adjoint.cuda.device} (ordinal, default 0),
 * {@code adjoint.cuda.tf32=true} (let cuBLAS use TF32 tensor cores; off by default, so
 * products are full float32), {@code adjoint.cuda.bindings=jcuda|ffm} (force a binding),
 * {@code adjoint.cuda.libraryPath} (extra folders to find {@code libcublas.so.13} and
 * {@code libnvrtc.so.13} in).
 */
public final class CudaBackend implements Backend {

    private static final int[] UNARY = new int[UnaryOp.values().length];
    private static final int[] BINARY = new int[BinaryOp.values().length];
    private static final int[] ACTIVATION = new int[Activation.values().length];

    static {
        // The kernels take the kernels module's ordinals; map by name so the two enums may differ in order.
        for (UnaryOp op : UnaryOp.values()) {
            UNARY[op.ordinal()] = ElementWise.Unary.valueOf(op.name()).ordinal();
        }
        for (BinaryOp op : BinaryOp.values()) {
            BINARY[op.ordinal()] = Strided.Binary.valueOf(op.name()).ordinal();
        }
        for (Activation activation : Activation.values()) {
            ACTIVATION[activation.ordinal()] = Fused.Activation.valueOf(activation.name()).ordinal();
        }
    }

    /** Creates the backend; {@link java.util.ServiceLoader} calls this. Every instance shares the JVM's one device. */
    public CudaBackend() {
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Optional<String> unavailableReason() {
        try {
            CudaDevice.shared();
            return Optional.empty();
        } catch (UnavailableException e) {
            return Optional.of(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return Optional.of("checking for CUDA failed: " + e);
        }
    }

    private static CudaDevice device() {
        try {
            return CudaDevice.shared();
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
        return device().memoryStats();
    }

    /**
     * Starts {@link DeviceMemoryStats#peakBytesInUse()} again from the bytes in use now, so that
     * one step's peak can be measured.
     *
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public void resetPeakMemoryStats() {
        device().resetPeakMemoryStats();
    }

    /**
     * Gives every cached (freed) block back to the driver, after the queued work is done.
     *
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public void emptyCache() {
        device().emptyCache();
    }

    /**
     * Waits until all queued work is done (for timing; results never need it, since
     * {@link #download} waits).
     *
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public void synchronize() {
        device().synchronize();
    }

    /**
     * The GPU's name, for example {@code NVIDIA H100 80GB HBM3}.
     *
     * @return the name
     * @throws UnsupportedOperationException when the backend is unavailable
     */
    public String deviceName() {
        return device().name();
    }

    @Override
    public Buffer allocate(long size) {
        return device().allocate(size, true);
    }

    @Override
    public void release(Buffer buffer) {
        CudaBuffer block = cuda(buffer);
        device().release(block);
    }

    @Override
    public Buffer upload(float[] data) {
        CudaDevice device = device();
        CudaBuffer buffer = device.allocate(data.length, false);
        device.upload(data, buffer);
        return buffer;
    }

    @Override
    public float[] download(Buffer buffer) {
        CudaBuffer source = cuda(buffer);
        return device().download(source);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k,
                     float alpha, Buffer a, long aStride, Buffer b, long bStride,
                     float beta, Buffer c, long cStride) {
        CudaDevice device = device();
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            scaleEmptyProduct(device, beta, cuda(c), (long) m * n, batch, cStride);
            return;
        }
        ColumnMajorGemm call = ColumnMajorGemm.forRowMajor(transA, transB, batch, m, n, k, aStride, bStride, cStride);
        // Column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS's first operand is our B.
        device.sgemm(call, alpha, cuda(b), cuda(a), beta, cuda(c));
    }

    /** An empty inner dimension leaves {@code C = beta·C}; cuBLAS's handling of k = 0 is not documented. */
    private static void scaleEmptyProduct(CudaDevice device, float beta, CudaBuffer c, long size, int batch, long stride) {
        if (beta == 1) {
            return;
        }
        int distinct = stride == 0 ? 1 : batch;
        for (int p = 0; p < distinct; p++) {
            long offset = p * stride;
            if (beta == 0) {
                device.fill(c, offset, size, 0f);
            } else {
                device.withKernels(kernels -> kernels.axpy(beta - 1, c.address(offset), c.address(offset), size));
            }
        }
    }

    // Each launch reads its buffers' addresses inside withKernels, under the device's lock: see CudaDevice.

    @Override
    public void fill(Buffer buffer, float value) {
        CudaBuffer target = cuda(buffer);
        device().fill(target, 0, target.size(), value);
    }

    @Override
    public void biasActivation(Activation activation, Buffer y, Buffer bias, int rows, int cols) {
        CudaBuffer matrix = cuda(y);
        CudaBuffer offsets = bias == null ? null : cuda(bias);
        if ((long) rows * cols == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.biasActivation(ACTIVATION[activation.ordinal()], matrix.address(),
                offsets == null ? 0 : offsets.address(), rows, cols));
    }

    @Override
    public void activationGrad(Activation activation, Buffer y, Buffer cotangent, Buffer out) {
        CudaBuffer outputs = cuda(y);
        CudaBuffer incoming = cuda(cotangent);
        CudaBuffer result = cuda(out);
        if (result.size() == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.activationGrad(ACTIVATION[activation.ordinal()], outputs.address(),
                incoming.address(), result.address(), result.size()));
    }

    @Override
    public void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out) {
        CudaBuffer logp = cuda(logProbabilities);
        CudaBuffer classes = cuda(labels);
        CudaBuffer result = cuda(out);
        device().withKernels(kernels -> kernels.negativeLogLikelihood(logp.address(), classes.address(), rows, cols,
                result.address()));
    }

    @Override
    public void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out) {
        CudaBuffer logp = cuda(logProbabilities);
        CudaBuffer classes = cuda(labels);
        CudaBuffer result = cuda(out);
        if ((long) rows * cols == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.crossEntropyGrad(logp.address(), classes.address(), rows, cols, scale,
                result.address()));
    }

    @Override
    public void axpy(float alpha, Buffer x, Buffer y) {
        CudaBuffer addend = cuda(x);
        CudaBuffer target = cuda(y);
        if (addend.size() == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.axpy(alpha, addend.address(), target.address(), addend.size()));
    }

    @Override
    public void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        CudaBuffer input = cuda(x);
        CudaBuffer result = cuda(out);
        if (input.size() == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.unary(UNARY[op.ordinal()], parameter, input.address(), result.address(),
                input.size()));
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape) {
        CudaBuffer left = cuda(lhs);
        CudaBuffer right = cuda(rhs);
        CudaBuffer result = cuda(out);
        StridedArgument strided = StridedArgument.of(shape, lhsStrides, rhsStrides);
        if (strided.count() == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.binary(BINARY[op.ordinal()], left.address(), right.address(),
                result.address(), strided));
    }

    @Override
    public void copyStrided(Buffer src, int[] srcStrides, Buffer out, int[] shape) {
        CudaBuffer source = cuda(src);
        CudaBuffer result = cuda(out);
        StridedArgument strided = StridedArgument.of(shape, srcStrides, null);
        if (strided.count() == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.copyStrided(source.address(), result.address(), strided));
    }

    @Override
    public void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        CudaBuffer source = cuda(src);
        CudaBuffer result = cuda(out);
        StridedArgument strided = StridedArgument.of(shape, outStrides, null);
        if (strided.count() == 0) {
            // A sum over nothing: every output element is 0.
            device().fill(result, 0, result.size(), 0f);
            return;
        }
        sumInto(source, result, strided);
    }

    /** A sum over a non-empty index space, split (see {@link SumSplit}) when it is long. */
    private void sumInto(CudaBuffer source, CudaBuffer result, StridedArgument strided) {
        CudaDevice device = device();
        SumSplit split = SumSplit.of(strided);
        if (split.single()) {
            device.withKernels(kernels -> kernels.sumTo(source.address(), result.address(), strided, split.outCount()));
            return;
        }
        // One stream: the partials can go back to the allocator as soon as the last kernel that
        // reads them is queued.
        CudaBuffer partials = device.allocate(split.partialCount(), false);
        try {
            device.withKernels(kernels -> kernels.sumToParts(source.address(), partials.address(), strided, split));
            sumInto(partials, result, split.partialsSum(strided));
        } finally {
            device.release(partials);
        }
    }

    @Override
    public void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        CudaBuffer input = cuda(x);
        CudaBuffer maxima = cuda(values);
        CudaBuffer oneHot = mask == null ? null : cuda(mask);
        if ((long) outer * inner == 0 || length == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.maxAxis(input.address(), maxima.address(),
                oneHot == null ? 0 : oneHot.address(), outer, length, inner));
    }

    @Override
    public void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        CudaBuffer input = cuda(x);
        CudaBuffer result = cuda(out);
        if ((long) outer * inner == 0 || length == 0) {
            return;
        }
        device().withKernels(kernels -> kernels.softmax(input.address(), result.address(), outer, length, inner, log));
    }

    private static CudaBuffer cuda(Buffer buffer) {
        if (buffer instanceof CudaBuffer cuda) {
            return cuda;
        }
        throw new IllegalArgumentException("cuda backend: cannot use a buffer of another backend ("
                + (buffer == null ? "null" : buffer.getClass().getName()) + ")");
    }
}
