package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 6 × (2·lanes) register tile: twelve accumulators, two vectors of B and one broadcast of A,
 * 15 of 16 vector registers, the shape BLIS and OpenBLAS use on Haswell and Zen. Chosen only
 * with {@code -Dadjoint.cpu.tileRows=6}: under {@code -XX:UseAVX=2} it measured 0.38–0.42×
 * OpenBLAS on one core against the 4-row tile's 0.64–0.65× (a 5-row variant 0.38–0.39×), so C2
 * does not keep this many accumulators in 16 registers. It stays for machines and JITs where it
 * may win, and as a third shape for the bit-identity test. Same contract and order of
 * accumulation as {@link VectorMicroKernel}; written-out stores, as in {@link VectorMicroKernel12},
 * so that C2 never boxes an accumulator.
 */
final class VectorMicroKernel6 implements MicroKernel {

    static final VectorMicroKernel6 INSTANCE = new VectorMicroKernel6();
    private static final VectorSpecies<Float> SPECIES = VectorMicroKernel.SPECIES;
    private static final int MR = 6;
    private static final int LANES = SPECIES.length();
    private static final int NR = 2 * LANES;

    private VectorMicroKernel6() {
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
    public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc,
                     boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        int ap = aOffset;
        int bp = bOffset;
        for (int p = 0; p < kc; p++, ap += MR, bp += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[ap + 0]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[ap + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[ap + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[ap + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, a[ap + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, a[ap + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + LANES)).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + LANES)).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES)).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES)).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc)).intoArray(c, cOffset + 4 * ldc);
            c41.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc + LANES)).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc)).intoArray(c, cOffset + 5 * ldc);
            c51.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc + LANES)).intoArray(c, cOffset + 5 * ldc + LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset + 0 * ldc);
            c01.mul(scale).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.mul(scale).intoArray(c, cOffset + 1 * ldc);
            c11.mul(scale).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c31.mul(scale).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.mul(scale).intoArray(c, cOffset + 4 * ldc);
            c41.mul(scale).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.mul(scale).intoArray(c, cOffset + 5 * ldc);
            c51.mul(scale).intoArray(c, cOffset + 5 * ldc + LANES);
        }
    }
}
