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
