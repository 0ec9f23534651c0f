package org.adjoint.kernels;

import java.util.Arrays;

/**
 * 2-D max and average pooling over planes (one channel of one image, {@code height × width},
 * row-major, the planes one after another) read and written directly, one memory pass each,
 * without unfolding windows into columns.
 *
 * <p>A window of {@code kernelHeight × kernelWidth} taps, {@code dilation} apart, moves by
 * {@code stride} over the plane padded by {@code padding} on every side. Its taps are numbered
 * tap row, then tap column, from 0: max pooling's argmax is that number, stored as a float,
 * for the first maximal tap of the window in that order; padding reads −∞ and a NaN wins and
 * stays (as {@link AxisReductions#max} over a window's taps). Average pooling counts padded
 * zeros: every window sum is multiplied by {@code 1 / (kernelHeight · kernelWidth)}.
 *
 * <p>Threads split the planes, which read and write disjoint elements, and each plane is
 * walked in one fixed order (where windows overlap, the scatters add an element's
 * contributions in the order of the windows, row by row), so results do not depend on the
 * thread count. The methods here are the scalar provider's; {@link KernelProvider} names them.
 */
public final class Pooling {

    /** Input elements below which one thread does the work: a fork costs about what pooling this many takes. */
    static final long SERIAL_BELOW = 1L << 17;

    private Pooling() {
    }

    /**
     * The sizes of a pooling: how many planes and the window over one.
     *
     * @param planes       planes (images times channels)
     * @param height       rows of a plane
     * @param width        columns of a plane
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows, in both directions
     * @param padding      rows and columns added on every side
     * @param dilation     step between taps of a window
     */
    public record Window(int planes, int height, int width, int kernelHeight, int kernelWidth, int stride,
                         int padding, int dilation) {

        /**
         * Checks the sizes.
         *
         * @throws IllegalArgumentException when a size is out of range or the window does not
         *                                  fit the padded plane
         */
        public Window {
            if (planes < 0 || height < 0 || width < 0 || kernelHeight < 1 || kernelWidth < 1 || stride < 1
                    || padding < 0 || dilation < 1) {
                throw new IllegalArgumentException("pooling: invalid sizes " + describe(planes, height, width,
                        kernelHeight, kernelWidth, stride, padding, dilation));
            }
            if ((long) dilation * (kernelHeight - 1) + 1 > height + 2L * padding
                    || (long) dilation * (kernelWidth - 1) + 1 > width + 2L * padding) {
                throw new IllegalArgumentException("pooling: the window does not fit the padded plane: "
                        + describe(planes, height, width, kernelHeight, kernelWidth, stride, padding, dilation));
            }
        }

        private static String describe(int planes, int height, int width, int kernelHeight, int kernelWidth,
                                       int stride, int padding, int dilation) {
            return planes + " planes of " + height + "x" + width + ", window " + kernelHeight + "x" + kernelWidth
                    + ", stride " + stride + ", padding " + padding + ", dilation " + dilation;
        }

        /**
         * Rows of an output plane.
         *
         * @return {@code (height + 2·padding − dilation·(kernelHeight − 1) − 1) / stride + 1}
         */
        public int outHeight() {
            return (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1;
        }

        /**
         * Columns of an output plane.
         *
         * @return {@code (width + 2·padding − dilation·(kernelWidth − 1) − 1) / stride + 1}
         */
        public int outWidth() {
            return (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1;
        }

        /**
         * Taps of a window.
         *
         * @return {@code kernelHeight · kernelWidth}
         */
        public int taps() {
            return kernelHeight * kernelWidth;
        }

        /**
         * Whether this is a 2×2 window moving by 2 without padding or dilation, the common
         * pooling that the vector provider has a loop of its own for.
         *
         * @return true for 2×2, stride 2, padding 0, dilation 1
         */
        public boolean halving() {
            return kernelHeight == 2 && kernelWidth == 2 && stride == 2 && padding == 0 && dilation == 1;
        }

        long inputSize() {
            return (long) planes * height * width;
        }

        long outputSize() {
            return (long) planes * outHeight() * outWidth();
        }

        void require(String operation, String what, float[] array, long size) {
            if (array.length < size) {
                throw new IllegalArgumentException(operation + ": " + what + " holds " + array.length
                        + " elements, fewer than the " + size + " of " + describe(planes, height, width, kernelHeight,
                        kernelWidth, stride, padding, dilation));
            }
        }

        /** Runs {@code body} over all planes, split among threads when there is enough work. */
        void run(Planes body) {
            int parts = inputSize() < SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, planes);
            if (parts <= 1) {
                body.run(0, planes);
                return;
            }
            Parallel.run(parts, part -> body.run((int) ((long) planes * part / parts),
                    (int) ((long) planes * (part + 1) / parts)));
        }

        /** The row offset of each tap from the window's top row. */
        int[] tapRows() {
            int[] rows = new int[taps()];
            for (int t = 0; t < rows.length; t++) {
                rows[t] = t / kernelWidth * dilation;
            }
            return rows;
        }

        /** The column offset of each tap from the window's left column. */
        int[] tapColumns() {
            int[] columns = new int[taps()];
            for (int t = 0; t < columns.length; t++) {
                columns[t] = t % kernelWidth * dilation;
            }
            return columns;
        }
    }

    /** The work on planes {@code [first, end)}. */
    interface Planes {
        void run(int first, int end);
    }

    /**
     * Max pooling: each window's maximum into {@code values} and, unless {@code argmax} is
     * null, the number of its first maximal tap.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param values output, {@code [planes, outHeight, outWidth]}
     * @param argmax output of the same size, or {@code null} when not wanted
     * @throws IllegalArgumentException when an array is too short
     */
    public static void maxPool(float[] in, Window window, float[] values, float[] argmax) {
        checkMax(in, window, values, argmax);
        window.run((first, end) -> maxPlanes(in, window, values, argmax, first, end));
    }

    static void checkMax(float[] in, Window window, float[] values, float[] argmax) {
        window.require("maxPool", "the input", in, window.inputSize());
        window.require("maxPool", "the values", values, window.outputSize());
        if (argmax != null) {
            window.require("maxPool", "the argmax", argmax, window.outputSize());
        }
    }

    /** {@link #maxPool} on planes {@code [first, end)}, one window at a time. */
    static void maxPlanes(float[] in, Window window, float[] values, float[] argmax, int first, int end) {
        if (window.halving()) {
            int width = window.width();
            int outWidth = window.outWidth();
            for (int row = first * window.outHeight(); row < end * window.outHeight(); row++) {
                maxHalvingRow(in, halvingRowStart(window, row), width, values, argmax, row * outWidth, 0, outWidth);
            }
            return;
        }
        int height = window.height();
        int width = window.width();
        int outHeight = window.outHeight();
        int outWidth = window.outWidth();
        int[] tapRows = window.tapRows();
        int[] tapColumns = window.tapColumns();
        for (int plane = first; plane < end; plane++) {
            int base = plane * height * width;
            int out = plane * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++) {
                int top = oh * window.stride() - window.padding();
                for (int ow = 0; ow < outWidth; ow++, out++) {
                    int left = ow * window.stride() - window.padding();
                    // The scan of AxisReductions.max: tap 0 starts it (−∞ on padding), a later tap
                    // takes over when it is larger or NaN, and nothing takes over from a NaN.
                    float best = Float.NEGATIVE_INFINITY;
                    int bestTap = 0;
                    for (int t = 0; t < tapRows.length; t++) {
                        int h = top + tapRows[t];
                        int w = left + tapColumns[t];
                        float v = h >= 0 && h < height && w >= 0 && w < width
                                ? in[base + h * width + w] : Float.NEGATIVE_INFINITY;
                        boolean take = best == best & (v > best | v != v);
                        best = take ? v : best;
                        bestTap = take ? t : bestTap;
                    }
                    values[out] = best;
                    if (argmax != null) {
                        argmax[out] = bestTap;
                    }
                }
            }
        }
    }

    /**
     * Where the windows of output row {@code row} (counted over all planes) start reading, for
     * a {@linkplain Window#halving() halving} window: input row {@code 2·(row mod outHeight)} of
     * its plane.
     *
     * @param window a halving window
     * @param row    output row, over all planes
     * @return the index of the window's top-left tap in the input
     */
    static int halvingRowStart(Window window, int row) {
        int outHeight = window.outHeight();
        int plane = row / outHeight;
        return (plane * window.height() + 2 * (row - plane * outHeight)) * window.width();
    }

    /**
     * {@link #maxPool} of outputs {@code [from, to)} of one row of a {@linkplain Window#halving()
     * halving} window: taps {@code a b} on the top row and {@code c d} below, combined as
     * {@code (a b)(c d)}, which picks the same tap as the scan from {@code a} to {@code d}
     * (the first NaN, else the first maximum).
     *
     * @param in      input
     * @param top     index of the row's first window's top-left tap
     * @param width   columns of a plane (the row below starts {@code width} after)
     * @param values  output
     * @param argmax  output, or {@code null}
     * @param outRow  index of the row's first output
     * @param from    first output of the row to write
     * @param to      end of the outputs to write
     */
    static void maxHalvingRow(float[] in, int top, int width, float[] values, float[] argmax, int outRow, int from,
                              int to) {
        for (int ow = from; ow < to; ow++) {
            int p = top + 2 * ow;
            float a = in[p];
            float b = in[p + 1];
            float c = in[p + width];
            float d = in[p + width + 1];
            // Non-short-circuit & and |: flags and conditional moves, no branch to mispredict.
            boolean takeB = a == a & (b > a | b != b);
            float ab = takeB ? b : a;
            boolean takeD = c == c & (d > c | d != d);
            float cd = takeD ? d : c;
            boolean takeCd = ab == ab & (cd > ab | cd != cd);
            values[outRow + ow] = takeCd ? cd : ab;
            if (argmax != null) {
                argmax[outRow + ow] = takeCd ? (takeD ? 3f : 2f) : (takeB ? 1f : 0f);
            }
        }
    }

    /**
     * {@link #maxPoolScatter} of outputs {@code [from, to)} of one row of a
     * {@linkplain Window#halving() halving} window: each writes its four input elements, the
     * cotangent (added to +0) on its argmax tap and +0 on the others; with {@code values},
     * that cotangent times {@code step(values)} ({@link PooledReluGrad#maxPoolReluGrad}).
     *
     * @param grad   cotangent
     * @param argmax argmax
     * @param values the pooled values, or {@code null}
     * @param outRow index of the row's first output
     * @param top    index of the row's first window's top-left tap in {@code out}
     * @param width  columns of a plane
     * @param out    output
     * @param from   first output of the row
     * @param to     end of the outputs
     */
    static void maxScatterHalvingRow(float[] grad, float[] argmax, float[] values, int outRow, int top, int width,
                                     float[] out, int from, int to) {
        for (int ow = from; ow < to; ow++) {
            int o = outRow + ow;
            int t = tap(values == null ? "maxPoolScatter" : "maxPoolReluGrad", argmax, o, 4);
            float g = values == null ? 0f + grad[o] : (0f + grad[o]) * step(values[o]);
            int p = top + 2 * ow;
            out[p] = t == 0 ? g : 0f;
            out[p + 1] = t == 1 ? g : 0f;
            out[p + width] = t == 2 ? g : 0f;
            out[p + width + 1] = t == 3 ? g : 0f;
        }
    }

    /**
     * Zeroes what the windows of a {@linkplain Window#halving() halving} window do not cover
     * in planes {@code [first, end)} of {@code out}: the last column of an odd width and the
     * last row of an odd height.
     */
    static void zeroHalvingEdges(Window window, float[] out, int first, int end) {
        int height = window.height();
        int width = window.width();
        for (int plane = first; plane < end; plane++) {
            int base = plane * height * width;
            if (width % 2 != 0) {
                for (int h = 0; h < height; h++) {
                    out[base + h * width + width - 1] = 0f;
                }
            }
            if (height % 2 != 0) {
                Arrays.fill(out, base + (height - 1) * width, base + height * width, 0f);
            }
        }
    }

    /**
     * The tap of each window that {@code argmax} names: {@code out[o] = in[tap argmax[o] of
     * window o]}, 0 where that tap is padding. The adjoint of {@link #maxPoolScatter}.
     *
     * @param in     {@code [planes, height, width]}
     * @param argmax {@code [planes, outHeight, outWidth]}, tap numbers as {@link #maxPool} writes them
     * @param window the sizes
     * @param out    output, {@code [planes, outHeight, outWidth]}
     * @throws IllegalArgumentException when an array is too short or an argmax entry is not a tap number
     */
    public static void maxPoolGather(float[] in, float[] argmax, Window window, float[] out) {
        window.require("maxPoolGather", "the input", in, window.inputSize());
        window.require("maxPoolGather", "the argmax", argmax, window.outputSize());
        window.require("maxPoolGather", "the output", out, window.outputSize());
        window.run((first, end) -> {
            int height = window.height();
            int width = window.width();
            int outHeight = window.outHeight();
            int outWidth = window.outWidth();
            int[] tapRows = window.tapRows();
            int[] tapColumns = window.tapColumns();
            for (int plane = first; plane < end; plane++) {
                int base = plane * height * width;
                int o = plane * outHeight * outWidth;
                for (int oh = 0; oh < outHeight; oh++) {
                    int top = oh * window.stride() - window.padding();
                    for (int ow = 0; ow < outWidth; ow++, o++) {
                        int t = tap("maxPoolGather", argmax, o, tapRows.length);
                        int h = top + tapRows[t];
                        int w = ow * window.stride() - window.padding() + tapColumns[t];
                        out[o] = h >= 0 && h < height && w >= 0 && w < width ? in[base + h * width + w] : 0f;
                    }
                }
            }
        });
    }

    /**
     * The VJP of max pooling: overwrites {@code out} with, for each element, the sum of the
     * {@code grad} entries whose window's argmax tap reads it (entries on padding are dropped),
     * added to +0 in the order of the windows.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param argmax {@code [planes, outHeight, outWidth]}, tap numbers as {@link #maxPool} writes them
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     * @throws IllegalArgumentException when an array is too short or an argmax entry is not a tap number
     */
    public static void maxPoolScatter(float[] grad, float[] argmax, Window window, float[] out) {
        checkScatter("maxPoolScatter", grad, argmax, window, out);
        window.run((first, end) -> maxScatterPlanes(grad, argmax, null, window, out, first, end));
    }

    /** ReLU's derivative from its output, a factor as STEP multiplies it in: 1 where {@code y > 0}, else 0 (NaN too). */
    static float step(float y) {
        return y > 0f ? 1f : 0f;
    }

    static void checkScatter(String operation, float[] grad, float[] argmax, Window window, float[] out) {
        window.require(operation, "the cotangent", grad, window.outputSize());
        if (argmax != null) {
            window.require(operation, "the argmax", argmax, window.outputSize());
        }
        window.require(operation, "the output", out, window.inputSize());
    }

    /**
     * {@link #maxPoolScatter} on planes {@code [first, end)}; with {@code values} (windows that
     * do not overlap), {@link PooledReluGrad#maxPoolReluGrad}'s {@code (0 + grad) · step(values)} instead.
     */
    static void maxScatterPlanes(float[] grad, float[] argmax, float[] values, Window window, float[] out, int first,
                                 int end) {
        String operation = values == null ? "maxPoolScatter" : "maxPoolReluGrad";
        if (window.halving()) {
            int outWidth = window.outWidth();
            for (int row = first * window.outHeight(); row < end * window.outHeight(); row++) {
                maxScatterHalvingRow(grad, argmax, values, row * outWidth, halvingRowStart(window, row),
                        window.width(), out, 0, outWidth);
            }
            zeroHalvingEdges(window, out, first, end);
            return;
        }
        int height = window.height();
        int width = window.width();
        int outHeight = window.outHeight();
        int outWidth = window.outWidth();
        int[] tapRows = window.tapRows();
        int[] tapColumns = window.tapColumns();
        for (int plane = first; plane < end; plane++) {
            int base = plane * height * width;
            Arrays.fill(out, base, base + height * width, 0f);
            int o = plane * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++) {
                int top = oh * window.stride() - window.padding();
                for (int ow = 0; ow < outWidth; ow++, o++) {
                    int t = tap(operation, argmax, o, tapRows.length);
                    int h = top + tapRows[t];
                    int w = ow * window.stride() - window.padding() + tapColumns[t];
                    if (h >= 0 && h < height && w >= 0 && w < width) {
                        int at = base + h * width + w;
                        out[at] = values == null ? out[at] + grad[o] : (out[at] + grad[o]) * step(values[o]);
                    }
                }
            }
        }
    }

    /** The tap number stored at {@code argmax[o]}, checked. */
    static int tap(String operation, float[] argmax, int o, int taps) {
        float stored = argmax[o];
        int t = (int) stored;
        if (t != stored || t < 0 || t >= taps) {
            throw new IllegalArgumentException(operation + ": argmax entry " + o + " is " + stored
                    + ", not a tap number in [0, " + taps + ")");
        }
        return t;
    }

    /**
     * Average pooling: each window's sum, padding reading 0 and the taps added in order to +0,
     * times {@code 1 / (kernelHeight · kernelWidth)}.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param out    output, {@code [planes, outHeight, outWidth]}
     * @throws IllegalArgumentException when an array is too short
     */
    public static void avgPool(float[] in, Window window, float[] out) {
        window.require("avgPool", "the input", in, window.inputSize());
        window.require("avgPool", "the output", out, window.outputSize());
        window.run((first, end) -> avgPlanes(in, window, out, first, end));
    }

    /** {@link #avgPool} on planes {@code [first, end)}. */
    static void avgPlanes(float[] in, Window window, float[] out, int first, int end) {
        int height = window.height();
        int width = window.width();
        int outHeight = window.outHeight();
        int outWidth = window.outWidth();
        int[] tapRows = window.tapRows();
        int[] tapColumns = window.tapColumns();
        float scale = 1f / window.taps();
        for (int plane = first; plane < end; plane++) {
            int base = plane * height * width;
            int o = plane * outHeight * outWidth;
            for (int oh = 0; oh < outHeight; oh++) {
                int top = oh * window.stride() - window.padding();
                for (int ow = 0; ow < outWidth; ow++, o++) {
                    int left = ow * window.stride() - window.padding();
                    float sum = 0f;
                    for (int t = 0; t < tapRows.length; t++) {
                        int h = top + tapRows[t];
                        int w = left + tapColumns[t];
                        if (h >= 0 && h < height && w >= 0 && w < width) {
                            sum += in[base + h * width + w];
                        }
                    }
                    out[o] = sum * scale;
                }
            }
        }
    }

    /**
     * The VJP of average pooling: overwrites {@code out} with, for each element, the sum of
     * {@code grad[o] · (1 / (kernelHeight · kernelWidth))} over the windows o that read it,
     * added to +0 in the order of the windows.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     * @throws IllegalArgumentException when an array is too short
     */
    public static void avgPoolScatter(float[] grad, Window window, float[] out) {
        checkScatter("avgPoolScatter", grad, null, window, out);
        window.run((first, end) -> {
            int height = window.height();
            int width = window.width();
            int outHeight = window.outHeight();
            int outWidth = window.outWidth();
            int[] tapRows = window.tapRows();
            int[] tapColumns = window.tapColumns();
            float scale = 1f / window.taps();
            for (int plane = first; plane < end; plane++) {
                int base = plane * height * width;
                Arrays.fill(out, base, base + height * width, 0f);
                int o = plane * outHeight * outWidth;
                for (int oh = 0; oh < outHeight; oh++) {
                    int top = oh * window.stride() - window.padding();
                    for (int ow = 0; ow < outWidth; ow++, o++) {
                        int left = ow * window.stride() - window.padding();
                        float share = grad[o] * scale;
                        for (int t = 0; t < tapRows.length; t++) {
                            int h = top + tapRows[t];
                            int w = left + tapColumns[t];
                            if (h >= 0 && h < height && w >= 0 && w < width) {
                                out[base + h * width + w] += share;
                            }
                        }
                    }
                }
            }
        });
    }
}
