package org.adjoint.cuda.internal;

import org.adjoint.kernels.cuda.AttentionLayout;
import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * The attention kernels of {@code adjoint.cu}, by the widest row they take:
 * {@code attention_forward_W}, {@code attention_backward_query_W} and
 * {@code attention_backward_key_W} for W = 32, 64, 128, which give a row one, two or four lanes.
 * Reached through {@link CudaKernels#attention()}, under the device's lock.
 */
public final class AttentionLaunches {

    /** Query or key rows of an attention block (ADJOINT_ATTENTION_ROWS_PER_BLOCK): as many threads for each lane of a row. */
    private static final int ROWS_PER_BLOCK = 64;

    private final CudaKernels kernels;

    AttentionLaunches(CudaKernels kernels) {
        this.kernels = kernels;
    }

    /**
     * Attention forward ({@code attention_forward_W}, W the narrowest of 32, 64 and 128 that
     * holds {@code d} and {@code dv}: one, two or four lanes to a query row): a block per (batch
     * item, tile of 64 queries), grid-stride over tiles.
     *
     * @param q         {@code [batch, t, d]}
     * @param k         {@code [batch, s, d]}
     * @param v         {@code [batch, s, dv]}
     * @param out       {@code [batch, t, dv]}
     * @param logSumExp {@code [batch, t]}
     * @param batch     batch items
     * @param t         queries
     * @param s         keys, at least 1
     * @param d         query and key width, at most {@link CudaKernelSource#ATTENTION_MAX_DIM}
     * @param dv        value width, at most {@link CudaKernelSource#ATTENTION_MAX_DIM}
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     factor of the scores
     * @param layout    where each operand's rows lie ({@code logSumExp} is packed)
     */
    public void forward(long q, long k, long v, long out, long logSumExp, int batch, int t, int s, int d, int dv,
                          boolean causal, float scale, AttentionLayout layout) {
        int lanes = attentionLanes(d, dv);
        kernels.launch("attention_forward_" + 32 * lanes, attentionBlocks(batch, t), ROWS_PER_BLOCK * lanes,
                new KernelArguments().address(q).address(k).address(v).address(out).address(logSumExp).i32(batch).i32(t)
                        .i32(s).i32(d).i32(dv).i32(causal ? 1 : 0).f32(scale).struct(layout.encode()));
    }

    /**
     * Attention backward: {@code attention_backward_query_W} (dq and the row dots, tiles of
     * queries), then {@code attention_backward_key_W} (dk and dv, tiles of keys), W as for
     * {@link #forward}.
     *
     * @param q         {@code [batch, t, d]}
     * @param k         {@code [batch, s, d]}
     * @param v         {@code [batch, s, dv]}
     * @param out       the forward output
     * @param logSumExp what the forward wrote
     * @param dOut      the output's cotangent
     * @param rowDot    scratch, {@code [batch, t]}
     * @param dq        {@code [batch, t, d]}
     * @param dk        {@code [batch, s, d]}
     * @param dv        {@code [batch, s, dv]}
     * @param batch     batch items
     * @param t         queries
     * @param s         keys, at least 1
     * @param d         query and key width
     * @param valueWidth value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     factor of the scores
     * @param layout    where each operand's rows lie ({@code logSumExp} and {@code rowDot} are packed)
     */
    public void backward(long q, long k, long v, long out, long logSumExp, long dOut, long rowDot, long dq, long dk,
                              long dv, int batch, int t, int s, int d, int valueWidth, boolean causal, float scale,
                              AttentionLayout layout) {
        byte[] rows = layout.encode();
        int lanes = attentionLanes(d, valueWidth);
        int threads = ROWS_PER_BLOCK * lanes;
        kernels.launch("attention_backward_query_" + 32 * lanes, attentionBlocks(batch, t), threads,
                new KernelArguments().address(q).address(k).address(v).address(out).address(logSumExp).address(dOut)
                        .address(dq).address(rowDot).i32(batch).i32(t).i32(s).i32(d).i32(valueWidth)
                        .i32(causal ? 1 : 0).f32(scale).struct(rows));
        kernels.launch("attention_backward_key_" + 32 * lanes, attentionBlocks(batch, s), threads,
                new KernelArguments().address(q).address(k).address(v).address(logSumExp).address(dOut).address(rowDot)
                        .address(dk).address(dv).i32(batch).i32(t).i32(s).i32(d).i32(valueWidth)
                        .i32(causal ? 1 : 0).f32(scale).struct(rows));
    }

    /** Lanes to a row of the attention kernels: 1, 2 or 4, the fewest whose 32 columns each hold the widest row. */
    private static int attentionLanes(int d, int dv) {
        int widest = Math.max(d, dv);
        if (widest > CudaKernelSource.ATTENTION_MAX_DIM) {
            throw new IllegalArgumentException("attention kernels: rows of " + widest + " columns are wider than "
                    + CudaKernelSource.ATTENTION_MAX_DIM);
        }
        return widest <= 32 ? 1 : widest <= 64 ? 2 : 4;
    }

    /** Blocks for the attention kernels: a tile of 64 rows of each batch item, capped (they grid-stride). */
    private int attentionBlocks(int batch, int rows) {
        return (int) Math.max(1, Math.min(kernels.grid().cap(), (long) batch * Math.ceilDiv(rows, ROWS_PER_BLOCK)));
    }
}
