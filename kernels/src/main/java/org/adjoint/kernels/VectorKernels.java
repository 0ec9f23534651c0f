package org.adjoint.kernels;

/**
 * The Vector API provider (SIMD): {@link PackedGemm} with the tile of {@link VectorMicroKernel#select()} (with
 * {@link Gemv} for a single row or column and {@link NarrowGemm} for at most 16 columns), the
 * convolutions of {@link DirectConv} (stride 1, the 12-row tile) or {@link ImplicitConv},
 * and the loops of {@link VectorElementWise}, {@link VectorReductions} and {@link VectorBinary}. Loaded by name only when
 * {@code jdk.incubator.vector} is readable, so that nothing else touches the incubator module.
 * Loading it starts a short-lived daemon thread that runs the tile's stores both ways before C2
 * compiles it ({@link TileProfile}; {@code -Dadjoint.cpu.seedTileProfile=false} does not).
 */
public final class VectorKernels implements KernelProvider {

    private static final MicroKernel TILE = VectorMicroKernel.select();
    /** The tile's block of k: a product whose k is at most this takes {@link PackedGemm#sgemmBias}. */
    private static final int ONE_BLOCK = GemmBlocking.forTile(TILE.rows(), TILE.columns()).kc();

    static {
        // Both ways of the tile's store in its profile before C2 compiles it (TileProfile).
        TileProfile.start(TILE);
    }

    /** The only instance. */
    public static final VectorKernels INSTANCE = new VectorKernels();

    private VectorKernels() {
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public String description() {
        // Two vectors per row of the tile: its columns give the width it runs at.
        return "vector: " + TILE.columns() / 2 * Float.SIZE + "-bit, "
                + GemmBlocking.describe(TILE.rows(), TILE.columns()) + (TILE.prewritesC() ? ", C written ahead" : "")
                + ", " + Parallel.THREADS + " threads";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        if (n > 0 && m > 0 && k > 0 && alpha != 0f) {
            if (Gemv.takes(m, n)) {
                Gemv.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
                return;
            }
            if (n <= NarrowGemm.MAX_COLUMNS && k <= NarrowGemm.MAX_DEPTH) {
                NarrowGemm.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset,
                        ldc);
                return;
            }
        }
        PackedGemm.sgemm(TILE, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                beta, c, cOffset, ldc);
    }

    /**
     * On the packed path with the whole of k in one block ({@link PackedGemm#sgemmBias}), C
     * starts as the bias rows and the tiles add their sums to it: {@code fma(sum, 1, bias)} is
     * the sum plus the bias rounded once, the bits of the default's two passes. Where k takes
     * more than one block the second block would add to the bias already in C, so those, and
     * the edge cases' kernels, take the default.
     */
    @Override
    public void sgemmBias(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOffset, int lda,
                          float[] b, int bOffset, int ldb, float[] bias, float[] c) {
        if (packed(m, n, k, 1f) && k <= ONE_BLOCK) {
            PackedGemm.sgemmBias(TILE, transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, bias, c);
            return;
        }
        KernelProvider.super.sgemmBias(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, bias, c);
    }

    /**
     * Side by side ({@link GemmPair}) where both products take the packed path and
     * are large enough to be split between threads; one after the other otherwise.
     */
    @Override
    public void sgemmPair(Product first, Product second) {
        if (Parallel.THREADS > 1 && splitsPacked(first) && splitsPacked(second)) {
            GemmPair.sgemm(TILE, first, second);
            return;
        }
        KernelProvider.super.sgemmPair(first, second);
    }

    /** Whether {@link #sgemm} would run the product on {@link PackedGemm}'s threads. */
    private static boolean splitsPacked(Product p) {
        return packed(p.m(), p.n(), p.k(), p.alpha()) && (long) p.m() * p.n() * p.k() >= PackedGemm.SERIAL_BELOW;
    }

    /** Whether {@link #sgemm} takes {@link PackedGemm} for a product of these sizes, rather than an edge case's kernel. */
    private static boolean packed(int m, int n, int k, float alpha) {
        return m > 0 && n > 0 && k > 0 && alpha != 0f && !Gemv.takes(m, n)
                && !(n <= NarrowGemm.MAX_COLUMNS && k <= NarrowGemm.MAX_DEPTH);
    }

    @Override
    public void sgemmBatched(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                             float[] a, int aOffset, int aStride, float[] b, int bOffset, int bStride,
                             float beta, float[] c, int cOffset, int cStride) {
        // A shared A (a convolution's weight) is packed once per thread, not once per entry,
        // when every entry would take the packed path on one thread anyway.
        if (aStride == 0 && batch > 1 && packed(m, n, k, alpha) && (long) m * n * k < PackedGemm.SERIAL_BELOW
                && Math.abs((long) cStride) >= (long) m * n) {
            PackedGemm.sgemmSharedA(TILE, transA, transB, batch, m, n, k, alpha, a, aOffset, transA ? m : k,
                    b, bOffset, bStride, transB ? k : n, beta, c, cOffset, cStride, n);
            return;
        }
        KernelProvider.super.sgemmBatched(transA, transB, batch, m, n, k, alpha, a, aOffset, aStride, b, bOffset,
                bStride, beta, c, cOffset, cStride);
    }

    @Override
    public boolean implicitConvolution() {
        return true;
    }

    @Override
    public void conv2d(float[] x, float[] w, float[] y, int images, int channels, int height, int width, int outputs,
                       int groups, int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        if (DirectConv.matches(TILE) && DirectConv.takesForward(images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, stride, padding, dilation)) {
            DirectConv.forward(x, w, y, images, channels, height, width, outputs, groups, kernelHeight, kernelWidth,
                    padding, dilation);
            return;
        }
        ImplicitConv.forward(TILE, x, w, y, images, channels, height, width, outputs, groups, kernelHeight, kernelWidth,
                stride, padding, dilation);
    }

    @Override
    public void conv2dInputGrad(float[] dy, float[] w, float[] dx, int images, int channels, int height, int width,
                                int outputs, int groups, int kernelHeight, int kernelWidth, int padding, int dilation) {
        if (DirectConv.matches(TILE) && DirectConv.takesFlipped(images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, 1, padding, dilation)) {
            DirectConv.inputGradFlipped(dy, w, dx, images, channels, height, width, outputs, groups, kernelHeight,
                    kernelWidth, padding, dilation);
            return;
        }
        ImplicitConv.inputGrad(TILE, dy, w, dx, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, padding, dilation);
    }

    @Override
    public void conv2dInputGradFolded(float[] dy, float[] w, float[] dx, int images, int channels, int height,
                                      int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                                      int stride, int padding, int dilation) {
        if (DirectConv.matches(TILE) && DirectConv.takesInputGrad(images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, stride, padding, dilation)) {
            // The same bits as the folded columns, without writing them.
            DirectConv.inputGrad(dy, w, dx, images, channels, height, width, outputs, groups, kernelHeight,
                    kernelWidth, padding, dilation);
            return;
        }
        FoldedConv.inputGrad(this, VectorWindows::addRun, dy, w, dx, images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, stride, padding, dilation);
    }

    @Override
    public void conv2dWeightGrad(float[] x, float[] dy, float[] dw, int images, int channels, int height, int width,
                                 int outputs, int groups, int kernelHeight, int kernelWidth, int stride, int padding,
                                 int dilation) {
        if (DirectWeightGrad.takes(channels / groups, outputs / groups, height, width, kernelHeight, kernelWidth,
                stride, padding, dilation)) {
            DirectWeightGrad.weightGrad(x, dy, dw, images, channels, height, width, outputs, groups, dilation);
            return;
        }
        if (SparseWeightGrad.takes(kernelHeight, kernelWidth, stride, height, width, padding, dilation)
                && SparseWeightGrad.weightGrad(x, dy, dw, images, channels, height, width, outputs, groups, padding,
                dilation, GemmBlocking.forTile(TILE.rows(), TILE.columns()).kc(), SparseInputGrad.DENSITY)) {
            return;
        }
        ImplicitConv.weightGrad(TILE, x, dy, dw, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, stride, padding, dilation);
    }

    @Override
    public void conv2dBiasRelu(float[] x, float[] w, float[] bias, boolean relu, float[] y, int images, int channels,
                               int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                               int stride, int padding, int dilation) {
        if (DirectConv.matches(TILE) && DirectConv.takesForward(images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, stride, padding, dilation)) {
            DirectConv.forward(x, w, bias, relu, y, images, channels, height, width, outputs, groups, kernelHeight,
                    kernelWidth, padding, dilation);
            return;
        }
        KernelProvider.super.conv2dBiasRelu(x, w, bias, relu, y, images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, stride, padding, dilation);
    }

    @Override
    public boolean poolsConvolution(int images, int channels, int height, int width, int outputs, int groups,
                                    int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        return DirectConv.matches(TILE) && DirectConv.takesPooled(images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, stride, padding, dilation);
    }

    @Override
    public void conv2dBiasReluMaxPool(float[] x, float[] w, float[] bias, boolean relu, float[] values,
                                      float[] argmax, int images, int channels, int height, int width, int outputs,
                                      int groups, int kernelHeight, int kernelWidth, int stride, int padding,
                                      int dilation) {
        if (!poolsConvolution(images, channels, height, width, outputs, groups, kernelHeight, kernelWidth, stride,
                padding, dilation)) {
            KernelProvider.super.conv2dBiasReluMaxPool(x, w, bias, relu, values, argmax, images, channels, height,
                    width, outputs, groups, kernelHeight, kernelWidth, stride, padding, dilation);
            return;
        }
        DirectConv.forwardPooled(x, w, bias, relu, values, argmax, images, channels, height, width, outputs, groups,
                kernelHeight, kernelWidth, padding, dilation);
    }

    @Override
    public void channelBiasRelu(float[] y, float[] bias, boolean relu, int images, int channels, int positions) {
        ChannelBias.biasRelu((out, at, length, b, hasBias, max) -> VectorConvTile.copyBiasRelu(out, at, out, at, length,
                b, hasBias, max), y, bias, relu, images, channels, positions);
    }

    @Override
    public void channelReluGrad(float[] y, float[] dy, float[] grads, boolean biasGrad, int images, int channels,
                                int positions) {
        ChannelBias.reluGrad(VectorChannelBias::reluGradPlane, y, dy, grads, biasGrad, images, channels, positions);
    }

    @Override
    public void biasActivation(Fused.Activation activation, float[] y, float[] bias, int rows, int cols) {
        Parallel.rows(rows, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, cols)),
                (first, end) -> VectorElementWise.biasActivation(activation, y, bias, first, end, cols));
    }

    @Override
    public void activationGrad(Fused.Activation activation, float[] y, float[] cotangent, float[] out, int n) {
        VectorElementWise.activationGrad(activation, y, cotangent, out, n);
    }

    @Override
    public void axpy(float alpha, float[] x, float[] y, int n) {
        if (!Parallel.splits(n, ElementWise.MEMORY_GRAIN)) {
            VectorElementWise.axpy(alpha, x, y, 0, n);
            return;
        }
        Parallel.ranges(n, ElementWise.MEMORY_GRAIN, (from, to) -> VectorElementWise.axpy(alpha, x, y, from, to));
    }

    @Override
    public void adam(float[] p, float[] g, float[] m, float[] v, int n, float beta1, float beta2,
                     float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        if (!Parallel.splits(n, ElementWise.ADAM_GRAIN)) {
            // No ranges object: a warm optimizer step allocates nothing (OptimizerAllocationTest).
            VectorElementWise.adam(p, g, m, v, 0, n, beta1, beta2, sqrtCorrection2, epsilon, step, decay, shrink);
            return;
        }
        Parallel.ranges(n, ElementWise.ADAM_GRAIN, (from, to) -> VectorElementWise.adam(p, g, m, v, from, to, beta1,
                beta2, sqrtCorrection2, epsilon, step, decay, shrink));
    }

    @Override
    public void sumsOfSquares(float[][] xs, int count, float[] out) {
        Parallel.run(count, k -> out[k] = VectorReductions.sumOfSquares(xs[k]));
    }

    @Override
    public void adam(float[][] p, float[][] g, float[][] m, float[][] v, int count, float beta1, float beta2,
                     float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        Parallel.endToEnd(ElementWise.starts(count, k -> p[k].length), ElementWise.ADAM_GRAIN, (k, from, to) ->
                VectorElementWise.adam(p[k], g[k], m[k], v[k], from, to, beta1, beta2, sqrtCorrection2, epsilon, step, decay,
                        shrink));
    }

    @Override
    public void unary(ElementWise.Unary function, float parameter, float[] x, int xOffset, float[] out, int outOffset, int n) {
        Parallel.ranges(n, ElementWise.grain(function), (from, to) ->
                VectorElementWise.unary(function, parameter, x, xOffset + from, out, outOffset + from, to - from));
    }

    @Override
    public void unaryTimes(ElementWise.Unary function, float[] x, float[] grad, float[] out, int n) {
        if (!ElementWise.fusesTimes(function)) {
            throw ElementWise.unfused(function);
        }
        Parallel.ranges(n, ElementWise.grain(function), (from, to) ->
                VectorElementWise.unaryTimes(function, x, from, grad, from, out, from, to - from));
    }

    @Override
    public void binary(Strided.Binary function, float[] lhs, int[] lhsStrides, float[] rhs, int[] rhsStrides,
                       float[] out, int[] shape) {
        StridedBinary.binary(VectorBinary::row, function, lhs, 0, lhsStrides, rhs, 0, rhsStrides, out, 0, shape);
    }

    @Override
    public void binary(Strided.Binary function, float[] lhs, int lhsOffset, int[] lhsStrides, float[] rhs,
                       int rhsOffset, int[] rhsStrides, float[] out, int[] shape) {
        StridedBinary.binary(VectorBinary::row, function, lhs, lhsOffset, lhsStrides, rhs, rhsOffset, rhsStrides, out, 0, shape);
    }

    @Override
    public void sumTo(float[] src, int[] shape, float[] out, int[] outStrides) {
        StridedSum.sumTo(VectorReductions::sumRow, VectorReductions::sumColumns, src, 0, shape, out, 0, outStrides, out.length);
    }

    @Override
    public void layerNorm(float[] x, float[] weight, float[] bias, int rows, int size, float eps, float[] out,
                          float[] mean, float[] rstd) {
        Parallel.rows(rows, Math.max(1, ElementWise.MEMORY_GRAIN / 4 / Math.max(1, size)),
                (first, end) -> VectorNormalization.layerNorm(x, weight, bias, first, end, size, eps, out, mean, rstd));
    }

    @Override
    public void layerNormGrad(float[] x, float[] weight, float[] mean, float[] rstd, float[] dy, int rows, int size,
                              float[] dx, float[] dweight) {
        // Two passes that split differently: the weight's sums over rows by columns, the input's rows by rows.
        if (dweight != null) {
            Parallel.ranges(size, Math.max(Parallel.ALIGN, ElementWise.MEMORY_GRAIN / Math.max(1, rows)),
                    (first, end) -> VectorNormalization.layerNormWeightGrad(x, mean, rstd, dy, rows, size, first, end,
                            dweight));
        }
        if (dx != null) {
            Parallel.rows(rows, Math.max(1, ElementWise.MEMORY_GRAIN / 4 / Math.max(1, size)),
                    (first, end) -> VectorNormalization.layerNormInputGrad(x, weight, mean, rstd, dy, first, end, size,
                            dx));
        }
    }

    @Override
    public void softmax(float[] x, int outer, int length, int inner, boolean log, float[] out) {
        // Rows across the kernel threads: each row is done by the same code wherever it falls.
        int minimum = (int) Math.max(1, ElementWise.SOFTMAX_GRAIN / Math.max(1L, (long) length * inner));
        Parallel.rows(outer, minimum, (from, to) -> VectorReductions.softmax(x, from, to, length, inner, log, out));
    }

    @Override
    public void max(float[] x, int outer, int length, int inner, float[] values, float[] mask) {
        VectorReductions.max(x, outer, length, inner, values, mask);
    }

    @Override
    public boolean directConv2dWeightGrad(int channels, int height, int width, int outputs, int groups,
                                          int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        return DirectWeightGrad.takes(channels / groups, outputs / groups, height, width, kernelHeight, kernelWidth,
                stride, padding, dilation);
    }

    @Override
    public void maxPool(float[] in, Pooling.Window window, float[] values, float[] argmax) {
        VectorPooling.maxPool(in, window, values, argmax);
    }

    @Override
    public void maxPoolScatter(float[] grad, float[] argmax, Pooling.Window window, float[] out) {
        VectorPooling.maxPoolScatter(grad, argmax, window, out);
    }

    @Override
    public void maxPoolReluGrad(float[] values, float[] argmax, float[] grad, Pooling.Window window, int channels,
                                boolean biasGrad, float[] grads) {
        PooledReluGrad.maxPoolReluGrad(VectorPooling::scatterReluPlane, VectorChannelBias::sumPlane, values, argmax, grad,
                window, channels, biasGrad, grads);
    }

    @Override
    public void attention(MatrixRows q, MatrixRows k, MatrixRows v, int[] batchShape, int t, int s, int d, int dv,
                          boolean causal, float scale, MatrixRows out, float[] logSumExp) {
        AttentionKernels.forward(this, VectorAttentionLanes.INSTANCE, q, k, v, batchShape, t, s, d, dv, causal, scale,
                out, logSumExp);
    }

    @Override
    public void attentionGrad(MatrixRows q, MatrixRows k, MatrixRows v, MatrixRows out, float[] logSumExp,
                              MatrixRows dOut, int[] batchShape, int t, int s, int d, int dv, boolean causal,
                              float scale, MatrixRows dQuery, MatrixRows dKey, MatrixRows dValue) {
        AttentionKernels.backward(this, VectorAttentionLanes.INSTANCE, q, k, v, out, logSumExp, dOut, batchShape, t, s,
                d, dv, causal, scale, dQuery, dKey, dValue);
    }
}
