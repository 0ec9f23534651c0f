package org.adjoint.cpu;

import static org.adjoint.cpu.CpuBuffer.data;

import java.util.List;
import java.util.Optional;

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
import org.adjoint.kernels.GemmKernels;
import org.adjoint.kernels.Indexing;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.kernels.RandomDraws;
import org.adjoint.kernels.Strided;

/**
 * {@link Backend} on the JVM heap: buffers are {@code float[]}, and every method is one
 * call into a {@link KernelProvider} of {@code adjoint-kernels} (Vector API or scalar).
 *
 * <p>A buffer that cannot be allocated — more than 2^31 − 9 floats, more than the heap's
 * maximum, or no room on the heap even after the {@link BufferPool} released its cached
 * arrays — fails with a {@link CpuOutOfMemoryException} that gives the size asked and the
 * memory in use, not with a bare {@link OutOfMemoryError}.
 *
 * <p>This class is the SPI's face and hands whole groups to package-private classes beside
 * it: {@code CpuMemory} (allocation, the pool, transfers), {@code CpuConvolution} (im2col,
 * col2im and the choice between the implicit kernels and the default's GEMMs),
 * {@code CpuPooling} and {@code CpuAttention}.
 */
public final class CpuBackend implements Backend, FusedAdam {

    /** The most floats one buffer holds: the longest array HotSpot allocates, less a margin. */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final KernelProvider kernels;
    private final CpuMemory memory = new CpuMemory();
    private final CpuConvolution convolution;
    private final CpuPooling pooling;
    private final CpuAttention fusedAttention;

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
        this.convolution = new CpuConvolution(kernels, this);
        this.pooling = new CpuPooling(kernels);
        this.fusedAttention = new CpuAttention(kernels);
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
        return memory.allocate(dtype, count);
    }

    @Override
    public Buffer allocate(long size) {
        return memory.allocate(size);
    }

    @Override
    public Buffer allocateUninitialized(long size) {
        return memory.allocateUninitialized(size);
    }

    @Override
    public Buffer dropoutMask(long key, float p, long size) {
        Buffer mask = allocateUninitialized(size);
        RandomDraws.dropoutMask(key, p, data(mask), (int) size);
        return mask;
    }

    @Override
    public void release(Buffer buffer) {
        memory.release(buffer);
    }

    /**
     * The pool that released buffers return to.
     *
     * @return this backend's pool
     */
    public BufferPool pool() {
        return memory.pool();
    }

    @Override
    public void fill(Buffer buffer, float value) {
        float[] d = data(buffer);
        ElementWise.fill(d, 0, d.length, value);
    }

    /**
     * Across the kernel threads when the buffers are large together
     * ({@link ElementWise#fill(int, java.util.function.IntFunction, float)}); else one by one,
     * which allocates nothing (a warm {@code zeroGrad}, {@code OptimizerAllocationTest}).
     */
    @Override
    public void fill(List<Buffer> buffers, float value) {
        long total = 0;
        for (int k = 0; k < buffers.size(); k++) {
            total += data(buffers.get(k)).length;
        }
        if (!ElementWise.fillSplits(total)) {
            for (int k = 0; k < buffers.size(); k++) {
                fill(buffers.get(k), value);
            }
            return;
        }
        ElementWise.fill(buffers.size(), k -> data(buffers.get(k)), value);
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

    /** Whole rows: {@link Indexing#selectRows}. */
    @Override
    public void indexSelect(Buffer src, int outer, int length, int inner, int[] indices, Buffer out) {
        Indexing.selectRows(data(src), outer, length, inner, indices, data(out));
    }

    /** Whole rows: {@link Indexing#addRows}, the same additions in the same order as {@link #scatterAdd}. */
    @Override
    public void indexAdd(Buffer values, int outer, int inner, int[] indices, Buffer out, int length) {
        Indexing.addRows(data(values), outer, inner, indices, data(out), length);
    }

    @Override
    public void im2col(Buffer input, ConvGeometry geometry, int firstImage, int images, float padValue,
                       Buffer columns) {
        convolution.im2col(input, geometry, firstImage, images, padValue, columns);
    }

    @Override
    public void col2im(Buffer columns, ConvGeometry geometry, int firstImage, int images, Buffer input) {
        convolution.col2im(columns, geometry, firstImage, images, input);
    }

    /**
     * Implicit GEMMs when the kernels have them ({@link KernelProvider#implicitConvolution()}) and
     * a group has at least 4 output channels (fewer leave most of a
     * register tile idle, where the default's GEMMs choose narrower kernels); else the default.
     */
    @Override
    public void conv2d(Buffer input, Buffer weight, ConvGeometry geometry, int images, int outputs, int groups,
                       Buffer output) {
        if (!convolution.conv2d(input, weight, geometry, images, outputs, groups, output)) {
            Backend.super.conv2d(input, weight, geometry, images, outputs, groups, output);
        }
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
        if (!convolution.conv2dInputGrad(outputGrad, weight, geometry, images, outputs, groups, inputGrad)) {
            Backend.super.conv2dInputGrad(outputGrad, weight, geometry, images, outputs, groups, inputGrad);
        }
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
        if (!convolution.conv2dWeightGrad(input, outputGrad, geometry, images, outputs, groups, weightGrad)) {
            Backend.super.conv2dWeightGrad(input, outputGrad, geometry, images, outputs, groups, weightGrad);
        }
    }

    /**
     * For a ReLU or no activation, the convolution of {@link #conv2d} with the bias and the
     * ReLU applied on the way out: inside the implicit kernels' copy-out
     * ({@link KernelProvider#conv2dBiasRelu}), else in one pass over the default's output
     * ({@link KernelProvider#channelBiasRelu}). For tanh and the sigmoid, the same with no ReLU,
     * then the activation in place over the whole output, which gives the default's bits with
     * one pass fewer (the bias added on the way out).
     */
    @Override
    public void conv2dBiasActivation(Buffer input, Buffer weight, Buffer bias, UnaryOp activation,
                                     ConvGeometry geometry, int images, int outputs, int groups, Buffer output) {
        if (!convolution.conv2dBiasActivation(input, weight, bias, activation, geometry, images, outputs, groups,
                output)) {
            Backend.super.conv2dBiasActivation(input, weight, bias, activation, geometry, images, outputs, groups,
                    output);
        }
    }

    /**
     * For a ReLU, {@code g} and the bias gradient in one pass ({@link KernelProvider#channelReluGrad}),
     * each channel's plane summed right after it is written, when {@link #sumTo} sums plane by
     * plane too (more than one channel, or one image: one channel of several images is summed
     * as one run). For tanh and the sigmoid, {@code g} in one pass
     * ({@link KernelProvider#activationGrad}, the roundings of the default's product, difference
     * and product) and the default's {@link #sumTo} of it. Else the default.
     */
    @Override
    public void conv2dBiasActivationGrad(UnaryOp activation, Buffer output, Buffer outputGrad, int images,
                                         int outputs, int positions, boolean biasGrad, Buffer grads) {
        if (!convolution.conv2dBiasActivationGrad(activation, output, outputGrad, images, outputs, positions, biasGrad,
                grads)) {
            Backend.super.conv2dBiasActivationGrad(activation, output, outputGrad, images, outputs, positions, biasGrad,
                    grads);
        }
    }

    /**
     * Pooled while the direct convolution copies each image out of its scratch, where the
     * vector kernels run that convolution and the pooling is 2 × 2 of stride 2; else the default.
     */
    @Override
    public void conv2dBiasReluMaxPool(Buffer input, Buffer weight, Buffer bias, ConvGeometry geometry, int images,
                                      int outputs, int groups, ConvGeometry pool, Buffer values, Buffer argmax) {
        if (!convolution.conv2dBiasReluMaxPool(input, weight, bias, geometry, images, outputs, groups, pool, values,
                argmax)) {
            Backend.super.conv2dBiasReluMaxPool(input, weight, bias, geometry, images, outputs, groups, pool, values,
                    argmax);
        }
    }

    /** {@code g} and the bias gradient in one pass over the pooled values ({@link KernelProvider#maxPoolReluGrad}). */
    @Override
    public void conv2dBiasReluMaxPoolGrad(Buffer values, Buffer argmax, Buffer valuesGrad, ConvGeometry pool,
                                          int images, boolean biasGrad, Buffer grads) {
        if (!pooling.conv2dBiasReluMaxPoolGrad(values, argmax, valuesGrad, pool, images, biasGrad, grads)) {
            Backend.super.conv2dBiasReluMaxPoolGrad(values, argmax, valuesGrad, pool, images, biasGrad, grads);
        }
    }

    @Override
    public void maxPool(Buffer input, ConvGeometry geometry, int images, Buffer values, Buffer argmax) {
        pooling.maxPool(input, geometry, images, values, argmax);
    }

    @Override
    public void maxPoolGather(Buffer input, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        pooling.maxPoolGather(input, argmax, geometry, images, out);
    }

    @Override
    public void maxPoolScatter(Buffer grad, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        pooling.maxPoolScatter(grad, argmax, geometry, images, out);
    }

    @Override
    public void avgPool(Buffer input, ConvGeometry geometry, int images, Buffer out) {
        pooling.avgPool(input, geometry, images, out);
    }

    @Override
    public void avgPoolScatter(Buffer grad, ConvGeometry geometry, int images, Buffer out) {
        pooling.avgPoolScatter(grad, geometry, images, out);
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
        float[] out = data(y);
        sameLengths("axpy", -1, in, out, null, null);
        kernels.axpy(alpha, in, out, in.length);
    }

    /**
     * Checks, before an in-place update writes anything, that its buffers are of one length: a
     * shorter one would stop the kernel part-way with some elements updated, a longer one would
     * be updated only in part, silently. Fixed arities: a warm optimizer step allocates nothing.
     */
    private static void sameLengths(String operation, int entry, float[] a, float[] b, float[] c, float[] d) {
        int n = a.length;
        if (b.length != n || c != null && c.length != n || d != null && d.length != n) {
            throw new IllegalArgumentException("cpu backend: " + operation + " needs buffers of one length, got " + n
                    + ", " + b.length + (c == null ? "" : ", " + c.length) + (d == null ? "" : ", " + d.length)
                    + (entry >= 0 ? " (entry " + entry + ")" : ""));
        }
    }

    @Override
    public void adam(Buffer param, Buffer grad, Buffer m, Buffer v, float beta1, float beta2, float sqrtCorrection2,
                     float epsilon, float step, float decay, float shrink) {
        float[] p = data(param);
        float[] g = data(grad);
        float[] first = data(m);
        float[] second = data(v);
        sameLengths("adam", -1, p, g, first, second);
        kernels.adam(p, g, first, second, p.length, beta1, beta2, sqrtCorrection2, epsilon, step, decay, shrink);
    }

    /**
     * Large sets end to end across the kernel threads, small parameters sharing the threads
     * with the large (the kernels' {@code adam} over arrays of arrays); small sets one by one, which
     * allocates nothing (a warm step, {@code OptimizerAllocationTest}). The same bits either way.
     */
    @Override
    public void adam(Buffer[] params, Buffer[] grads, Buffer[] firstMoments, Buffer[] secondMoments, int count,
                     float beta1, float beta2, float sqrtCorrection2, float epsilon, float step, float decay,
                     float shrink) {
        long total = 0;
        for (int k = 0; k < count; k++) {
            // Every entry checked before any is updated.
            sameLengths("adam", k, data(params[k]), data(grads[k]), data(firstMoments[k]),
                    data(secondMoments[k]));
            total += data(params[k]).length;
        }
        if (!ElementWise.adamSplits(total)) {
            FusedAdam.super.adam(params, grads, firstMoments, secondMoments, count, beta1, beta2, sqrtCorrection2,
                    epsilon, step, decay, shrink);
            return;
        }
        float[][] p = new float[count][];
        float[][] g = new float[count][];
        float[][] m = new float[count][];
        float[][] v = new float[count][];
        for (int k = 0; k < count; k++) {
            p[k] = data(params[k]);
            g[k] = data(grads[k]);
            m[k] = data(firstMoments[k]);
            v[k] = data(secondMoments[k]);
        }
        kernels.adam(p, g, m, v, count, beta1, beta2, sqrtCorrection2, epsilon, step, decay, shrink);
    }

    /** Without the squares' arrays, the buffers taken by the kernel threads in turn; the same bits as the default. */
    @Override
    public void sumsOfSquares(Buffer[] xs, int count, Buffer out) {
        float[][] arrays = new float[count][];
        for (int k = 0; k < count; k++) {
            arrays[k] = data(xs[k]);
        }
        kernels.sumsOfSquares(arrays, count, data(out));
    }

    @Override
    public Buffer upload(float[] data) {
        return memory.upload(data);
    }

    @Override
    public float[] download(Buffer buffer) {
        return memory.download(buffer);
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
    public void gemmBias(boolean transA, boolean transB, int m, int n, int k, Buffer a, long aOffset, Buffer b,
                         long bOffset, Buffer bias, Buffer c) {
        kernels.sgemmBias(transA, transB, m, n, k, data(a), Math.toIntExact(aOffset), transA ? m : k, data(b),
                Math.toIntExact(bOffset), transB ? k : n, data(bias), data(c));
    }

    /** Single matrices go to the kernels' pair, which may run them side by side; batches one after the other. */
    @Override
    public void gemmPair(Product first, Product second) {
        if (first.batch() != 1 || second.batch() != 1) {
            Backend.super.gemmPair(first, second);
            return;
        }
        kernels.sgemmPair(matrix(first), matrix(second));
    }

    private GemmKernels.Product matrix(Product p) {
        return new GemmKernels.Product(p.transA(), p.transB(), p.m(), p.n(), p.k(), p.alpha(),
                data(p.a()), Math.toIntExact(p.aOffset()), p.transA() ? p.m() : p.k(),
                data(p.b()), Math.toIntExact(p.bOffset()), p.transB() ? p.k() : p.n(),
                p.beta(), data(p.c()), Math.toIntExact(p.cOffset()), p.n());
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
        fusedAttention.attention(q, k, v, batch, t, s, d, dv, causal, scale, out, logSumExp);
    }

    @Override
    public void attention(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t,
                          int s, int d, int dv, boolean causal, float scale, Buffer out, Rows outRows,
                          Buffer logSumExp) {
        fusedAttention.attention(q, qRows, k, kRows, v, vRows, batchShape, t, s, d, dv, causal, scale, out, outRows,
                logSumExp);
    }

    @Override
    public void attentionGrad(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch,
                              int t, int s, int d, int dv, boolean causal, float scale, Buffer grads) {
        fusedAttention.attentionGrad(q, k, v, out, logSumExp, dOut, batch, t, s, d, dv, causal, scale, grads);
    }

    @Override
    public void attentionGrad(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out,
                              Rows outRows, Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t,
                              int s, int d, int dv, boolean causal, float scale, Buffer grads, Rows dqRows,
                              Rows dkRows, Rows dvRows) {
        fusedAttention.attentionGrad(q, qRows, k, kRows, v, vRows, out, outRows, logSumExp, dOut, dOutRows,
                batchShape, t, s, d, dv, causal, scale, grads, dqRows, dkRows, dvRows);
    }
}
