package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape rules written out independently of the engine's, so that the generator only builds
 * calls the API must accept (an engine that rejects one fails the run).
 */
final class ShapeRules {

    private ShapeRules() {
    }

    static long size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** NumPy broadcasting: the result shape, or {@code null} when the shapes do not broadcast. */
    static int[] broadcast(int[] x, int[] y) {
        int rank = Math.max(x.length, y.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int dx = i < rank - x.length ? 1 : x[i - (rank - x.length)];
            int dy = i < rank - y.length ? 1 : y[i - (rank - y.length)];
            if (dx != dy && dx != 1 && dy != 1) {
                return null;
            }
            out[i] = dx == 1 ? dy : dx;
        }
        return out;
    }

    /** NumPy {@code matmul}: the result shape, or {@code null} when the operands do not multiply. */
    static int[] matmul(int[] x, int[] y) {
        if (x.length == 0 || y.length == 0) {
            return null;
        }
        if (x.length == 1 && y.length == 1) {
            return x[0] == y[0] ? new int[0] : null;
        }
        if (x.length == 1) {
            if (x[0] != y[y.length - 2]) {
                return null;
            }
            int[] out = Arrays.copyOf(y, y.length - 1);
            out[out.length - 1] = y[y.length - 1];
            return out;
        }
        if (y.length == 1) {
            return x[x.length - 1] == y[0] ? Arrays.copyOf(x, x.length - 1) : null;
        }
        if (x[x.length - 1] != y[y.length - 2]) {
            return null;
        }
        int[] batch = broadcast(Arrays.copyOf(x, x.length - 2), Arrays.copyOf(y, y.length - 2));
        if (batch == null) {
            return null;
        }
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = x[x.length - 2];
        out[batch.length + 1] = y[y.length - 1];
        return out;
    }

    /** The last two axes swapped. */
    static int[] transposed(int[] shape) {
        int[] out = shape.clone();
        out[out.length - 1] = shape[shape.length - 2];
        out[out.length - 2] = shape[shape.length - 1];
        return out;
    }

    /** Largest batch of the images that values are reshaped to. */
    static final int MAX_BATCH = 2;

    /** Most channels of those images. */
    static final int MAX_CHANNELS = 3;

    /** Longest side of those images. */
    static final int MAX_SIDE = 5;

    /**
     * PyTorch's {@code conv2d}: the output shape, or {@code null} when the call is invalid.
     *
     * @param image    {@code [N, C, H, W]}
     * @param geometry {@code {outChannels, kernelHeight, kernelWidth, stride, padding, dilation, groups}}
     */
    static int[] conv2d(int[] image, int[] geometry) {
        if (image.length != 4 || geometry.length != 7) {
            return null;
        }
        int out = geometry[0];
        int stride = geometry[3];
        int padding = geometry[4];
        int dilation = geometry[5];
        int groups = geometry[6];
        if (stride < 1 || padding < 0 || dilation < 1 || groups < 1 || image[1] % groups != 0 || out % groups != 0
                || out < 1 || image[1] < 1) {
            return null;
        }
        int height = slide(image[2] + 2 * padding, dilation * (geometry[1] - 1) + 1, stride);
        int width = slide(image[3] + 2 * padding, dilation * (geometry[2] - 1) + 1, stride);
        return height < 1 || width < 1 ? null : new int[] {image[0], out, height, width};
    }

    /**
     * PyTorch's {@code max_pool2d} and {@code avg_pool2d} with a square window: the output
     * shape, or {@code null} when the call is invalid.
     *
     * @param image    {@code [N, C, H, W]}
     * @param geometry {@code {kernel, stride, padding}}
     */
    static int[] pool2d(int[] image, int[] geometry) {
        if (image.length != 4 || geometry.length != 3) {
            return null;
        }
        int kernel = geometry[0];
        int stride = geometry[1];
        int padding = geometry[2];
        if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) {
            return null;
        }
        int height = slide(image[2] + 2 * padding, kernel, stride);
        int width = slide(image[3] + 2 * padding, kernel, stride);
        return height < 1 || width < 1 ? null : new int[] {image[0], image[1], height, width};
    }

    /** Window positions along one padded side, or 0 when the window does not fit. */
    private static int slide(int padded, int span, int stride) {
        return padded < span ? 0 : (padded - span) / stride + 1;
    }

    /**
     * Every image shape {@code [N, C, H, W]} of {@code size} elements within the small limits
     * ({@value #MAX_BATCH}, {@value #MAX_CHANNELS}, {@value #MAX_SIDE}).
     */
    static List<int[]> images(long size) {
        List<int[]> out = new ArrayList<>();
        for (int n = 1; n <= MAX_BATCH; n++) {
            for (int c = 1; c <= MAX_CHANNELS; c++) {
                for (int h = 1; h <= MAX_SIDE; h++) {
                    for (int w = 1; w <= MAX_SIDE; w++) {
                        if ((long) n * c * h * w == size) {
                            out.add(new int[] {n, c, h, w});
                        }
                    }
                }
            }
        }
        return out;
    }
}
