package org.adjoint.cuda.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * How a {@code sumTo} is split across the device. {@code sum_to} gives each output element
 * one thread, which is right when there are many outputs; a bias gradient (a few thousand
 * outputs, each a sum over the batch) or a full sum (one output) would then run on a handful
 * of threads walking long sums one load after another. Such a sum is split instead:
 * {@code sum_to_parts} deals each output's summed positions to {@link #parts()} partial sums,
 * and a second {@code sumTo} over the partials, itself split again when it is still long,
 * adds them up.
 *
 * <p>The split depends on the shape alone, never on the device, so a sum gives the same bits
 * on every GPU. It differs from the CPU's left-to-right order (within float rounding), as
 * PyTorch's device sums do.
 *
 * @param parts      partial sums per output, 1 for a single {@code sum_to}
 * @param partsInner whether the partials are laid out {@code [outputs][parts]} (when the
 *                   source's innermost axis is summed, so that neighbouring threads read
 *                   neighbouring elements) rather than {@code [parts][outputs]}
 * @param outCount   output elements
 */
public record SumSplit(long parts, boolean partsInner, long outCount) {

    /** About this many threads in the first pass: enough loads in flight to fill a large GPU. */
    static final long TARGET_THREADS = 1L << 17;
    /** Each partial sum adds at least this many elements, so each pass shrinks the data 64-fold. */
    static final long MIN_PER_PART = 64;

    /**
     * The split of a sum.
     *
     * @param strided the sum's index space ({@code a}: output strides, 0 on summed axes), not empty
     * @return the split
     */
    public static SumSplit of(StridedArgument strided) {
        long outCount = strided.keptCount();
        long summed = strided.count() / outCount;
        long[] a = strided.a();
        boolean partsInner = a[a.length - 1] == 0;
        if (summed < 2 * MIN_PER_PART) {
            return new SumSplit(1, partsInner, outCount);
        }
        long parts = Math.min(Math.ceilDiv(TARGET_THREADS, outCount), summed / MIN_PER_PART);
        return new SumSplit(parts, partsInner, outCount);
    }

    /**
     * Whether the sum runs as one {@code sum_to}.
     *
     * @return true when there is nothing to split
     */
    public boolean single() {
        return parts == 1;
    }

    /**
     * Number of partial sums the first pass writes.
     *
     * @return {@code outCount · parts}
     */
    public long partialCount() {
        return Math.multiplyExact(outCount, parts);
    }

    /**
     * The second pass: the partials (contiguous, laid out as {@link #partsInner()} says) summed
     * over their part axis into the original output.
     *
     * @param strided the first pass's index space
     * @return the index space of the sum over the partials
     */
    public StridedArgument partialsSum(StridedArgument strided) {
        long[] shape = strided.shape();
        long[] a = strided.a();
        List<long[]> axes = new ArrayList<>();
        if (!partsInner) {
            axes.add(new long[] {parts, 0});
        }
        for (int axis = 0; axis < shape.length; axis++) {
            if (a[axis] != 0) {
                axes.add(new long[] {shape[axis], a[axis]});
            }
        }
        if (partsInner) {
            axes.add(new long[] {parts, 0});
        }
        long[] partialShape = new long[axes.size()];
        long[] outStrides = new long[axes.size()];
        for (int axis = 0; axis < partialShape.length; axis++) {
            partialShape[axis] = axes.get(axis)[0];
            outStrides[axis] = axes.get(axis)[1];
        }
        return StridedArgument.of(partialShape, outStrides, null);
    }
}
