package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.function.Supplier;

import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaKernels;

/**
 * The operations of a {@link CudaBackend} along one axis of a contiguous
 * {@code [outer, length, inner]} view: gathering and scatter-adding rows by index (the
 * scatter in parts through a scratch buffer where many indices would collide), the maximum
 * with its one-hot mask, and softmax. An empty view launches nothing. Each launch reads its
 * buffers' addresses inside {@code withKernels}, under the device's lock: see
 * {@link CudaDevice}.
 */
final class CudaAxes {

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaAxes(Supplier<CudaDevice> device) {
        this.device = device;
    }

    void gather(Buffer src, int outer, int length, int inner, Buffer indices, int count, Buffer out) {
        CudaBuffer source = cuda(src);
        CudaBuffer positions = cuda(indices);
        CudaBuffer result = cuda(out);
        if ((long) outer * count * inner == 0) {
            return;
        }
        device.get().withKernels(kernels -> kernels.gather(source.address(), outer, length, inner, positions.address(),
                count, result.address()));
    }

    void scatterAdd(Buffer values, int outer, int count, int inner, Buffer indices, Buffer out, int length) {
        CudaBuffer addends = cuda(values);
        CudaBuffer positions = cuda(indices);
        CudaBuffer target = cuda(out);
        if ((long) outer * count * inner == 0) {
            return;
        }
        CudaDevice device = this.device.get();
        int parts = CudaKernels.scatterParts(outer, count, inner, length);
        if (parts == 1) {
            device.withKernels(kernels -> kernels.scatterAdd(addends.address(), outer, count, inner,
                    positions.address(), target.address(), length));
            return;
        }
        // One stream: the partials go back to the allocator once the kernels that use them are queued.
        CudaBuffer partials = device.allocate((long) parts * outer * length * inner, false);
        try {
            device.withKernels(kernels -> kernels.scatterAddInParts(addends.address(), outer, count, inner,
                    positions.address(), target.address(), length, partials.address(), parts));
        } finally {
            device.release(partials);
        }
    }

    void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        CudaBuffer input = cuda(x);
        CudaBuffer maxima = cuda(values);
        CudaBuffer oneHot = mask == null ? null : cuda(mask);
        if ((long) outer * inner == 0 || length == 0) {
            return;
        }
        device.get().withKernels(kernels -> kernels.maxAxis(input.address(), maxima.address(),
                oneHot == null ? 0 : oneHot.address(), outer, length, inner));
    }

    void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        CudaBuffer input = cuda(x);
        CudaBuffer result = cuda(out);
        if ((long) outer * inner == 0 || length == 0) {
            return;
        }
        device.get().withKernels(kernels -> kernels.softmax(input.address(), result.address(), outer, length, inner,
                log));
    }
}
