package org.adjoint.kernels.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The {@code struct AttentionLayout} the attention kernels of {@code adjoint.cu} take by value:
 * where each operand's rows lie, so that the heads of a {@code [batch, time, heads, width]}
 * tensor are read and written in place. Row {@code r} of batch item {@code b = o · heads + h}
 * of an operand starts at element {@code o · outer + h · head + r · row}.
 */
public final class AttentionLayout {

    /** Size in bytes of the struct. */
    public static final int BYTES = 200;

    /** Operand slots, in the struct's order. */
    public static final int Q = 0;
    /** Keys. */
    public static final int K = 1;
    /** Values. */
    public static final int V = 2;
    /** The forward output. */
    public static final int OUT = 3;
    /** The output's cotangent. */
    public static final int D_OUT = 4;
    /** The queries' gradient. */
    public static final int DQ = 5;
    /** The keys' gradient. */
    public static final int DK = 6;
    /** The values' gradient. */
    public static final int DV = 7;

    private static final int OPERANDS = 8;

    private final long heads;
    private final long[][] rows = new long[OPERANDS][3];

    /**
     * A layout with every operand packed {@code [batch, rows, width]} until set otherwise.
     *
     * @param heads batch items per outer step ({@code 1} for packed operands), at least 1
     */
    public AttentionLayout(long heads) {
        if (heads < 1) {
            throw new IllegalArgumentException("AttentionLayout: heads must be at least 1, got " + heads);
        }
        this.heads = heads;
    }

    /**
     * Sets one operand's strides.
     *
     * @param operand {@link #Q} to {@link #DV}
     * @param outer   elements between outer batch steps
     * @param head    elements between heads
     * @param row     elements between rows
     * @return this layout
     */
    public AttentionLayout operand(int operand, long outer, long head, long row) {
        rows[operand][0] = outer;
        rows[operand][1] = head;
        rows[operand][2] = row;
        return this;
    }

    /**
     * Sets one operand as packed {@code [batch, rows, width]} items (with {@code heads == 1}).
     *
     * @param operand {@link #Q} to {@link #DV}
     * @param rowCount rows per item
     * @param width    elements per row
     * @return this layout
     */
    public AttentionLayout packed(int operand, long rowCount, long width) {
        return operand(operand, rowCount * width * heads, rowCount * width, width);
    }

    /**
     * The struct's bytes, little-endian.
     *
     * @return {@value #BYTES} bytes
     */
    public byte[] encode() {
        ByteBuffer bytes = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(heads);
        for (long[] operand : rows) {
            for (long stride : operand) {
                bytes.putLong(stride);
            }
        }
        return bytes.array();
    }
}
