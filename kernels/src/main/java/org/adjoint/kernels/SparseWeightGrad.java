package org.adjoint.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weight gradient of a stride-1 convolution with a 3 × 3 window where {@code dy} is mostly
 * zeros (behind a ReLU and a max pooling, as in {@link SparseInputGrad}), with the bits of
 * {@link ImplicitConv#weightGrad}: only the nonzero elements of {@code dy} are multiplied.
 *
 * <p>The bits: {@link ImplicitConv#weightGrad} makes element {@code (o, c, t)} as, image after
 * image, a chain {@code Σ_q fma(x[c, q + t], dy[o, q], acc)} over the positions in ascending
 * order from +0 (one block of KC positions where the image has at most KC of them), stored for
 * the first image and added to the sum ({@code fma(1, chain, sum)}) for the others. A zero of
 * {@code dy} adds a zero product, which leaves such a chain as it is unless {@code x} holds an
 * infinity or NaN there; {@link #weightGrad} declines when any element of {@code x} is not finite,
 * or an image has more positions than a block of k, and leaves a {@code dy} whose sampled images
 * are more than {@code density} nonzero ({@link #sparse}) to the dense kernel.
 *
 * <p>Per image and output, the nonzero elements of its plane of {@code dy} are listed in order
 * of position; then, a vector of input channels at a time, nine chains (one per tap) run in
 * registers over that list, each step one broadcast of {@code dy} and nine loads of {@code x}
 * from a channels-last copy of the padded image ({@code (H + 2p) × (W + 2p)} positions of
 * {@code LANES} channels: 8 KiB at 16 × 16 with 8 lanes, in L1). Threads take runs of outputs,
 * every image in order for each, so the bits do not depend on the thread count.
 */
final class SparseWeightGrad {

    private static final int TAPS = SparseChains.TAPS;
    private static final VectorSpecies<Float> SPECIES = SparseChains.SPECIES;
    private static final int LANES = SparseChains.LANES;

    private static final ThreadLocal<float[]> SUMS = new ThreadLocal<>();
    private static final ThreadLocal<float[]> IMAGE = new ThreadLocal<>();
    private static final ThreadLocal<float[]> VALUES = new ThreadLocal<>();
    private static final ThreadLocal<int[]> POSITIONS = new ThreadLocal<>();

    private SparseWeightGrad() {
    }

    /** Whether the shape is one {@link #weightGrad} may take: stride 1, a 3 × 3 window, a result at least 1 × 1. */
    static boolean takes(int kernelHeight, int kernelWidth, int stride, int height, int width, int padding,
                         int dilation) {
        return stride == 1 && kernelHeight == 3 && kernelWidth == 3
                && height + 2 * padding - 2 * dilation > 0 && width + 2 * padding - 2 * dilation > 0;
    }

    /**
     * {@code dw [outputs, channels/groups, 3, 3]}, overwritten, as {@link ImplicitConv#weightGrad}
     * writes it, where the shape is one {@link #takes} accepts, at least one image, at most
     * {@code density} of {@code dy}'s sampled images nonzero ({@link #sparse}), every element of
     * {@code x} finite and at most
     * {@code kc} positions an image (one block of k of the GEMM whose bits these are);
     * otherwise nothing is written.
     *
     * @return whether {@code dw} was written
     */
    static boolean weightGrad(float[] x, float[] dy, float[] dw, int images, int channels, int height, int width,
                              int outputs, int groups, int padding, int dilation, int kc, double density) {
        int outHeight = height + 2 * padding - 2 * dilation;
        int outWidth = width + 2 * padding - 2 * dilation;
        int plane = outHeight * outWidth;
        if (images == 0 || density <= 0 || plane > kc || !sparse(dy, images, outputs * plane, density)
                || !finite(x, images * channels * height * width)) {
            return false;
        }
        Geometry g = new Geometry(channels / groups, outputs / groups, height, width, outHeight, outWidth, padding,
                dilation);
        // The calling thread's buffer: the parts write disjoint runs of outputs, the caller reads them after.
        float[] sums = PackedGemm.buffer(SUMS, outputs * TAPS * g.chunks * LANES);
        long work = (long) images * outputs * plane * channels / groups * TAPS;
        int parts = work < PackedGemm.SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, outputs);
        Parallel.run(parts, part -> {
            int o0 = (int) ((long) outputs * part / parts);
            int o1 = (int) ((long) outputs * (part + 1) / parts);
            outputs(g, x, dy, images, groups, o0, o1, sums);
        });
        for (int o = 0; o < outputs; o++) {
            for (int c = 0; c < g.inPerGroup; c++) {
                int from = ((o * g.chunks + c / LANES) * TAPS) * LANES + c % LANES;
                int to = (o * g.inPerGroup + c) * TAPS;
                for (int t = 0; t < TAPS; t++) {
                    dw[to + t] = sums[from + t * LANES];
                }
            }
        }
        return true;
    }

    /** The sizes of a call: {@code grid*} the padded image, {@code chunks} vectors of input channels. */
    private record Geometry(int inPerGroup, int outPerGroup, int height, int width, int outHeight, int outWidth,
                            int padding, int dilation, int gridWidth, int gridSize, int chunks, int[] tapOffsets,
                            int[] gridOffsets, int[] sumTaps) {

        Geometry(int inPerGroup, int outPerGroup, int height, int width, int outHeight, int outWidth, int padding,
                 int dilation) {
            this(inPerGroup, outPerGroup, height, width, outHeight, outWidth, padding, dilation, width + 2 * padding,
                    (height + 2 * padding) * (width + 2 * padding), (inPerGroup + LANES - 1) / LANES,
                    offsets(width + 2 * padding, dilation), grid(outHeight, outWidth, width + 2 * padding),
                    sumOffsets());
        }

        /** Each tap's place in an output's sums: {@code t·LANES}. */
        private static int[] sumOffsets() {
            int[] taps = new int[TAPS];
            for (int t = 0; t < TAPS; t++) {
                taps[t] = t * LANES;
            }
            return taps;
        }

        /** Position {@code oh·outWidth + ow}'s offset in the grid: {@code (oh·gridWidth + ow)·LANES}. */
        private static int[] grid(int outHeight, int outWidth, int gridWidth) {
            int[] offsets = new int[outHeight * outWidth];
            for (int q = 0; q < offsets.length; q++) {
                offsets[q] = (q / outWidth * gridWidth + q % outWidth) * LANES;
            }
            return offsets;
        }

        private static int[] offsets(int gridWidth, int dilation) {
            int[] offsets = new int[TAPS];
            for (int t = 0; t < TAPS; t++) {
                offsets[t] = (t / 3 * dilation * gridWidth + t % 3 * dilation) * LANES;
            }
            return offsets;
        }
    }

    /** Outputs {@code [o0, o1)}: {@code sums[o][chunk][tap][lane]} over every image in order. */
    private static void outputs(Geometry g, float[] x, float[] dy, int images, int groups, int o0, int o1,
                                float[] sums) {
        int plane = g.outHeight * g.outWidth;
        float[] image = PackedGemm.buffer(IMAGE, g.chunks * g.gridSize * LANES);
        int[] positions = SparseChains.ints(POSITIONS, plane);
        float[] values = PackedGemm.buffer(VALUES, plane);
        int outputs = g.outPerGroup * groups;
        for (int p = 0; p < images; p++) {
            for (int group = o0 / g.outPerGroup; group < groups && group * g.outPerGroup < o1; group++) {
                // Every thread copies the image for its own outputs: some 8,000 values against the
                // image's multiply-adds, and no barrier between images.
                channelsLast(g, x, (p * groups + group) * g.inPerGroup * g.height * g.width, image);
                int first = Math.max(o0, group * g.outPerGroup);
                int last = Math.min(o1, (group + 1) * g.outPerGroup);
                for (int o = first; o < last; o++) {
                    int count = list(g, dy, (p * outputs + o) * plane, positions, values);
                    for (int chunk = 0; chunk < g.chunks; chunk++) {
                        // The first image's chains as they are (the GEMM's 1·acc), a later one's
                        // added (fma(1, acc, C)).
                        SparseChains.nine(image, chunk * g.gridSize * LANES, g.tapOffsets, positions, values, 0,
                                count, sums, ((o * g.chunks + chunk) * TAPS) * LANES, g.sumTaps, p > 0);
                    }
                }
            }
        }
    }

    /** The group's image, zero-padded, as {@code [chunk][gridPosition][lane]}. */
    private static void channelsLast(Geometry g, float[] x, int from, float[] image) {
        Arrays.fill(image, 0, g.chunks * g.gridSize * LANES, 0f);
        for (int c = 0; c < g.inPerGroup; c++) {
            int base = (c / LANES) * g.gridSize * LANES + c % LANES;
            for (int h = 0; h < g.height; h++) {
                int row = from + (c * g.height + h) * g.width;
                int to = base + ((h + g.padding) * g.gridWidth + g.padding) * LANES;
                for (int w = 0; w < g.width; w++) {
                    image[to + w * LANES] = x[row + w];
                }
            }
        }
    }

    /**
     * The plane's nonzero elements in order: their grid offsets ({@code LANES} per position) and
     * values; their count.
     */
    private static int list(Geometry g, float[] dy, int from, int[] positions, float[] values) {
        int count = SparseChains.nonzeros(dy, from, g.outHeight * g.outWidth, positions, values, 0);
        int[] grid = g.gridOffsets;
        for (int e = 0; e < count; e++) {
            positions[e] = grid[positions[e]];
        }
        return count;
    }

    /**
     * Whether the first, middle and last images of {@code dy} together are at most
     * {@code density} nonzero. Both kernels give the same bits whatever the density, so the
     * choice only has to be cheap and usually right: counting every image had cost a dense
     * layer's weight gradient a pass over all of {@code dy} for nothing.
     */
    static boolean sparse(float[] dy, int images, int imageSize, double density) {
        int middle = images / 2;
        int last = images - 1;
        long count = SparseChains.count(dy, 0, imageSize);
        long seen = imageSize;
        if (middle > 0) {
            count += SparseChains.count(dy, middle * imageSize, imageSize);
            seen += imageSize;
        }
        if (last > middle) {
            count += SparseChains.count(dy, last * imageSize, imageSize);
            seen += imageSize;
        }
        return count <= density * seen;
    }

    /** Whether every element of {@code a[0, n)} is finite. */
    static boolean finite(float[] a, int n) {
        int i = 0;
        FloatVector infinity = FloatVector.broadcast(SPECIES, Float.POSITIVE_INFINITY);
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            // |v| < ∞ is false for ±∞ and for NaN.
            if (!FloatVector.fromArray(SPECIES, a, i).abs().compare(VectorOperators.LT, infinity).allTrue()) {
                return false;
            }
        }
        for (; i < n; i++) {
            if (!Float.isFinite(a[i])) {
                return false;
            }
        }
        return true;
    }

}
