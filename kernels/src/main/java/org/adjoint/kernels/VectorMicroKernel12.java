package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 12 × (2·lanes) register tile: 24 accumulators, for machines with 32 vector registers
 * (AVX-512), where it is 12 × 32 with 512-bit vectors ({@link VectorMicroKernel#tallSpecies()}).
 * Same contract and order of accumulation as {@link VectorMicroKernel}; the stores are written
 * out rather than calling a helper, so that C2 never has to box an accumulator that escapes
 * into a call it did not inline.
 *
 * <p>A transposed A is packed by {@link #packColumns}, each step of a sliver one 256-bit and one
 * 128-bit vector copy, the whole block in that one loop. Not by a copy method called once a
 * step from the packing loop (the interface had one, {@code copyColumn}): three 128-bit vector
 * copies there made about one JVM in three (fresh JVMs on an Intel Xeon with AVX-512,
 * 2026-12-05) compile the packing into code that ran the copies through the Vector API's Java
 * fallback ({@code tn:512x768x128} at 65–75 GFLOP/s on one thread instead of 115–125), and a
 * 256- and a 128-bit copy there did the same in 2 of 10 JVMs (2026-12-06); an array copy of 12
 * values was safe but slow. In a loop of their own the copies ran well in 12 of 12 JVMs, and
 * the packing went from about 10 to 21 GB/s (17 from memory); with two threads and the operands
 * cold, {@code tn:512x768x128} ran at 170–179 GFLOP/s against 132–158 with the array copy.
 */
final class VectorMicroKernel12 implements MicroKernel {

    /**
     * System property: whether {@code PackedGemm} writes C ahead of this tile ({@code true} or
     * {@code false}, see {@link #prewritesC()}); unset, the CPU's vendor decides
     * ({@link #writesAhead}).
     */
    static final String WRITE_AHEAD_PROPERTY = "adjoint.cpu.writeCAhead";
    static final VectorMicroKernel12 INSTANCE = new VectorMicroKernel12(
            writesAhead(System.getProperty(WRITE_AHEAD_PROPERTY), CpuVendor.ID));
    /** The tile with C written ahead on any CPU: for the tests of that path wherever they run. */
    static final VectorMicroKernel12 WRITING_AHEAD = new VectorMicroKernel12(true);
    private static final VectorSpecies<Float> SPECIES = VectorMicroKernel.tallSpecies();
    private static final int MR = 12;
    private static final int LANES = SPECIES.length();
    private static final int NR = 2 * LANES;

    private final boolean writesAhead;

    private VectorMicroKernel12(boolean writesAhead) {
        this.writesAhead = writesAhead;
    }

    /**
     * Whether C is written ahead of the tile ({@code PackedGemm.prewrite}) on this CPU: as
     * {@value #WRITE_AHEAD_PROPERTY} says, else everywhere but on AMD's cores. On the Intel
     * Xeon of 2026-12-06 it made the GPT's 128-step products with 384 and 512 columns
     * 1.21–1.32× as fast with their operands cold (1.15–1.19× inside the training step). On the
     * Zen 5 EPYC of 2026-12-07 the same products ran 0.91–0.97 of their time without it, cold
     * or with the operands in L3 ({@code nn:768x128x384}, {@code nn:768x128x512},
     * {@code tn:128x768x384}; 0.94–0.97 at 512³, no difference at 784 and 1024 steps of k):
     * most likely its stores do not wait for their lines as the Intel core's did, and the
     * zeroing is then a pass over C for nothing. The Zen 4 was not measured; it ran without it
     * until 2026-12-06. Every way gives the same bits.
     *
     * @param property the property's value, or {@code null}
     * @param vendor   the CPU's {@code vendor_id} ({@link CpuVendor#ID}), empty when unknown
     * @return whether to write C ahead
     * @throws IllegalArgumentException when the property is neither {@code true} nor {@code false}
     */
    static boolean writesAhead(String property, String vendor) {
        if (property != null) {
            return Switches.on(WRITE_AHEAD_PROPERTY, property);
        }
        return !CpuVendor.AMD.equals(vendor);
    }

    @Override
    public int rows() {
        return MR;
    }

    @Override
    public int columns() {
        return NR;
    }

    /**
     * Each step of a sliver as a 256-bit and a 128-bit vector copy, the whole block in this one
     * loop; see the class description for why not a copy method called once a step.
     */
    @Override
    public void packColumns(float[] a, int at, int lda, int slivers, int kc, int steps, float[] pack, int base) {
        for (int p0 = 0; p0 < kc; p0 += steps) {
            int pEnd = Math.min(kc, p0 + steps);
            for (int s = 0; s < slivers; s++) {
                int from = at + s * MR;
                int to = base + s * MR * kc;
                for (int p = p0; p < pEnd; p++) {
                    FloatVector.fromArray(FloatVector.SPECIES_256, a, from + p * lda).intoArray(pack, to + p * MR);
                    FloatVector.fromArray(FloatVector.SPECIES_128, a, from + p * lda + 8).intoArray(pack, to + p * MR + 8);
                }
            }
        }
    }

    @Override
    public void copyRow(float[] src, int srcOffset, float[] dst, int dstOffset) {
        FloatVector.fromArray(SPECIES, src, srcOffset).intoArray(dst, dstOffset);
        FloatVector.fromArray(SPECIES, src, srcOffset + 1 * LANES).intoArray(dst, dstOffset + 1 * LANES);
    }

    /**
     * In 8 × 8 register transposes ({@link VectorTranspose#transpose}): a scalar gather wrote
     * each value {@code columns()} floats from the last, and packing the transposed weights of
     * the GPT's input gradients ({@code dY·Wᵀ}) cost more than their copy should.
     */
    @Override
    public void packTransposed(float[] b, int at, int ldb, int cols, int kc, float[] pack, int base) {
        VectorTranspose.packPadded(b, at, ldb, cols, kc, pack, base, NR);
    }

    /** In 8 × 8 register transposes ({@link VectorTranspose#packSliver}). */
    @Override
    public void packRows(float[] a, int at, int lda, int kc, float[] pack, int base) {
        VectorTranspose.packSliver(a, at, lda, MR, kc, pack, base);
    }

    /**
     * A packed sliver is a transposed A whose steps of k lie {@code MR} apart, so this is
     * {@link #tileColumns} with {@code lda = MR}: the same code, and one method for the JIT to
     * compile. The variable step costs nothing measurable here (a 12 × 32 tile of {@code kc =
     * 64–256} ran 110–114 GFLOP/s either way on one Zen 4 core, 2026-12-05); the 4-row AVX2 tile
     * keeps its own loop, where the constant step was 5 % faster.
     */
    @Override
    public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c, int cOffset, int ldc,
                     boolean accumulate) {
        tileColumns(kc, a, aOffset, MR, b, bOffset, alpha, c, cOffset, ldc, accumulate);
    }

    /**
     * On the Intel Xeon its bursts of 24 stores into a cold C waited for every line; see
     * {@code PackedGemm.prewrite} and {@link #writesAhead}.
     */
    @Override
    public boolean prewritesC() {
        return writesAhead;
    }

    @Override
    public boolean readsRows() {
        return true;
    }

    /**
     * 512 columns: a step of this tile reads 48 bytes of a cache line of A, so reading in place
     * wastes little of what it fetches, and it saves packing A (a tenth of the GPT's weight
     * gradients, see {@link PackedGemm#IN_PLACE_TRANSPOSED_STRIDE}).
     */
    @Override
    public int transposedInPlaceColumns() {
        return 512;
    }

    @Override
    public void tileColumns(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha, float[] c,
                            int cOffset, int ldc, boolean accumulate) {
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
        // Step p of the tile's rows is A's row p (A stored transposed), lda apart instead of MR.
        for (int p = 0; p < kc; p++) {
            int ap = aOffset + p * lda;
            int bp = bOffset + p * NR;
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
            c60.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc)).intoArray(c, cOffset + 6 * ldc);
            c61.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc + LANES)).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc)).intoArray(c, cOffset + 7 * ldc);
            c71.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc + LANES)).intoArray(c, cOffset + 7 * ldc + LANES);
            c80.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc)).intoArray(c, cOffset + 8 * ldc);
            c81.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc + LANES)).intoArray(c, cOffset + 8 * ldc + LANES);
            c90.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc)).intoArray(c, cOffset + 9 * ldc);
            c91.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc + LANES)).intoArray(c, cOffset + 9 * ldc + LANES);
            c100.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc)).intoArray(c, cOffset + 10 * ldc);
            c101.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc + LANES)).intoArray(c, cOffset + 10 * ldc + LANES);
            c110.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc)).intoArray(c, cOffset + 11 * ldc);
            c111.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc + LANES)).intoArray(c, cOffset + 11 * ldc + LANES);
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
            c60.mul(scale).intoArray(c, cOffset + 6 * ldc);
            c61.mul(scale).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.mul(scale).intoArray(c, cOffset + 7 * ldc);
            c71.mul(scale).intoArray(c, cOffset + 7 * ldc + LANES);
            c80.mul(scale).intoArray(c, cOffset + 8 * ldc);
            c81.mul(scale).intoArray(c, cOffset + 8 * ldc + LANES);
            c90.mul(scale).intoArray(c, cOffset + 9 * ldc);
            c91.mul(scale).intoArray(c, cOffset + 9 * ldc + LANES);
            c100.mul(scale).intoArray(c, cOffset + 10 * ldc);
            c101.mul(scale).intoArray(c, cOffset + 10 * ldc + LANES);
            c110.mul(scale).intoArray(c, cOffset + 11 * ldc);
            c111.mul(scale).intoArray(c, cOffset + 11 * ldc + LANES);
        }
    }

    @Override
    public void tileRows(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha, float[] c,
                         int cOffset, int ldc, boolean accumulate) {
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
        // One start per row of A, the step p added to each: C2 checks every row's range once,
        // before the loop, as for the packed sliver.
        int a0 = aOffset + 0 * lda;
        int a1 = aOffset + 1 * lda;
        int a2 = aOffset + 2 * lda;
        int a3 = aOffset + 3 * lda;
        int a4 = aOffset + 4 * lda;
        int a5 = aOffset + 5 * lda;
        int a6 = aOffset + 6 * lda;
        int a7 = aOffset + 7 * lda;
        int a8 = aOffset + 8 * lda;
        int a9 = aOffset + 9 * lda;
        int a10 = aOffset + 10 * lda;
        int a11 = aOffset + 11 * lda;
        for (int p = 0; p < kc; p++) {
            int bp = bOffset + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector x0 = FloatVector.broadcast(SPECIES, a[a0 + p]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(SPECIES, a[a1 + p]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(SPECIES, a[a2 + p]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(SPECIES, a[a3 + p]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            FloatVector x4 = FloatVector.broadcast(SPECIES, a[a4 + p]);
            c40 = x4.fma(b0, c40);
            c41 = x4.fma(b1, c41);
            FloatVector x5 = FloatVector.broadcast(SPECIES, a[a5 + p]);
            c50 = x5.fma(b0, c50);
            c51 = x5.fma(b1, c51);
            FloatVector x6 = FloatVector.broadcast(SPECIES, a[a6 + p]);
            c60 = x6.fma(b0, c60);
            c61 = x6.fma(b1, c61);
            FloatVector x7 = FloatVector.broadcast(SPECIES, a[a7 + p]);
            c70 = x7.fma(b0, c70);
            c71 = x7.fma(b1, c71);
            FloatVector x8 = FloatVector.broadcast(SPECIES, a[a8 + p]);
            c80 = x8.fma(b0, c80);
            c81 = x8.fma(b1, c81);
            FloatVector x9 = FloatVector.broadcast(SPECIES, a[a9 + p]);
            c90 = x9.fma(b0, c90);
            c91 = x9.fma(b1, c91);
            FloatVector x10 = FloatVector.broadcast(SPECIES, a[a10 + p]);
            c100 = x10.fma(b0, c100);
            c101 = x10.fma(b1, c101);
            FloatVector x11 = FloatVector.broadcast(SPECIES, a[a11 + p]);
            c110 = x11.fma(b0, c110);
            c111 = x11.fma(b1, c111);
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
            c60.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc)).intoArray(c, cOffset + 6 * ldc);
            c61.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 6 * ldc + LANES)).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc)).intoArray(c, cOffset + 7 * ldc);
            c71.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 7 * ldc + LANES)).intoArray(c, cOffset + 7 * ldc + LANES);
            c80.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc)).intoArray(c, cOffset + 8 * ldc);
            c81.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 8 * ldc + LANES)).intoArray(c, cOffset + 8 * ldc + LANES);
            c90.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc)).intoArray(c, cOffset + 9 * ldc);
            c91.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 9 * ldc + LANES)).intoArray(c, cOffset + 9 * ldc + LANES);
            c100.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc)).intoArray(c, cOffset + 10 * ldc);
            c101.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 10 * ldc + LANES)).intoArray(c, cOffset + 10 * ldc + LANES);
            c110.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc)).intoArray(c, cOffset + 11 * ldc);
            c111.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 11 * ldc + LANES)).intoArray(c, cOffset + 11 * ldc + LANES);
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
            c60.mul(scale).intoArray(c, cOffset + 6 * ldc);
            c61.mul(scale).intoArray(c, cOffset + 6 * ldc + LANES);
            c70.mul(scale).intoArray(c, cOffset + 7 * ldc);
            c71.mul(scale).intoArray(c, cOffset + 7 * ldc + LANES);
            c80.mul(scale).intoArray(c, cOffset + 8 * ldc);
            c81.mul(scale).intoArray(c, cOffset + 8 * ldc + LANES);
            c90.mul(scale).intoArray(c, cOffset + 9 * ldc);
            c91.mul(scale).intoArray(c, cOffset + 9 * ldc + LANES);
            c100.mul(scale).intoArray(c, cOffset + 10 * ldc);
            c101.mul(scale).intoArray(c, cOffset + 10 * ldc + LANES);
            c110.mul(scale).intoArray(c, cOffset + 11 * ldc);
            c111.mul(scale).intoArray(c, cOffset + 11 * ldc + LANES);
        }
    }

    /**
     * Four rows: a block of 64 rows (a batch of 64, a convolution's 64 outputs) is five tiles
     * of 12 and a short one instead of a sixth tile of 12 two thirds idle and run through the
     * edge buffer.
     */
    @Override
    public int shortRows() {
        return 4;
    }

    @Override
    public void tileShort(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                          float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        VectorEdgeTiles12.tileShort(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, c, cOffset, ldc,
                accumulate);
    }

    @Override
    public void tileShortPair(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                              float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        VectorEdgeTiles12.tileEight(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, c, cOffset, ldc,
                accumulate);
    }

    /** One vector of columns, {@link #rows()} rows: the last sliver of a product such as the GPT's 65-column head. */
    @Override
    public int narrowColumns() {
        return LANES;
    }

    @Override
    public void tileNarrow(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                           float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
        VectorEdgeTiles12.tileNarrow(kc, a, aOffset, rowStride, stepStride, b, bOffset, alpha, c, cOffset, ldc,
                accumulate);
    }
}
