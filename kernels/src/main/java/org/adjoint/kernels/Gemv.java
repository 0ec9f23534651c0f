package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SGEMM when one side of C is a single row or column ({@code m = 1} or {@code n = 1}): a
 * matrix times a vector, as in inference on one example or a layer with one output. Packing
 * panels there costs more than the product, so the matrix is read once, in place, and the
 * vector operand is gathered into a contiguous array. Two loops do every case:
 * <ul>
 *   <li>dots — {@code out[i] = Σp X[i·ldx + p]·v[p]}, for a matrix whose rows run along k;</li>
 *   <li>row sums — {@code out[j] = Σp v[p]·X[p·ldx + j]}, for one whose rows run along the output.</li>
 * </ul>
 * Then {@code C = alpha·sum + beta·C} ({@code beta = 0} overwrites). Threads split the
 * outputs of large products.
 *
 * <p>The sums run in another order than the same row in a batch of several (dots add four
 * interleaved chains), so a single example's outputs can differ from its row in a batch in
 * the last bits, as with other BLAS libraries. Row sums take one fused multiply-add per step
 * in order of p, as {@link NarrowGemm} does.
 */
final class Gemv {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_256;
    private static final int LANES = SPECIES.length();
    /** Output columns per unit of work in {@link #rowSums}: four vectors, kept in registers. */
    private static final int BLOCK = 4 * LANES;
    private static final ThreadLocal<float[]> GATHERED = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> LANE_SUMS = ThreadLocal.withInitial(() -> new float[LANES]);

    private Gemv() {
    }

    /**
     * Whether this path takes a product.
     *
     * @param m rows of C
     * @param n columns of C
     * @return true for a single row or column
     */
    static boolean takes(int m, int n) {
        return m == 1 || n == 1;
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} for {@code m = 1} or {@code n = 1}, row-major,
     * with the meaning of {@link KernelProvider#sgemm}; m, n and k are at least 1.
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        if (n == 1) {
            // C is a column: op(B) is the vector, element p at b[bOffset + p·(transB ? 1 : ldb)].
            float[] v = gather(b, bOffset, transB ? 1 : ldb, k);
            if (transA) {
                rowSums(a, aOffset, lda, v, k, m, alpha, beta, c, cOffset, ldc);
            } else {
                dots(a, aOffset, lda, v, k, m, alpha, beta, c, cOffset, ldc);
            }
        } else {
            // C is a row: op(A) is the vector, element p at a[aOffset + p·(transA ? lda : 1)].
            float[] v = gather(a, aOffset, transA ? lda : 1, k);
            if (transB) {
                dots(b, bOffset, ldb, v, k, n, alpha, beta, c, cOffset, 1);
            } else {
                rowSums(b, bOffset, ldb, v, k, n, alpha, beta, c, cOffset, 1);
            }
        }
    }

    private static float[] gather(float[] x, int offset, int stride, int k) {
        float[] v = GATHERED.get();
        if (v.length < k) {
            v = new float[k];
            GATHERED.set(v);
        }
        for (int p = 0; p < k; p++) {
            v[p] = x[offset + p * stride];
        }
        return v;
    }

    /** {@code out[i·outStride] = alpha·Σp x[offset + i·ldx + p]·v[p] + beta·out}, for i below count. */
    private static void dots(float[] x, int offset, int ldx, float[] v, int k, int count, float alpha, float beta,
                             float[] out, int outOffset, int outStride) {
        int parts = parts((long) count * k, count);
        Parallel.run(parts, part -> {
            int first = (int) ((long) count * part / parts);
            int end = (int) ((long) count * (part + 1) / parts);
            int bound = SPECIES.loopBound(k);
            float[] lanes = LANE_SUMS.get();
            for (int i = first; i < end; i++) {
                int row = offset + i * ldx;
                // Four independent chains of FMAs, so that their latency overlaps.
                FloatVector acc0 = FloatVector.zero(SPECIES);
                FloatVector acc1 = acc0;
                FloatVector acc2 = acc0;
                FloatVector acc3 = acc0;
                int p = 0;
                for (; p + 3 * LANES < bound; p += 4 * LANES) {
                    acc0 = FloatVector.fromArray(SPECIES, x, row + p).fma(FloatVector.fromArray(SPECIES, v, p), acc0);
                    acc1 = FloatVector.fromArray(SPECIES, x, row + p + LANES)
                            .fma(FloatVector.fromArray(SPECIES, v, p + LANES), acc1);
                    acc2 = FloatVector.fromArray(SPECIES, x, row + p + 2 * LANES)
                            .fma(FloatVector.fromArray(SPECIES, v, p + 2 * LANES), acc2);
                    acc3 = FloatVector.fromArray(SPECIES, x, row + p + 3 * LANES)
                            .fma(FloatVector.fromArray(SPECIES, v, p + 3 * LANES), acc3);
                }
                for (; p < bound; p += LANES) {
                    acc0 = FloatVector.fromArray(SPECIES, x, row + p).fma(FloatVector.fromArray(SPECIES, v, p), acc0);
                }
                // Lanes added in a fixed order: reduceLanes leaves the order of a float sum
                // open, and it can differ between the interpreter and C2.
                acc0.add(acc1).add(acc2.add(acc3)).intoArray(lanes, 0);
                float sum = 0f;
                for (int lane = 0; lane < LANES; lane++) {
                    sum += lanes[lane];
                }
                for (; p < k; p++) {
                    sum += x[row + p] * v[p];
                }
                write(out, outOffset + i * outStride, alpha, sum, beta);
            }
        });
    }

    /** {@code out[j·outStride] = alpha·Σp v[p]·x[offset + p·ldx + j] + beta·out}, for j below count. */
    private static void rowSums(float[] x, int offset, int ldx, float[] v, int k, int count, float alpha, float beta,
                                float[] out, int outOffset, int outStride) {
        int blocks = (count + BLOCK - 1) / BLOCK;
        int parts = parts((long) count * k, blocks);
        Parallel.run(parts, part -> {
            int first = (int) Math.min(count, (long) blocks * part / parts * BLOCK);
            int end = (int) Math.min(count, (long) blocks * (part + 1) / parts * BLOCK);
            int j = first;
            for (; j + BLOCK <= end; j += BLOCK) {
                FloatVector acc0 = FloatVector.zero(SPECIES);
                FloatVector acc1 = acc0;
                FloatVector acc2 = acc0;
                FloatVector acc3 = acc0;
                for (int p = 0; p < k; p++) {
                    FloatVector vp = FloatVector.broadcast(SPECIES, v[p]);
                    int row = offset + p * ldx + j;
                    acc0 = vp.fma(FloatVector.fromArray(SPECIES, x, row), acc0);
                    acc1 = vp.fma(FloatVector.fromArray(SPECIES, x, row + LANES), acc1);
                    acc2 = vp.fma(FloatVector.fromArray(SPECIES, x, row + 2 * LANES), acc2);
                    acc3 = vp.fma(FloatVector.fromArray(SPECIES, x, row + 3 * LANES), acc3);
                }
                for (int lane = 0; lane < LANES; lane++) {
                    write(out, outOffset + (j + lane) * outStride, alpha, acc0.lane(lane), beta);
                    write(out, outOffset + (j + LANES + lane) * outStride, alpha, acc1.lane(lane), beta);
                    write(out, outOffset + (j + 2 * LANES + lane) * outStride, alpha, acc2.lane(lane), beta);
                    write(out, outOffset + (j + 3 * LANES + lane) * outStride, alpha, acc3.lane(lane), beta);
                }
            }
            for (; j < end; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    sum = Math.fma(v[p], x[offset + p * ldx + j], sum); // as the vector lanes do
                }
                write(out, outOffset + j * outStride, alpha, sum, beta);
            }
        });
    }

    private static int parts(long work, int units) {
        return work < PackedGemm.SERIAL_BELOW ? 1 : Math.max(1, Math.min(Parallel.THREADS, units));
    }

    private static void write(float[] out, int index, float alpha, float sum, float beta) {
        float product = alpha * sum;
        out[index] = beta == 0f ? product : product + beta * out[index];
    }
}
