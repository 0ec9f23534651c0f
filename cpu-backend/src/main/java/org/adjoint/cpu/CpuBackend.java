package org.adjoint.cpu;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

import org.adjoint.DType;
import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.backend.FusedAdam;
import org.adjoint.backend.MemoryOps;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Im2col;
import org.adjoint.kernels.Indexing;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.kernels.MatrixRows;
import org.adjoint.kernels.Pooling;
import org.adjoint.kernels.Strided;

/**
 * {@link Backend} on the JVM heap: buffers are {@code float[]}, and every method is one
 * call into a {@link KernelProvider} of {@code adjoint-kernels} (Vector API or scalar).
 *
 * <p>A buffer that cannot be allocated — more than 2^31 − 9 floats, more than the heap's
 * maximum, or no room on the heap even after the {@link BufferPool} released its cached
 * arrays — fails with a {@link CpuOutOfMemoryException} that gives the size asked and the
 * memory in use, not with a bare {@link OutOfMemoryError}.
 */
public final class CpuBackend implements Backend, FusedAdam {

    /** The most floats one buffer holds: the longest array HotSpot allocates, less a margin. */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final long MAX_HEAP_BYTES = Runtime.getRuntime().maxMemory();

    /** Rows of a group's product below which a convolution runs the default's GEMMs. */
    private static final int IMPLICIT_MIN_ROWS = 4;

    /** Columns rows of a group up to which the weight gradient runs the default's GEMMs. */
    private static final int IMPLICIT_MIN_TAPS = 16;

    private final KernelProvider kernels;
    private final BufferPool pool = new BufferPool(BufferPool.defaultCapacityBytes());

    /** Creates the backend with the kernels {@link KernelProvider#lookup()} chooses; {@link java.util.ServiceLoader} calls this. */
    public CpuBackend() {
        this(KernelProvider.lookup());
    }

    /**
     * Creates the backend on the given kernels (tests and benchmarks compare providers).
     *
     * @param kernels the provider
     */
    public CpuBackend(KernelProvider kernels) {
        this.kernels = kernels;
    }

    /**
     * The kernels this backend runs.
     *
     * @return the provider
     */
    public KernelProvider kernels() {
        return kernels;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public Buffer allocate(DType dtype, long count) {
        MemoryOps.requireSupported(name(), "allocate", dtype);
        return allocate(count);
    }

    @Override
    public Buffer allocate(long size) {
        int length = checkLength(size);
        try {
            return new CpuBuffer(pool.take(length));
        } catch (OutOfMemoryError e) {
            return new CpuBuffer(retryAfterReleasingPool(length, () -> pool.take(length)));
        }
    }

    @Override
    public Buffer allocateUninitialized(long size) {
        int length = checkLength(size);
        try {
            return new CpuBuffer(pool.takeUninitialized(length));
        } catch (OutOfMemoryError e) {
            return new CpuBuffer(retryAfterReleasingPool(length, () -> pool.takeUninitialized(length)));
        }
    }

    @Override
    public void release(Buffer buffer) {
        pool.give(data(buffer));
    }

    /**
     * The pool that released buffers return to.
     *
     * @return this backend's pool
     */
    public BufferPool pool() {
        return pool;
    }

    @Override
    public void fill(Buffer buffer, float value) {
        float[] d = data(buffer);
        ElementWise.fill(d, 0, d.length, value);
    }

    @Override
    public void cast(Buffer src, Buffer out) {
        MemoryOps.requireSupported(name(), "cast", src.dtype());
        MemoryOps.requireSupported(name(), "cast", out.dtype());
        float[] from = data(src);
        System.arraycopy(from, 0, data(out), 0, from.length);
    }

    @Override
    public void gather(Buffer src, int outer, int length, int inner, Buffer indices, int count, Buffer out) {
        Indexing.gather(data(src), outer, length, inner, data(indices), count, data(out));
    }

    @Override
    public void scatterAdd(Buffer values, int outer, int count, int inner, Buffer indices, Buffer out, int length) {
        Indexing.scatterAdd(data(values), outer, count, inner, data(indices), data(out), length);
    }

    @Override
    public void im2col(Buffer input, ConvGeometry geometry, int firstImage, int images, float padValue,
                       Buffer columns) {
        Im2col.im2col(data(input), imageOffset("im2col", geometry, firstImage), geometry.channels(), geometry.height(),
                geometry.width(), geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(), geometry.padding(),
                geometry.dilation(), images, padValue, data(columns), 0);
    }

    @Override
    public void col2im(Buffer columns, ConvGeometry geometry, int firstImage, int images, Buffer input) {
        Im2col.col2im(data(columns), 0, geometry.channels(), geometry.height(), geometry.width(),
                geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(), geometry.padding(),
                geometry.dilation(), images, data(input), imageOffset("col2im", geometry, firstImage));
    }

    /**
     * Implicit GEMMs when the kernels have them ({@link KernelProvider#implicitConvolution()}) and
     * a group has at least 4 output channels (fewer leave most of a
     * register tile idle, where the default's GEMMs choose narrower kernels); else the default.
     */
    @Override
    public void conv2d(Buffer input, Buffer weight, ConvGeometry geometry, int images, int outputs, int groups,
                       Buffer output) {
        if (!kernels.implicitConvolution() || outputs / groups < IMPLICIT_MIN_ROWS) {
            Backend.super.conv2d(input, weight, geometry, images, outputs, groups, output);
            return;
        }
        checkConv("conv2d", geometry, images, outputs, groups, "input", input, "weight", weight, "output", output);
        kernels.conv2d(data(input), data(weight), data(output), images, geometry.channels(), geometry.height(),
                geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(), geometry.stride(),
                geometry.padding(), geometry.dilation());
    }

    /**
     * For stride 1, a convolution of the output's gradient with the flipped weight, as implicit
     * GEMMs, when the kernels have them, a group has at least 4 input channels and no more
     * output channels than input channels. Otherwise the columns {@code W_gᵀ · dy_g} folded
     * into {@code dx} image by image ({@link KernelProvider#conv2dInputGradFolded}), with the
     * bits of the default's GEMMs and col2im; a pointwise window, whose columns are {@code dx}
     * itself, takes the default. The implicit GEMM packs {@code O/G·kH·kW} rows of windows of
     * the output's gradient per image, the folded one writes and folds {@code C/G·kH·kW} rows
     * of columns: with more outputs than inputs (the Fashion-MNIST CNN's 32→64 layer) the
     * folded one packs less and measured faster.
     */
    @Override
    public void conv2dInputGrad(Buffer outputGrad, Buffer weight, ConvGeometry geometry, int images, int outputs,
                                int groups, Buffer inputGrad) {
        if (!kernels.implicitConvolution() || geometry.stride() != 1
                || geometry.channels() / groups < IMPLICIT_MIN_ROWS || outputs > geometry.channels()) {
            boolean pointwise = geometry.kernelHeight() == 1 && geometry.kernelWidth() == 1 && geometry.stride() == 1
                    && geometry.padding() == 0;
            if (pointwise) {
                Backend.super.conv2dInputGrad(outputGrad, weight, geometry, images, outputs, groups, inputGrad);
                return;
            }
            checkConv("conv2dInputGrad", geometry, images, outputs, groups, "input gradient", inputGrad, "weight",
                    weight, "output gradient", outputGrad);
            kernels.conv2dInputGradFolded(data(outputGrad), data(weight), data(inputGrad), images, geometry.channels(),
                    geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(),
                    geometry.kernelWidth(), geometry.stride(), geometry.padding(), geometry.dilation());
            return;
        }
        checkConv("conv2dInputGrad", geometry, images, outputs, groups, "input gradient", inputGrad, "weight", weight,
                "output gradient", outputGrad);
        kernels.conv2dInputGrad(data(outputGrad), data(weight), data(inputGrad), images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.padding(), geometry.dilation());
    }

    /**
     * The kernels' direct weight gradient where they have one for this window
     * ({@link KernelProvider#directConv2dWeightGrad}: one input channel per group); else implicit GEMMs
     * when the kernels have them, a group has at least 4 output channels and its columns more
     * than 16 rows (fewer are a narrow product, which the default's GEMMs run with a kernel of
     * their own on columns that cost little to unfold); else the default.
     */
    @Override
    public void conv2dWeightGrad(Buffer input, Buffer outputGrad, ConvGeometry geometry, int images, int outputs,
                                 int groups, Buffer weightGrad) {
        boolean direct = kernels.implicitConvolution() && kernels.directConv2dWeightGrad(geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation());
        if (!direct && (!kernels.implicitConvolution() || outputs / groups < IMPLICIT_MIN_ROWS
                || geometry.columnRows() / groups <= IMPLICIT_MIN_TAPS)) {
            Backend.super.conv2dWeightGrad(input, outputGrad, geometry, images, outputs, groups, weightGrad);
            return;
        }
        checkConv("conv2dWeightGrad", geometry, images, outputs, groups, "input", input, "weight gradient", weightGrad,
                "output gradient", outputGrad);
        kernels.conv2dWeightGrad(data(input), data(outputGrad), data(weightGrad), images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation());
    }

    /**
     * For a ReLU or no activation, the convolution of {@link #conv2d} with the bias and the
     * ReLU applied on the way out: inside the implicit kernels' copy-out
     * ({@link KernelProvider#conv2dBiasRelu}), else in one pass over the default's output
     * ({@link KernelProvider#channelBiasRelu}). The other activations take the default, whose
     * unary pass over the whole output gives the bits of the activation applied after it.
     */
    @Override
    public void conv2dBiasActivation(Buffer input, Buffer weight, Buffer bias, UnaryOp activation,
                                     ConvGeometry geometry, int images, int outputs, int groups, Buffer output) {
        if (activation != null && activation != UnaryOp.RELU) {
            Backend.super.conv2dBiasActivation(input, weight, bias, activation, geometry, images, outputs, groups,
                    output);
            return;
        }
        boolean relu = activation == UnaryOp.RELU;
        float[] b = bias == null ? null : data(bias);
        if (b != null && b.length < outputs) {
            throw new IllegalArgumentException("cpu conv2dBiasActivation: the bias holds " + b.length
                    + " elements, fewer than the " + outputs + " outputs");
        }
        if (!kernels.implicitConvolution() || outputs / groups < IMPLICIT_MIN_ROWS) {
            Backend.super.conv2d(input, weight, geometry, images, outputs, groups, output);
            kernels.channelBiasRelu(data(output), b, relu, images, outputs, Math.toIntExact(geometry.columnCols()));
            return;
        }
        checkConv("conv2dBiasActivation", geometry, images, outputs, groups, "input", input, "weight", weight,
                "output", output);
        kernels.conv2dBiasRelu(data(input), data(weight), b, relu, data(output), images, geometry.channels(),
                geometry.height(), geometry.width(), outputs, groups, geometry.kernelHeight(), geometry.kernelWidth(),
                geometry.stride(), geometry.padding(), geometry.dilation());
    }

    /**
     * For a ReLU, {@code g} and the bias gradient in one pass ({@link KernelProvider#channelReluGrad}),
     * each channel's plane summed right after it is written, when {@link #sumTo} sums plane by
     * plane too (more than one channel, or one image: one channel of several images is summed
     * as one run); else the default.
     */
    @Override
    public void conv2dBiasActivationGrad(UnaryOp activation, Buffer output, Buffer outputGrad, int images,
                                         int outputs, int positions, boolean biasGrad, Buffer grads) {
        if (activation != UnaryOp.RELU || biasGrad && outputs == 1 && images > 1) {
            Backend.super.conv2dBiasActivationGrad(activation, output, outputGrad, images, outputs, positions, biasGrad,
                    grads);
            return;
        }
        long n = (long) images * outputs * positions;
        float[] y = data(output);
        float[] dy = data(outputGrad);
        float[] g = data(grads);
        if (images < 0 || y.length < n || dy.length < n || g.length < n + (biasGrad ? outputs : 0)) {
            throw new IllegalArgumentException("cpu conv2dBiasActivationGrad: buffers of " + y.length + ", "
                    + dy.length + " and " + g.length + " elements do not hold " + images + " images of " + outputs
                    + " channels of " + positions + " positions" + (biasGrad ? " and the bias gradient" : ""));
        }
        kernels.channelReluGrad(y, dy, g, biasGrad, images, outputs, positions);
    }

    /**
     * Checks that a convolution's three buffers hold their sizes (the implicit kernels trust
     * their arguments): the images, the weight {@code [outputs, C/groups, kH, kW]} and the
     * outputs {@code [images, outputs, H', W']}.
     */
    private static void checkConv(String operation, ConvGeometry geometry, int images, int outputs, int groups,
                                  String imageName, Buffer image, String weightName, Buffer weight, String outName,
                                  Buffer out) {
        long[] needed = {(long) images * geometry.imageSize(), (long) outputs * (geometry.columnRows() / groups),
            (long) images * outputs * geometry.columnCols()};
        String[] names = {imageName, weightName, outName};
        Buffer[] buffers = {image, weight, out};
        for (int i = 0; i < 3; i++) {
            int length = data(buffers[i]).length;
            if (images < 0 || length < needed[i]) {
                throw new IllegalArgumentException("cpu " + operation + ": the " + names[i] + " holds " + length
                        + " elements, fewer than the " + needed[i] + " of " + images + " images, " + outputs
                        + " outputs in " + groups + " groups, geometry " + geometry);
            }
        }
    }

    @Override
    public void maxPool(Buffer input, ConvGeometry geometry, int images, Buffer values, Buffer argmax) {
        kernels.maxPool(data(input), window("maxPool", geometry, images), data(values),
                argmax == null ? null : data(argmax));
    }

    @Override
    public void maxPoolGather(Buffer input, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        kernels.maxPoolGather(data(input), data(argmax), window("maxPoolGather", geometry, images), data(out));
    }

    @Override
    public void maxPoolScatter(Buffer grad, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        kernels.maxPoolScatter(data(grad), data(argmax), window("maxPoolScatter", geometry, images), data(out));
    }

    @Override
    public void avgPool(Buffer input, ConvGeometry geometry, int images, Buffer out) {
        kernels.avgPool(data(input), window("avgPool", geometry, images), data(out));
    }

    @Override
    public void avgPoolScatter(Buffer grad, ConvGeometry geometry, int images, Buffer out) {
        kernels.avgPoolScatter(data(grad), window("avgPoolScatter", geometry, images), data(out));
    }

    /** The pooling kernels' sizes: the images' channels as planes. */
    private static Pooling.Window window(String operation, ConvGeometry geometry, int images) {
        long planes = (long) images * geometry.channels();
        if (images < 0 || planes * geometry.height() * geometry.width() > MAX_ELEMENTS) {
            throw new IllegalArgumentException("cpu " + operation + ": " + images + " images of " + geometry.imageSize()
                    + " elements do not fit a CPU buffer");
        }
        try {
            return new Pooling.Window((int) planes, geometry.height(), geometry.width(), geometry.kernelHeight(),
                    geometry.kernelWidth(), geometry.stride(), geometry.padding(), geometry.dilation());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cpu " + operation + ": " + e.getMessage(), e);
        }
    }

    /** Where image {@code firstImage} starts; the kernels check that the images fit the buffer. */
    private static int imageOffset(String operation, ConvGeometry geometry, int firstImage) {
        long offset = firstImage * geometry.imageSize();
        if (firstImage < 0 || offset > MAX_ELEMENTS) {
            throw new IllegalArgumentException("cpu " + operation + ": image " + firstImage + " of " + geometry.imageSize()
                    + " elements does not start inside a CPU buffer");
        }
        return (int) offset;
    }

    @Override
    public void biasActivation(UnaryOp activation, Buffer y, Buffer bias, int rows, int cols) {
        kernels.biasActivation(KernelTable.activation(activation), data(y), bias == null ? null : data(bias), rows, cols);
    }

    @Override
    public void activationGrad(UnaryOp activation, Buffer y, Buffer cotangent, Buffer out) {
        float[] o = data(out);
        kernels.activationGrad(KernelTable.activation(activation), data(y), data(cotangent), o, o.length);
    }

    @Override
    public void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out) {
        data(out)[0] = Fused.meanNegativeLogLikelihood(data(logProbabilities), data(labels), rows, cols);
    }

    @Override
    public void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out) {
        Fused.crossEntropyGrad(data(logProbabilities), data(labels), rows, cols, scale, data(out));
    }

    @Override
    public void layerNorm(Buffer x, Buffer weight, Buffer bias, int rows, int size, float eps, Buffer out, Buffer mean,
                          Buffer rstd) {
        kernels.layerNorm(data(x), weight == null ? null : data(weight), bias == null ? null : data(bias), rows,
                size, eps, data(out), data(mean), data(rstd));
    }

    @Override
    public void layerNormGrad(Buffer x, Buffer weight, Buffer mean, Buffer rstd, Buffer cotangent, int rows, int size,
                              Buffer dx, Buffer dweight) {
        kernels.layerNormGrad(data(x), weight == null ? null : data(weight), data(mean), data(rstd),
                data(cotangent), rows, size, dx == null ? null : data(dx), dweight == null ? null : data(dweight));
    }

    @Override
    public void axpy(float alpha, Buffer x, Buffer y) {
        float[] in = data(x);
        kernels.axpy(alpha, in, data(y), in.length);
    }

    @Override
    public void adam(Buffer param, Buffer grad, Buffer m, Buffer v, float beta1, float beta2, float sqrtCorrection2,
                     float epsilon, float step, float decay, float shrink) {
        float[] p = data(param);
        kernels.adam(p, data(grad), data(m), data(v), p.length, beta1, beta2, sqrtCorrection2, epsilon, step, decay,
                shrink);
    }

    @Override
    public Buffer upload(float[] data) {
        return new CpuBuffer(copy(data));
    }

    @Override
    public float[] download(Buffer buffer) {
        return copy(data(buffer));
    }

    private float[] copy(float[] data) {
        checkLength(data.length);
        try {
            return data.clone();
        } catch (OutOfMemoryError e) {
            return retryAfterReleasingPool(data.length, data::clone);
        }
    }

    /** The length of a new buffer, refused at once when no heap could hold it (rather than after a full GC). */
    private int checkLength(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("cpu backend: cannot allocate " + size + " floats");
        }
        if (size > MAX_ELEMENTS) {
            throw outOfMemory(size, "a CPU buffer holds at most " + MAX_ELEMENTS + " floats (Java arrays are int-indexed)",
                    pool.pooledBytes(), null);
        }
        if (size * Float.BYTES > MAX_HEAP_BYTES) {
            throw outOfMemory(size, "more than the heap's maximum", pool.pooledBytes(), null);
        }
        return (int) size;
    }

    /**
     * The second try of an allocation that ran out of heap, after dropping the pool's cache:
     * arrays kept for reuse must not be what makes a new one fail.
     *
     * <p>Catching {@code OutOfMemoryError} is sound around one array allocation, and only
     * there: the allocation either happened or left nothing behind, nothing else was half
     * done, and the JVM throws only after a full collection failed to make room. A failure
     * anywhere wider (inside a kernel, across several allocations) could leave state that is
     * partly updated, and is left to propagate.
     */
    private float[] retryAfterReleasingPool(int length, Supplier<float[]> allocation) {
        long released = pool.release();
        try {
            return allocation.get();
        } catch (OutOfMemoryError e) {
            throw outOfMemory(length, released > 0 ? "the heap is full, even after the buffer pool released its cache"
                    : "the heap is full", released, e);
        }
    }

    private static CpuOutOfMemoryException outOfMemory(long elements, String reason, long pooled, Throwable cause) {
        Runtime runtime = Runtime.getRuntime();
        long used = runtime.totalMemory() - runtime.freeMemory();
        long bytes = elements > Long.MAX_VALUE / Float.BYTES ? Long.MAX_VALUE : elements * Float.BYTES;
        return new CpuOutOfMemoryException("cpu backend: cannot allocate " + elements + " floats (" + bytes(bytes)
                + "): " + reason + "; heap in use " + bytes(used) + " of at most " + bytes(MAX_HEAP_BYTES)
                + ", buffer pool caching " + bytes(pooled) + " (raise -Xmx, use smaller batches, or drop references "
                + "to tensors no longer needed)", bytes, used, MAX_HEAP_BYTES, pooled, cause);
    }

    private static String bytes(long bytes) {
        return bytes < 1 << 20 ? bytes + " bytes"
                : bytes + " bytes = " + String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     Buffer a, long aOffset, long aStride, Buffer b, long bOffset, long bStride,
                     float beta, Buffer c, long cOffset, long cStride) {
        kernels.sgemmBatched(transA, transB, batch, m, n, k, alpha,
                data(a), Math.toIntExact(aOffset), Math.toIntExact(aStride),
                data(b), Math.toIntExact(bOffset), Math.toIntExact(bStride),
                beta, data(c), Math.toIntExact(cOffset), Math.toIntExact(cStride));
    }

    @Override
    public void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        float[] in = data(x);
        kernels.unary(KernelTable.unary(op), parameter, in, 0, data(out), 0, in.length);
    }

    @Override
    public void unaryTimes(UnaryOp op, float parameter, Buffer x, Buffer grad, Buffer out) {
        if (op != UnaryOp.STEP && op != UnaryOp.GELU_GRAD) {
            Backend.super.unaryTimes(op, parameter, x, grad, out);
            return;
        }
        float[] o = data(out);
        kernels.unaryTimes(KernelTable.unary(op), data(x), data(grad), o, o.length);
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape) {
        kernels.binary(KernelTable.binary(op), data(lhs), lhsStrides, data(rhs), rhsStrides, data(out), shape);
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, long lhsOffset, int[] lhsStrides, Buffer rhs, long rhsOffset,
                       int[] rhsStrides, Buffer out, int[] shape) {
        kernels.binary(KernelTable.binary(op), data(lhs), Math.toIntExact(lhsOffset), lhsStrides, data(rhs),
                Math.toIntExact(rhsOffset), rhsStrides, data(out), shape);
    }

    @Override
    public void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] shape) {
        Strided.copy(data(src), Math.toIntExact(srcOffset), srcStrides, data(out), Math.toIntExact(outOffset), shape);
    }

    @Override
    public void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] outStrides,
                            int[] shape) {
        Strided.copy(data(src), Math.toIntExact(srcOffset), srcStrides, data(out), Math.toIntExact(outOffset),
                outStrides, shape);
    }

    @Override
    public void maskedFill(Buffer x, long xOffset, int[] xStrides, Buffer mask, long maskOffset, int[] maskStrides,
                           float value, Buffer out, int[] shape) {
        Strided.maskedFill(data(x), Math.toIntExact(xOffset), xStrides, data(mask), Math.toIntExact(maskOffset),
                maskStrides, value, data(out), 0, shape);
    }

    @Override
    public void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        kernels.sumTo(data(src), shape, data(out), outStrides);
    }

    @Override
    public void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        kernels.max(data(x), outer, length, inner, data(values), mask == null ? null : data(mask));
    }

    @Override
    public void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        kernels.softmax(data(x), outer, length, inner, log, data(out));
    }

    @Override
    public void attention(Buffer q, Buffer k, Buffer v, int batch, int t, int s, int d, int dv, boolean causal,
                          float scale, Buffer out, Buffer logSumExp) {
        kernels.attention(data(q), data(k), data(v), batch, t, s, d, dv, causal, scale, data(out), data(logSumExp));
    }

    @Override
    public void attention(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t,
                          int s, int d, int dv, boolean causal, float scale, Buffer out, Rows outRows,
                          Buffer logSumExp) {
        String op = "cpu attention";
        kernels.attention(rows(op, "q", q, qRows, batchShape, t, d), rows(op, "k", k, kRows, batchShape, s, d),
                rows(op, "v", v, vRows, batchShape, s, dv), batchShape, t, s, d, dv, causal, scale,
                rows(op, "out", out, outRows, batchShape, t, dv), data(logSumExp));
    }

    @Override
    public void attentionGrad(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch,
                              int t, int s, int d, int dv, boolean causal, float scale, Buffer grads) {
        kernels.attentionGrad(data(q), data(k), data(v), data(out), data(logSumExp), data(dOut), batch, t, s, d, dv,
                causal, scale, data(grads));
    }

    @Override
    public void attentionGrad(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out,
                              Rows outRows, Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t,
                              int s, int d, int dv, boolean causal, float scale, Buffer grads, Rows dqRows,
                              Rows dkRows, Rows dvRows) {
        String op = "cpu attentionGrad";
        kernels.attentionGrad(rows(op, "q", q, qRows, batchShape, t, d), rows(op, "k", k, kRows, batchShape, s, d),
                rows(op, "v", v, vRows, batchShape, s, dv), rows(op, "out", out, outRows, batchShape, t, dv),
                data(logSumExp), rows(op, "dOut", dOut, dOutRows, batchShape, t, dv), batchShape, t, s, d, dv, causal,
                scale, rows(op, "dq", grads, dqRows, batchShape, t, d), rows(op, "dk", grads, dkRows, batchShape, s, d),
                rows(op, "dv", grads, dvRows, batchShape, s, dv));
    }

    /**
     * A buffer's rows as the kernels take them, after checking that every one of the
     * {@code batchShape} items' {@code count} rows of {@code width} lies inside the buffer (the
     * kernels trust their arguments).
     */
    private static MatrixRows rows(String operation, String name, Buffer buffer, Rows rows, int[] batchShape, int count,
                                   int width) {
        float[] data = data(buffer);
        int[] strides = rows.batchStrides();
        if (strides.length != batchShape.length) {
            throw new IllegalArgumentException(operation + ": " + name + " has " + strides.length
                    + " batch strides for the batch shape " + java.util.Arrays.toString(batchShape));
        }
        long low = rows.offset();
        long high = rows.offset();
        boolean empty = count == 0 || width == 0;
        for (int axis = 0; axis < strides.length; axis++) {
            empty |= batchShape[axis] == 0;
            long reach = (long) (batchShape[axis] - 1) * strides[axis];
            low += Math.min(0, reach);
            high += Math.max(0, reach);
        }
        long rowReach = (long) (count - 1) * rows.rowStride();
        low += Math.min(0, rowReach);
        high += Math.max(0, rowReach) + width;
        if (!empty && (low < 0 || high > data.length)) {
            throw new IllegalArgumentException(operation + ": " + name + " (offset " + rows.offset() + ", batch strides "
                    + java.util.Arrays.toString(strides) + ", row stride " + rows.rowStride() + ", " + count
                    + " rows of " + width + " per item, batch shape " + java.util.Arrays.toString(batchShape)
                    + ") reaches elements " + low + " to " + high + ", outside its buffer of " + data.length);
        }
        return new MatrixRows(data, (int) Math.min(Integer.MAX_VALUE, rows.offset()), strides, rows.rowStride());
    }

    private static float[] data(Buffer buffer) {
        if (buffer instanceof CpuBuffer cpu) {
            return cpu.data();
        }
        throw new IllegalArgumentException("cpu backend: cannot use a buffer of another backend ("
                + buffer.getClass().getName() + ")");
    }
}
