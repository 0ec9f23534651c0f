package org.adjoint.backend;

import java.util.List;

import org.adjoint.DType;

/**
 * The memory part of the required core: allocation by element type and count, transfers,
 * fill, cast and strided copy.
 */
public interface MemoryOps {

    /**
     * Allocates zero-filled storage.
     *
     * @param dtype the element type
     * @param count element count
     * @return a new buffer
     * @throws UnsupportedOperationException when the backend does not store {@code dtype}
     *                                       (see {@link #requireSupported})
     */
    Buffer allocate(DType dtype, long count);

    /**
     * Allocates zero-filled float32 storage.
     *
     * @param count element count
     * @return a new buffer
     */
    default Buffer allocate(long count) {
        return allocate(DType.F32, count);
    }

    /**
     * Allocates float32 storage whose contents are unspecified, for a caller that overwrites
     * every element before reading any (a GEMM with {@code beta = 0}, an im2col workspace). A
     * backend may skip the zero fill; the default allocates zero-filled storage.
     *
     * @param count element count
     * @return a new buffer
     */
    default Buffer allocateUninitialized(long count) {
        return allocate(count);
    }

    /**
     * Hands back a buffer that no tensor uses any more, so that the backend can reuse it for
     * a later {@link #allocate}. The engine calls this only for buffers it allocated and
     * never exposed (cotangents and temporaries of a backward pass); a backend that does not
     * pool ignores it. The buffer must not be used afterwards.
     *
     * @param buffer a buffer of this backend
     */
    default void release(Buffer buffer) {
    }

    /**
     * Copies host data into a new float32 buffer.
     *
     * @param data elements in order
     * @return a new buffer holding a copy of {@code data}
     */
    Buffer upload(float[] data);

    /**
     * Copies a float32 buffer to the host.
     *
     * @param buffer storage of this backend
     * @return a new array with every element
     */
    float[] download(Buffer buffer);

    /**
     * Sets every element to {@code value}.
     *
     * @param buffer updated in place
     * @param value  the value
     */
    void fill(Buffer buffer, float value);

    /**
     * Sets every element of every buffer to {@code value}: an optimizer's {@code zeroGrad}. The
     * default fills them one by one; a backend that launches work overrides it with one launch.
     *
     * @param buffers updated in place
     * @param value   the value
     */
    default void fill(List<Buffer> buffers, float value) {
        for (int i = 0; i < buffers.size(); i++) {
            fill(buffers.get(i), value);
        }
    }

    /**
     * Converts every element of {@code src} to {@code out}'s element type (same count). With
     * equal types it is a copy.
     *
     * @param src source
     * @param out destination of the same size
     * @throws UnsupportedOperationException when the backend cannot convert between the two types
     */
    void cast(Buffer src, Buffer out);

    /**
     * Gathers a strided view of {@code src} into a contiguous run of {@code out}: element
     * {@code (i0, i1, ...)} of the run, at {@code out[outOffset + row-major index]}, is
     * {@code src[srcOffset + i0·srcStrides[0] + ...]} (broadcast with stride 0, transpose with
     * swapped strides, a slice with an offset); the rest of {@code out} is left as it is.
     *
     * @param src        source
     * @param srcOffset  position of the view's first element in {@code src}
     * @param srcStrides stride per axis of {@code shape}
     * @param out        output
     * @param outOffset  where in {@code out} the contiguous run of {@code shape} starts
     * @param shape      iteration shape
     */
    void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] shape);

    /**
     * Copies a strided view of {@code src} into a strided view of {@code out}: element
     * {@code (i0, i1, ...)} of {@code shape} goes from {@code src[srcOffset + Σ ik·srcStrides[k]]}
     * to {@code out[outOffset + Σ ik·outStrides[k]]} (a slice of a larger tensor, as
     * concatenation and the adjoint of narrowing write); the rest of {@code out} is left as it
     * is. The output strides must not make two elements land on one place. The default copies
     * the longest trailing block that is contiguous in {@code out} with one
     * {@link #copyStrided(Buffer, long, int[], Buffer, long, int[])} per block.
     *
     * @param src        source
     * @param srcOffset  position of the first element in {@code src}
     * @param srcStrides stride per axis of {@code shape} in {@code src}
     * @param out        output
     * @param outOffset  position of the first element in {@code out}
     * @param outStrides stride per axis of {@code shape} in {@code out}
     * @param shape      iteration shape
     */
    default void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset,
                             int[] outStrides, int[] shape) {
        int rank = shape.length;
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        if (count == 0) {
            return;
        }
        // Axes from `block` on are contiguous in out, so one call copies them.
        int block = rank;
        long run = 1;
        while (block > 0 && (shape[block - 1] == 1 || outStrides[block - 1] == run)) {
            run *= shape[block - 1];
            block--;
        }
        int[] blockShape = java.util.Arrays.copyOfRange(shape, block, rank);
        int[] blockStrides = java.util.Arrays.copyOfRange(srcStrides, block, rank);
        int[] index = new int[block];
        long from = srcOffset;
        long to = outOffset;
        while (true) {
            copyStrided(src, from, blockStrides, out, to, blockShape);
            int axis = block - 1;
            while (axis >= 0) {
                index[axis]++;
                from += srcStrides[axis];
                to += outStrides[axis];
                if (index[axis] < shape[axis]) {
                    break;
                }
                from -= (long) srcStrides[axis] * shape[axis];
                to -= (long) outStrides[axis] * shape[axis];
                index[axis] = 0;
                axis--;
            }
            if (axis < 0) {
                return;
            }
        }
    }

    /**
     * {@link #copyStrided(Buffer, long, int[], Buffer, long, int[])} from offset 0 into offset 0.
     *
     * @param src        source
     * @param srcStrides stride per axis of {@code shape}
     * @param out        output, contiguous over {@code shape}
     * @param shape      iteration shape
     */
    default void copyStrided(Buffer src, int[] srcStrides, Buffer out, int[] shape) {
        copyStrided(src, 0, srcStrides, out, 0, shape);
    }

    /**
     * Refuses an element type the engine does not compute on yet (all but {@link DType#F32}),
     * with the exception every backend throws for it.
     *
     * @param backend   the backend's name
     * @param operation the operation asked for, such as {@code allocate}
     * @param dtype     the type asked for
     * @throws UnsupportedOperationException naming the backend, the operation and the type
     */
    static void requireSupported(String backend, String operation, DType dtype) {
        if (dtype != DType.F32) {
            throw new UnsupportedOperationException(backend + " backend: " + operation + ": element type " + dtype
                    + " is not supported (only " + DType.F32 + " is computed on so far)");
        }
    }
}
