package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 4 × (2·lanes) register tile on the Vector API: eight accumulators, two vectors of B and
 * one broadcast of A per row and step. It is the reference shape the taller tiles are tested
 * against: {@link VectorMicroKernel6} (12 accumulators, for 16 vector registers) and
 * {@link VectorMicroKernel12} (24, for AVX-512's 32); see {@link #select()}.
 * The species defaults to 256 bits; {@code -Dadjoint.cpu.vectorBits=128|256|512} overrides it
 * (for the tall tile too, see {@link #tallSpecies()}).
 */
final class VectorMicroKernel implements MicroKernel {

    /** System property: the vector width in bits, {@code 128}, {@code 256}, {@code 512} or {@code preferred}. */
    static final String BITS_PROPERTY = "adjoint.cpu.vectorBits";
    /** System property: the rows of the register tile, {@code 4}, {@code 6} or {@code 12}. */
    static final String TILE_ROWS_PROPERTY = "adjoint.cpu.tileRows";
    static final VectorSpecies<Float> SPECIES = species();
    static final VectorMicroKernel INSTANCE = new VectorMicroKernel();
    private static final int MR = 4;
    private static final int LANES = SPECIES.length();
    private static final int NR = 2 * LANES;

    private VectorMicroKernel() {
    }

    private static VectorSpecies<Float> species() {
        String bits = System.getProperty(BITS_PROPERTY, "256");
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            case "preferred" -> FloatVector.SPECIES_PREFERRED;
            default -> throw new IllegalArgumentException("adjoint.cpu.vectorBits must be 128, 256, 512 or preferred, got '"
                    + bits + "'");
        };
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
     * The tile for this machine, from its vector registers: a tile of R rows and two vectors
     * of columns holds 2R accumulators, two vectors of B and one broadcast of A. With 32
     * registers (AVX-512: the preferred species is 512 bits wide) that is the 12-row tile,
     * which measured 1.4× the 4-row one on one Zen 4 core even with 256-bit vectors (94 against
     * 66 GFLOP/s at n = 1024), and more with 512-bit ones (see {@link #tallSpecies()}). With 16
     * (AVX2, and everything else) it is this 4-row tile: the 6-row one
     * ({@link VectorMicroKernel6}, 15 of the 16 registers) measured 0.38–0.42× OpenBLAS on one
     * core under {@code -XX:UseAVX=2} where this one measured 0.64–0.65× (n = 512 and 1024,
     * interleaved), as C2 does not keep its accumulators in registers.
     * {@code -Dadjoint.cpu.tileRows=4|6|12} overrides the choice.
     */
    static MicroKernel select() {
        String rows = System.getProperty(TILE_ROWS_PROPERTY, "").trim();
        if (rows.isEmpty()) {
            rows = vectorRegisters() >= 32 ? "12" : "4";
        }
        return switch (rows) {
            case "4" -> INSTANCE;
            case "6" -> VectorMicroKernel6.INSTANCE;
            case "12" -> VectorMicroKernel12.INSTANCE;
            default -> throw new IllegalArgumentException(TILE_ROWS_PROPERTY + " must be 4, 6 or 12, got '" + rows + "'");
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
        int ap = aOffset;
        int bp = bOffset;
        int p = 0;
        // Two steps of k per iteration: half the loop overhead, same order of accumulation.
        for (; p + 1 < kc; p += 2, ap += 2 * MR, bp += 2 * NR) {
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
            b0 = FloatVector.fromArray(SPECIES, b, bp + NR);
            b1 = FloatVector.fromArray(SPECIES, b, bp + NR + LANES);
            a0 = FloatVector.broadcast(SPECIES, a[ap + MR]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            a1 = FloatVector.broadcast(SPECIES, a[ap + MR + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            a2 = FloatVector.broadcast(SPECIES, a[ap + MR + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            a3 = FloatVector.broadcast(SPECIES, a[ap + MR + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        for (; p < kc; p++, ap += MR, bp += NR) {
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
}
