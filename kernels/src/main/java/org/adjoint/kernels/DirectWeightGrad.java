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
 * columns zeroed. A whole tile of 4 output channels runs as two passes of 2 outputs times all
 * 9 taps, 18 accumulators: each image's planes and cotangents are read from L2 once per pass
 * (the rows above and below are the same copies {@code d·W} apart, found in L1) instead of
 * once per tap row, which made the kernel 1.9× faster on one Zen 4 core (CNN first layer,
 * 0.62–0.86 → 0.33–0.49 ms CPU); an odd last output takes one row of 3 taps at a time,
 * 3 accumulators. Threads take fixed runs of (tile, channel) units, and images go
 * by in chunks that stay in L2. It serves the first layer of a CNN (one channel, 9 taps: columns only 9 rows deep,
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
    static final int L = S.length();
    /** Lane numbers, {@code 0, 1, …, L − 1}. */
    private static final FloatVector IOTA = FloatVector.zero(S).addIndex(1);
    /** Output channels per tile, two at a time: 2 × 9 accumulators, a tap vector and 2 cotangents fit the registers. */
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
     * rows for a CNN's second layer) the GEMM's register tile reuses each load more than this
     * kernel's accumulators did (1.5× faster there, one thread, Zen 4, measured against the
     * earlier 4 × 3 accumulators; the bits of the two differ, so the choice also fixes them).
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
                    // Pairs of outputs by all nine taps; an odd last output by one tap row at a time.
                    int pairs = count / 2 * 2;
                    for (int half = 0; half < pairs; half += 2) {
                        pairNineTaps(padded, dy, sums, unit * slot + half * 3 * L, p0, p1, channels, positions,
                                outputs, channel, o0 + half, width, dilation, tail);
                    }
                    if (pairs < count) {
                        int o = o0 + pairs;
                        for (int ki = 0; ki < 3; ki++) {
                            tapRowOne(padded, dy, sums, unit * slot + ki * TILE * 3 * L + pairs * 3 * L, p0, p1,
                                    channels, positions, outputs, channel, o, (ki - 1) * dilation * width, dilation,
                                    tail);
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
     * Adds images {@code [p0, p1)} to the 18 lane sums of outputs {@code o} and {@code o + 1} by
     * the nine taps, kept at {@code sums[at + (ki·TILE + o')·3·L + kj·L]} ({@code o'} 0 or 1).
     * Each image's planes are read once for all nine taps (the rows above and below are the
     * same copies {@code d·W} apart, still in L1), and each cotangent once. Each lane sum is
     * the chain {@link #tapRowOne} gives it, so the grouping changes no bit.
     */
    private static void pairNineTaps(Padded padded, float[] dy, float[] sums, int at, int p0, int p1, int channels,
                                     int positions, int outputs, int channel, int o, int width, int dilation,
                                     float[] tail) {
        int row = TILE * 3 * L;
        int next = 3 * L;
        FloatVector a000 = FloatVector.fromArray(S, sums, at);
        FloatVector a001 = FloatVector.fromArray(S, sums, at + L);
        FloatVector a002 = FloatVector.fromArray(S, sums, at + 2 * L);
        FloatVector a010 = FloatVector.fromArray(S, sums, at + row);
        FloatVector a011 = FloatVector.fromArray(S, sums, at + row + L);
        FloatVector a012 = FloatVector.fromArray(S, sums, at + row + 2 * L);
        FloatVector a020 = FloatVector.fromArray(S, sums, at + 2 * row);
        FloatVector a021 = FloatVector.fromArray(S, sums, at + 2 * row + L);
        FloatVector a022 = FloatVector.fromArray(S, sums, at + 2 * row + 2 * L);
        FloatVector a100 = FloatVector.fromArray(S, sums, at + next);
        FloatVector a101 = FloatVector.fromArray(S, sums, at + next + L);
        FloatVector a102 = FloatVector.fromArray(S, sums, at + next + 2 * L);
        FloatVector a110 = FloatVector.fromArray(S, sums, at + next + row);
        FloatVector a111 = FloatVector.fromArray(S, sums, at + next + row + L);
        FloatVector a112 = FloatVector.fromArray(S, sums, at + next + row + 2 * L);
        FloatVector a120 = FloatVector.fromArray(S, sums, at + next + 2 * row);
        FloatVector a121 = FloatVector.fromArray(S, sums, at + next + 2 * row + L);
        FloatVector a122 = FloatVector.fromArray(S, sums, at + next + 2 * row + 2 * L);
        float[] left = padded.left();
        float[] center = padded.center();
        float[] right = padded.right();
        int up = dilation * width;
        int whole = positions / L;
        int blocks = (positions + L - 1) / L;
        VectorMask<Float> inside = IOTA.compare(VectorOperators.LT, positions - whole * L);
        for (int p = p0; p < p1; p++) {
            int plane = padded.plane(p * channels + channel);
            int d0 = (p * outputs + o) * positions;
            int d1 = d0 + positions;
            for (int b = 0; b < blocks; b++) {
                int q = b * L;
                FloatVector g0;
                FloatVector g1;
                if (b < whole) {
                    g0 = FloatVector.fromArray(S, dy, d0 + q);
                    g1 = FloatVector.fromArray(S, dy, d1 + q);
                } else {
                    g0 = tail(dy, d0 + q, inside, tail);
                    g1 = tail(dy, d1 + q, inside, tail);
                }
                int top = plane + q - up;
                int mid = plane + q;
                int low = plane + q + up;
                FloatVector x = FloatVector.fromArray(S, left, top - dilation);
                a000 = g0.fma(x, a000);
                a100 = g1.fma(x, a100);
                x = FloatVector.fromArray(S, center, top);
                a001 = g0.fma(x, a001);
                a101 = g1.fma(x, a101);
                x = FloatVector.fromArray(S, right, top + dilation);
                a002 = g0.fma(x, a002);
                a102 = g1.fma(x, a102);
                x = FloatVector.fromArray(S, left, mid - dilation);
                a010 = g0.fma(x, a010);
                a110 = g1.fma(x, a110);
                x = FloatVector.fromArray(S, center, mid);
                a011 = g0.fma(x, a011);
                a111 = g1.fma(x, a111);
                x = FloatVector.fromArray(S, right, mid + dilation);
                a012 = g0.fma(x, a012);
                a112 = g1.fma(x, a112);
                x = FloatVector.fromArray(S, left, low - dilation);
                a020 = g0.fma(x, a020);
                a120 = g1.fma(x, a120);
                x = FloatVector.fromArray(S, center, low);
                a021 = g0.fma(x, a021);
                a121 = g1.fma(x, a121);
                x = FloatVector.fromArray(S, right, low + dilation);
                a022 = g0.fma(x, a022);
                a122 = g1.fma(x, a122);
            }
        }
        a000.intoArray(sums, at);
        a001.intoArray(sums, at + L);
        a002.intoArray(sums, at + 2 * L);
        a010.intoArray(sums, at + row);
        a011.intoArray(sums, at + row + L);
        a012.intoArray(sums, at + row + 2 * L);
        a020.intoArray(sums, at + 2 * row);
        a021.intoArray(sums, at + 2 * row + L);
        a022.intoArray(sums, at + 2 * row + 2 * L);
        a100.intoArray(sums, at + next);
        a101.intoArray(sums, at + next + L);
        a102.intoArray(sums, at + next + 2 * L);
        a110.intoArray(sums, at + next + row);
        a111.intoArray(sums, at + next + row + L);
        a112.intoArray(sums, at + next + row + 2 * L);
        a120.intoArray(sums, at + next + 2 * row);
        a121.intoArray(sums, at + next + 2 * row + L);
        a122.intoArray(sums, at + next + 2 * row + 2 * L);
    }

    /**
     * One output channel {@code o}, the remainder of a tile, by the 3 taps of one row (shifted
     * {@code shift} from the plane): 3 lane sums at {@code sums[at]}.
     */
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
