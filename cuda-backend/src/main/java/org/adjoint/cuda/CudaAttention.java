package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.function.Supplier;

import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * The fused attention kernels of a {@link CudaBackend}, forward and backward, for rows up to
 * {@link CudaKernelSource#ATTENTION_MAX_DIM} wide; the backend takes the SPI's composed
 * default beyond that (and for an empty backward pass).
 */
final class CudaAttention {

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaAttention(Supplier<CudaDevice> device) {
        this.device = device;
    }

    void forward(Buffer q, Buffer k, Buffer v, int batch, int t, int s, int d, int dv, boolean causal, float scale,
                 Buffer out, Buffer logSumExp) {
        CudaBuffer queries = cuda(q);
        CudaBuffer keys = cuda(k);
        CudaBuffer values = cuda(v);
        CudaBuffer result = cuda(out);
        CudaBuffer rows = cuda(logSumExp);
        if ((long) batch * t == 0) {
            return;
        }
        device.get().withKernels(kernels -> kernels.attention(queries.address(), keys.address(), values.address(),
                result.address(), rows.address(), batch, t, s, d, dv, causal, scale));
    }

    void backward(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch, int t, int s,
                  int d, int dv, boolean causal, float scale, Buffer grads) {
        CudaBuffer queries = cuda(q);
        CudaBuffer keys = cuda(k);
        CudaBuffer values = cuda(v);
        CudaBuffer output = cuda(out);
        CudaBuffer rows = cuda(logSumExp);
        CudaBuffer cotangent = cuda(dOut);
        CudaBuffer result = cuda(grads);
        // attention_backward_query writes every row's dot product before attention_backward_key reads it.
        CudaBuffer rowDot = device.get().allocate((long) batch * t, false);
        long dkAt = (long) batch * t * d;
        long dvAt = dkAt + (long) batch * s * d;
        try {
            device.get().withKernels(kernels -> kernels.attentionGrad(queries.address(), keys.address(),
                    values.address(), output.address(), rows.address(), cotangent.address(), rowDot.address(),
                    result.address(), result.address(dkAt), result.address(dvAt), batch, t, s, d, dv, causal, scale));
        } finally {
            device.get().release(rowDot);
        }
    }
}
