package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.function.Supplier;

import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.kernels.cuda.AttentionLayout;
import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * The fused attention kernels of a {@link CudaBackend}, forward and backward, for rows up to
 * {@link CudaKernelSource#ATTENTION_MAX_DIM} wide; the backend takes the SPI's composed
 * default beyond that (and for an empty backward pass). The kernels read and write each
 * operand where its {@link Rows} say, with one or two batch axes (the heads of a
 * {@code [batch, time, heads, width]} tensor read in place, without the default's copies).
 */
final class CudaAttention {

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaAttention(Supplier<CudaDevice> device) {
        this.device = device;
    }

    /**
     * Whether the kernels can take operands over these batch axes where they lie: at most two
     * axes (sequences, then heads), strides that fit the kernel's arithmetic.
     *
     * @param batchShape the batch axes
     * @return whether {@link #layout} describes them
     */
    static boolean readsInPlace(int[] batchShape) {
        return batchShape.length <= 2;
    }

    /**
     * The kernels' layout of operands over {@code batchShape} ({@link #readsInPlace}): batch
     * item {@code b = o · heads + h} with {@code heads} the last of two axes.
     *
     * @param batchShape the batch axes, at most two
     * @param rows       each operand's rows in {@link AttentionLayout}'s order, null where unused
     * @return the layout
     */
    static AttentionLayout layout(int[] batchShape, Rows... rows) {
        int heads = batchShape.length == 2 ? batchShape[1] : 1;
        AttentionLayout layout = new AttentionLayout(Math.max(1, heads));
        for (int operand = 0; operand < rows.length; operand++) {
            Rows r = rows[operand];
            if (r == null) {
                continue;
            }
            int[] strides = r.batchStrides();
            long outer = strides.length >= 1 ? strides[0] : 0;
            long head = strides.length == 2 ? strides[1] : 0;
            layout.operand(operand, outer, head, r.rowStride());
        }
        return layout;
    }

    void forward(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t, int s,
                 int d, int dv, boolean causal, float scale, Buffer out, Rows outRows, Buffer logSumExp) {
        int batch = items(batchShape);
        if ((long) batch * t == 0) {
            return;
        }
        long queries = cuda(q).address(qRows.offset());
        long keys = cuda(k).address(kRows.offset());
        long values = cuda(v).address(vRows.offset());
        long result = cuda(out).address(outRows.offset());
        long rows = cuda(logSumExp).address();
        AttentionLayout layout = layout(batchShape, qRows, kRows, vRows, outRows);
        device.get().withKernels(kernels -> kernels.attention(queries, keys, values, result, rows, batch, t, s, d,
                dv, causal, scale, layout));
    }

    void backward(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out, Rows outRows,
                  Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t, int s, int d, int dv,
                  boolean causal, float scale, Buffer grads, Rows dqRows, Rows dkRows, Rows dvRows) {
        int batch = items(batchShape);
        long queries = cuda(q).address(qRows.offset());
        long keys = cuda(k).address(kRows.offset());
        long values = cuda(v).address(vRows.offset());
        long output = cuda(out).address(outRows.offset());
        long rows = cuda(logSumExp).address();
        long cotangent = cuda(dOut).address(dOutRows.offset());
        CudaBuffer result = cuda(grads);
        long dq = result.address(dqRows.offset());
        long dk = result.address(dkRows.offset());
        long dvAt = result.address(dvRows.offset());
        AttentionLayout layout = layout(batchShape, qRows, kRows, vRows, outRows, dOutRows, dqRows, dkRows, dvRows);
        // attention_backward_query writes every row's dot product before attention_backward_key reads it.
        CudaBuffer rowDot = device.get().allocate((long) batch * t, false);
        try {
            device.get().withKernels(kernels -> kernels.attentionGrad(queries, keys, values, output, rows, cotangent,
                    rowDot.address(), dq, dk, dvAt, batch, t, s, d, dv, causal, scale, layout));
        } finally {
            device.get().release(rowDot);
        }
    }

    private static int items(int[] batchShape) {
        int batch = 1;
        for (int axis : batchShape) {
            batch = Math.multiplyExact(batch, axis);
        }
        return batch;
    }
}
