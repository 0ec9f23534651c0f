package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.lang.ref.Reference;
import java.util.function.Supplier;

import org.adjoint.backend.AttentionOps;
import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.kernels.cuda.AttentionLayout;
import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * The fused attention kernels of a {@link CudaBackend}, forward and backward, for rows up to
 * {@link CudaKernelSource#ATTENTION_MAX_DIM} wide; each method answers whether it ran, and the
 * backend, which alone can call the SPI's composed default, runs that where it did not. The kernels read and write each
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
     * Whether the kernels take these operands: rows at most
     * {@link CudaKernelSource#ATTENTION_MAX_DIM} wide, over at most two batch axes (sequences,
     * then heads) where they lie.
     */
    private static boolean fits(int[] batchShape, int d, int dv) {
        return d <= CudaKernelSource.ATTENTION_MAX_DIM && dv <= CudaKernelSource.ATTENTION_MAX_DIM
                && batchShape.length <= 2;
    }

    /**
     * The kernels' layout of operands over {@code batchShape} ({@link #fits}): batch
     * item {@code b = o · heads + h} with {@code heads} the last of two axes.
     *
     * @param batchShape the batch axes, at most two ({@link #fits})
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

    /**
     * The packed form's forward, if the kernels take it.
     *
     * @return whether it ran (else the caller runs the SPI's default)
     */
    boolean forward(Buffer q, Buffer k, Buffer v, int batch, int t, int s, int d, int dv, boolean causal, float scale,
                    Buffer out, Buffer logSumExp) {
        int[] items = {batch};
        return forward(q, Rows.packed(0, items, t, d), k, Rows.packed(0, items, s, d), v, Rows.packed(0, items, s, dv),
                items, t, s, d, dv, causal, scale, out, Rows.packed(0, items, t, dv), logSumExp);
    }

    /**
     * The packed form's backward, if the kernels take it (dq, dk, dv one after another in {@code grads}).
     *
     * @return whether it ran (else the caller runs the SPI's default)
     */
    boolean backward(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch, int t, int s,
                     int d, int dv, boolean causal, float scale, Buffer grads) {
        int[] items = {batch};
        long dkAt = (long) batch * t * d;
        long dvAt = dkAt + (long) batch * s * d;
        return backward(q, Rows.packed(0, items, t, d), k, Rows.packed(0, items, s, d), v, Rows.packed(0, items, s, dv),
                out, Rows.packed(0, items, t, dv), logSumExp, dOut, Rows.packed(0, items, t, dv), items, t, s, d, dv,
                causal, scale, grads, Rows.packed(0, items, t, d), Rows.packed(dkAt, items, s, d),
                Rows.packed(dvAt, items, s, dv));
    }

    /**
     * The forward on operands where their rows lie, if the kernels take them.
     *
     * @return whether it ran (else the caller runs the SPI's default)
     */
    boolean forward(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t, int s,
                    int d, int dv, boolean causal, float scale, Buffer out, Rows outRows, Buffer logSumExp) {
        if (!fits(batchShape, d, dv)) {
            return false;
        }
        int batch = AttentionOps.batchItems(batchShape);
        if ((long) batch * t == 0) {
            return true;
        }
        CudaBuffer queries = cuda(q);
        CudaBuffer keys = cuda(k);
        CudaBuffer values = cuda(v);
        CudaBuffer result = cuda(out);
        CudaBuffer rows = cuda(logSumExp);
        AttentionLayout layout = layout(batchShape, qRows, kRows, vRows, outRows);
        // The addresses read under the device's lock, from the buffers the launch holds (see CudaDevice).
        device.get().withKernels(kernels -> kernels.attention().forward(queries.address(qRows.offset()),
                keys.address(kRows.offset()), values.address(vRows.offset()), result.address(outRows.offset()),
                rows.address(), batch, t, s, d, dv, causal, scale, layout));
        return true;
    }

    /**
     * The backward on operands where their rows lie, if the kernels take them (not for an
     * empty pass, whose gradients the default zeroes).
     *
     * @return whether it ran (else the caller runs the SPI's default)
     */
    boolean backward(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out, Rows outRows,
                     Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t, int s, int d, int dv,
                     boolean causal, float scale, Buffer grads, Rows dqRows, Rows dkRows, Rows dvRows) {
        int batch = AttentionOps.batchItems(batchShape);
        if (!fits(batchShape, d, dv) || (long) batch * t == 0) {
            return false;
        }
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
            device.get().withKernels(kernels -> kernels.attention().backward(queries, keys, values, output, rows, cotangent,
                    rowDot.address(), dq, dk, dvAt, batch, t, s, d, dv, causal, scale, layout));
        } finally {
            device.get().release(rowDot);
            // The addresses read above were used after an allocation: the buffers had to stay
            // reachable until the launch was queued, or rowDot could have been one of them.
            Reference.reachabilityFence(q);
            Reference.reachabilityFence(k);
            Reference.reachabilityFence(v);
            Reference.reachabilityFence(out);
            Reference.reachabilityFence(logSumExp);
            Reference.reachabilityFence(dOut);
            Reference.reachabilityFence(grads);
        }
        return true;
    }
}
