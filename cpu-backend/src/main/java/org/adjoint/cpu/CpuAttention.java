package org.adjoint.cpu;

import static org.adjoint.cpu.CpuBuffer.data;

import java.util.Arrays;

import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Buffer;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.kernels.MatrixRows;

/**
 * The fused attention of a {@link CpuBackend}: contiguous operands straight to the kernels,
 * strided ones as {@link MatrixRows} after a bounds check (the kernels trust their arguments).
 */
final class CpuAttention {

    private final KernelProvider kernels;

    CpuAttention(KernelProvider kernels) {
        this.kernels = kernels;
    }

    void attention(Buffer q, Buffer k, Buffer v, int batch, int t, int s, int d, int dv, boolean causal, float scale,
                   Buffer out, Buffer logSumExp) {
        kernels.attention(data(q), data(k), data(v), batch, t, s, d, dv, causal, scale, data(out), data(logSumExp));
    }

    void attention(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t, int s,
                   int d, int dv, boolean causal, float scale, Buffer out, Rows outRows, Buffer logSumExp) {
        String op = "cpu attention";
        kernels.attention(rows(op, "q", q, qRows, batchShape, t, d), rows(op, "k", k, kRows, batchShape, s, d),
                rows(op, "v", v, vRows, batchShape, s, dv), batchShape, t, s, d, dv, causal, scale,
                rows(op, "out", out, outRows, batchShape, t, dv), data(logSumExp));
    }

    void attentionGrad(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch, int t,
                       int s, int d, int dv, boolean causal, float scale, Buffer grads) {
        kernels.attentionGrad(data(q), data(k), data(v), data(out), data(logSumExp), data(dOut), batch, t, s, d, dv,
                causal, scale, data(grads));
    }

    void attentionGrad(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out, Rows outRows,
                       Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t, int s, int d, int dv,
                       boolean causal, float scale, Buffer grads, Rows dqRows, Rows dkRows, Rows dvRows) {
        String op = "cpu attentionGrad";
        kernels.attentionGrad(rows(op, "q", q, qRows, batchShape, t, d), rows(op, "k", k, kRows, batchShape, s, d),
                rows(op, "v", v, vRows, batchShape, s, dv), rows(op, "out", out, outRows, batchShape, t, dv),
                data(logSumExp), rows(op, "dOut", dOut, dOutRows, batchShape, t, dv), batchShape, t, s, d, dv, causal,
                scale, rows(op, "dq", grads, dqRows, batchShape, t, d), rows(op, "dk", grads, dkRows, batchShape, s, d),
                rows(op, "dv", grads, dvRows, batchShape, s, dv));
    }

    /**
     * A buffer's rows as the kernels take them, after checking that every one of the
     * {@code batchShape} items' {@code count} rows of {@code width} lies inside the buffer (the
     * kernels trust their arguments).
     */
    private static MatrixRows rows(String operation, String name, Buffer buffer, Rows rows, int[] batchShape, int count,
                                   int width) {
        float[] data = data(buffer);
        int[] strides = rows.batchStrides();
        if (strides.length != batchShape.length) {
            throw new IllegalArgumentException(operation + ": " + name + " has " + strides.length
                    + " batch strides for the batch shape " + Arrays.toString(batchShape));
        }
        long low = rows.offset();
        long high = rows.offset();
        boolean empty = count == 0 || width == 0;
        for (int axis = 0; axis < strides.length; axis++) {
            empty |= batchShape[axis] == 0;
            long reach = (long) (batchShape[axis] - 1) * strides[axis];
            low += Math.min(0, reach);
            high += Math.max(0, reach);
        }
        long rowReach = (long) (count - 1) * rows.rowStride();
        low += Math.min(0, rowReach);
        high += Math.max(0, rowReach) + width;
        if (!empty && (low < 0 || high > data.length)) {
            throw new IllegalArgumentException(operation + ": " + name + " (offset " + rows.offset() + ", batch strides "
                    + Arrays.toString(strides) + ", row stride " + rows.rowStride() + ", " + count
                    + " rows of " + width + " per item, batch shape " + Arrays.toString(batchShape)
                    + ") reaches elements " + low + " to " + high + ", outside its buffer of " + data.length);
        }
        return new MatrixRows(data, (int) Math.min(Integer.MAX_VALUE, rows.offset()), strides, rows.rowStride());
    }
}
