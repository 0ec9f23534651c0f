package org.adjoint.backend;

/**
 * In-place updates that optimizers and gradient accumulation use. A backend may also offer
 * {@link FusedAdam}, an optional one-pass Adam update.
 */
public interface UpdateOps extends BackendCore {

    /**
     * {@code y += alpha · x} in place, element by element (same size).
     *
     * @param alpha scale of {@code x}
     * @param x     the addend
     * @param y     updated in place
     */
    default void axpy(float alpha, Buffer x, Buffer y) {
        int n = Scratch.count("axpy", x);
        if (n == 0) {
            return;
        }
        Buffer scale = Scratch.scalar(this, alpha);
        Buffer scaled = allocate(n);
        try {
            binary(BinaryOp.MUL, scale, new int[] {0}, x, new int[] {1}, scaled, new int[] {n});
            binary(BinaryOp.ADD, y, new int[] {1}, scaled, new int[] {1}, y, new int[] {n});
        } finally {
            release(scaled);
            release(scale);
        }
    }

    /**
     * {@code ys[i] += alpha · xs[i]} for the first {@code count} pairs, each as
     * {@link #axpy(float, Buffer, Buffer)} gives it, in order (a {@code y} may appear twice). The
     * default calls {@code axpy} per pair; a backend that launches work overrides it with one
     * launch for all.
     *
     * @param alpha scale of the addends
     * @param xs    the addends
     * @param ys    updated in place
     * @param count how many leading pairs
     */
    default void axpy(float alpha, Buffer[] xs, Buffer[] ys, int count) {
        for (int i = 0; i < count; i++) {
            axpy(alpha, xs[i], ys[i]);
        }
    }

    /**
     * {@code out[k] = Σ xs[k]²} over every element of each of the first {@code count} buffers:
     * clipping by the global norm. Each sum has the bits the composition gives it, a
     * {@link BinaryOp#MUL} of the buffer by itself and then a {@link #sumTo} over all its
     * elements, which is what the default does, buffer by buffer; a backend may skip the squares'
     * temporaries and take the buffers in parallel, but not change those bits.
     *
     * @param xs    the buffers (empty ones sum to 0)
     * @param count how many leading buffers
     * @param out   {@code count} elements, overwritten
     */
    default void sumsOfSquares(Buffer[] xs, int count, Buffer out) {
        Buffer sum = allocate(1);
        try {
            for (int k = 0; k < count; k++) {
                int n = Scratch.count("sumsOfSquares", xs[k]);
                Buffer squares = allocate(n);
                try {
                    binary(BinaryOp.MUL, xs[k], new int[] {1}, xs[k], new int[] {1}, squares, new int[] {n});
                    sumTo(squares, new int[] {n}, sum, new int[] {0});
                } finally {
                    release(squares);
                }
                copyStrided(sum, 0, new int[0], out, k, new int[0]);
            }
        } finally {
            release(sum);
        }
    }

    /**
     * Whether a backward pass should gather the additions into leaves' existing gradients and
     * hand them over in {@link #axpy(float, Buffer[], Buffer[], int)} calls (when it ends, or
     * when the contributions it holds reach 256 MiB) rather than one {@code axpy} per
     * contribution as it arrives. True where each call queues a launch; the price is that the
     * contributions stay allocated until they are added. False by default.
     *
     * @return whether to gather the accumulation
     */
    default boolean gathersAccumulation() {
        return false;
    }
}
