package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.lang.ref.Reference;
import java.util.function.Supplier;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ReductionOps;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaKernels;

/**
 * The layer norm kernels of a {@link CudaBackend} ({@code NormalizationOps}): one launch
 * forward; backward, the input's gradient in one launch and the weight's in one, or, over many
 * rows, in parts whose partial sums the backend's {@code sumTo} adds
 * ({@link CudaKernels#layerNormRowsPerPart}).
 */
final class CudaNormalization {

    private final Supplier<CudaDevice> device;
    private final ReductionOps sums;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     * @param sums   the backend's sums, which add the weight gradient's parts
     */
    CudaNormalization(Supplier<CudaDevice> device, ReductionOps sums) {
        this.device = device;
        this.sums = sums;
    }

    void forward(Buffer x, Buffer weight, Buffer bias, int rows, int size, float eps, Buffer out, Buffer mean,
                 Buffer rstd) {
        if (rows == 0) {
            return;
        }
        CudaBuffer input = cuda(x);
        CudaBuffer scale = weight == null ? null : cuda(weight);
        CudaBuffer shift = bias == null ? null : cuda(bias);
        CudaBuffer result = cuda(out);
        CudaBuffer means = cuda(mean);
        CudaBuffer deviations = cuda(rstd);
        // The addresses read under the device's lock, from the buffers the launch holds (see CudaDevice).
        device.get().withKernels(kernels -> kernels.layerNorm(input.address(), scale == null ? 0 : scale.address(),
                shift == null ? 0 : shift.address(), rows, size, eps, result.address(), means.address(),
                deviations.address()));
    }

    void backward(Buffer x, Buffer weight, Buffer mean, Buffer rstd, Buffer cotangent, int rows, int size, Buffer dx,
                  Buffer dweight) {
        if (rows == 0) {
            if (dweight != null) {
                CudaBuffer target = cuda(dweight);
                device.get().fill(target, 0, target.size(), 0f);
            }
            return;
        }
        long input = cuda(x).address();
        long scale = weight == null ? 0 : cuda(weight).address();
        long means = cuda(mean).address();
        long deviations = cuda(rstd).address();
        long dy = cuda(cotangent).address();
        if (dweight != null) {
            int rowsPerPart = CudaKernels.layerNormRowsPerPart(rows, size);
            int parts = Math.ceilDiv(rows, rowsPerPart);
            if (parts == 1) {
                long out = cuda(dweight).address();
                device.get().withKernels(kernels -> kernels.layerNormGradWeight(input, means, deviations, dy, rows,
                        size, rowsPerPart, out));
            } else {
                // Many rows: partial sums over parts of the rows, then one sum over the parts.
                CudaBuffer partials = device.get().allocate((long) parts * size, false);
                try {
                    device.get().withKernels(kernels -> kernels.layerNormGradWeight(input, means, deviations, dy,
                            rows, size, rowsPerPart, partials.address()));
                    sums.sumTo(partials, new int[] {parts, size}, dweight, new int[] {0, 1});
                } finally {
                    device.get().release(partials);
                }
            }
        }
        if (dx != null) {
            long out = cuda(dx).address();
            device.get().withKernels(kernels -> kernels.layerNormGrad(input, scale, means, deviations, dy, rows, size,
                    out));
        }
        // The addresses read at the top were used after allocations (the partial sums): the
        // buffers had to stay reachable until every launch was queued.
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(weight);
        Reference.reachabilityFence(mean);
        Reference.reachabilityFence(rstd);
        Reference.reachabilityFence(cotangent);
        Reference.reachabilityFence(dx);
        Reference.reachabilityFence(dweight);
    }
}
