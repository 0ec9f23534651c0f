package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.Arrays;
import java.util.function.Supplier;

import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaKernels;
import org.adjoint.cuda.internal.KernelCodes;
import org.adjoint.cuda.internal.StridedArgument;
import org.adjoint.cuda.internal.SumSplit;

/**
 * The operations of a {@link CudaBackend} over strided views, each one launch of a kernel that
 * reads a {@link StridedArgument}: element-wise binary operations with broadcasting, strided
 * copies, masked fills, and sums down to a broadcast shape (split, see {@link SumSplit}, when
 * they are long). The views are checked against their buffers here, since the kernels trust
 * their addresses. Each launch reads its buffers' addresses inside {@code withKernels}, under
 * the device's lock: see {@link CudaDevice}.
 */
final class CudaStrided {

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaStrided(Supplier<CudaDevice> device) {
        this.device = device;
    }

    void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape) {
        // The views checked as with offsets: the kernel trusts them.
        binary(op, lhs, 0, lhsStrides, rhs, 0, rhsStrides, out, shape);
    }

    void binary(BinaryOp op, Buffer lhs, long lhsOffset, int[] lhsStrides, Buffer rhs, long rhsOffset,
                int[] rhsStrides, Buffer out, int[] shape) {
        twoViews("binary", "left operand", lhs, lhsOffset, lhsStrides, "right operand", rhs, rhsOffset, rhsStrides,
                out, shape, (kernels, l, r, result, strided) -> kernels.binary(KernelCodes.binary(op), l, r, result,
                        strided));
    }

    void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] shape) {
        CudaBuffer source = cuda(src);
        CudaBuffer result = cuda(out);
        StridedArgument strided = StridedArgument.of(shape, srcStrides, null);
        if (strided.count() == 0) {
            return;
        }
        // The whole source view, not only its first element, must lie in the buffer.
        checkView("copyStrided", "source", source, srcOffset, srcStrides, shape);
        if (outOffset < 0 || outOffset + strided.count() > result.size()) {
            throw new IllegalArgumentException("cuda copyStrided: " + strided.count() + " elements at offset " + outOffset
                    + " do not fit a buffer of " + result.size() + " elements");
        }
        long first = srcOffset * Float.BYTES;
        long target = outOffset * Float.BYTES;
        device.get().withKernels(kernels -> kernels.copyStrided(source.address() + first, result.address() + target,
                strided));
    }

    void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] outStrides,
                     int[] shape) {
        CudaBuffer source = cuda(src);
        CudaBuffer result = cuda(out);
        StridedArgument strided = StridedArgument.of(shape, srcStrides, outStrides);
        if (strided.count() == 0) {
            return;
        }
        checkView("copyStrided", "source", source, srcOffset, srcStrides, shape);
        checkView("copyStrided", "output", result, outOffset, outStrides, shape);
        device.get().withKernels(kernels -> kernels.copyStridedTo(source.address(srcOffset), result.address(outOffset),
                strided));
    }

    void maskedFill(Buffer x, long xOffset, int[] xStrides, Buffer mask, long maskOffset, int[] maskStrides,
                    float value, Buffer out, int[] shape) {
        twoViews("maskedFill", "operand", x, xOffset, xStrides, "mask", mask, maskOffset, maskStrides, out, shape,
                (kernels, from, where, result, strided) -> kernels.maskedFill(from, where, value, result, strided));
    }

    /** One launch over two strided views and a contiguous result, given their device addresses. */
    @FunctionalInterface
    private interface TwoViewLaunch {
        void launch(CudaKernels kernels, long first, long second, long result, StridedArgument strided);
    }

    /**
     * Checks two strided views against their buffers and the contiguous result against its
     * size, then launches; nothing for an empty shape. The result's address is read under the
     * device's lock, like every address a launch reads after the checks.
     */
    private void twoViews(String op, String firstName, Buffer first, long firstOffset, int[] firstStrides,
                          String secondName, Buffer second, long secondOffset, int[] secondStrides, Buffer out,
                          int[] shape, TwoViewLaunch launch) {
        Operands operands = Operands.of(first, firstStrides, second, secondStrides, out, shape);
        if (operands == null) {
            return;
        }
        checkView(op, firstName, operands.first(), firstOffset, firstStrides, shape);
        checkView(op, secondName, operands.second(), secondOffset, secondStrides, shape);
        checkFits(op, operands.strided().count(), operands.result());
        device.get().withKernels(kernels -> launch.launch(kernels, operands.first().address(firstOffset),
                operands.second().address(secondOffset), operands.result().address(), operands.strided()));
    }

    /**
     * The buffers and the index space of a launch over two strided operands.
     *
     * @param first   the first operand's buffer
     * @param second  the second's
     * @param result  the result's
     * @param strided the shape and both operands' strides
     */
    private record Operands(CudaBuffer first, CudaBuffer second, CudaBuffer result, StridedArgument strided) {
        /** The operands, or {@code null} when the shape is empty. */
        static Operands of(Buffer first, int[] firstStrides, Buffer second, int[] secondStrides, Buffer out,
                           int[] shape) {
            Operands operands = new Operands(cuda(first), cuda(second), cuda(out),
                    StridedArgument.of(shape, firstStrides, secondStrides));
            return operands.strided.count() == 0 ? null : operands;
        }
    }

    void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        CudaBuffer source = cuda(src);
        CudaBuffer result = cuda(out);
        StridedArgument strided = StridedArgument.of(shape, outStrides, null);
        if (strided.count() == 0) {
            // A sum over nothing: every output element is 0.
            device.get().fill(result, 0, result.size(), 0f);
            return;
        }
        sumInto(source, result, strided);
    }

    /** A sum over a non-empty index space, split (see {@link SumSplit}) when it is long. */
    private void sumInto(CudaBuffer source, CudaBuffer result, StridedArgument strided) {
        CudaDevice gpu = device.get();
        SumSplit split = SumSplit.of(strided);
        long rows = strided.count() / strided.keptCount();
        if (!split.single() && rows <= COLUMN_SUMS_MAX_ROWS && sumsLeadingAxes(strided)) {
            // A bias gradient's shape: one launch instead of a split sum's two (and its partials).
            long cols = strided.keptCount();
            gpu.withKernels(kernels -> kernels.columnSums(source.address(), rows, cols, result.address()));
            return;
        }
        if (split.single()) {
            gpu.withKernels(kernels -> kernels.sumTo(source.address(), result.address(), strided, split.outCount()));
            return;
        }
        // One stream: the partials can go back to the allocator as soon as the last kernel that
        // reads them is queued.
        CudaBuffer partials = gpu.allocate(split.partialCount(), false);
        try {
            gpu.withKernels(kernels -> kernels.sumToParts(source.address(), partials.address(), strided, split));
            sumInto(partials, result, split.partialsSum(strided));
        } finally {
            gpu.release(partials);
        }
    }

    /**
     * Rows up to which a sum over the leading axes runs as {@code column_sums}: each of its
     * threads adds {@code rows / 8} elements one after another, which a split sum would spread
     * over many more threads on a long sum.
     */
    static final long COLUMN_SUMS_MAX_ROWS = 4096;

    /**
     * Whether a sum reduces the leading axes of a contiguous source into its trailing ones,
     * kept contiguous: a {@code [rows, cols]} column sum.
     */
    static boolean sumsLeadingAxes(StridedArgument strided) {
        long[] shape = strided.shape();
        long[] a = strided.a();
        int first = 0;
        while (first < shape.length && a[first] == 0) {
            first++;
        }
        long stride = 1;
        for (int axis = shape.length - 1; axis >= first; axis--) {
            if (a[axis] != stride) {
                return false;
            }
            stride *= shape[axis];
        }
        return first > 0 && first < shape.length;
    }

    /**
     * Refuses a strided view (not empty) that reaches outside its buffer. The launch reads the
     * view's address inside {@code withKernels}, from the buffer it captures.
     */
    private static void checkView(String op, String what, CudaBuffer buffer, long offset, int[] strides, int[] shape) {
        long last = offset;
        for (int axis = 0; axis < shape.length; axis++) {
            last += (long) (shape[axis] - 1) * strides[axis];
        }
        if (offset < 0 || last >= buffer.size()) {
            throw new IllegalArgumentException("cuda " + op + ": the " + what + " view at offset " + offset + " with strides "
                    + Arrays.toString(strides) + " over " + Arrays.toString(shape)
                    + " reaches outside a buffer of " + buffer.size() + " elements");
        }
    }

    /** Refuses a contiguous output of {@code count} elements that does not fit {@code result}. */
    private static void checkFits(String op, long count, CudaBuffer result) {
        if (count > result.size()) {
            throw new IllegalArgumentException("cuda " + op + ": " + count + " elements do not fit a buffer of "
                    + result.size() + " elements");
        }
    }
}
