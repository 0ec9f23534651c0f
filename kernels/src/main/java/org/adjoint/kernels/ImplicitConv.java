package org.adjoint.kernels;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * 2-D convolution as implicit GEMMs on {@link PackedGemm}: the columns matrix of a window
 * ({@link Im2col}'s output, row {@code r = (channel, tap row, tap column)}, column
 * {@code q = (output row, output column)}) is never written; each panel of B is packed straight
 * from the images ({@link PackedGemm.BSource}), padding read as zero.
 * <ul>
 *   <li>forward: {@code y_g = W_g · cols_g(x)} per image and group;</li>
 *   <li>input gradient, stride 1 only: {@code dx} is the convolution of {@code dy} with the
 *       weight flipped in both taps and transposed in its two channel axes, padded by
 *       {@code dilation·(k − 1) − padding} (negative padding crops), so no col2im;</li>
 *   <li>weight gradient: {@code dw_g = Σ_images dy_g · cols_g(x)ᵀ}, computed as its transpose
 *       {@code cols_g(x) · dy_gᵀ}, accumulated image after image ({@code beta = 1} after the
 *       first), never split over images: for stride 1 from copies of each image shifted per
 *       tap column, whose runs are the columns' rows (one product per tap, threads splitting
 *       the outputs); for other strides from each image's columns unfolded into a buffer,
 *       threads splitting the rows of the columns.</li>
 * </ul>
 * Every element of a result is the chain of {@link PackedGemm} in a fixed order of k (row
 * {@code r}, or image then position for the weight gradient), whatever the thread count.
 */
final class ImplicitConv {

    private ImplicitConv() {
    }

    /**
     * The window over one group's channels of one image, as read through a columns matrix:
     * row {@code r} reads channel {@code r / (kh·kw)} at tap {@code (ki, kj)}, column {@code q}
     * output position {@code (q / outWidth, q % outWidth)}, the element at row
     * {@code oh·stride + ki·dilation − padTop}, column {@code ow·stride + kj·dilation − padLeft},
     * or zero outside the image.
     */
    record Window(int channels, int height, int width, int kernelHeight, int kernelWidth, int stride, int padTop,
                  int padLeft, int dilation, int outHeight, int outWidth) {

        int rows() {
            return channels * kernelHeight * kernelWidth;
        }

        int positions() {
            return outHeight * outWidth;
        }

        /**
         * Writes entries {@code [q0, q0 + length)} of columns row {@code r} of the image at
         * {@code plane0} to {@code dst[at, at + length)}.
         */
        void row(float[] x, int plane0, int r, int q0, int length, float[] dst, int at) {
            int taps = kernelHeight * kernelWidth;
            int channel = r / taps;
            int tap = r - channel * taps;
            int ki = tap / kernelWidth;
            int kj = tap - ki * kernelWidth;
            int plane = plane0 + channel * height * width;
            int dh = ki * dilation - padTop;
            int dw = kj * dilation - padLeft;
            // Output columns whose tap lands inside the image: [low, high); likewise rows.
            int low = dw >= 0 ? 0 : Math.min(outWidth, (-dw + stride - 1) / stride);
            int high = Math.max(low, width - dw <= 0 ? 0 : Math.min(outWidth, (width - dw + stride - 1) / stride));
            int top = dh >= 0 ? 0 : Math.min(outHeight, (-dh + stride - 1) / stride);
            int bottom = Math.max(top, height - dh <= 0 ? 0 : Math.min(outHeight, (height - dh + stride - 1) / stride));
            if (stride == 1 && outWidth == width) {
                sameRow(x, plane + dh * width + dw, q0, length, dst, at, low, high, top, bottom);
                return;
            }
            int oh = q0 / outWidth;
            int ow = q0 - oh * outWidth;
            int done = 0;
            while (done < length) {
                int run = Math.min(outWidth - ow, length - done);
                int end = ow + run;
                int to = at + done;
                if (oh < top || oh >= bottom) {
                    Arrays.fill(dst, to, to + run, 0f);
                } else {
                    int from = Math.min(end, Math.max(ow, low));
                    int until = Math.max(from, Math.min(end, high));
                    Arrays.fill(dst, to, to + from - ow, 0f);
                    int src = plane + (oh * stride + dh) * width + from * stride + dw;
                    int dstAt = to + from - ow;
                    int count = until - from;
                    if (count > 0) {
                        if (stride == 1) {
                            System.arraycopy(x, src, dst, dstAt, count);
                        } else {
                            for (int i = 0; i < count; i++) {
                                dst[dstAt + i] = x[src + i * stride];
                            }
                        }
                    }
                    Arrays.fill(dst, to + until - ow, to + run, 0f);
                }
                done += run;
                ow = 0;
                oh++;
            }
        }

        /**
         * {@link #row} for stride 1 and an output as wide as the image: entry {@code q} is
         * {@code x[start + q]} where the tap lands inside (output rows {@code [top, bottom)},
         * columns {@code [low, high)}), so the inside entries are one contiguous run of the
         * image, copied at once, and the entries where it wraps past a row's edge are zeroed after.
         */
        private void sameRow(float[] x, int start, int q0, int length, float[] dst, int at, int low, int high,
                             int top, int bottom) {
            int q1 = q0 + length;
            int first = Math.max(q0, top * outWidth + low);
            int last = Math.min(q1, (bottom - 1) * outWidth + high);
            if (low >= high || top >= bottom || first >= last) {
                Arrays.fill(dst, at, at + length, 0f);
                return;
            }
            Arrays.fill(dst, at, at + first - q0, 0f);
            System.arraycopy(x, start + first, dst, at + first - q0, last - first);
            Arrays.fill(dst, at + last - q0, at + length, 0f);
            if (low > 0 || high < outWidth) {
                // Between output rows oh and oh + 1: columns [high, outWidth) of one, [0, low) of the next.
                for (int oh = Math.max(top, first / outWidth - 1); oh < bottom - 1 && oh * outWidth + high < last; oh++) {
                    int from = Math.max(first, oh * outWidth + high);
                    int to = Math.min(last, (oh + 1) * outWidth + low);
                    if (from < to) {
                        Arrays.fill(dst, at + from - q0, at + to - q0, 0f);
                    }
                }
            }
        }

        /** B = the columns {@code [rows, positions]} of the image at {@code plane0}. */
        PackedGemm.BSource columns(MicroKernel kernel, float[] x, int plane0) {
            int nr = kernel.columns();
            return (pc, kc, jc, nc, first, end, pack, base) -> {
                int q0 = jc + first * nr;
                int length = Math.min(nc, end * nr) - first * nr;
                int padded = (end - first) * nr;
                float[] line = buffer(LINE, padded);
                Arrays.fill(line, length, padded, 0f);
                for (int p = 0; p < kc; p++) {
                    row(x, plane0, pc + p, q0, length, line, 0);
                    for (int s = first; s < end; s++) {
                        kernel.copyRow(line, (s - first) * nr, pack, base + s * nr * kc + p * nr);
                    }
                }
            };
        }
    }

    private static final ThreadLocal<float[]> LINE = new ThreadLocal<>();
    private static final ThreadLocal<float[]> COLUMNS = new ThreadLocal<>();
    private static final ThreadLocal<float[]> TRANSPOSED = new ThreadLocal<>();
    private static final ThreadLocal<float[]> SHIFTED = new ThreadLocal<>();
    private static final ThreadLocal<float[]> PANEL = new ThreadLocal<>();

    /** This thread's buffer in {@code slot}, at least {@code needed} long ({@link PackedGemm#buffer}). */
    private static float[] buffer(ThreadLocal<float[]> slot, int needed) {
        return PackedGemm.buffer(slot, needed);
    }

    /**
     * {@code y [images, outputs, outHeight, outWidth] = conv(x [images, channels, height, width],
     * w [outputs, channels/groups, kh, kw])}, overwriting {@code y}.
     */
    static void forward(MicroKernel kernel, float[] x, float[] w, float[] y, int images, int channels, int height,
                        int width, int outputs, int groups, int kernelHeight, int kernelWidth, int stride, int padding,
                        int dilation) {
        Window window = window(channels / groups, height, width, kernelHeight, kernelWidth, stride, padding, padding,
                dilation);
        product(kernel, w, window, x, (long) channels * height * width, y, images, outputs / groups, groups);
    }

    /**
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}
     * and {@code w [outputs, channels/groups, kh, kw]} for a convolution of stride 1, overwriting {@code dx}.
     */
    static void inputGrad(MicroKernel kernel, float[] dy, float[] w, float[] dx, int images, int channels,
                          int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                          int padding, int dilation) {
        int outPerGroup = outputs / groups;
        int inPerGroup = channels / groups;
        int taps = kernelHeight * kernelWidth;
        int outHeight = height + 2 * padding - dilation * (kernelHeight - 1);
        int outWidth = width + 2 * padding - dilation * (kernelWidth - 1);
        // The flipped, transposed weight: [groups, channels/groups, outputs/groups · kh · kw].
        int depth = outPerGroup * taps;
        float[] flipped = new float[groups * inPerGroup * depth];
        for (int g = 0; g < groups; g++) {
            for (int c = 0; c < inPerGroup; c++) {
                for (int o = 0; o < outPerGroup; o++) {
                    int src = ((g * outPerGroup + o) * inPerGroup + c) * taps;
                    int dst = (g * inPerGroup + c) * depth + o * taps;
                    for (int t = 0; t < taps; t++) {
                        flipped[dst + t] = w[src + taps - 1 - t];
                    }
                }
            }
        }
        Window window = new Window(outPerGroup, outHeight, outWidth, kernelHeight, kernelWidth, 1,
                dilation * (kernelHeight - 1) - padding, dilation * (kernelWidth - 1) - padding, dilation, height, width);
        product(kernel, flipped, window, dy, (long) outputs * outHeight * outWidth, dx, images, inPerGroup, groups);
    }

    /**
     * {@code out[image, group g] = a_g · cols(in[image, group g])} for every image and group:
     * {@code a} is {@code [groups, m, window.rows()]}, {@code out} {@code [images, groups·m, window.positions()]}.
     */
    private static void product(MicroKernel kernel, float[] a, Window window, float[] in, long inImage, float[] out,
                                int images, int m, int groups) {
        int k = window.rows();
        int n = window.positions();
        long inGroup = (long) window.channels() * window.height() * window.width();
        long outImage = (long) groups * m * n;
        if (images == 0 || m == 0 || n == 0) {
            return;
        }
        for (int g = 0; g < groups; g++) {
            int aOffset = g * m * k;
            int outGroup = g * m * n;
            int group = g;
            if (images > 1 && (long) m * n * k < PackedGemm.SERIAL_BELOW) {
                PackedGemm.sgemmSharedA(kernel, false, images, m, n, k, 1f, a, aOffset, k,
                        p -> window.columns(kernel, in, Math.toIntExact(p * inImage + group * inGroup)),
                        0f, out, outGroup, Math.toIntExact(outImage), n);
            } else {
                for (int p = 0; p < images; p++) {
                    PackedGemm.sgemm(kernel, false, m, n, k, 1f, a, aOffset, k,
                            window.columns(kernel, in, Math.toIntExact(p * inImage + g * inGroup)),
                            0f, out, Math.toIntExact(p * outImage + outGroup), n);
                }
            }
        }
    }

    /**
     * {@code dw [outputs, channels/groups, kh, kw] = Σ_images dy_g · cols_g(x)ᵀ} per group,
     * overwriting {@code dw} (zeros when there are no images).
     *
     * <p>Stride 1 runs without columns ({@link #shiftedWeightGrad}). Other strides:
     * computed transposed, {@code dwᵀ_g = Σ_images cols_g(x) · dy_gᵀ}, then copied into
     * {@code dw}: the columns' {@code C·kh·kw} rows become the product's rows, read in place
     * from one image's columns unfolded into a buffer that stays in L2, and the {@code O}
     * outputs its columns, a panel of B only {@code O} wide packed from {@code dy}. The other
     * way round the long, awkward side (the columns) had to be packed transposed, element by
     * element, and the few outputs left a remainder tile in every block. Element
     * {@code (o, r)} is the same chain as before: per image in order, blocks of KC positions,
     * {@code fma(dy, col, acc)} from zero, added to the sum of the earlier ones; threads split
     * the rows, never the images or the positions.
     */
    static void weightGrad(MicroKernel kernel, float[] x, float[] dy, float[] dw, int images, int channels, int height,
                           int width, int outputs, int groups, int kernelHeight, int kernelWidth, int stride,
                           int padding, int dilation) {
        Window window = window(channels / groups, height, width, kernelHeight, kernelWidth, stride, padding, padding,
                dilation);
        int m = outputs / groups;
        int rows = window.rows();
        int k = window.positions();
        if (images == 0 || k == 0) {
            Arrays.fill(dw, 0, outputs * rows, 0f);
            return;
        }
        if (stride == 1) {
            shiftedWeightGrad(kernel, x, dy, dw, images, channels, height, width, outputs, groups, kernelHeight,
                    kernelWidth, padding, dilation, window);
            return;
        }
        long xImage = (long) channels * height * width;
        long xGroup = (long) window.channels() * height * width;
        long dyImage = (long) outputs * k;
        int mr = kernel.rows();
        int tiles = (rows + mr - 1) / mr;
        // The caller's buffer, which the region's parts write and the caller then reads.
        float[] transposed = buffer(TRANSPOSED, groups * rows * m);
        long work = (long) images * m * rows * k;
        int wanted = work < PackedGemm.SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, tiles);
        Parallel.together(wanted, threads -> {
            // One run of whole tiles of rows a thread: each run packs every image's dy again.
            int runs = Math.min(tiles, threads);
            AtomicInteger next = new AtomicInteger();
            return part -> {
                for (int run = next.getAndIncrement(); run < runs; run = next.getAndIncrement()) {
                    int r0 = (int) ((long) tiles * run / runs) * mr;
                    int r1 = Math.min(rows, (int) ((long) tiles * (run + 1) / runs) * mr);
                    float[] columns = buffer(COLUMNS, (r1 - r0) * k);
                    for (int g = 0; g < groups && r0 < r1; g++) {
                        for (int p = 0; p < images; p++) {
                            int plane0 = Math.toIntExact(p * xImage + g * xGroup);
                            for (int r = r0; r < r1; r++) {
                                window.row(x, plane0, r, 0, k, columns, (r - r0) * k);
                            }
                            PackedGemm.sgemmSerial(kernel, false, r1 - r0, m, k, 1f, columns, 0, k,
                                    PackedGemm.dense(kernel, true, dy, Math.toIntExact(p * dyImage + (long) g * m * k), k),
                                    p == 0 ? 0f : 1f, transposed, (g * rows + r0) * m, m);
                        }
                    }
                }
            };
        });
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < m; o++) {
                int to = (g * m + o) * rows;
                for (int r = 0; r < rows; r++) {
                    dw[to + r] = transposed[(g * rows + r) * m + o];
                }
            }
        }
    }

    /**
     * {@link #weightGrad} for stride 1 without the columns. Row {@code (c, ki, kj)} of the
     * columns at position {@code q = oh·outWidth + ow} is {@code x[c, oh + ki·d − p, ow + kj·d − p]}
     * or zero; with a copy of the image for each tap column {@code kj},
     * {@code shifted_kj[c, hp, ow] = x[c, hp − p, ow + kj·d − p]} (zero outside the image,
     * {@code hp < H + 2p}), that row is the {@code outHeight·outWidth} consecutive values of
     * {@code shifted_kj} from {@code c·plane + ki·d·outWidth}: the same values as the columns,
     * zeros included, in the same order. For one tap the rows of the channels are then one
     * plane apart, a row-major A read in place by the GEMM's tile: per image one product per tap,
     * {@code dwᵀ[(tap, c), o] += shifted · dyᵀ}, all taps sharing one packed panel of
     * {@code dy}, instead of unfolding {@code C·kh·kw} rows of columns. The copies write
     * {@code kw·C·(H + 2p)·outWidth} values an image against the columns' {@code C·kh·kw·positions}.
     *
     * <p>Element {@code (o, c, tap)} is the chain of the unfolded form ({@link PackedGemm#sgemmPackedB}
     * per block of KC positions, images in order, {@code beta = 1} after the first block of the
     * first image), so the bits are the same. Threads take runs of slivers of outputs (each
     * packing only its own part of {@code dy}), or runs of taps when there are fewer slivers
     * than threads; never images or positions.
     */
    private static void shiftedWeightGrad(MicroKernel kernel, float[] x, float[] dy, float[] dw, int images,
                                          int channels, int height, int width, int outputs, int groups,
                                          int kernelHeight, int kernelWidth, int padding, int dilation,
                                          Window window) {
        int perGroup = channels / groups;
        int m = outputs / groups;
        int taps = kernelHeight * kernelWidth;
        int rows = perGroup * taps;
        int k = window.positions();
        int outWidth = window.outWidth();
        int paddedHeight = height + 2 * padding;
        int plane = paddedHeight * outWidth;
        int kc = GemmBlocking.forTile(kernel.rows(), kernel.columns()).kc();
        int nr = kernel.columns();
        int slivers = (m + nr - 1) / nr;
        long xImage = (long) channels * height * width;
        long dyImage = (long) outputs * k;
        float[] transposed = buffer(TRANSPOSED, groups * rows * m);
        long work = (long) images * m * rows * k;
        int wanted = work < PackedGemm.SERIAL_BELOW ? 1 : Math.min(Parallel.THREADS, Math.max(slivers, taps));
        Parallel.together(wanted, threads -> {
            boolean bySlivers = slivers >= threads;
            int units = bySlivers ? slivers : taps;
            int runs = Math.min(units, threads);
            AtomicInteger next = new AtomicInteger();
            return part -> {
                for (int run = next.getAndIncrement(); run < runs; run = next.getAndIncrement()) {
                    int u0 = (int) ((long) units * run / runs);
                    int u1 = (int) ((long) units * (run + 1) / runs);
                    int j0 = bySlivers ? u0 * nr : 0;
                    int j1 = bySlivers ? Math.min(m, u1 * nr) : m;
                    int t0 = bySlivers ? 0 : u0;
                    int t1 = bySlivers ? taps : u1;
                    int panelSlivers = (j1 - j0 + nr - 1) / nr;
                    float[] shifted = buffer(SHIFTED, kernelWidth * perGroup * plane);
                    float[] panel = buffer(PANEL, panelSlivers * nr * Math.min(kc, k));
                    for (int g = 0; g < groups; g++) {
                        for (int p = 0; p < images; p++) {
                            int image = Math.toIntExact(p * xImage + (long) g * perGroup * height * width);
                            for (int kj = 0; kj < kernelWidth; kj++) {
                                shift(x, image, perGroup, height, width, padding, kj * dilation - padding, outWidth,
                                        shifted, kj * perGroup * plane);
                            }
                            PackedGemm.BSource cotangents = PackedGemm.dense(kernel, true, dy,
                                    Math.toIntExact(p * dyImage + (long) g * m * k), k);
                            for (int pc = 0; pc < k; pc += kc) {
                                int depth = Math.min(kc, k - pc);
                                cotangents.pack(pc, depth, j0, j1 - j0, 0, panelSlivers, panel, 0);
                                float beta = p == 0 && pc == 0 ? 0f : 1f;
                                for (int t = t0; t < t1; t++) {
                                    int ki = t / kernelWidth;
                                    int kj = t - ki * kernelWidth;
                                    PackedGemm.sgemmPackedB(kernel, perGroup, j1 - j0, depth, 1f, shifted,
                                            kj * perGroup * plane + ki * dilation * outWidth + pc, plane, panel, 0,
                                            beta, transposed, (g * rows + t * perGroup) * m + j0, m);
                                }
                            }
                        }
                    }
                }
            };
        });
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < m; o++) {
                int to = (g * m + o) * rows;
                for (int c = 0; c < perGroup; c++) {
                    for (int t = 0; t < taps; t++) {
                        dw[to + c * taps + t] = transposed[(g * rows + t * perGroup + c) * m + o];
                    }
                }
            }
        }
    }

    /**
     * Writes {@code dst[at + (c·paddedHeight + hp)·outWidth + ow] = x[image + (c·H + hp − padding)·W + ow + shift]},
     * zero where that element lies outside the image, for {@code c < channels},
     * {@code hp < H + 2·padding}, {@code ow < outWidth}.
     */
    private static void shift(float[] x, int image, int channels, int height, int width, int padding, int shift,
                      int outWidth, float[] dst, int at) {
        int paddedHeight = height + 2 * padding;
        int plane = paddedHeight * outWidth;
        // Output columns whose element lies inside the image's row: [low, high).
        int low = Math.min(outWidth, Math.max(0, -shift));
        int high = Math.max(low, Math.min(outWidth, width - shift));
        for (int c = 0; c < channels; c++) {
            int to = at + c * plane;
            int from = image + c * height * width;
            Arrays.fill(dst, to, to + padding * outWidth, 0f);
            Arrays.fill(dst, to + (padding + height) * outWidth, to + plane, 0f);
            int body = to + padding * outWidth;
            if (outWidth == width && low < high) {
                // Rows as wide as the image's: one run shifted by {@code shift}, then the
                // entries that wrapped around a row's end zeroed.
                int first = Math.max(0, -shift);
                int last = Math.min(height * width, height * width - shift);
                Arrays.fill(dst, body, body + first, 0f);
                System.arraycopy(x, from + first + shift, dst, body + first, last - first);
                Arrays.fill(dst, body + last, body + height * width, 0f);
                if (low > 0 || high < outWidth) {
                    for (int h = 0; h < height; h++) {
                        int row = body + h * outWidth;
                        for (int ow = 0; ow < low; ow++) {
                            dst[row + ow] = 0f;
                        }
                        for (int ow = high; ow < outWidth; ow++) {
                            dst[row + ow] = 0f;
                        }
                    }
                }
            } else {
                for (int h = 0; h < height; h++) {
                    int row = body + h * outWidth;
                    Arrays.fill(dst, row, row + low, 0f);
                    if (low < high) {
                        System.arraycopy(x, from + h * width + low + shift, dst, row + low, high - low);
                    }
                    Arrays.fill(dst, row + high, row + outWidth, 0f);
                }
            }
        }
    }

    private static Window window(int channels, int height, int width, int kernelHeight, int kernelWidth, int stride,
                                 int padTop, int padLeft, int dilation) {
        int outHeight = (height + 2 * padTop - dilation * (kernelHeight - 1) - 1) / stride + 1;
        int outWidth = (width + 2 * padLeft - dilation * (kernelWidth - 1) - 1) / stride + 1;
        return new Window(channels, height, width, kernelHeight, kernelWidth, stride, padTop, padLeft, dilation,
                outHeight, outWidth);
    }
}
