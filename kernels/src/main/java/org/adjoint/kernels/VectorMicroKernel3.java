package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 3 × (3·lanes) register tile: nine accumulators, three vectors of B and three broadcasts of
 * A: 15 of 16 vector registers, with every load of a step issued before the first FMA as C2
 * does. The alternative to {@link VectorMicroKernel}'s 4 × 16 for 16 registers, with one more
 * accumulator than two FMA pipes of latency 4 need; chosen with {@code -Dadjoint.cpu.tileRows=3}.
 * Same contract and order of accumulation as {@link VectorMicroKernel}, and its stores are
 * written out for the same reason (an accumulator passed to a call C2 does not inline is boxed).
 */
final class VectorMicroKernel3 implements MicroKernel {

    static final VectorMicroKernel3 INSTANCE = new VectorMicroKernel3();
    private static final VectorSpecies<Float> SPECIES = VectorMicroKernel.SPECIES;
    private static final int MR = 3;
    private static final int LANES = SPECIES.length();
    private static final int NR = 3 * LANES;

    private VectorMicroKernel3() {
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
    public void copyRow(float[] src, int srcOffset, float[] dst, int dstOffset) {
        FloatVector.fromArray(SPECIES, src, srcOffset).intoArray(dst, dstOffset);
        FloatVector.fromArray(SPECIES, src, srcOffset + 1 * LANES).intoArray(dst, dstOffset + 1 * LANES);
        FloatVector.fromArray(SPECIES, src, srcOffset + 2 * LANES).intoArray(dst, dstOffset + 2 * LANES);
    }

    @Override
    public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc,
                     boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        // Indexed from A's position, as in VectorMicroKernel, so that C2 checks ranges once.
        int aEnd = aOffset + kc * MR;
        int bBase = bOffset - aOffset * (NR / MR);
        for (int ap = aOffset; ap < aEnd; ap += MR) {
            int bp = bBase + ap * (NR / MR);
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector b2 = FloatVector.fromArray(SPECIES, b, bp + 2 * LANES);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[ap]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[ap + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[ap + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            c22 = a2.fma(b2, c22);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + 1 * LANES)).intoArray(c, cOffset + 0 * ldc + 1 * LANES);
            c02.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + 2 * LANES)).intoArray(c, cOffset + 0 * ldc + 2 * LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + 1 * LANES)).intoArray(c, cOffset + 1 * ldc + 1 * LANES);
            c12.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + 2 * LANES)).intoArray(c, cOffset + 1 * ldc + 2 * LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + 1 * LANES)).intoArray(c, cOffset + 2 * ldc + 1 * LANES);
            c22.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + 2 * LANES)).intoArray(c, cOffset + 2 * ldc + 2 * LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset + 0 * ldc);
            c01.mul(scale).intoArray(c, cOffset + 0 * ldc + 1 * LANES);
            c02.mul(scale).intoArray(c, cOffset + 0 * ldc + 2 * LANES);
            c10.mul(scale).intoArray(c, cOffset + 1 * ldc);
            c11.mul(scale).intoArray(c, cOffset + 1 * ldc + 1 * LANES);
            c12.mul(scale).intoArray(c, cOffset + 1 * ldc + 2 * LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + 1 * LANES);
            c22.mul(scale).intoArray(c, cOffset + 2 * ldc + 2 * LANES);
        }
    }

    @Override
    public boolean readsRows() {
        return true;
    }

    @Override
    public void tileRows(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha, float[] c,
                         int cOffset, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        // One start per row of A, the step p added to each: C2 checks every row's range once.
        int a0 = aOffset + 0 * lda;
        int a1 = aOffset + 1 * lda;
        int a2 = aOffset + 2 * lda;
        for (int p = 0; p < kc; p++) {
            int bp = bOffset + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + 1 * LANES);
            FloatVector b2 = FloatVector.fromArray(SPECIES, b, bp + 2 * LANES);
            FloatVector x0 = FloatVector.broadcast(SPECIES, a[a0 + p]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c02 = x0.fma(b2, c02);
            FloatVector x1 = FloatVector.broadcast(SPECIES, a[a1 + p]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c12 = x1.fma(b2, c12);
            FloatVector x2 = FloatVector.broadcast(SPECIES, a[a2 + p]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c22 = x2.fma(b2, c22);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + 1 * LANES)).intoArray(c, cOffset + 0 * ldc + 1 * LANES);
            c02.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + 2 * LANES)).intoArray(c, cOffset + 0 * ldc + 2 * LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + 1 * LANES)).intoArray(c, cOffset + 1 * ldc + 1 * LANES);
            c12.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + 2 * LANES)).intoArray(c, cOffset + 1 * ldc + 2 * LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + 1 * LANES)).intoArray(c, cOffset + 2 * ldc + 1 * LANES);
            c22.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + 2 * LANES)).intoArray(c, cOffset + 2 * ldc + 2 * LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset + 0 * ldc);
            c01.mul(scale).intoArray(c, cOffset + 0 * ldc + 1 * LANES);
            c02.mul(scale).intoArray(c, cOffset + 0 * ldc + 2 * LANES);
            c10.mul(scale).intoArray(c, cOffset + 1 * ldc);
            c11.mul(scale).intoArray(c, cOffset + 1 * ldc + 1 * LANES);
            c12.mul(scale).intoArray(c, cOffset + 1 * ldc + 2 * LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + 1 * LANES);
            c22.mul(scale).intoArray(c, cOffset + 2 * ldc + 2 * LANES);
        }
    }
}
