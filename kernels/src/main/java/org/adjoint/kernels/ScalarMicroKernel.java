package org.adjoint.kernels;

/**
 * The scalar twin of {@link VectorMicroKernel}: the same 4 × 16 tile, accumulated in the
 * same order (k outermost, one fused multiply-add per step, one fused scale-and-add into C),
 * so both providers give bitwise equal products; the 16-wide inner loop is left for C2's
 * auto-vectoriser.
 */
final class ScalarMicroKernel implements MicroKernel {

    static final ScalarMicroKernel INSTANCE = new ScalarMicroKernel();
    private static final int MR = 4;
    private static final int NR = 16;

    private ScalarMicroKernel() {
    }

    @Override
    public int rows() {
        return MR;
    }

    @Override
    public int columns() {
        return NR;
    }

    @Override
    public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc) {
        float[] acc = new float[MR * NR];
        for (int p = 0; p < kc; p++) {
            int ap = aOffset + p * MR;
            int bp = bOffset + p * NR;
            for (int r = 0; r < MR; r++) {
                float ar = a[ap + r];
                int row = r * NR;
                for (int j = 0; j < NR; j++) {
                    acc[row + j] = Math.fma(ar, b[bp + j], acc[row + j]);
                }
            }
        }
        for (int r = 0; r < MR; r++) {
            int cRow = cOffset + r * ldc;
            for (int j = 0; j < NR; j++) {
                c[cRow + j] = Math.fma(acc[r * NR + j], alpha, c[cRow + j]);
            }
        }
    }
}
