package org.adjoint.backend;

/**
 * The geometry of a 2-D sliding window over images in NCHW order: what a convolution and a
 * pooling operation share. A window of {@code kernelHeight × kernelWidth} taps, {@code dilation}
 * apart, moves by {@code stride} over an image padded by {@code padding} on every side.
 *
 * <p>Unfolded into columns ({@link ConvolutionOps#im2col}), one image becomes a matrix of
 * {@link #columnRows()} rows (channel, then tap row, then tap column) and {@link #columnCols()}
 * columns (output row, then output column), row-major.
 *
 * @param channels     channels of one image
 * @param height       rows of one image
 * @param width        columns of one image
 * @param kernelHeight rows of the window
 * @param kernelWidth  columns of the window
 * @param stride       step between windows, in both directions
 * @param padding      rows and columns added on every side
 * @param dilation     step between taps of a window
 */
public record ConvGeometry(int channels, int height, int width, int kernelHeight, int kernelWidth,
                           int stride, int padding, int dilation) {

    /**
     * Checks that every size is usable; callers check user input first, with the operation's name.
     *
     * @throws IllegalArgumentException when a size is negative, the stride or dilation not
     *                                  positive, or the window does not fit the padded image
     */
    public ConvGeometry {
        if (channels < 0 || height < 0 || width < 0 || kernelHeight < 1 || kernelWidth < 1 || padding < 0
                || stride < 1 || dilation < 1) {
            throw new IllegalArgumentException("window geometry: invalid sizes " + describe(channels, height, width,
                    kernelHeight, kernelWidth, stride, padding, dilation));
        }
        if (span(kernelHeight, dilation) > height + 2L * padding || span(kernelWidth, dilation) > width + 2L * padding) {
            throw new IllegalArgumentException("window geometry: the window does not fit the padded image: "
                    + describe(channels, height, width, kernelHeight, kernelWidth, stride, padding, dilation));
        }
    }

    private static long span(int taps, int dilation) {
        return (long) dilation * (taps - 1) + 1;
    }

    private static String describe(int c, int h, int w, int kh, int kw, int stride, int padding, int dilation) {
        return "image " + c + "x" + h + "x" + w + ", window " + kh + "x" + kw + ", stride " + stride + ", padding "
                + padding + ", dilation " + dilation;
    }

    /**
     * Rows of the output.
     *
     * @return {@code (height + 2·padding − dilation·(kernelHeight − 1) − 1) / stride + 1}
     */
    public int outHeight() {
        return (int) ((height + 2L * padding - span(kernelHeight, dilation)) / stride + 1);
    }

    /**
     * Columns of the output.
     *
     * @return {@code (width + 2·padding − dilation·(kernelWidth − 1) − 1) / stride + 1}
     */
    public int outWidth() {
        return (int) ((width + 2L * padding - span(kernelWidth, dilation)) / stride + 1);
    }

    /**
     * Elements of one image.
     *
     * @return {@code channels · height · width}
     */
    public long imageSize() {
        return (long) channels * height * width;
    }

    /**
     * Rows of one image's columns: one per channel and tap.
     *
     * @return {@code channels · kernelHeight · kernelWidth}
     */
    public long columnRows() {
        return (long) channels * kernelHeight * kernelWidth;
    }

    /**
     * Columns of one image's columns: one per output position.
     *
     * @return {@code outHeight · outWidth}
     */
    public long columnCols() {
        return (long) outHeight() * outWidth();
    }

    /**
     * For every element of the columns of {@code images} consecutive images, the position in
     * those images (flattened, the first image at 0) that it reads, or {@code images ·
     * imageSize()} for a tap that falls on padding: the gather indices of the default
     * {@link ConvolutionOps} bodies, as float32 whole numbers.
     *
     * @param images how many images
     * @return {@code images · columnRows() · columnCols()} indices
     * @throws IllegalArgumentException when there are 2³¹ or more of them
     */
    public float[] windowIndices(int images) {
        long total = images * columnRows() * columnCols();
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window geometry: " + total + " column elements for " + images
                    + " images, more than one index table holds");
        }
        int outH = outHeight();
        int outW = outWidth();
        long padSlot = images * imageSize();
        float[] indices = new float[(int) total];
        int at = 0;
        for (int image = 0; image < images; image++) {
            for (int c = 0; c < channels; c++) {
                long plane = image * imageSize() + (long) c * height * width;
                for (int ki = 0; ki < kernelHeight; ki++) {
                    for (int kj = 0; kj < kernelWidth; kj++) {
                        for (int oh = 0; oh < outH; oh++) {
                            int h = oh * stride - padding + ki * dilation;
                            for (int ow = 0; ow < outW; ow++) {
                                int w = ow * stride - padding + kj * dilation;
                                boolean inside = h >= 0 && h < height && w >= 0 && w < width;
                                indices[at++] = inside ? plane + (long) h * width + w : padSlot;
                            }
                        }
                    }
                }
            }
        }
        return indices;
    }
}
