package org.adjoint.kernels;

import java.util.Arrays;

/**
 * The input gradient of a stride-1 convolution with a 3 × 3 window for an image whose {@code dy}
 * is mostly zeros, with the bits of {@link DirectConv#inputGrad}: the zeros cost nothing.
 *
 * <p>Why: behind a ReLU and a 2 × 2 max pooling (the CNN's layers, fused in
 * {@code conv2dBiasReluMaxPoolGrad}) at most one element of each window has a gradient, so at
 * least three quarters of {@code dy} is zero, and the dense kernel spends three quarters of its
 * multiply-adds on them.
 *
 * <p>The bits: {@link DirectConv#inputGrad} sums, for each tap {@code t = (ki, kj)} in order, a
 * chain {@code T_t[c, q] = Σ_o W[o, c, t] · dy[o, q + p − (ki, kj)·d]} over the outputs in
 * ascending order from +0, and adds {@code T_t} to {@code dx} begun at +0. For one tap and one
 * element of {@code dx} every term reads one position of {@code dy}, so each position's nonzero
 * elements, listed output after output, make every {@code T_t} that reads that position: nine
 * chains in registers (a vector of input channels each), nine weight loads and multiply-adds per
 * nonzero element, then nine additions into {@code dx}. Taking the positions from the last to
 * the first adds the taps to each element of {@code dx} in ascending order, as the dense kernel
 * does. A zero product leaves a chain begun at +0 as it is (such a chain is never −0), unless the
 * weight is infinite or NaN: such a weight makes {@link #prepare} decline and the dense kernel
 * runs.
 *
 * <p>Each (image, group) unit decides for itself ({@link #unit}): past {@code density} nonzero
 * elements of its {@code dy} the dense kernel takes it instead. The channels go {@code LANES} at a
 * time through a channels-last grid of {@code (H + 2p) × (W + 2p)} positions (8 KiB at 16 × 16
 * with 8 lanes), so it stays in L1.
 */
final class SparseInputGrad {

    /**
     * System property: the largest fraction of nonzero elements of {@code dy} for which the
     * scatters run; 0 turns them off.
     */
    static final String DENSITY_PROPERTY = "adjoint.conv.sparseDensity";

    /** The default fraction of nonzero elements up to which the scatters run ({@link #density}). */
    static final double DENSITY = density(System.getProperty(DENSITY_PROPERTY));

    private static final int TAPS = SparseChains.TAPS;
    /** The planes of {@code dy} counted before a unit is listed. */
    private static final int SAMPLED_PLANES = 8;
    private static final int LANES = SparseChains.LANES;

    private static final ThreadLocal<float[]> WEIGHTS = new ThreadLocal<>();
    private static final ThreadLocal<float[]> GRID = new ThreadLocal<>();
    private static final ThreadLocal<float[]> VALUES = new ThreadLocal<>();
    private static final ThreadLocal<int[]> OUTPUTS = new ThreadLocal<>();
    private static final ThreadLocal<int[]> STARTS = new ThreadLocal<>();
    private static final ThreadLocal<int[]> FOUND = new ThreadLocal<>();
    private static final ThreadLocal<float[]> FOUND_VALUES = new ThreadLocal<>();
    private static final ThreadLocal<int[]> ENDS = new ThreadLocal<>();

    private final int inPerGroup;
    private final int outPerGroup;
    private final int height;
    private final int width;
    private final int outHeight;
    private final int outWidth;
    private final int padding;
    private final int gridWidth;
    private final int gridSize;
    private final int chunks;
    private final double density;
    /** The weight, {@code [group][chunk][output][tap][LANES]}: a vector of input channels per output and tap. */
    private final float[] weights;
    /** Each tap's offset in the grid: {@code (ki·d·gridWidth + kj·d)·LANES}. */
    private final int[] tapOffsets;

    private SparseInputGrad(float[] weights, int[] tapOffsets, int inPerGroup, int outPerGroup, int height, int width,
                            int padding, int dilation, double density) {
        this.weights = weights;
        this.tapOffsets = tapOffsets;
        this.inPerGroup = inPerGroup;
        this.outPerGroup = outPerGroup;
        this.height = height;
        this.width = width;
        this.outHeight = height + 2 * padding - 2 * dilation;
        this.outWidth = width + 2 * padding - 2 * dilation;
        this.padding = padding;
        this.gridWidth = width + 2 * padding;
        this.gridSize = (height + 2 * padding) * gridWidth;
        this.chunks = (inPerGroup + LANES - 1) / LANES;
        this.density = density;
    }

    /**
     * The fraction {@value #DENSITY_PROPERTY} gives, or the default: 0.35. Both scatters cost a
     * pass over {@code dy} and then, per nonzero element, a load of the weight or the image for
     * each multiply-add, which the dense tiles share among four or twelve rows; on a Zen 4 core
     * (one thread, the CNN's second layer, dy at random densities) the input gradient's scatter
     * stayed faster up to 0.55 (AVX-512) and 0.7 (AVX2) nonzero, the weight gradient's up to 0.4
     * (AVX2) and 0.6 (AVX-512). Behind a 2 × 2 max pooling {@code dy} is at most a quarter nonzero.
     */
    static double density(String property) {
        if (property == null || property.isBlank()) {
            return 0.35;
        }
        try {
            double value = Double.parseDouble(property.strip());
            if (value >= 0 && value <= 1) {
                return value;
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(DENSITY_PROPERTY + " must be a fraction in [0, 1], got '" + property
                    + "'", e);
        }
        throw new IllegalArgumentException(DENSITY_PROPERTY + " must be a fraction in [0, 1], got '" + property + "'");
    }

    /**
     * The scatter for one call of {@link DirectConv#inputGrad} (the same arguments), or
     * {@code null} where it does not apply (a window other than 3 × 3, {@code density} 0) or
     * cannot give that kernel's bits (a weight that is infinite or NaN).
     */
    static SparseInputGrad prepare(float[] w, int channels, int height, int width, int outputs, int groups,
                                   int kernelHeight, int kernelWidth, int padding, int dilation, double density) {
        if (density <= 0 || kernelHeight * kernelWidth != TAPS || kernelHeight != 3) {
            return null;
        }
        for (float value : w) {
            if (!Float.isFinite(value)) {
                return null;
            }
        }
        int inPerGroup = channels / groups;
        int outPerGroup = outputs / groups;
        int chunks = (inPerGroup + LANES - 1) / LANES;
        // The calling thread's buffer: the region's parts only read it, and it outlives the call.
        int size = groups * chunks * outPerGroup * TAPS * LANES;
        float[] weights = PackedGemm.buffer(WEIGHTS, size);
        Arrays.fill(weights, 0, size, 0f);
        for (int group = 0; group < groups; group++) {
            for (int o = 0; o < outPerGroup; o++) {
                for (int c = 0; c < inPerGroup; c++) {
                    int from = ((group * outPerGroup + o) * inPerGroup + c) * TAPS;
                    int to = ((group * chunks + c / LANES) * outPerGroup + o) * TAPS * LANES + c % LANES;
                    for (int t = 0; t < TAPS; t++) {
                        weights[to + t * LANES] = w[from + t];
                    }
                }
            }
        }
        int gridWidth = width + 2 * padding;
        int[] tapOffsets = new int[TAPS];
        for (int t = 0; t < TAPS; t++) {
            tapOffsets[t] = (t / 3 * dilation * gridWidth + t % 3 * dilation) * LANES;
        }
        return new SparseInputGrad(weights, tapOffsets, inPerGroup, outPerGroup, height, width, padding, dilation,
                density);
    }

    /**
     * {@code dx}'s unit from {@code dy}'s, where at most {@code density} of {@code dy}'s unit is
     * nonzero; otherwise nothing is written.
     *
     * @param dy     the output gradient; the unit's {@code outputs/groups} planes from {@code dyFrom}
     * @param dx     the input gradient; the unit's {@code channels/groups} planes from {@code dxFrom}
     * @param group  the unit's group
     * @return whether the unit was written
     */
    boolean unit(float[] dy, int dyFrom, float[] dx, int dxFrom, int group) {
        int plane = outHeight * outWidth;
        int[] outputs = SparseChains.ints(OUTPUTS, plane * outPerGroup);
        float[] values = PackedGemm.buffer(VALUES, plane * outPerGroup);
        int[] starts = SparseChains.ints(STARTS, plane + 1);
        if (!list(dy, dyFrom, outputs, values, starts)) {
            return false;
        }
        float[] grid = PackedGemm.buffer(GRID, gridSize * LANES);
        for (int chunk = 0; chunk < chunks; chunk++) {
            Arrays.fill(grid, 0, gridSize * LANES, 0f);
            int w = (group * chunks + chunk) * outPerGroup * TAPS * LANES;
            for (int position = plane - 1; position >= 0; position--) {
                int first = starts[position];
                int end = starts[position + 1];
                if (end > first) {
                    int oh = position / outWidth;
                    SparseChains.nineAdjacent(weights, w, outputs, values, first, end, grid,
                            (oh * gridWidth + position - oh * outWidth) * LANES, tapOffsets);
                }
            }
            copyOut(chunk, grid, dx, dxFrom);
        }
        return true;
    }

    /**
     * Each position's nonzero elements of the unit's {@code dy}, output after output: position
     * {@code q}'s outputs (as offsets {@code o·9·LANES} of their weights in a chunk) and values
     * from {@code starts[q]} to {@code starts[q + 1]};
     * {@code false} past the unit's share of nonzero elements. {@code dy} is read once in
     * order, its nonzero elements listed as they come (output, position, value), and the list
     * then sorted by position, stably, by counting: reading {@code dy} position by position
     * instead, 64 planes a step apart, measured slower on an image fresh from memory.
     */
    private boolean list(float[] dy, int dyFrom, int[] outputs, float[] values, int[] starts) {
        int plane = outHeight * outWidth;
        int elements = plane * outPerGroup;
        long limit = (long) Math.floor(density * elements);
        // A first look at a few planes, by counting alone: a dense unit declines for the price of
        // that, not of listing a third of its elements.
        int sample = Math.min(outPerGroup, SAMPLED_PLANES) * plane;
        if (SparseChains.count(dy, dyFrom, sample) > density * sample) {
            return false;
        }
        int[] found = SparseChains.ints(FOUND, elements);
        float[] foundValues = PackedGemm.buffer(FOUND_VALUES, elements);
        int[] ends = SparseChains.ints(ENDS, outPerGroup);
        int count = 0;
        for (int o = 0; o < outPerGroup; o++) {
            count = SparseChains.nonzeros(dy, dyFrom + o * plane, plane, found, foundValues, count);
            ends[o] = count;
            if (count > limit) {
                return false;
            }
        }
        Arrays.fill(starts, 0, plane + 1, 0);
        for (int e = 0; e < count; e++) {
            starts[found[e] + 1]++;
        }
        for (int q = 0; q < plane; q++) {
            starts[q + 1] += starts[q];
        }
        // starts[q] now moves along position q's list as it fills, and ends at starts[q + 1]'s old value.
        for (int o = 0, e = 0; o < outPerGroup; o++) {
            for (int end = ends[o]; e < end; e++) {
                int at = starts[found[e]]++;
                outputs[at] = o * TAPS * LANES;
                values[at] = foundValues[e];
            }
        }
        for (int q = plane; q > 0; q--) {
            starts[q] = starts[q - 1];
        }
        starts[0] = 0;
        return true;
    }

    /** The chunk's channels of {@code dx}, from the grid (channels last) to planes. */
    private void copyOut(int chunk, float[] grid, float[] dx, int dxFrom) {
        int lanes = Math.min(LANES, inPerGroup - chunk * LANES);
        for (int lane = 0; lane < lanes; lane++) {
            int to = dxFrom + (chunk * LANES + lane) * height * width;
            for (int h = 0; h < height; h++) {
                int from = ((h + padding) * gridWidth + padding) * LANES + lane;
                int row = to + h * width;
                for (int x = 0; x < width; x++) {
                    dx[row + x] = grid[from + x * LANES];
                }
            }
        }
    }
}
