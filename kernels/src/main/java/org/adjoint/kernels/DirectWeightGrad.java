package org.adjoint.kernels;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weight gradient of a stride-1, "same" 3×3 convolution ({@code padding = dilation}, so
 * the output is as large as the image) read straight from the images, with no columns:
 * {@code dw[o, c, ki, kj] = Σ_images Σ_q dy[o, q] · x[c, q + (ki·d − p)·W + kj·d − p]}, the
 * image element under tap {@code (ki, kj)} of output position {@code q = oh·W + ow}, or zero
 * where that tap lies outside the image.
 *
 * <p>Because the output is the image's size, the taps of {@code L} consecutive positions are
 * {@code L} consecutive elements of the image (shifted by the tap's offset), so lanes are
 * positions and every tap is one whole vector load from a copy of the images with zero
 * margins between planes (rows above and below) and, for the side taps, the wrapped-around
 * columns zeroed. A tile of 4 output channels times one row of 3 taps is 12 accumulators;
 * threads take fixed runs of (tile, channel) units, and images go by in chunks that stay in
 * L2. It serves the first layer of a CNN (one channel, 9 taps: columns only 9 rows deep,
 * which the default unfolded and multiplied with a narrow GEMM, image by image).
 *
 * <p>The sum is not the GEMM's chain: each lane sums its own positions (lane {@code i} takes
 * positions {@code i, i + L, …} of every image, images in order), and the lanes are added in
 * order at the end. That order is fixed, so the bits depend neither on the thread count nor
 * on the chunk size; they differ from the unfolded columns' GEMMs in the last places, as any
 * reordering of a sum does.
 */
final class DirectWeightGrad {

    /** 256 bits: at 14×14 images, 196 positions fill 24.5 vectors of 8 (2% lost) against 12.25 of 16 (6%). */
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED.length() >= 8
            ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Lane numbers, {@code 0, 1, …, L − 1}. */
    private static final FloatVector IOTA = FloatVector.zero(S).addIndex(1);
    /** Output channels per tile: 4 × 3 accumulators, 3 tap vectors and a cotangent fit the registers. */
    private static final int TILE = 4;
    /** Multiply-adds below which one thread does all (a fork costs about this many). */
    private static final long SERIAL_BELOW = 1L << 20;
    /** Bytes of inputs and cotangents per chunk of images: well within a Zen 4 core's 1 MiB L2. */
    private static final long CHUNK_BYTES = 384L << 10;
    /** Image elements below which one thread copies them all. */
    private static final long COPY_SERIAL_BELOW = 1L << 16;

    private static final ThreadLocal<float[]> LEFT = new ThreadLocal<>();
    private static final ThreadLocal<float[]> CENTER = new ThreadLocal<>();
    private static final ThreadLocal<float[]> RIGHT = new ThreadLocal<>();

    private DirectWeightGrad() {
    }

    /**
     * Whether this kernel computes the weight gradient of a convolution: 3×3, stride 1, padding
     * equal to the dilation (the output has the image's size), the tap's offset shorter than a
     * row, one input channel and at least one tile of output channels per group. That is
     * where it measured faster: for one channel the columns have only 9 rows, a product too
     * narrow for the GEMM's tile, while with more channels ({@link ImplicitConv#weightGrad}, 288
     * rows for a CNN's second layer) the GEMM's register tile reuses each load more than the
     * 12 accumulators here do (1.5× faster there, one thread, Zen 4).
     *
     * @return true when {@link #weightGrad} applies
     */
    static boolean takes(int channelsPerGroup, int outputsPerGroup, int height, int width, int kernelHeight,
                         int kernelWidth, int stride, int padding, int dilation) {
        return L >= 4 && channelsPerGroup == 1 && outputsPerGroup >= TILE && kernelHeight == 3 && kernelWidth == 3
                && stride == 1 && padding == dilation && dilation < width && dilation < height;
    }

    /**
     * {@code dw [outputs, channels/groups, 3, 3] = Σ_images dy_g · columns_g(x)ᵀ} for a
     * convolution that {@link #takes} applies to, overwriting {@code dw}.
     *
     * <p>Work units are (tile of output channels, input channel); each thread takes a fixed run
     * of them. The images go by in chunks whose inputs and cotangents stay in L2 while every
     * unit of the thread passes over them; the accumulators wait in memory between chunks
     * (a store and a load are exact, so the chunk size changes no bit).
     */
    static void weightGrad(float[] x, float[] dy, float[] dw, int images, int channels, int height, int width,
                           int outputs, int groups, int dilation) {
        int perGroup = channels / groups;
        int m = outputs / groups;
        int positions = height * width;
        Padded padded = Padded.of(x, images * channels, height, width, dilation);
        int tiles = (m + TILE - 1) / TILE;
        int units = groups * tiles * perGroup;
        long imageBytes = 4L * (3L * channels * padded.stride() + (long) outputs * positions);
        int chunk = (int) Math.max(1, Math.min(images, CHUNK_BYTES / imageBytes));
        // Per unit, per tap row, per output of the tile, per tap of the row: one vector of lane sums.
        int slot = 3 * TILE * 3 * L;
        float[] sums = new float[units * slot];
        long work = (long) images * outputs * perGroup * 9 * positions;
        int wanted = work < SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, units);
        Parallel.together(wanted, parts -> part -> {
            int first = (int) ((long) units * part / parts);
            int end = (int) ((long) units * (part + 1) / parts);
            float[] tail = new float[L];
            for (int p0 = 0; p0 < images; p0 += chunk) {
                int p1 = Math.min(images, p0 + chunk);
                for (int unit = first; unit < end; unit++) {
                    int c = unit % perGroup;
                    int tile = unit / perGroup % tiles;
                    int g = unit / perGroup / tiles;
                    int o0 = g * m + tile * TILE;
                    int count = Math.min(TILE, (g + 1) * m - o0);
                    int channel = g * perGroup + c;
                    for (int ki = 0; ki < 3; ki++) {
                        int at = unit * slot + ki * TILE * 3 * L;
                        int shift = (ki - 1) * dilation * width;
                        if (count == TILE) {
                            tapRow(padded, dy, sums, at, p0, p1, channels, positions, outputs, channel, o0, shift,
                                    dilation, tail);
                        } else {
                            for (int o = o0; o < o0 + count; o++) {
                                tapRowOne(padded, dy, sums, at + (o - o0) * 3 * L, p0, p1, channels, positions,
                                        outputs, channel, o, shift, dilation, tail);
                            }
                        }
                    }
                }
            }
            for (int unit = first; unit < end; unit++) {
                int c = unit % perGroup;
                int tile = unit / perGroup % tiles;
                int g = unit / perGroup / tiles;
                int o0 = g * m + tile * TILE;
                int count = Math.min(TILE, (g + 1) * m - o0);
                for (int o = o0; o < o0 + count; o++) {
                    for (int t = 0; t < 9; t++) {
                        int from = unit * slot + ((t / 3 * TILE + o - o0) * 3 + t % 3) * L;
                        float total = 0f;
                        for (int lane = 0; lane < L; lane++) {
                            total += sums[from + lane];
                        }
                        dw[(o * perGroup + c) * 9 + t] = total;
                    }
                }
            }
        });
    }

    /**
     * The images copied three times, plane after plane with {@code margin} zeros before each
     * and after the last, so that every tap of every block of positions is one whole vector
     * load, no masks: {@code center} as they are, {@code left} with the last {@code d} columns
     * zeroed (what a tap {@code d} to the left reads past a row's start is the previous row's
     * end) and {@code right} with the first {@code d} zeroed. The margin covers a tap's row
     * offset and the last block's lanes past the plane.
     */
    private record Padded(float[] left, float[] center, float[] right, int margin, int stride) {

        static Padded of(float[] x, int planes, int height, int width, int dilation) {
            int positions = height * width;
            int margin = dilation * width + dilation + L;
            int stride = positions + margin;
            int size = Math.toIntExact((long) planes * stride + margin);
            // This thread's buffers from the last call, reused: everything the copy does not
            // write (the margins) is zeroed below, so an earlier geometry leaves nothing behind.
            float[] left = PackedGemm.buffer(LEFT, size);
            float[] center = PackedGemm.buffer(CENTER, size);
            float[] right = PackedGemm.buffer(RIGHT, size);
            Arrays.fill(left, 0, margin, 0f);
            Arrays.fill(center, 0, margin, 0f);
            Arrays.fill(right, 0, margin, 0f);
            // Copying is a memory pass: split only when it is large enough to pay for a fork.
            int parts = (long) planes * positions < COPY_SERIAL_BELOW ? 1 : Parallel.THREADS;
            Parallel.run(parts, part -> {
                int first = (int) ((long) planes * part / parts);
                int end = (int) ((long) planes * (part + 1) / parts);
                for (int plane = first; plane < end; plane++) {
                    int from = plane * positions;
                    int to = margin + plane * stride;
                    System.arraycopy(x, from, center, to, positions);
                    System.arraycopy(x, from, left, to, positions);
                    System.arraycopy(x, from, right, to, positions);
                    Arrays.fill(center, to + positions, to + stride, 0f);
                    Arrays.fill(left, to + positions, to + stride, 0f);
                    Arrays.fill(right, to + positions, to + stride, 0f);
                    for (int h = 0; h < height; h++) {
                        int row = to + h * width;
                        for (int j = 0; j < dilation; j++) {
                            left[row + width - 1 - j] = 0f;
                            right[row + j] = 0f;
                        }
                    }
                }
            });
            return new Padded(left, center, right, margin, stride);
        }

        int plane(int index) {
            return margin + index * stride;
        }
    }

    /**
     * Adds images {@code [p0, p1)} to the 12 lane sums of outputs {@code [o0, o0 + 4)} by the 3
     * taps of one row, kept at {@code sums[at]} (output, then tap).
     */
    private static void tapRow(Padded padded, float[] dy, float[] sums, int at, int p0, int p1, int channels,
                               int positions, int outputs, int channel, int o0, int shift, int dilation,
                               float[] tail) {
        FloatVector a00 = FloatVector.fromArray(S, sums, at);
        FloatVector a01 = FloatVector.fromArray(S, sums, at + L);
        FloatVector a02 = FloatVector.fromArray(S, sums, at + 2 * L);
        FloatVector a10 = FloatVector.fromArray(S, sums, at + 3 * L);
        FloatVector a11 = FloatVector.fromArray(S, sums, at + 4 * L);
        FloatVector a12 = FloatVector.fromArray(S, sums, at + 5 * L);
        FloatVector a20 = FloatVector.fromArray(S, sums, at + 6 * L);
        FloatVector a21 = FloatVector.fromArray(S, sums, at + 7 * L);
        FloatVector a22 = FloatVector.fromArray(S, sums, at + 8 * L);
        FloatVector a30 = FloatVector.fromArray(S, sums, at + 9 * L);
        FloatVector a31 = FloatVector.fromArray(S, sums, at + 10 * L);
        FloatVector a32 = FloatVector.fromArray(S, sums, at + 11 * L);
        float[] left = padded.left();
        float[] center = padded.center();
        float[] right = padded.right();
        int whole = positions / L;
        int blocks = (positions + L - 1) / L;
        VectorMask<Float> inside = IOTA.compare(VectorOperators.LT, positions - whole * L);
        for (int p = p0; p < p1; p++) {
            int plane = padded.plane(p * channels + channel) + shift;
            int d0 = (p * outputs + o0) * positions;
            int d1 = d0 + positions;
            int d2 = d1 + positions;
            int d3 = d2 + positions;
            for (int b = 0; b < whole; b++) {
                int q = b * L;
                FloatVector x0 = FloatVector.fromArray(S, left, plane + q - dilation);
                FloatVector x1 = FloatVector.fromArray(S, center, plane + q);
                FloatVector x2 = FloatVector.fromArray(S, right, plane + q + dilation);
                FloatVector g0 = FloatVector.fromArray(S, dy, d0 + q);
                FloatVector g1 = FloatVector.fromArray(S, dy, d1 + q);
                FloatVector g2 = FloatVector.fromArray(S, dy, d2 + q);
                FloatVector g3 = FloatVector.fromArray(S, dy, d3 + q);
                a00 = g0.fma(x0, a00);
                a01 = g0.fma(x1, a01);
                a02 = g0.fma(x2, a02);
                a10 = g1.fma(x0, a10);
                a11 = g1.fma(x1, a11);
                a12 = g1.fma(x2, a12);
                a20 = g2.fma(x0, a20);
                a21 = g2.fma(x1, a21);
                a22 = g2.fma(x2, a22);
                a30 = g3.fma(x0, a30);
                a31 = g3.fma(x1, a31);
                a32 = g3.fma(x2, a32);
            }
            if (whole < blocks) {
                int q = whole * L;
                FloatVector x0 = FloatVector.fromArray(S, left, plane + q - dilation);
                FloatVector x1 = FloatVector.fromArray(S, center, plane + q);
                FloatVector x2 = FloatVector.fromArray(S, right, plane + q + dilation);
                FloatVector g0 = tail(dy, d0 + q, inside, tail);
                FloatVector g1 = tail(dy, d1 + q, inside, tail);
                FloatVector g2 = tail(dy, d2 + q, inside, tail);
                FloatVector g3 = tail(dy, d3 + q, inside, tail);
                a00 = g0.fma(x0, a00);
                a01 = g0.fma(x1, a01);
                a02 = g0.fma(x2, a02);
                a10 = g1.fma(x0, a10);
                a11 = g1.fma(x1, a11);
                a12 = g1.fma(x2, a12);
                a20 = g2.fma(x0, a20);
                a21 = g2.fma(x1, a21);
                a22 = g2.fma(x2, a22);
                a30 = g3.fma(x0, a30);
                a31 = g3.fma(x1, a31);
                a32 = g3.fma(x2, a32);
            }
        }
        a00.intoArray(sums, at);
        a01.intoArray(sums, at + L);
        a02.intoArray(sums, at + 2 * L);
        a10.intoArray(sums, at + 3 * L);
        a11.intoArray(sums, at + 4 * L);
        a12.intoArray(sums, at + 5 * L);
        a20.intoArray(sums, at + 6 * L);
        a21.intoArray(sums, at + 7 * L);
        a22.intoArray(sums, at + 8 * L);
        a30.intoArray(sums, at + 9 * L);
        a31.intoArray(sums, at + 10 * L);
        a32.intoArray(sums, at + 11 * L);
    }

    /** {@link #tapRow} for one output channel {@code o}, the remainder of a tile: 3 lane sums at {@code sums[at]}. */
    private static void tapRowOne(Padded padded, float[] dy, float[] sums, int at, int p0, int p1, int channels,
                                  int positions, int outputs, int channel, int o, int shift, int dilation,
                                  float[] tail) {
        FloatVector a0 = FloatVector.fromArray(S, sums, at);
        FloatVector a1 = FloatVector.fromArray(S, sums, at + L);
        FloatVector a2 = FloatVector.fromArray(S, sums, at + 2 * L);
        int whole = positions / L;
        int blocks = (positions + L - 1) / L;
        VectorMask<Float> inside = IOTA.compare(VectorOperators.LT, positions - whole * L);
        for (int p = p0; p < p1; p++) {
            int plane = padded.plane(p * channels + channel) + shift;
            int d = (p * outputs + o) * positions;
            for (int b = 0; b < blocks; b++) {
                int q = b * L;
                FloatVector g = b < whole ? FloatVector.fromArray(S, dy, d + q) : tail(dy, d + q, inside, tail);
                a0 = g.fma(FloatVector.fromArray(S, padded.left(), plane + q - dilation), a0);
                a1 = g.fma(FloatVector.fromArray(S, padded.center(), plane + q), a1);
                a2 = g.fma(FloatVector.fromArray(S, padded.right(), plane + q + dilation), a2);
            }
        }
        a0.intoArray(sums, at);
        a1.intoArray(sums, at + L);
        a2.intoArray(sums, at + 2 * L);
    }

    /**
     * The last, partial block of a plane's cotangent: the lanes {@code inside} the plane and
     * zeros after, for past the plane lies another channel's cotangent, which could be infinite
     * (0 · ∞ is NaN). A whole load and a blend where the array goes on (a masked load or
     * copies made the loop several times slower), a copy through {@code tail} at its end.
     */
    private static FloatVector tail(float[] dy, int at, VectorMask<Float> inside, float[] tail) {
        if (at + L <= dy.length) {
            return FloatVector.zero(S).blend(FloatVector.fromArray(S, dy, at), inside);
        }
        System.arraycopy(dy, at, tail, 0, dy.length - at);
        return FloatVector.zero(S).blend(FloatVector.fromArray(S, tail, 0), inside);
    }
}
