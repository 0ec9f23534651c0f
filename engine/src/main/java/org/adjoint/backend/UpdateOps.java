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
}
