package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tiles of {@link DirectConv}: {@link VectorMicroKernel12}'s 12 × (2·lanes) tile
 * (24 accumulators) on machines with 32 vector registers, and on 16-register (AVX2) machines
 * the 4-row short tile in its place ({@link DirectConv#FULL_ROWS}, the shape of
 * {@link VectorMicroKernel}'s 4 × 16 tile), with B read straight from a padded
 * image instead of a packed sliver. Step {@code p}'s two vectors of B are the run of the image
 * that starts {@code offsets[p]} after the tile's first position, so the columns of a
 * convolution are never written. Per element, the same chain of roundings as
 * {@link VectorMicroKernel12#tile}: fused multiply-adds in order of the steps, from +0.
 */
final class VectorConvTile {

    static final VectorSpecies<Float> SPECIES = VectorMicroKernel.tallSpecies();
    static final int LANES = SPECIES.length();

    /** Rows of the full tile on 32-register machines ({@link DirectConv#FULL_ROWS} says which is full here). */
    static final int ROWS = 12;

    /**
     * Rows of the middle tile that ends a block of rows that leaves 5 to 8 past the last full
     * tile (the 32 channels of the CNN's input gradient: two full tiles and one of 8, where
     * two short tiles of 4 would load B twice for as many multiply-adds).
     */
    static final int MIDDLE_ROWS = 8;

    /**
     * Rows of the short tile that ends a block of rows that leaves 1 to 4 past the last full
     * tile; on 16-register machines, the full tile too.
     */
    static final int SHORT_ROWS = 4;

    /** Columns (positions) of both tiles. */
    static final int COLUMNS = 2 * LANES;

    /** C = acc: {@link PackedGemm}'s first block of k with {@code alpha = 1, beta = 0}. */
    static final int STORE = 0;

    /** C = (+0) + acc: the first term of a sum begun at +0 (a fold into a zeroed image). */
    static final int STORE_SUM = 1;

    /** C = C + acc: a later block of k ({@code fma(1, acc, C)}), or a later term of a fold. */
    static final int ADD = 2;

    private VectorConvTile() {
    }

    /**
     * {@code dst[to, to + length) = src[from, from + length)}, a vector at a time and the rest
     * under a mask: the runs that {@link DirectConv} pads and copies out are image rows of a few
     * dozen values, where {@link System#arraycopy}'s call costs more than the copy.
     *
     * @param src    source
     * @param from   first value read
     * @param dst    destination
     * @param to     first value written
     * @param length values
     */
    static void copy(float[] src, int from, float[] dst, int to, int length) {
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += LANES) {
            FloatVector.fromArray(SPECIES, src, from + i).intoArray(dst, to + i);
        }
        if (i < length) {
            VectorMask<Float> mask = SPECIES.indexInRange(i, length);
            FloatVector.fromArray(SPECIES, src, from + i, mask).intoArray(dst, to + i, mask);
        }
    }

    /**
     * {@link #copy} with a convolution's tail: {@code dst[to + i] = max(src[from + i] + bias, 0)},
     * the addition left out without {@code hasBias} (adding 0 would turn −0 into +0) and the
     * maximum without {@code relu}: the roundings of a broadcast addition and a ReLU after the
     * copy. {@code src} may be {@code dst} at the same offset.
     *
     * @param src     source
     * @param from    first value read
     * @param dst     destination
     * @param to      first value written
     * @param length  values
     * @param bias    the value added
     * @param hasBias whether to add it
     * @param relu    whether to apply {@code max(·, 0)}
     */
    static void copyBiasRelu(float[] src, int from, float[] dst, int to, int length, float bias, boolean hasBias,
                             boolean relu) {
        FloatVector b = FloatVector.broadcast(SPECIES, bias);
        int i = 0;
        for (int bound = SPECIES.loopBound(length); i < bound; i += LANES) {
            FloatVector v = FloatVector.fromArray(SPECIES, src, from + i);
            if (hasBias) {
                v = v.add(b);
            }
            if (relu) {
                v = v.max(0f);
            }
            v.intoArray(dst, to + i);
        }
        if (i < length) {
            VectorMask<Float> mask = SPECIES.indexInRange(i, length);
            FloatVector v = FloatVector.fromArray(SPECIES, src, from + i, mask);
            if (hasBias) {
                v = v.add(b);
            }
            if (relu) {
                v = v.max(0f);
            }
            v.intoArray(dst, to + i, mask);
        }
    }

    /**
     * A {@link #ROWS} × {@link #COLUMNS} tile: {@code acc[r][j] = Σ_p a[aOffset + p·ROWS + r] ·
     * image[imageOffset + offsets[offsetsFrom + p] + j]}, fused multiply-adds in order of p from
     * +0, then written to {@code c[cOffset + r·ldc + j]} as {@code mode} says.
     *
     * @param steps       steps p
     * @param a           packed A, {@link #ROWS} values per step
     * @param aOffset     the sliver's first value
     * @param image       the padded image that B is read from
     * @param imageOffset the tile's first position in it
     * @param offsets     where step p's run of B starts, relative to {@code imageOffset}
     * @param offsetsFrom the first step's entry in {@code offsets}
     * @param c           output
     * @param cOffset     the tile's first element of C
     * @param ldc         elements between rows of C
     * @param mode        {@link #STORE}, {@link #STORE_SUM} or {@link #ADD}
     */
    static void tile(int steps, float[] a, int aOffset, float[] image, int imageOffset, int[] offsets,
                     int offsetsFrom, float[] c, int cOffset, int ldc, int mode) {
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
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        FloatVector c80 = c00;
        FloatVector c81 = c00;
        FloatVector c90 = c00;
        FloatVector c91 = c00;
        FloatVector c100 = c00;
        FloatVector c101 = c00;
        FloatVector c110 = c00;
        FloatVector c111 = c00;
        for (int p = 0; p < steps; p++) {
            int bp = imageOffset + offsets[offsetsFrom + p];
            int ap = aOffset + p * 12;
            FloatVector b0 = FloatVector.fromArray(SPECIES, image, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, image, bp + LANES);
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
            FloatVector a6 = FloatVector.broadcast(SPECIES, a[ap + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(SPECIES, a[ap + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(SPECIES, a[ap + 8]);
            c80 = a8.fma(b0, c80);
            c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(SPECIES, a[ap + 9]);
            c90 = a9.fma(b0, c90);
            c91 = a9.fma(b1, c91);
            FloatVector a10 = FloatVector.broadcast(SPECIES, a[ap + 10]);
            c100 = a10.fma(b0, c100);
            c101 = a10.fma(b1, c101);
            FloatVector a11 = FloatVector.broadcast(SPECIES, a[ap + 11]);
            c110 = a11.fma(b0, c110);
            c111 = a11.fma(b1, c111);
        }
        if (mode == ADD) {
            c00.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + LANES)).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + LANES)).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES)).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES)).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.add(FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc)).intoArray(c, cOffset + 4 * ldc);
            c41.add(FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc + LANES)).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.add(FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc)).intoArray(c, cOffset + 5 * ldc);
            c51.add(FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc + LANES)).intoArray(c, cOffset + 5 * ldc + LANES);
            c60.add(FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc)).intoArray(c, cOffset + 6 * ldc);
            c61.add(FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc + LANES)).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.add(FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc)).intoArray(c, cOffset + 7 * ldc);
            c71.add(FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc + LANES)).intoArray(c, cOffset + 7 * ldc + LANES);
            c80.add(FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc)).intoArray(c, cOffset + 8 * ldc);
            c81.add(FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc + LANES)).intoArray(c, cOffset + 8 * ldc + LANES);
            c90.add(FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc)).intoArray(c, cOffset + 9 * ldc);
            c91.add(FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc + LANES)).intoArray(c, cOffset + 9 * ldc + LANES);
            c100.add(FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc)).intoArray(c, cOffset + 10 * ldc);
            c101.add(FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc + LANES)).intoArray(c, cOffset + 10 * ldc + LANES);
            c110.add(FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc)).intoArray(c, cOffset + 11 * ldc);
            c111.add(FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc + LANES)).intoArray(c, cOffset + 11 * ldc + LANES);
        } else {
            // x + (-0) is x for every x; x + (+0) turns -0 into +0, as a sum begun at +0 does.
            FloatVector zero = FloatVector.broadcast(SPECIES, mode == STORE ? -0f : 0f);
            c00.add(zero).intoArray(c, cOffset + 0 * ldc);
            c01.add(zero).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(zero).intoArray(c, cOffset + 1 * ldc);
            c11.add(zero).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(zero).intoArray(c, cOffset + 2 * ldc);
            c21.add(zero).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(zero).intoArray(c, cOffset + 3 * ldc);
            c31.add(zero).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.add(zero).intoArray(c, cOffset + 4 * ldc);
            c41.add(zero).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.add(zero).intoArray(c, cOffset + 5 * ldc);
            c51.add(zero).intoArray(c, cOffset + 5 * ldc + LANES);
            c60.add(zero).intoArray(c, cOffset + 6 * ldc);
            c61.add(zero).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.add(zero).intoArray(c, cOffset + 7 * ldc);
            c71.add(zero).intoArray(c, cOffset + 7 * ldc + LANES);
            c80.add(zero).intoArray(c, cOffset + 8 * ldc);
            c81.add(zero).intoArray(c, cOffset + 8 * ldc + LANES);
            c90.add(zero).intoArray(c, cOffset + 9 * ldc);
            c91.add(zero).intoArray(c, cOffset + 9 * ldc + LANES);
            c100.add(zero).intoArray(c, cOffset + 10 * ldc);
            c101.add(zero).intoArray(c, cOffset + 10 * ldc + LANES);
            c110.add(zero).intoArray(c, cOffset + 11 * ldc);
            c111.add(zero).intoArray(c, cOffset + 11 * ldc + LANES);
        }
    }

    /** {@link #tile} for {@link #MIDDLE_ROWS} rows ({@code a} holds {@link #MIDDLE_ROWS} values per step). */
    static void tileMiddle(int steps, float[] a, int aOffset, float[] image, int imageOffset, int[] offsets,
                     int offsetsFrom, float[] c, int cOffset, int ldc, int mode) {
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
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        for (int p = 0; p < steps; p++) {
            int bp = imageOffset + offsets[offsetsFrom + p];
            int ap = aOffset + p * 8;
            FloatVector b0 = FloatVector.fromArray(SPECIES, image, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, image, bp + LANES);
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
            FloatVector a6 = FloatVector.broadcast(SPECIES, a[ap + 6]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(SPECIES, a[ap + 7]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
        }
        if (mode == ADD) {
            c00.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + LANES)).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + LANES)).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES)).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES)).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.add(FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc)).intoArray(c, cOffset + 4 * ldc);
            c41.add(FloatVector.fromArray(SPECIES, c, cOffset + 4 * ldc + LANES)).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.add(FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc)).intoArray(c, cOffset + 5 * ldc);
            c51.add(FloatVector.fromArray(SPECIES, c, cOffset + 5 * ldc + LANES)).intoArray(c, cOffset + 5 * ldc + LANES);
            c60.add(FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc)).intoArray(c, cOffset + 6 * ldc);
            c61.add(FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc + LANES)).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.add(FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc)).intoArray(c, cOffset + 7 * ldc);
            c71.add(FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc + LANES)).intoArray(c, cOffset + 7 * ldc + LANES);
        } else {
            // x + (-0) is x for every x; x + (+0) turns -0 into +0, as a sum begun at +0 does.
            FloatVector zero = FloatVector.broadcast(SPECIES, mode == STORE ? -0f : 0f);
            c00.add(zero).intoArray(c, cOffset + 0 * ldc);
            c01.add(zero).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(zero).intoArray(c, cOffset + 1 * ldc);
            c11.add(zero).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(zero).intoArray(c, cOffset + 2 * ldc);
            c21.add(zero).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(zero).intoArray(c, cOffset + 3 * ldc);
            c31.add(zero).intoArray(c, cOffset + 3 * ldc + LANES);
            c40.add(zero).intoArray(c, cOffset + 4 * ldc);
            c41.add(zero).intoArray(c, cOffset + 4 * ldc + LANES);
            c50.add(zero).intoArray(c, cOffset + 5 * ldc);
            c51.add(zero).intoArray(c, cOffset + 5 * ldc + LANES);
            c60.add(zero).intoArray(c, cOffset + 6 * ldc);
            c61.add(zero).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.add(zero).intoArray(c, cOffset + 7 * ldc);
            c71.add(zero).intoArray(c, cOffset + 7 * ldc + LANES);
        }
    }

    /** {@link #tile} for {@link #SHORT_ROWS} rows ({@code a} holds {@link #SHORT_ROWS} values per step). */
    static void tileShort(int steps, float[] a, int aOffset, float[] image, int imageOffset, int[] offsets,
                     int offsetsFrom, float[] c, int cOffset, int ldc, int mode) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        for (int p = 0; p < steps; p++) {
            int bp = imageOffset + offsets[offsetsFrom + p];
            int ap = aOffset + p * 4;
            FloatVector b0 = FloatVector.fromArray(SPECIES, image, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, image, bp + LANES);
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
        }
        if (mode == ADD) {
            c00.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + LANES)).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + LANES)).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES)).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES)).intoArray(c, cOffset + 3 * ldc + LANES);
        } else {
            // x + (-0) is x for every x; x + (+0) turns -0 into +0, as a sum begun at +0 does.
            FloatVector zero = FloatVector.broadcast(SPECIES, mode == STORE ? -0f : 0f);
            c00.add(zero).intoArray(c, cOffset + 0 * ldc);
            c01.add(zero).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(zero).intoArray(c, cOffset + 1 * ldc);
            c11.add(zero).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(zero).intoArray(c, cOffset + 2 * ldc);
            c21.add(zero).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(zero).intoArray(c, cOffset + 3 * ldc);
            c31.add(zero).intoArray(c, cOffset + 3 * ldc + LANES);
        }
    }

    /** Steps per channel of the 3 × 3 window, the period {@link #tileShortRegular} unrolls. */
    static final int TAPS = 9;

    /**
     * {@link #tileShort} over {@code periods · TAPS} steps whose runs of B repeat with a period:
     * step {@code j·TAPS + k} reads the run at
     * {@code image[imageOffset + offsets[offsetsFrom + k] + j·stride]} (a 3 × 3 window's nine
     * taps, channel after channel {@code stride} apart), the same multiply-adds in the same
     * order. With the nine taps' starts in locals, every load's index is linear in the loop's
     * counter, so C2 checks each array's range once before the loop instead of twice a step, as
     * it must where each step's start is read from {@code offsets}.
     */
    static void tileShortRegular(int periods, float[] a, int aOffset, float[] image, int imageOffset, int[] offsets,
                                 int offsetsFrom, int stride, float[] c, int cOffset, int ldc, int mode) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        int t0 = imageOffset + offsets[offsetsFrom + 0];
        int t1 = imageOffset + offsets[offsetsFrom + 1];
        int t2 = imageOffset + offsets[offsetsFrom + 2];
        int t3 = imageOffset + offsets[offsetsFrom + 3];
        int t4 = imageOffset + offsets[offsetsFrom + 4];
        int t5 = imageOffset + offsets[offsetsFrom + 5];
        int t6 = imageOffset + offsets[offsetsFrom + 6];
        int t7 = imageOffset + offsets[offsetsFrom + 7];
        int t8 = imageOffset + offsets[offsetsFrom + 8];
        for (int j = 0; j < periods; j++) {
            int base = j * stride;
            int ap = aOffset + j * (TAPS * SHORT_ROWS);
            FloatVector b00 = FloatVector.fromArray(SPECIES, image, t0 + base);
            FloatVector b01 = FloatVector.fromArray(SPECIES, image, t0 + base + LANES);
            FloatVector a00 = FloatVector.broadcast(SPECIES, a[ap + 0]);
            c00 = a00.fma(b00, c00);
            c01 = a00.fma(b01, c01);
            FloatVector a01 = FloatVector.broadcast(SPECIES, a[ap + 1]);
            c10 = a01.fma(b00, c10);
            c11 = a01.fma(b01, c11);
            FloatVector a02 = FloatVector.broadcast(SPECIES, a[ap + 2]);
            c20 = a02.fma(b00, c20);
            c21 = a02.fma(b01, c21);
            FloatVector a03 = FloatVector.broadcast(SPECIES, a[ap + 3]);
            c30 = a03.fma(b00, c30);
            c31 = a03.fma(b01, c31);
            FloatVector b10 = FloatVector.fromArray(SPECIES, image, t1 + base);
            FloatVector b11 = FloatVector.fromArray(SPECIES, image, t1 + base + LANES);
            FloatVector a10 = FloatVector.broadcast(SPECIES, a[ap + 4]);
            c00 = a10.fma(b10, c00);
            c01 = a10.fma(b11, c01);
            FloatVector a11 = FloatVector.broadcast(SPECIES, a[ap + 5]);
            c10 = a11.fma(b10, c10);
            c11 = a11.fma(b11, c11);
            FloatVector a12 = FloatVector.broadcast(SPECIES, a[ap + 6]);
            c20 = a12.fma(b10, c20);
            c21 = a12.fma(b11, c21);
            FloatVector a13 = FloatVector.broadcast(SPECIES, a[ap + 7]);
            c30 = a13.fma(b10, c30);
            c31 = a13.fma(b11, c31);
            FloatVector b20 = FloatVector.fromArray(SPECIES, image, t2 + base);
            FloatVector b21 = FloatVector.fromArray(SPECIES, image, t2 + base + LANES);
            FloatVector a20 = FloatVector.broadcast(SPECIES, a[ap + 8]);
            c00 = a20.fma(b20, c00);
            c01 = a20.fma(b21, c01);
            FloatVector a21 = FloatVector.broadcast(SPECIES, a[ap + 9]);
            c10 = a21.fma(b20, c10);
            c11 = a21.fma(b21, c11);
            FloatVector a22 = FloatVector.broadcast(SPECIES, a[ap + 10]);
            c20 = a22.fma(b20, c20);
            c21 = a22.fma(b21, c21);
            FloatVector a23 = FloatVector.broadcast(SPECIES, a[ap + 11]);
            c30 = a23.fma(b20, c30);
            c31 = a23.fma(b21, c31);
            FloatVector b30 = FloatVector.fromArray(SPECIES, image, t3 + base);
            FloatVector b31 = FloatVector.fromArray(SPECIES, image, t3 + base + LANES);
            FloatVector a30 = FloatVector.broadcast(SPECIES, a[ap + 12]);
            c00 = a30.fma(b30, c00);
            c01 = a30.fma(b31, c01);
            FloatVector a31 = FloatVector.broadcast(SPECIES, a[ap + 13]);
            c10 = a31.fma(b30, c10);
            c11 = a31.fma(b31, c11);
            FloatVector a32 = FloatVector.broadcast(SPECIES, a[ap + 14]);
            c20 = a32.fma(b30, c20);
            c21 = a32.fma(b31, c21);
            FloatVector a33 = FloatVector.broadcast(SPECIES, a[ap + 15]);
            c30 = a33.fma(b30, c30);
            c31 = a33.fma(b31, c31);
            FloatVector b40 = FloatVector.fromArray(SPECIES, image, t4 + base);
            FloatVector b41 = FloatVector.fromArray(SPECIES, image, t4 + base + LANES);
            FloatVector a40 = FloatVector.broadcast(SPECIES, a[ap + 16]);
            c00 = a40.fma(b40, c00);
            c01 = a40.fma(b41, c01);
            FloatVector a41 = FloatVector.broadcast(SPECIES, a[ap + 17]);
            c10 = a41.fma(b40, c10);
            c11 = a41.fma(b41, c11);
            FloatVector a42 = FloatVector.broadcast(SPECIES, a[ap + 18]);
            c20 = a42.fma(b40, c20);
            c21 = a42.fma(b41, c21);
            FloatVector a43 = FloatVector.broadcast(SPECIES, a[ap + 19]);
            c30 = a43.fma(b40, c30);
            c31 = a43.fma(b41, c31);
            FloatVector b50 = FloatVector.fromArray(SPECIES, image, t5 + base);
            FloatVector b51 = FloatVector.fromArray(SPECIES, image, t5 + base + LANES);
            FloatVector a50 = FloatVector.broadcast(SPECIES, a[ap + 20]);
            c00 = a50.fma(b50, c00);
            c01 = a50.fma(b51, c01);
            FloatVector a51 = FloatVector.broadcast(SPECIES, a[ap + 21]);
            c10 = a51.fma(b50, c10);
            c11 = a51.fma(b51, c11);
            FloatVector a52 = FloatVector.broadcast(SPECIES, a[ap + 22]);
            c20 = a52.fma(b50, c20);
            c21 = a52.fma(b51, c21);
            FloatVector a53 = FloatVector.broadcast(SPECIES, a[ap + 23]);
            c30 = a53.fma(b50, c30);
            c31 = a53.fma(b51, c31);
            FloatVector b60 = FloatVector.fromArray(SPECIES, image, t6 + base);
            FloatVector b61 = FloatVector.fromArray(SPECIES, image, t6 + base + LANES);
            FloatVector a60 = FloatVector.broadcast(SPECIES, a[ap + 24]);
            c00 = a60.fma(b60, c00);
            c01 = a60.fma(b61, c01);
            FloatVector a61 = FloatVector.broadcast(SPECIES, a[ap + 25]);
            c10 = a61.fma(b60, c10);
            c11 = a61.fma(b61, c11);
            FloatVector a62 = FloatVector.broadcast(SPECIES, a[ap + 26]);
            c20 = a62.fma(b60, c20);
            c21 = a62.fma(b61, c21);
            FloatVector a63 = FloatVector.broadcast(SPECIES, a[ap + 27]);
            c30 = a63.fma(b60, c30);
            c31 = a63.fma(b61, c31);
            FloatVector b70 = FloatVector.fromArray(SPECIES, image, t7 + base);
            FloatVector b71 = FloatVector.fromArray(SPECIES, image, t7 + base + LANES);
            FloatVector a70 = FloatVector.broadcast(SPECIES, a[ap + 28]);
            c00 = a70.fma(b70, c00);
            c01 = a70.fma(b71, c01);
            FloatVector a71 = FloatVector.broadcast(SPECIES, a[ap + 29]);
            c10 = a71.fma(b70, c10);
            c11 = a71.fma(b71, c11);
            FloatVector a72 = FloatVector.broadcast(SPECIES, a[ap + 30]);
            c20 = a72.fma(b70, c20);
            c21 = a72.fma(b71, c21);
            FloatVector a73 = FloatVector.broadcast(SPECIES, a[ap + 31]);
            c30 = a73.fma(b70, c30);
            c31 = a73.fma(b71, c31);
            FloatVector b80 = FloatVector.fromArray(SPECIES, image, t8 + base);
            FloatVector b81 = FloatVector.fromArray(SPECIES, image, t8 + base + LANES);
            FloatVector a80 = FloatVector.broadcast(SPECIES, a[ap + 32]);
            c00 = a80.fma(b80, c00);
            c01 = a80.fma(b81, c01);
            FloatVector a81 = FloatVector.broadcast(SPECIES, a[ap + 33]);
            c10 = a81.fma(b80, c10);
            c11 = a81.fma(b81, c11);
            FloatVector a82 = FloatVector.broadcast(SPECIES, a[ap + 34]);
            c20 = a82.fma(b80, c20);
            c21 = a82.fma(b81, c21);
            FloatVector a83 = FloatVector.broadcast(SPECIES, a[ap + 35]);
            c30 = a83.fma(b80, c30);
            c31 = a83.fma(b81, c31);
        }
        // Stored as tileShort stores, written out: accumulators passed to a helper C2 did not inline are boxed.
        if (mode == ADD) {
            c00.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.add(FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + LANES)).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.add(FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + LANES)).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.add(FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES)).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.add(FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES)).intoArray(c, cOffset + 3 * ldc + LANES);
        } else {
            // x + (-0) is x for every x; x + (+0) turns -0 into +0, as a sum begun at +0 does.
            FloatVector zero = FloatVector.broadcast(SPECIES, mode == STORE ? -0f : 0f);
            c00.add(zero).intoArray(c, cOffset + 0 * ldc);
            c01.add(zero).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.add(zero).intoArray(c, cOffset + 1 * ldc);
            c11.add(zero).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.add(zero).intoArray(c, cOffset + 2 * ldc);
            c21.add(zero).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.add(zero).intoArray(c, cOffset + 3 * ldc);
            c31.add(zero).intoArray(c, cOffset + 3 * ldc + LANES);
        }
    }
}
