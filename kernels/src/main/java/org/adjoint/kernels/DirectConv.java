package org.adjoint.kernels;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stride-1 convolutions computed straight from a padded copy of each image, with no packing of
 * B: the forward, and the input gradient with the bits of {@link FoldedConv} or of
 * {@link ImplicitConv#inputGrad}.
 *
 * <p>Each image (and group) is copied once into a zeroed buffer {@code [channels, H + 2·padTop,
 * W + 2·padLeft]}. An output position {@code (oh, ow)} is numbered {@code oh·Wp + ow} over the
 * padded width {@code Wp}, so for a run of consecutive positions the inputs of one tap
 * {@code (channel, ki, kj)} are one contiguous run of the padded image, {@code channel·Hp·Wp +
 * ki·dilation·Wp + kj·dilation} further on: {@link VectorConvTile} loads them where they lie. The
 * positions past each row's last output column ({@code Wp − outWidth} of them, the padding) are
 * computed too and dropped when the result is copied out of the thread's scratch: for the CNN's
 * 14 × 14 layer 224 positions for 196, against packing the 288 × 196 columns of every image
 * (its forward measured 25–30 % faster on one Zen 4 core).
 *
 * <ul>
 *   <li>forward: {@code y[o, q] = Σ_r W[o, r] · x(r, q)} with {@code r = (channel, ki, kj)}
 *       ascending, in blocks of {@link GemmBlocking#KC} as {@link PackedGemm} sums them, so the
 *       bits of {@link ImplicitConv#forward};</li>
 *   <li>input gradient: for each tap {@code (ki, kj)} in order, {@code T = Σ_o W[o, c, ki, kj] ·
 *       dy[o, h + padding − ki·dilation, w + padding − kj·dilation]} ({@code o} ascending, from
 *       +0), added to {@code dx[c, h, w]} begun at +0: the bits of {@link FoldedConv}'s GEMM
 *       {@code W_gᵀ · dy_g} folded by col2im, tap after tap. A tap that falls on the padding of
 *       {@code dy} adds a chain of zero products, +0, which leaves a sum begun at +0 as it is
 *       (a sum begun at +0 is never −0), so the padded taps that the fold skips change nothing,
 *       unless the weight holds an infinity, whose product with the padding is NaN;</li>
 *   <li>input gradient as {@link ImplicitConv#inputGrad} sums it ({@link #inputGradFlipped}):
 *       the forward's sums over {@code dy} padded by {@code dilation·(k − 1) − padding}, with
 *       the weight flipped in both taps and transposed in its channel axes.</li>
 * </ul>
 * Threads claim whole (image, group) units, so the bits do not depend on the thread count.
 */
final class DirectConv {

    /** The most floats of a thread's scratch (the product over the padded width): 4 MiB. */
    private static final int MAX_SCRATCH = 1 << 20;

    private static final ThreadLocal<float[]> PADDED = new ThreadLocal<>();
    private static final ThreadLocal<float[]> SCRATCH = new ThreadLocal<>();
    private static final ThreadLocal<float[]> PACKED = new ThreadLocal<>();

    private DirectConv() {
    }

    /**
     * Rows of the full tile here, those of the SGEMM's tile ({@link VectorMicroKernel#select},
     * so {@code -Dadjoint.cpu.tileRows} too): {@link VectorConvTile#ROWS} (24 accumulators)
     * where that is the 12-row tile of 32-register machines, else {@link VectorConvTile#SHORT_ROWS}
     * (8 accumulators, the AVX2 SGEMM's 4 × 16 shape), as 16 registers would spill the 12-row
     * tile's accumulators to the stack. Every tile sums each element in the same order, so the
     * choice never changes a bit.
     */
    static final int FULL_ROWS = VectorMicroKernel.select().rows() == VectorConvTile.ROWS ? VectorConvTile.ROWS
            : VectorConvTile.SHORT_ROWS;

    /**
     * Whether these kernels can stand in for {@code tile}'s {@link PackedGemm}: B read in place
     * under a tile of {@code tile}'s width, the 12-row one's (AVX-512) or the 4-row one's (AVX2),
     * so the same chain for every element (every tile gives the same bits; the shape says
     * where reading B in place is the faster way).
     *
     * @param tile the provider's GEMM tile
     * @return whether {@link #forward}, {@link #inputGrad} and {@link #inputGradFlipped} may be called
     */
    static boolean matches(MicroKernel tile) {
        return (tile.rows() == VectorConvTile.ROWS || tile.rows() == VectorConvTile.SHORT_ROWS)
                && tile.columns() == VectorConvTile.COLUMNS;
    }

    /**
     * Whether the forward runs here: stride 1, a window that fits, and enough (image, group)
     * units to go round the threads, or units small enough that {@link ImplicitConv} would run
     * them side by side too.
     */
    static boolean takesForward(int images, int channels, int height, int width, int outputs, int groups,
                                int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        if (stride != 1 || images == 0 || outputs == 0 || channels == 0) {
            return false;
        }
        DirectConvGeometry g = new DirectConvGeometry(channels / groups, height, width, padding, padding,
                kernelHeight, kernelWidth, dilation, FULL_ROWS);
        return g.fits() && fitsScratch(outputs / groups, g)
                && units(images, groups, (long) outputs / groups * g.positions() * g.sourceChannels() * kernelHeight
                * kernelWidth);
    }

    /**
     * Whether the input gradient runs here: stride 1, padding at most {@code dilation·(k − 1)}
     * (the gradient's own padding is then not negative), at most {@link GemmBlocking#KC}
     * outputs per group (one block of k per tap, as the folded GEMM sums them), more than
     * {@link VectorConvTile#SHORT_ROWS} input channels per group (one to four would run as one
     * 4-row tile of mostly zero rows, or with one to three rows, on AVX-512 too few sums in
     * flight: the first layer's gradient of a one-channel image measured 1.2 ms slower per call
     * at 64 × 1 × 28 × 28 than folded on a Zen 4), and a product
     * that {@link FoldedConv} gives to {@link PackedGemm} (not to a narrow or GEMV kernel with
     * chains of their own).
     */
    static boolean takesInputGrad(int images, int channels, int height, int width, int outputs, int groups,
                                  int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        DirectConvGeometry g = gradientGeometry(images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, stride, padding, dilation);
        if (g == null) {
            return false;
        }
        int outPerGroup = outputs / groups;
        int inPerGroup = channels / groups;
        int rows = inPerGroup * kernelHeight * kernelWidth;
        int positions = g.positions();
        boolean packed = !Gemv.takes(rows, positions)
                && !(positions <= NarrowGemm.MAX_COLUMNS && outPerGroup <= NarrowGemm.MAX_DEPTH);
        return packed && inPerGroup > VectorConvTile.SHORT_ROWS && outPerGroup <= kc() && g.fits()
                && fitsScratch(inPerGroup, g) && units(images, groups, (long) rows * positions * outPerGroup);
    }

    /**
     * The geometry of an input gradient run as a stride-1 convolution of {@code dy}: {@code dy}'s
     * planes padded by {@code dilation·(k − 1) − padding}; {@code null} for another stride, no
     * work, or padding past {@code dilation·(k − 1)} (which would crop {@code dy}).
     */
    private static DirectConvGeometry gradientGeometry(int images, int channels, int height, int width,
                                                       int outputs, int groups, int kernelHeight, int kernelWidth,
                                                       int stride, int padding, int dilation) {
        if (stride != 1 || images == 0 || outputs == 0 || channels == 0) {
            return null;
        }
        int outHeight = height + 2 * padding - dilation * (kernelHeight - 1);
        int outWidth = width + 2 * padding - dilation * (kernelWidth - 1);
        int padTop = dilation * (kernelHeight - 1) - padding;
        int padLeft = dilation * (kernelWidth - 1) - padding;
        if (outHeight <= 0 || outWidth <= 0 || padTop < 0 || padLeft < 0) {
            return null;
        }
        return new DirectConvGeometry(outputs / groups, outHeight, outWidth, padTop, padLeft, kernelHeight,
                kernelWidth, dilation, FULL_ROWS);
    }

    private static boolean units(int images, int groups, long workPerUnit) {
        return (long) images * groups >= Parallel.THREADS || workPerUnit < PackedGemm.SERIAL_BELOW;
    }

    private static boolean fitsScratch(int rows, DirectConvGeometry g) {
        return (long) g.paddedRows(rows) * g.tiles() * VectorConvTile.COLUMNS <= MAX_SCRATCH;
    }

    private static int kc() {
        return GemmBlocking.forTile(FULL_ROWS, VectorConvTile.COLUMNS).kc();
    }

    /**
     * {@code y [images, outputs, outHeight, outWidth] = conv(x [images, channels, height, width],
     * w [outputs, channels/groups, kh, kw])} for stride 1, overwriting {@code y}.
     */
    static void forward(float[] x, float[] w, float[] y, int images, int channels, int height, int width, int outputs,
                        int groups, int kernelHeight, int kernelWidth, int padding, int dilation) {
        forward(x, w, null, false, y, images, channels, height, width, outputs, groups, kernelHeight, kernelWidth,
                padding, dilation);
    }

    /**
     * {@link #forward(float[], float[], float[], int, int, int, int, int, int, int, int, int, int)}
     * with the tail {@code max(y + bias[o], 0)} applied as each image's result is copied out of
     * the scratch (the bias or the ReLU left out when not asked), with the roundings of the
     * addition and the ReLU after the convolution.
     */
    static void forward(float[] x, float[] w, float[] bias, boolean relu, float[] y, int images, int channels,
                        int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth, int padding,
                        int dilation) {
        forward(FULL_ROWS, x, w, bias, relu, y, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, padding, dilation);
    }

    /**
     * The forward of the same name without {@code fullRows}, under full tiles of {@code fullRows}
     * rows, 12 or 4 (a test runs the other machine's shape); so do the other overloads that take
     * {@code fullRows}.
     */
    static void forward(int fullRows, float[] x, float[] w, float[] bias, boolean relu, float[] y, int images,
                        int channels, int height, int width, int outputs, int groups, int kernelHeight,
                        int kernelWidth, int padding, int dilation) {
        convolve(fullRows, x, (group, row, step, steps) -> w[(group * (outputs / groups) + row) * steps + step],
                new Tail(bias, relu, false, null), y, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, padding, padding, dilation);
    }

    /**
     * Whether {@link #forwardPooled} runs here: what {@link #takesForward} asks, an output of at
     * least 2 × 2, and vectors of at least two lanes for the pooling.
     */
    static boolean takesPooled(int images, int channels, int height, int width, int outputs, int groups,
                               int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        int outHeight = height + 2 * padding - dilation * (kernelHeight - 1);
        int outWidth = width + 2 * padding - dilation * (kernelWidth - 1);
        return outHeight >= 2 && outWidth >= 2 && VectorPooling.vectors() && takesForward(images, channels, height,
                width, outputs, groups, kernelHeight, kernelWidth, stride, padding, dilation);
    }

    /**
     * {@link #forward(float[], float[], float[], boolean, float[], int, int, int, int, int, int, int, int, int, int)}
     * followed by max pooling over 2 × 2 windows of stride 2 ({@link Pooling.Window#halving}),
     * pooled as each image's result leaves the scratch, so the convolution's output is never
     * stored: {@code values [images, outputs, outHeight/2, outWidth/2]} and their taps in
     * {@code argmax} (when not {@code null}), the bits of that forward followed by
     * {@link VectorPooling#maxPool}; only where {@link #takesPooled} holds.
     */
    static void forwardPooled(float[] x, float[] w, float[] bias, boolean relu, float[] values, float[] argmax,
                              int images, int channels, int height, int width, int outputs, int groups,
                              int kernelHeight, int kernelWidth, int padding, int dilation) {
        forwardPooled(FULL_ROWS, x, w, bias, relu, values, argmax, images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, padding, dilation);
    }

    /** The pooled forward of the same name without {@code fullRows}, under full tiles of {@code fullRows} rows. */
    static void forwardPooled(int fullRows, float[] x, float[] w, float[] bias, boolean relu, float[] values,
                              float[] argmax, int images, int channels, int height, int width, int outputs, int groups,
                              int kernelHeight, int kernelWidth, int padding, int dilation) {
        convolve(fullRows, x, (group, row, step, steps) -> w[(group * (outputs / groups) + row) * steps + step],
                new Tail(bias, relu, true, argmax), values, images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, padding, padding, dilation);
    }

    /**
     * What the copy-out applies to each row (output channel) of a unit: a bias per channel of
     * the whole output, or {@code null}; whether a ReLU follows; whether 2 × 2 max pooling of
     * stride 2 follows that, with the taps written to {@code argmax} unless it is {@code null}.
     */
    private record Tail(float[] bias, boolean relu, boolean pool, float[] argmax) {

        static final Tail NONE = new Tail(null, false, false, null);

        boolean plain() {
            return bias == null && !relu;
        }
    }

    /**
     * Whether {@link #inputGradFlipped} runs here: stride 1, padding at most
     * {@code dilation·(k − 1)} on both axes, and what {@link #takesForward} asks of the
     * convolution of {@code dy} that it is.
     */
    static boolean takesFlipped(int images, int channels, int height, int width, int outputs, int groups,
                                int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        DirectConvGeometry g = gradientGeometry(images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, stride, padding, dilation);
        return g != null && g.fits() && fitsScratch(channels / groups, g)
                && units(images, groups, (long) channels / groups * g.positions() * g.sourceChannels() * kernelHeight
                * kernelWidth);
    }

    /**
     * {@link ImplicitConv#inputGrad}'s sums, with its bits: {@code dx} as the convolution of
     * {@code dy} with the weight flipped in both taps and transposed in its channel axes, padded
     * by {@code dilation·(k − 1) − padding}, steps {@code (output, ki, kj)} ascending in blocks of
     * KC; only where {@link #takesFlipped} holds.
     */
    static void inputGradFlipped(float[] dy, float[] w, float[] dx, int images, int channels, int height, int width,
                                 int outputs, int groups, int kernelHeight, int kernelWidth, int padding,
                                 int dilation) {
        inputGradFlipped(FULL_ROWS, dy, w, dx, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, padding, dilation);
    }

    /** The method of the same name without {@code fullRows}, under full tiles of {@code fullRows} rows. */
    static void inputGradFlipped(int fullRows, float[] dy, float[] w, float[] dx, int images, int channels, int height,
                                 int width, int outputs, int groups, int kernelHeight, int kernelWidth, int padding,
                                 int dilation) {
        int inPerGroup = channels / groups;
        int outPerGroup = outputs / groups;
        int taps = kernelHeight * kernelWidth;
        int outHeight = height + 2 * padding - dilation * (kernelHeight - 1);
        int outWidth = width + 2 * padding - dilation * (kernelWidth - 1);
        convolve(fullRows, dy, (group, c, step, steps) -> {
            int o = step / taps;
            int t = step - o * taps;
            return w[((group * outPerGroup + o) * inPerGroup + c) * taps + taps - 1 - t];
        }, Tail.NONE, dx, images, outputs, outHeight, outWidth, channels, groups, kernelHeight, kernelWidth,
                dilation * (kernelHeight - 1) - padding, dilation * (kernelWidth - 1) - padding, dilation);
    }

    /** A group's A: {@code [rows, steps]}, read by row and step. */
    @FunctionalInterface
    private interface Weights {
        float get(int group, int row, int step, int steps);
    }

    /**
     * {@code y = conv(x, A)} for stride 1: the images {@code x [images, channels, height, width]}
     * padded by {@code padTop} rows and {@code padLeft} columns on each side, each group's
     * {@code outputs/groups} rows of A over the steps {@code (channel, ki, kj)} ascending,
     * summed in blocks of KC, into {@code y [images, outputs, outHeight, outWidth]}.
     */
    private static void convolve(int fullRows, float[] x, Weights weights, Tail tail, float[] y, int images,
                                 int channels, int height, int width, int outputs, int groups, int kernelHeight,
                                 int kernelWidth, int padTop, int padLeft, int dilation) {
        int inPerGroup = channels / groups;
        int m = outputs / groups;
        DirectConvGeometry g = new DirectConvGeometry(inPerGroup, height, width, padTop, padLeft, kernelHeight,
                kernelWidth, dilation, fullRows);
        int taps = kernelHeight * kernelWidth;
        int steps = inPerGroup * taps;
        int[] offsets = new int[steps];
        for (int c = 0, r = 0; c < inPerGroup; c++) {
            for (int ki = 0; ki < kernelHeight; ki++) {
                for (int kj = 0; kj < kernelWidth; kj++, r++) {
                    offsets[r] = c * g.plane() + ki * dilation * g.paddedWidth() + kj * dilation;
                }
            }
        }
        int kc = kc();
        int[] segments = new int[(steps + kc - 1) / kc + 1];
        for (int s = 1; s < segments.length; s++) {
            segments[s] = Math.min(steps, s * kc);
        }
        int sliverSize = g.paddedRows(m) * steps;
        float[] packed = PackedGemm.buffer(PACKED, groups * sliverSize);
        for (int group = 0; group < groups; group++) {
            int at = group;
            pack(g, m, steps, (row, step) -> weights.get(at, row, step, steps), packed, group * sliverSize);
        }
        long perChannel = tail.pool() ? (long) (g.outHeight() / 2) * (g.outWidth() / 2) : g.positions();
        run(g, m, steps, offsets, segments, VectorConvTile.STORE, packed, sliverSize, x, (long) channels * height * width,
                (long) inPerGroup * height * width, tail, y, outputs * perChannel, m * perChannel, images, groups,
                null);
    }

    /**
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}
     * and {@code w [outputs, channels/groups, kh, kw]} for a convolution of stride 1, overwriting
     * {@code dx}; only where {@link #takesInputGrad} holds.
     */
    static void inputGrad(float[] dy, float[] w, float[] dx, int images, int channels, int height, int width,
                          int outputs, int groups, int kernelHeight, int kernelWidth, int padding, int dilation) {
        inputGrad(FULL_ROWS, SparseInputGrad.DENSITY, dy, w, dx, images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, padding, dilation);
    }

    /**
     * The method of the same name without {@code fullRows} and {@code density}, under full tiles
     * of {@code fullRows} rows, a unit whose {@code dy} is at most {@code density} nonzero
     * scattered by {@link SparseInputGrad} (the same bits; 0 never).
     */
    static void inputGrad(int fullRows, double density, float[] dy, float[] w, float[] dx, int images, int channels,
                          int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                          int padding, int dilation) {
        int inPerGroup = channels / groups;
        int outPerGroup = outputs / groups;
        int outHeight = height + 2 * padding - dilation * (kernelHeight - 1);
        int outWidth = width + 2 * padding - dilation * (kernelWidth - 1);
        DirectConvGeometry g = new DirectConvGeometry(outPerGroup, outHeight, outWidth,
                dilation * (kernelHeight - 1) - padding, dilation * (kernelWidth - 1) - padding, kernelHeight,
                kernelWidth, dilation, fullRows);
        int taps = kernelHeight * kernelWidth;
        int steps = taps * outPerGroup;
        // Tap after tap, as the fold adds them; within a tap the outputs, as the GEMM sums them.
        int[] offsets = new int[steps];
        int[] segments = new int[taps + 1];
        for (int ki = 0, t = 0; ki < kernelHeight; ki++) {
            for (int kj = 0; kj < kernelWidth; kj++, t++) {
                int shift = dilation * (kernelHeight - 1 - ki) * g.paddedWidth() + dilation * (kernelWidth - 1 - kj);
                for (int o = 0; o < outPerGroup; o++) {
                    offsets[t * outPerGroup + o] = o * g.plane() + shift;
                }
                segments[t + 1] = (t + 1) * outPerGroup;
            }
        }
        int sliverSize = g.paddedRows(inPerGroup) * steps;
        float[] packed = PackedGemm.buffer(PACKED, groups * sliverSize);
        for (int group = 0; group < groups; group++) {
            int first = group * outPerGroup * inPerGroup * taps;
            pack(g, inPerGroup, steps, (c, step) -> {
                int t = step / outPerGroup;
                int o = step - t * outPerGroup;
                return w[first + (o * inPerGroup + c) * taps + t];
            }, packed, group * sliverSize);
        }
        long dyImage = (long) outputs * outHeight * outWidth;
        long dyGroup = (long) outPerGroup * outHeight * outWidth;
        long dxImage = (long) channels * height * width;
        long dxGroup = (long) inPerGroup * height * width;
        SparseInputGrad sparse = SparseInputGrad.prepare(w, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, padding, dilation, density);
        Unit scatter = sparse == null ? null : (image, group) -> sparse.unit(dy,
                Math.toIntExact(image * dyImage + group * dyGroup), dx, Math.toIntExact(image * dxImage
                        + group * dxGroup), group);
        run(g, inPerGroup, steps, offsets, segments, VectorConvTile.STORE_SUM, packed, sliverSize, dy, dyImage,
                dyGroup, Tail.NONE, dx, dxImage, dxGroup, images, groups, scatter);
    }

    @FunctionalInterface
    private interface Matrix {
        float get(int row, int step);
    }

    /**
     * Packs A {@code [m, steps]} into slivers of {@code g}'s full tile rows and a last one of
     * {@link DirectConvGeometry#lastRows}, each {@code rows} values per step, zero past row {@code m}.
     */
    private static void pack(DirectConvGeometry g, int m, int steps, Matrix a, float[] pack, int base) {
        for (int r0 = 0; r0 < g.paddedRows(m); ) {
            int rows = g.tileRows(m, r0);
            int sliver = base + r0 * steps;
            for (int p = 0; p < steps; p++) {
                for (int r = 0; r < rows; r++) {
                    pack[sliver + p * rows + r] = r0 + r < m ? a.get(r0 + r, p) : 0f;
                }
            }
            r0 += rows;
        }
    }

    /** Another way to compute one (image, group) unit, which may decline it. */
    @FunctionalInterface
    private interface Unit {
        /** Whether the unit was written. */
        boolean run(int image, int group);
    }

    /**
     * For every image and group, {@code out = A_g · windows(source)} over the padded width,
     * then its valid positions copied out: step {@code p} of A reads the padded image at
     * {@code offsets[p]}, the steps summed in {@code segments} (the first written as
     * {@code firstMode} says, the others added), and the {@code tail} applied on the way out;
     * units that {@code other} (may be null) writes are left to it.
     */
    private static void run(DirectConvGeometry g, int m, int steps, int[] offsets, int[] segments, int firstMode,
                            float[] packed, int sliverSize, float[] source, long sourceImage, long sourceGroup,
                            Tail tail, float[] out, long outImage, long outGroup, int images, int groups, Unit other) {
        int units = images * groups;
        AtomicInteger next = new AtomicInteger();
        Parallel.together(Math.min(units, Parallel.THREADS), threads -> part -> {
            float[] padded = PackedGemm.buffer(PADDED, g.paddedSize());
            int ld = g.tiles() * VectorConvTile.COLUMNS;
            float[] scratch = PackedGemm.buffer(SCRATCH, g.paddedRows(m) * ld);
            for (int unit = next.getAndIncrement(); unit < units; unit = next.getAndIncrement()) {
                int image = unit / groups;
                int group = unit - image * groups;
                if (other != null && other.run(image, group)) {
                    continue;
                }
                pad(g, source, Math.toIntExact(image * sourceImage + group * sourceGroup), padded);
                multiply(g, m, steps, offsets, segments, firstMode, packed, group * sliverSize, padded, scratch, ld);
                int to = Math.toIntExact(image * outImage + group * outGroup);
                if (tail.pool()) {
                    copyOutPooled(g, m, scratch, ld, tail, group * m, out, to);
                } else {
                    copyOut(g, m, scratch, ld, tail, group * m, out, to);
                }
            }
        });
    }

    private static void pad(DirectConvGeometry g, float[] source, int from, float[] padded) {
        int width = g.width();
        int paddedWidth = g.paddedWidth();
        Arrays.fill(padded, 0, g.paddedSize(), 0f);
        for (int c = 0; c < g.sourceChannels(); c++) {
            int to = c * g.plane() + g.padTop() * paddedWidth + g.padLeft();
            int src = from + c * g.height() * width;
            for (int h = 0; h < g.height(); h++) {
                VectorConvTile.copy(source, src + h * width, padded, to + h * paddedWidth, width);
            }
        }
    }

    /** The tiles, a tile of positions at a time (its runs of B stay in L1) under every sliver of A. */
    private static void multiply(DirectConvGeometry g, int m, int steps, int[] offsets, int[] segments, int firstMode,
                                 float[] packed, int aBase, float[] padded, float[] scratch, int ld) {
        int rows = g.paddedRows(m);
        int[] strides = regularStrides(offsets, segments);
        for (int tile = 0; tile < g.tiles(); tile++) {
            int position = tile * VectorConvTile.COLUMNS;
            for (int r0 = 0; r0 < rows; ) {
                int sliverRows = g.tileRows(m, r0);
                int sliver = aBase + r0 * steps;
                int c = r0 * ld + position;
                for (int s = 0; s + 1 < segments.length; s++) {
                    int first = segments[s];
                    int count = segments[s + 1] - first;
                    int mode = s == 0 ? firstMode : VectorConvTile.ADD;
                    int a = sliver + first * sliverRows;
                    if (sliverRows == VectorConvTile.ROWS) {
                        VectorConvTile.tile(count, packed, a, padded, position, offsets, first, scratch, c, ld, mode);
                    } else if (sliverRows == VectorConvTile.MIDDLE_ROWS) {
                        VectorConvTile.tileMiddle(count, packed, a, padded, position, offsets, first, scratch, c, ld,
                                mode);
                    } else if (strides[s] >= 0) {
                        VectorConvTile.tileShortRegular(count / VectorConvTile.TAPS, packed, a, padded, position,
                                offsets, first, strides[s], scratch, c, ld, mode);
                    } else {
                        VectorConvTile.tileShort(count, packed, a, padded, position, offsets, first, scratch, c, ld,
                                mode);
                    }
                }
                r0 += sliverRows;
            }
        }
    }

    /**
     * Per segment, the stride with which its runs of B repeat every {@link VectorConvTile#TAPS}
     * steps ({@link VectorConvTile#tileShortRegular}), or −1 where they do not (a window other
     * than 3 × 3, or a block of k that splits a channel's taps).
     */
    static int[] regularStrides(int[] offsets, int[] segments) {
        int taps = VectorConvTile.TAPS;
        int[] strides = new int[segments.length - 1];
        for (int s = 0; s < strides.length; s++) {
            int first = segments[s];
            int count = segments[s + 1] - first;
            int stride = count >= 2 * taps ? offsets[first + taps] - offsets[first] : 0;
            boolean regular = count > 0 && count % taps == 0;
            for (int p = taps; regular && p < count; p++) {
                regular = offsets[first + p] == offsets[first + p - taps] + stride;
            }
            strides[s] = regular ? stride : -1;
        }
        return strides;
    }

    /** The valid positions of the unit's {@code m} rows, row {@code r} being channel {@code firstChannel + r}. */
    private static void copyOut(DirectConvGeometry g, int m, float[] scratch, int ld, Tail tail, int firstChannel,
                                float[] out, int to) {
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int paddedWidth = g.paddedWidth();
        for (int r = 0; r < m; r++) {
            int row = r * ld;
            int dst = to + r * outHeight * outWidth;
            if (tail.plain()) {
                for (int oh = 0; oh < outHeight; oh++) {
                    VectorConvTile.copy(scratch, row + oh * paddedWidth, out, dst + oh * outWidth, outWidth);
                }
                continue;
            }
            boolean hasBias = tail.bias() != null;
            float bias = hasBias ? tail.bias()[firstChannel + r] : 0f;
            for (int oh = 0; oh < outHeight; oh++) {
                VectorConvTile.copyBiasRelu(scratch, row + oh * paddedWidth, out, dst + oh * outWidth, outWidth, bias,
                        hasBias, tail.relu());
            }
        }
    }

    /**
     * The unit's {@code m} rows pooled: each row's bias and ReLU applied in place in the
     * scratch over the rows the windows read, then 2 × 2 windows of stride 2 reduced by
     * {@link VectorPooling#maxRow} into {@code values} (and the taps into the tail's argmax),
     * row {@code r} being channel {@code firstChannel + r}; whole vectors never write past the
     * unit's outputs, which another thread may be writing.
     */
    private static void copyOutPooled(DirectConvGeometry g, int m, float[] scratch, int ld, Tail tail, int firstChannel,
                                      float[] values, int to) {
        int paddedWidth = g.paddedWidth();
        int pooledHeight = g.outHeight() / 2;
        int pooledWidth = g.outWidth() / 2;
        int span = (2 * pooledHeight - 1) * paddedWidth + g.outWidth();
        int limit = to + m * pooledHeight * pooledWidth;
        float[] spill = VectorPooling.spill();
        boolean hasBias = tail.bias() != null;
        for (int r = 0; r < m; r++) {
            int row = r * ld;
            if (!tail.plain()) {
                VectorConvTile.copyBiasRelu(scratch, row, scratch, row, span, hasBias ? tail.bias()[firstChannel + r]
                        : 0f, hasBias, tail.relu());
            }
            int outRow = to + r * pooledHeight * pooledWidth;
            for (int ph = 0; ph < pooledHeight; ph++, outRow += pooledWidth) {
                VectorPooling.maxRow(scratch, row + 2 * ph * paddedWidth, paddedWidth, pooledWidth, values,
                        tail.argmax(), outRow, limit, spill);
            }
        }
    }
}
