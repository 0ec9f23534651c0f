package org.adjoint.kernels;

import java.util.logging.Logger;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 4 × (2·lanes) register tile on the Vector API: eight accumulators, two vectors of B and
 * one broadcast of A per row and step, the tile for 16 vector registers (AVX2). It is the
 * reference shape the other tiles are tested against: {@link VectorMicroKernel3} (3 × 24, nine
 * accumulators) and {@link VectorMicroKernel12} (24 accumulators, for AVX-512's 32); see
 * {@link #select()}.
 * The species defaults to 256 bits, or the CPU's width where that is narrower
 * ({@link #defaultBits}); {@code -Dadjoint.cpu.vectorBits=128|256|512} overrides it (for the
 * tall tile too, see {@link #tallSpecies()}).
 */
final class VectorMicroKernel implements MicroKernel {

    /** System property: the vector width in bits, {@code 128}, {@code 256}, {@code 512} or {@code preferred}. */
    static final String BITS_PROPERTY = "adjoint.cpu.vectorBits";
    /** System property: the rows of the register tile, {@code 3}, {@code 4} or {@code 12}. */
    static final String TILE_ROWS_PROPERTY = "adjoint.cpu.tileRows";
    static final VectorSpecies<Float> SPECIES = species();
    static final VectorMicroKernel INSTANCE = new VectorMicroKernel();
    private static final int MR = 4;
    private static final int LANES = SPECIES.length();
    private static final int NR = 2 * LANES;
    /** One step of a sliver of A: {@link #MR} floats. */
    private static final VectorSpecies<Float> STEP = FloatVector.SPECIES_128;

    private VectorMicroKernel() {
    }

    private static VectorSpecies<Float> species() {
        String bits = System.getProperty(BITS_PROPERTY,
                Integer.toString(defaultBits(FloatVector.SPECIES_PREFERRED.vectorBitSize())));
        VectorSpecies<Float> species = switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            case "preferred" -> FloatVector.SPECIES_PREFERRED;
            default -> throw new IllegalArgumentException("adjoint.cpu.vectorBits must be 128, 256, 512 or preferred, got '"
                    + bits + "'");
        };
        int hardware = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (species.vectorBitSize() > hardware) {
            // Accepted (the bits are those of that width on any CPU), but said: it runs many times slower.
            Logger.getLogger(KernelProvider.class.getName()).warning("-D" + BITS_PROPERTY + "=" + bits.trim()
                    + " is wider than this CPU's " + hardware + "-bit vectors: the Vector API runs it in Java, many"
                    + " times slower than the scalar kernels");
        }
        return species;
    }

    /**
     * The width the kernels use unless {@value #BITS_PROPERTY} says otherwise: 256 bits, or the
     * CPU's own width where that is narrower. A species wider than the hardware's vectors is
     * not compiled to vector instructions but run by the Vector API's Java fallback, many times
     * slower than scalar code: on a 128-bit machine (NEON, or x86 with only SSE) 256 bits would
     * make the vector provider the slow one. 256 rather than 512 on AVX-512 machines because
     * the bits of sums follow the width: at 256 bits on both, an AVX2 and an AVX-512 machine
     * sum in the same order (the tall SGEMM tile chooses its own width, {@link #tallSpecies()},
     * and every tile gives the same bits).
     *
     * @param preferredBits {@code FloatVector.SPECIES_PREFERRED}'s width on this CPU
     * @return the default width in bits
     */
    static int defaultBits(int preferredBits) {
        return Math.min(256, preferredBits);
    }

    /**
     * The species of the tall tile ({@link VectorMicroKernel12}): 512 bits where that is the
     * preferred width, unless {@value #BITS_PROPERTY} is set. Two 512-bit vectors per row make
     * a 12 × 32 tile, which does the 12 × 16 tile's work with half the instructions and one
     * broadcast of A per 32 columns instead of 16. On one Zen 4 core (which runs a 512-bit FMA
     * as two 256-bit halves) it measured 0.95–0.97× OpenBLAS at n = 512–2048 where 12 × 16
     * measured 0.73–0.95×, in the same process with the calls interleaved (on two cores,
     * 0.95× against 0.78–0.86×).
     *
     * @return the species
     */
    static VectorSpecies<Float> tallSpecies() {
        if (System.getProperty(BITS_PROPERTY) != null) {
            return SPECIES;
        }
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? FloatVector.SPECIES_512 : SPECIES;
    }

    /**
     * The tile for this machine, from its vector registers. C2 issues every load of a step of k
     * before its first FMA, so a tile of R rows and V vectors of columns needs R broadcasts, V
     * vectors of B and R·V accumulators live at once: R + V + R·V registers. With 32 (AVX-512:
     * the preferred species is 512 bits wide) that allows the 12 × 2 tile, which measured 1.4×
     * the 4-row one on one Zen 4 core even with 256-bit vectors, and more with 512-bit ones
     * (see {@link #tallSpecies()}). With 16 (AVX2, and everything else) it allows 4 × 2 (14
     * registers, eight accumulators: just enough for two FMA pipes of latency 4) and 3 × 3
     * (15, nine); 6 × 2, BLIS's Haswell shape, needs 20 and spilled an accumulator to the stack
     * on every step (0.57× the 4-row tile). The 4-row tile is the default: on one Zen 4 core
     * under {@code -XX:UseAVX=2} the two measured 80–85 GFLOP/s alone, and in the whole SGEMM
     * the 4-row one 0.76–0.79× OpenBLAS's Haswell kernels where the 3-row one gave 0.69–0.75×.
     * {@code -Dadjoint.cpu.tileRows=3|4|12} overrides the choice; every tile gives the same bits.
     */
    static MicroKernel select() {
        String rows = System.getProperty(TILE_ROWS_PROPERTY, "").trim();
        if (rows.isEmpty()) {
            rows = vectorRegisters() >= 32 ? "12" : "4";
        }
        return switch (rows) {
            case "4" -> INSTANCE;
            case "3" -> VectorMicroKernel3.INSTANCE;
            case "12" -> VectorMicroKernel12.INSTANCE;
            default -> throw new IllegalArgumentException(TILE_ROWS_PROPERTY + " must be 3, 4 or 12, got '" + rows + "'");
        };
    }

    /**
     * Vector registers the JIT can use here: 32 where the preferred species is 512 bits wide
     * (AVX-512), else 16 (AVX2; NEON has 32, which this does not tell apart yet).
     *
     * @return 16 or 32
     */
    static int vectorRegisters() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? 32 : 16;
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
    }

    /**
     * Each step of each sliver as one 128-bit vector (the tile's four rows are four floats of
     * one storage row), in the default's order. The default's {@code System.arraycopy} of four
     * values is a call to a copy stub: on a Zen 3 core (AVX2) packing a 128 × 512 block
     * this way took the product of that block with 8 slivers of B from 80.6 to 87.6 GFLOP/s,
     * and with 24 slivers from 88.8 to 91.4 (one JVM alternating the two, the block in cache).
     * The loop is the 12-row tile's with this tile's copy written in: a shared loop calling a
     * copy method once a step is what {@link VectorMicroKernel12}'s description warns against.
     */
    @Override
    public void packColumns(float[] a, int at, int lda, int slivers, int kc, int steps, float[] pack, int base) {
        for (int p0 = 0; p0 < kc; p0 += steps) {
            int pEnd = Math.min(kc, p0 + steps);
            for (int s = 0; s < slivers; s++) {
                int from = at + s * MR;
                int to = base + s * MR * kc;
                for (int p = p0; p < pEnd; p++) {
                    FloatVector.fromArray(STEP, a, from + p * lda).intoArray(pack, to + p * MR);
                }
            }
        }
    }

    /** In 8 × 8 register transposes ({@link VectorTranspose#transpose}), as {@link VectorMicroKernel12#packTransposed}. */
    @Override
    public void packTransposed(float[] b, int at, int ldb, int cols, int kc, float[] pack, int base) {
        VectorTranspose.packPadded(b, at, ldb, cols, kc, pack, base, NR);
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
        // The loop counter is A's index itself and B's index a multiple of it: C2 then proves
        // every access in range once, before the loop, instead of checking each one on every
        // step (with a pointer advanced beside the counter it could not: those checks cost a
        // quarter of the time on AVX2), and one add serves both indices.
        int aEnd = aOffset + kc * MR;
        int bBase = bOffset - aOffset * (NR / MR);
        for (int ap = aOffset; ap < aEnd; ap += MR) {
            int bp = bBase + ap * (NR / MR);
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[ap]);
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
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        // Written out, not a helper: an accumulator passed to a call C2 did not inline is boxed,
        // and the allocations made this tile three times slower in some compilations.
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc)).intoArray(c, cOffset + 0 * ldc);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 0 * ldc + LANES)).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc)).intoArray(c, cOffset + 1 * ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 1 * ldc + LANES)).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES)).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES)).intoArray(c, cOffset + 3 * ldc + LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset + 0 * ldc);
            c01.mul(scale).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.mul(scale).intoArray(c, cOffset + 1 * ldc);
            c11.mul(scale).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c31.mul(scale).intoArray(c, cOffset + 3 * ldc + LANES);
        }
    }

    @Override
    public boolean readsRows() {
        return true;
    }

    /**
     * Four slivers ({@code 4·columns()}, 64 columns at 256 bits). A step of this tile reads
     * 16 bytes of a cache line of A, so in place every step fetches a line for a quarter of
     * it, and with the 32 KiB sliver of B (KC 512) both come from L2: 32 bytes a cycle, the
     * Zen 3's L2 bandwidth. Packing A (once per block and thread,
     * {@code PackedGemm.blocked}) costs about one sliver's tile time. On a Zen 3 core (AVX2,
     * 2026-12-07; a 128 × 512 block of A in cache; the same JVM alternating the two) the
     * product with 1, 2, 4, 8 and 24 slivers ran at 65, 80, 75, 78 and 75 GFLOP/s in place
     * against 54, 69, 81, 88 and 91 packed. The GPT's weight gradients ({@code tn:128x768x384}
     * and {@code tn:128x768x512}, one thread, A, B and C cycling through 8 sets) took 0.67–0.92
     * of their time packed.
     */
    @Override
    public int transposedInPlaceColumns() {
        return 4 * NR;
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
        // Step p of the tile's rows is A's row p (A stored transposed), lda apart instead of MR.
        // B's index is the loop counter and A's is advanced beside it by an add. C2 keeps B's
        // range checks out of the loop (a constant stride) and A's two in, as it did with p as
        // the counter (lda is not a constant); what goes is the multiply and the shift that
        // computed both indices every step: 23 instructions a step instead of 27, where an AVX2
        // core issues about 24 in the four cycles of the eight multiply-adds. On a Zen 3 core
        // the tile over A in L2 (lda 65 to 384) went from 57-71 to 59-76 GFLOP/s (0.93-0.96 of
        // the time, alternating in one JVM, the same bits). Two steps a round, tried with it,
        // gained nothing more (0.93-1.03).
        int ap = aOffset;
        int bEnd = bOffset + kc * NR;
        for (int bp = bOffset; bp < bEnd; bp += NR, ap += lda) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector x0 = FloatVector.broadcast(SPECIES, a[ap]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            FloatVector x1 = FloatVector.broadcast(SPECIES, a[ap + 1]);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            FloatVector x2 = FloatVector.broadcast(SPECIES, a[ap + 2]);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            FloatVector x3 = FloatVector.broadcast(SPECIES, a[ap + 3]);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        FloatVector scale = FloatVector.broadcast(SPECIES, alpha);
        if (accumulate) {
            c00.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset)).intoArray(c, cOffset);
            c01.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + LANES)).intoArray(c, cOffset + LANES);
            c10.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc)).intoArray(c, cOffset + ldc);
            c11.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + ldc + LANES)).intoArray(c, cOffset + ldc + LANES);
            c20.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc)).intoArray(c, cOffset + 2 * ldc);
            c21.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 2 * ldc + LANES))
                    .intoArray(c, cOffset + 2 * ldc + LANES);
            c30.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc)).intoArray(c, cOffset + 3 * ldc);
            c31.fma(scale, FloatVector.fromArray(SPECIES, c, cOffset + 3 * ldc + LANES))
                    .intoArray(c, cOffset + 3 * ldc + LANES);
        } else {
            c00.mul(scale).intoArray(c, cOffset);
            c01.mul(scale).intoArray(c, cOffset + LANES);
            c10.mul(scale).intoArray(c, cOffset + ldc);
            c11.mul(scale).intoArray(c, cOffset + ldc + LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c31.mul(scale).intoArray(c, cOffset + 3 * ldc + LANES);
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
        // One start per row of A, the step p added to each: C2 checks every row's range once.
        int a0 = aOffset + 0 * lda;
        int a1 = aOffset + 1 * lda;
        int a2 = aOffset + 2 * lda;
        int a3 = aOffset + 3 * lda;
        for (int p = 0; p < kc; p++) {
            int bp = bOffset + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + 1 * LANES);
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
        } else {
            c00.mul(scale).intoArray(c, cOffset + 0 * ldc);
            c01.mul(scale).intoArray(c, cOffset + 0 * ldc + LANES);
            c10.mul(scale).intoArray(c, cOffset + 1 * ldc);
            c11.mul(scale).intoArray(c, cOffset + 1 * ldc + LANES);
            c20.mul(scale).intoArray(c, cOffset + 2 * ldc);
            c21.mul(scale).intoArray(c, cOffset + 2 * ldc + LANES);
            c30.mul(scale).intoArray(c, cOffset + 3 * ldc);
            c31.mul(scale).intoArray(c, cOffset + 3 * ldc + LANES);
        }
    }
}
