package org.adjoint.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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

    /** System property: the largest fraction of a unit's {@code dy} that is nonzero for the scatter to run; 0 turns it off. */
    static final String DENSITY_PROPERTY = "adjoint.conv.sparseDensity";

    /** The default fraction of nonzero elements up to which the scatters run ({@link #density}). */
    static final double DENSITY = density(System.getProperty(DENSITY_PROPERTY));

    /** The window this kernel takes: 3 × 3, nine chains in registers. */
    private static final int TAPS = 9;

    private static final VectorSpecies<Float> SPECIES = VectorConvTile.SPECIES;
    private static final int LANES = SPECIES.length();

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
    /** Each tap's offset in the grid: {@code ki·d·gridWidth + kj·d}. */
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
        float[] weights = new float[groups * chunks * outPerGroup * TAPS * LANES];
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
            tapOffsets[t] = t / 3 * dilation * gridWidth + t % 3 * dilation;
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
        int[] outputs = ints(OUTPUTS, plane * outPerGroup);
        float[] values = PackedGemm.buffer(VALUES, plane * outPerGroup);
        int[] starts = ints(STARTS, plane + 1);
        if (!list(dy, dyFrom, outputs, values, starts)) {
            return false;
        }
        float[] grid = PackedGemm.buffer(GRID, gridSize * LANES);
        for (int chunk = 0; chunk < chunks; chunk++) {
            Arrays.fill(grid, 0, gridSize * LANES, 0f);
            int w = (group * chunks + chunk) * outPerGroup * TAPS * LANES;
            for (int position = plane - 1; position >= 0; position--) {
                int first = starts[position];
                int count = starts[position + 1] - first;
                if (count > 0) {
                    int oh = position / outWidth;
                    add(outputs, values, first, count, w,
                            (oh * gridWidth + position - oh * outWidth) * LANES, grid);
                }
            }
            copyOut(chunk, grid, dx, dxFrom);
        }
        return true;
    }

    /**
     * Each position's nonzero elements of the unit's {@code dy}, output after output: position
     * {@code q}'s outputs and values from {@code starts[q]} to {@code starts[q + 1]};
     * {@code false} past the unit's share of nonzero elements. {@code dy} is read once in
     * order, its nonzero elements listed as they come (output, position, value), and the list
     * then sorted by position, stably, by counting: reading {@code dy} position by position
     * instead, 64 planes a step apart, measured slower on an image fresh from memory.
     */
    private boolean list(float[] dy, int dyFrom, int[] outputs, float[] values, int[] starts) {
        int plane = outHeight * outWidth;
        int elements = plane * outPerGroup;
        long limit = (long) Math.floor(density * elements);
        int[] found = ints(FOUND, elements);
        float[] foundValues = PackedGemm.buffer(FOUND_VALUES, elements);
        int[] ends = ints(ENDS, outPerGroup);
        int count = 0;
        for (int o = 0; o < outPerGroup; o++) {
            count = nonzeros(dy, dyFrom + o * plane, plane, found, foundValues, count);
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
                outputs[at] = o;
                values[at] = foundValues[e];
            }
        }
        for (int q = plane; q > 0; q--) {
            starts[q] = starts[q - 1];
        }
        starts[0] = 0;
        return true;
    }

    /**
     * Appends the nonzero elements (neither +0 nor −0; NaN counts) of {@code a[from, from + n)}
     * in order: their indices from {@code from} to {@code indices}, their values to {@code values},
     * from {@code count} on.
     *
     * @return the new count
     */
    static int nonzeros(float[] a, int from, int n, int[] indices, float[] values, int count) {
        int i = 0;
        // A vector's comparison as bits, then one step per nonzero element: a scalar scan, with or
        // without a branch, took four times as long at the CNN's density (one in five).
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            long bits = FloatVector.fromArray(SPECIES, a, from + i).compare(VectorOperators.NE, 0f).toLong();
            while (bits != 0) {
                int at = i + Long.numberOfTrailingZeros(bits);
                indices[count] = at;
                values[count++] = a[from + at];
                bits &= bits - 1;
            }
        }
        for (; i < n; i++) {
            float v = a[from + i];
            if (v != 0f) {
                indices[count] = i;
                values[count++] = v;
            }
        }
        return count;
    }

    /**
     * One position's nine chains, {@code T_t = Σ W[o, chunk, t] · v} over its {@code count}
     * elements from {@code first}, each added to the grid at {@code at + tapOffsets[t]}.
     */
    private void add(int[] outputs, float[] values, int first, int count, int w, int at, float[] grid) {
        FloatVector t0 = FloatVector.zero(SPECIES);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        FloatVector t4 = t0;
        FloatVector t5 = t0;
        FloatVector t6 = t0;
        FloatVector t7 = t0;
        FloatVector t8 = t0;
        for (int e = first; e < first + count; e++) {
            FloatVector v = FloatVector.broadcast(SPECIES, values[e]);
            int k = w + outputs[e] * (TAPS * LANES);
            t0 = FloatVector.fromArray(SPECIES, weights, k).fma(v, t0);
            t1 = FloatVector.fromArray(SPECIES, weights, k + LANES).fma(v, t1);
            t2 = FloatVector.fromArray(SPECIES, weights, k + 2 * LANES).fma(v, t2);
            t3 = FloatVector.fromArray(SPECIES, weights, k + 3 * LANES).fma(v, t3);
            t4 = FloatVector.fromArray(SPECIES, weights, k + 4 * LANES).fma(v, t4);
            t5 = FloatVector.fromArray(SPECIES, weights, k + 5 * LANES).fma(v, t5);
            t6 = FloatVector.fromArray(SPECIES, weights, k + 6 * LANES).fma(v, t6);
            t7 = FloatVector.fromArray(SPECIES, weights, k + 7 * LANES).fma(v, t7);
            t8 = FloatVector.fromArray(SPECIES, weights, k + 8 * LANES).fma(v, t8);
        }
        addInto(t0, grid, at + tapOffsets[0] * LANES);
        addInto(t1, grid, at + tapOffsets[1] * LANES);
        addInto(t2, grid, at + tapOffsets[2] * LANES);
        addInto(t3, grid, at + tapOffsets[3] * LANES);
        addInto(t4, grid, at + tapOffsets[4] * LANES);
        addInto(t5, grid, at + tapOffsets[5] * LANES);
        addInto(t6, grid, at + tapOffsets[6] * LANES);
        addInto(t7, grid, at + tapOffsets[7] * LANES);
        addInto(t8, grid, at + tapOffsets[8] * LANES);
    }

    private static void addInto(FloatVector chain, float[] grid, int at) {
        chain.add(FloatVector.fromArray(SPECIES, grid, at)).intoArray(grid, at);
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

    static int[] ints(ThreadLocal<int[]> slot, int needed) {
        int[] buffer = slot.get();
        if (buffer == null || buffer.length < needed) {
            buffer = new int[needed];
            slot.set(buffer);
        }
        return buffer;
    }
}
