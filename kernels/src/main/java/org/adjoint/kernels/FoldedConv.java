package org.adjoint.kernels;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The input gradient of a 2-D convolution, any stride, as {@code col2im(W_gᵀ · dy_g)} one image
 * at a time: the image's columns are multiplied into a buffer of the calling thread and folded
 * into {@code dx} at once, while they are still in L2, instead of a tile of images' columns
 * (megabytes) written by the GEMMs and read back by a separate col2im pass.
 *
 * <p>The bits are those of the unfold-multiply-fold composition: each image's columns are the
 * provider's own {@link KernelProvider#sgemm} (whose bits do not depend on the thread count or
 * on whether it ran inside a batch), and each plane is folded by {@link Im2col}'s fold, zeroed
 * then added to tap by tap, its runs added by the provider's {@link Im2col.RunAdder} (the
 * vector one adds a vector at a time: one rounding per element either way).
 */
final class FoldedConv {

    private static final ThreadLocal<float[]> COLUMNS = new ThreadLocal<>();

    /** Columns of at most this many floats (4 MiB) are kept by each thread for the next call; larger ones are not. */
    private static final int KEPT_COLUMNS = 1 << 20;

    private FoldedConv() {
    }

    /**
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}
     * and {@code w [outputs, channels/groups, kh, kw]}, overwriting {@code dx}.
     */
    static void inputGrad(GemmKernels kernels, Im2col.RunAdder adder, float[] dy, float[] w, float[] dx, int images, int channels,
                          int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth, int stride,
                          int padding, int dilation) {
        int outHeight = (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1;
        int outWidth = (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1;
        int positions = outHeight * outWidth;
        int rows = channels * kernelHeight * kernelWidth;
        int rowsPerGroup = rows / groups;
        int outPerGroup = outputs / groups;
        int columnSize = Math.toIntExact((long) rows * positions);
        Image image = (p, columns) -> {
            for (int g = 0; g < groups; g++) {
                kernels.sgemm(true, false, rowsPerGroup, positions, outPerGroup, 1f, w, g * outPerGroup * rowsPerGroup,
                        rowsPerGroup, dy, (p * outputs + g * outPerGroup) * positions, positions, 0f, columns,
                        g * rowsPerGroup * positions, positions);
            }
            Im2col.col2im(adder, columns, 0, channels, height, width, kernelHeight, kernelWidth, stride, padding, dilation, 1,
                    dx, p * channels * height * width);
        };
        long work = (long) rows * positions * outPerGroup;
        if (images > 1 && work < PackedGemm.SERIAL_BELOW) {
            // Images side by side, each claimed whole by one thread: every image's GEMM and fold
            // run as they would alone, so the bits do not depend on the thread count.
            AtomicInteger next = new AtomicInteger();
            Parallel.together(Math.min(images, Parallel.THREADS), threads -> part -> {
                float[] columns = buffer(columnSize);
                for (int p = next.getAndIncrement(); p < images; p = next.getAndIncrement()) {
                    image.run(p, columns);
                }
            });
            return;
        }
        // Large images: one at a time, the GEMM and the fold splitting themselves.
        float[] columns = buffer(columnSize);
        for (int p = 0; p < images; p++) {
            image.run(p, columns);
        }
    }

    @FunctionalInterface
    private interface Image {
        void run(int image, float[] columns);
    }

    private static float[] buffer(int needed) {
        return needed > KEPT_COLUMNS ? new float[needed] : PackedGemm.buffer(COLUMNS, needed);
    }
}
