package org.adjoint.kernels;

import java.util.Arrays;

/**
 * Sliding windows over images in NCHW order: unfolding every window into columns (im2col),
 * so that a convolution is one GEMM, and its adjoint, folding columns back (col2im).
 *
 * <p>One image's columns are a row-major matrix of {@code channels · kernelHeight · kernelWidth}
 * rows (channel, then tap row, then tap column) and {@code outHeight · outWidth} columns
 * (output row, then output column); the images' matrices follow each other. A window of
 * {@code kernelHeight × kernelWidth} taps, {@code dilation} apart, moves by {@code stride} over
 * the image padded by {@code padding} on every side, so
 * {@code outHeight = (height + 2·padding − dilation·(kernelHeight − 1) − 1) / stride + 1}.
 *
 * <p>Both walk one column row at a time: for each output row, the taps that land inside the
 * image form one run of input elements {@code stride} apart (contiguous for stride 1), and the
 * padded ends of the row are filled apart from that run. One version serves every
 * {@link KernelProvider}: this is data movement, which {@link System#arraycopy} and loops that
 * the JIT vectorises already do at memory speed. Threads split the (image, channel) planes, which
 * read and write disjoint elements, so results do not depend on the thread count.
 */
public final class Im2col {

    /**
     * Column elements below which one thread does the work: a fork costs tens of microseconds,
     * about what copying this many floats takes.
     */
    static final long SERIAL_BELOW = 1L << 18;

    private Im2col() {
    }

    /**
     * Unfolds {@code images} images of {@code in}, from {@code inOffset}, into {@code cols}
     * from {@code colsOffset}, overwriting {@code images · channels · kernelHeight ·
     * kernelWidth · outHeight · outWidth} elements; a tap on padding reads {@code padValue}.
     *
     * @param in           images, {@code [images, channels, height, width]} from {@code inOffset}
     * @param inOffset     where the first image starts
     * @param channels     channels of one image
     * @param height       rows of one image
     * @param width        columns of one image
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows, in both directions
     * @param padding      rows and columns added on every side
     * @param dilation     step between taps of a window
     * @param images       how many images
     * @param padValue     what padding reads (0 for a convolution, −∞ for max pooling)
     * @param cols         output, {@code [images, channels·kernelHeight·kernelWidth, outHeight·outWidth]}
     *                     from {@code colsOffset}
     * @param colsOffset   where the first image's columns start
     * @throws IllegalArgumentException when a size is invalid, the window does not fit the
     *                                  padded image, or an array is too short for its region
     */
    public static void im2col(float[] in, int inOffset, int channels, int height, int width, int kernelHeight,
                              int kernelWidth, int stride, int padding, int dilation, int images, float padValue,
                              float[] cols, int colsOffset) {
        Plan plan = Plan.of("im2col", in, inOffset, channels, height, width, kernelHeight, kernelWidth, stride, padding,
                dilation, images, cols, colsOffset);
        plan.run((first, end) -> {
            for (int plane = first; plane < end; plane++) {
                plan.unfold(in, inOffset, plane, padValue, cols, colsOffset);
            }
        });
    }

    /**
     * The adjoint of {@link #im2col}: overwrites the {@code images} images of {@code in} from
     * {@code inOffset} with, for each element, the sum of the column entries that read it
     * (entries on padding are dropped). Each element adds its entries in the order of the
     * columns (tap row, then tap column) to +0, so results are the same bits on every run.
     * {@code cols} is a workspace: a "same" stride-1 window sets the entries that wrap around a
     * row's padding to +0 while it adds and puts them back afterwards, so no other thread may
     * read it meanwhile.
     *
     * @param cols         {@code [images, channels·kernelHeight·kernelWidth, outHeight·outWidth]}
     *                     from {@code colsOffset}
     * @param colsOffset   where the first image's columns start
     * @param channels     channels of one image
     * @param height       rows of one image
     * @param width        columns of one image
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows, in both directions
     * @param padding      rows and columns added on every side
     * @param dilation     step between taps of a window
     * @param images       how many images
     * @param in           images, {@code [images, channels, height, width]} from {@code inOffset},
     *                     overwritten
     * @param inOffset     where the first image starts
     * @throws IllegalArgumentException when a size is invalid, the window does not fit the
     *                                  padded image, or an array is too short for its region
     */
    public static void col2im(float[] cols, int colsOffset, int channels, int height, int width, int kernelHeight,
                              int kernelWidth, int stride, int padding, int dilation, int images, float[] in,
                              int inOffset) {
        col2im(SCALAR_ADDER, cols, colsOffset, channels, height, width, kernelHeight, kernelWidth, stride, padding,
                dilation, images, in, inOffset);
    }

    /**
     * Adds {@code values[from, from + length)} to {@code out[to, to + length)} element by
     * element, each sum rounded once: any implementation gives the same bits.
     */
    @FunctionalInterface
    interface RunAdder {

        /**
         * Adds one run.
         *
         * @param values what to add
         * @param from   the run's first value
         * @param out    what is added to
         * @param to     the run's first element of {@code out}
         * @param length elements
         */
        void add(float[] values, int from, float[] out, int to, int length);
    }

    /** The scalar loop that {@link #col2im} adds its runs with. */
    static final RunAdder SCALAR_ADDER = Plan::addRun;

    /** {@link #col2im} with the stride-1 runs added by {@code adder} (a provider's vectors). */
    static void col2im(RunAdder adder, float[] cols, int colsOffset, int channels, int height, int width,
                       int kernelHeight, int kernelWidth, int stride, int padding, int dilation, int images, float[] in,
                       int inOffset) {
        Plan plan = Plan.of("col2im", in, inOffset, channels, height, width, kernelHeight, kernelWidth, stride, padding,
                dilation, images, cols, colsOffset);
        plan.run((first, end) -> {
            float[] spare = plan.sameWidth() ? new float[plan.outHeight() * plan.outWidth()] : null;
            for (int plane = first; plane < end; plane++) {
                plan.fold(adder, cols, colsOffset, plane, in, inOffset, spare);
            }
        });
    }

    @FunctionalInterface
    private interface Planes {
        void run(int first, int end);
    }

    /** Checked sizes of one call; a plane is one channel of one image, numbered from 0. */
    private record Plan(int channels, int height, int width, int kernelHeight, int kernelWidth, int stride, int padding,
                        int dilation, int planes, int outHeight, int outWidth) {

        static Plan of(String operation, float[] in, int inOffset, int channels, int height, int width,
                       int kernelHeight, int kernelWidth, int stride, int padding, int dilation, int images,
                       float[] cols, int colsOffset) {
            String sizes = "image " + channels + "x" + height + "x" + width + ", window " + kernelHeight + "x"
                    + kernelWidth + ", stride " + stride + ", padding " + padding + ", dilation " + dilation
                    + ", images " + images;
            if (channels < 0 || height < 0 || width < 0 || kernelHeight < 1 || kernelWidth < 1 || stride < 1
                    || padding < 0 || dilation < 1 || images < 0) {
                throw new IllegalArgumentException(operation + ": invalid sizes " + sizes);
            }
            long spanHeight = (long) dilation * (kernelHeight - 1) + 1;
            long spanWidth = (long) dilation * (kernelWidth - 1) + 1;
            if (spanHeight > height + 2L * padding || spanWidth > width + 2L * padding) {
                throw new IllegalArgumentException(operation + ": the window does not fit the padded image: " + sizes);
            }
            long outHeight = (height + 2L * padding - spanHeight) / stride + 1;
            long outWidth = (width + 2L * padding - spanWidth) / stride + 1;
            long imageElements = (long) images * channels * height * width;
            long columnElements = (long) images * channels * kernelHeight * kernelWidth * outHeight * outWidth;
            if (inOffset < 0 || inOffset + imageElements > in.length) {
                throw new IllegalArgumentException(operation + ": " + imageElements + " image elements from offset "
                        + inOffset + " do not fit an array of " + in.length + " (" + sizes + ")");
            }
            if (colsOffset < 0 || colsOffset + columnElements > cols.length) {
                throw new IllegalArgumentException(operation + ": " + columnElements + " column elements from offset "
                        + colsOffset + " do not fit an array of " + cols.length + " (" + sizes + ")");
            }
            return new Plan(channels, height, width, kernelHeight, kernelWidth, stride, padding, dilation,
                    images * channels, (int) outHeight, (int) outWidth);
        }

        void run(Planes body) {
            long work = (long) planes * kernelHeight * kernelWidth * outHeight * outWidth + (long) planes * height * width;
            int parts = work < SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, planes);
            if (parts <= 1) {
                body.run(0, planes);
                return;
            }
            Parallel.run(parts, part -> body.run((int) ((long) planes * part / parts),
                    (int) ((long) planes * (part + 1) / parts)));
        }

        /** The first output column whose tap {@code kj} lands inside the image (at most outWidth). */
        int firstInside(int kj) {
            int before = padding - kj * dilation;
            return before <= 0 ? 0 : Math.min(outWidth, (before + stride - 1) / stride);
        }

        /** One past the last output column whose tap {@code kj} lands inside the image (at least firstInside). */
        int endInside(int kj, int first) {
            long last = Math.floorDiv((long) width - 1 + padding - (long) kj * dilation, stride);
            return (int) Math.max(first, Math.min(outWidth, last + 1));
        }

        void unfold(float[] in, int inOffset, int plane, float padValue, float[] cols, int colsOffset) {
            int source = inOffset + plane * height * width;
            int row = colsOffset + plane * kernelHeight * kernelWidth * outHeight * outWidth;
            for (int ki = 0; ki < kernelHeight; ki++) {
                for (int kj = 0; kj < kernelWidth; kj++) {
                    int first = firstInside(kj);
                    int end = endInside(kj, first);
                    int shift = kj * dilation - padding;
                    if (stride == 1 && outWidth == width && first < end) {
                        unfoldBlock(in, source, ki, first, end, shift, padValue, cols, row);
                        row += outHeight * outWidth;
                        continue;
                    }
                    for (int oh = 0; oh < outHeight; oh++, row += outWidth) {
                        int h = oh * stride - padding + ki * dilation;
                        if (h < 0 || h >= height || first == end) {
                            Arrays.fill(cols, row, row + outWidth, padValue);
                            continue;
                        }
                        Arrays.fill(cols, row, row + first, padValue);
                        int from = source + h * width + first * stride + shift;
                        if (stride == 1) {
                            System.arraycopy(in, from, cols, row + first, end - first);
                        } else {
                            for (int ow = first; ow < end; ow++, from += stride) {
                                cols[row + ow] = in[from];
                            }
                        }
                        Arrays.fill(cols, row + end, row + outWidth, padValue);
                    }
                }
            }
        }

        /**
         * One column row (tap {@code ki}, tap column with inside columns {@code [first, end)})
         * when the stride is 1 and the output is as wide as the image (a "same" convolution):
         * the inside rows then read one contiguous run of the image, copied at once, and only
         * the padded ends, where that run wraps from one image row to the next, are filled
         * after it — the same values as row by row.
         */
        private void unfoldBlock(float[] in, int source, int ki, int first, int end, int shift, float padValue,
                                 float[] cols, int row) {
            int lift = ki * dilation - padding;
            int low = Math.max(0, -lift);
            int high = Math.min(outHeight, height - lift);
            int block = outHeight * outWidth;
            if (low >= high) {
                Arrays.fill(cols, row, row + block, padValue);
                return;
            }
            int start = row + low * outWidth + first;
            Arrays.fill(cols, row, start, padValue);
            int last = row + (high - 1) * outWidth + end;
            System.arraycopy(in, source + (low + lift) * width + first + shift, cols, start, last - start);
            if (first > 0 || end < outWidth) {
                for (int oh = low; oh < high - 1; oh++) {
                    Arrays.fill(cols, row + oh * outWidth + end, row + (oh + 1) * outWidth + first, padValue);
                }
            }
            Arrays.fill(cols, last, row + block, padValue);
        }

        /** Stride 1 and an output as wide as the image: a column row's inside rows are one contiguous run. */
        boolean sameWidth() {
            return stride == 1 && outWidth == width;
        }

        void fold(RunAdder adder, float[] cols, int colsOffset, int plane, float[] in, int inOffset, float[] spare) {
            int target = inOffset + plane * height * width;
            Arrays.fill(in, target, target + height * width, 0f);
            int row = colsOffset + plane * kernelHeight * kernelWidth * outHeight * outWidth;
            for (int ki = 0; ki < kernelHeight; ki++) {
                for (int kj = 0; kj < kernelWidth; kj++) {
                    int first = firstInside(kj);
                    int end = endInside(kj, first);
                    int shift = kj * dilation - padding;
                    if (spare != null && first < end) {
                        foldBlock(adder, cols, row, ki, first, end, shift, in, target, spare);
                        row += outHeight * outWidth;
                        continue;
                    }
                    for (int oh = 0; oh < outHeight; oh++, row += outWidth) {
                        int h = oh * stride - padding + ki * dilation;
                        if (h < 0 || h >= height) {
                            continue;
                        }
                        int to = target + h * width + first * stride + shift;
                        if (stride == 1) {
                            adder.add(cols, row + first, in, to, end - first);
                        } else {
                            for (int ow = first; ow < end; ow++, to += stride) {
                                in[to] += cols[row + ow];
                            }
                        }
                    }
                }
            }
        }

        /**
         * {@link #unfoldBlock}'s adjoint: the inside rows of a column row added to the image as one
         * contiguous run. The entries of that run that wrap from one image row to the next
         * (padding taps) are set to +0 for the add and put back after it, in {@code spare}: every
         * image element is a sum begun at +0, so never −0, and adding +0 leaves its bits as they
         * are — the same bits as adding row by row.
         */
        private void foldBlock(RunAdder adder, float[] cols, int row, int ki, int first, int end, int shift,
                               float[] in, int target, float[] spare) {
            int lift = ki * dilation - padding;
            int low = Math.max(0, -lift);
            int high = Math.min(outHeight, height - lift);
            if (low >= high) {
                return;
            }
            int start = row + low * outWidth + first;
            int last = row + (high - 1) * outWidth + end;
            int to = target + (low + lift) * width + first + shift;
            int saved = 0;
            for (int oh = low; oh < high - 1; oh++) {
                for (int at = row + oh * outWidth + end; at < row + (oh + 1) * outWidth + first; at++) {
                    spare[saved++] = cols[at];
                    cols[at] = 0f;
                }
            }
            adder.add(cols, start, in, to, last - start);
            saved = 0;
            for (int oh = low; oh < high - 1; oh++) {
                for (int at = row + oh * outWidth + end; at < row + (oh + 1) * outWidth + first; at++) {
                    cols[at] = spare[saved++];
                }
            }
        }

        /** The scalar {@link RunAdder}: a separate method, so that the JIT compiles the contiguous add as one loop. */
        static void addRun(float[] values, int from, float[] out, int to, int length) {
            for (int i = 0; i < length; i++) {
                out[to + i] += values[from + i];
            }
        }
    }
}
