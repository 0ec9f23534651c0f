package org.adjoint.cuda.internal;

import org.adjoint.backend.ConvGeometry;

/**
 * One convolution's sizes, as cuDNN's descriptors take them.
 *
 * @param images       N
 * @param channels     C
 * @param height       H
 * @param width        W
 * @param outputs      output channels
 * @param groups       channel groups
 * @param kernelHeight kH
 * @param kernelWidth  kW
 * @param stride       step in both directions
 * @param padding      padding on every side
 * @param dilation     step between taps
 * @param outHeight    H'
 * @param outWidth     W'
 */
public record CudnnShape(int images, int channels, int height, int width, int outputs, int groups, int kernelHeight,
                    int kernelWidth, int stride, int padding, int dilation, int outHeight, int outWidth) {

    /**
     * The shape of a call of the SPI, or {@code null} when cuDNN cannot take it: a size of 0
     * (cuDNN's descriptors refuse empty tensors) or a tensor of 2³¹ elements or more (its
     * legacy descriptors count in {@code int}).
     *
     * @param geometry the window over one image
     * @param images   N
     * @param outputs  output channels
     * @param groups   channel groups
     * @return the shape, or {@code null}
     */
    public static CudnnShape of(ConvGeometry geometry, int images, int outputs, int groups) {
        ConvGeometry g = geometry;
        if (images < 1 || outputs < 1 || groups < 1 || g.channels() < 1 || g.height() < 1 || g.width() < 1
                || g.channels() % groups != 0 || outputs % groups != 0) {
            return null;
        }
        long limit = Integer.MAX_VALUE;
        if (images * g.imageSize() > limit || (long) images * outputs * g.columnCols() > limit
                || (long) outputs * (g.columnRows() / groups) > limit) {
            return null;
        }
        return new CudnnShape(images, g.channels(), g.height(), g.width(), outputs, groups, g.kernelHeight(),
                g.kernelWidth(), g.stride(), g.padding(), g.dilation(), g.outHeight(), g.outWidth());
    }

    /** The three computations, with the C names of their calls. */
    public enum Direction {
        /** {@code y = conv(x, w)}. */
        FORWARD("cudnnConvolutionForward", "cudnnGetConvolutionForwardAlgorithm_v7",
                "cudnnGetConvolutionForwardWorkspaceSize"),
        /** {@code dx} from {@code dy} and {@code w}. */
        BACKWARD_DATA("cudnnConvolutionBackwardData", "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                "cudnnGetConvolutionBackwardDataWorkspaceSize"),
        /** {@code dw} from {@code x} and {@code dy}. */
        BACKWARD_FILTER("cudnnConvolutionBackwardFilter", "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
                "cudnnGetConvolutionBackwardFilterWorkspaceSize");

        final String call;
        final String heuristic;
        final String workspace;

        Direction(String call, String heuristic, String workspace) {
            this.call = call;
            this.heuristic = heuristic;
            this.workspace = workspace;
        }

        /**
         * The C function that computes it.
         *
         * @return for example {@code cudnnConvolutionForward}
         */
        public String call() {
            return call;
        }
    }
}
