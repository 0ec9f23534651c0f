package org.adjoint.kernels;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The compute kernels that a CPU backend calls, in two interchangeable implementations:
 * {@code vector} (Java Vector API, explicit SIMD) and {@code scalar} (plain Java with the
 * same blocking, which C2 may auto-vectorise). Both give results equal up to float rounding
 * order, and both run the same tests.
 *
 * <p>{@link #lookup()} chooses once per JVM: the vector provider when the module
 * {@code jdk.incubator.vector} is readable and the JIT is C2, else the scalar provider with
 * one log line that says why and how to enable the vector one. The system property
 * {@code adjoint.cpu.kernels=vector|scalar} forces a choice.
 *
 * <p>Every kernel adds, compares and rounds in an order fixed by the shapes of its operands
 * and, for the vector provider, by the vector width ({@code -Dadjoint.cpu.vectorBits}, 256
 * unless set): not by the thread count (threads split outputs, never a sum), not by the
 * register tile, and not by whether the code runs interpreted or compiled by C1 or C2. So
 * the same inputs give the same bits on every call. The two providers, and two vector
 * widths, round differently and give different last bits. {@link Math#exp}, {@link Math#log}
 * and {@link Math#tanh} are HotSpot intrinsics that the interpreter calls too, so they agree
 * between modes; they could differ on another JDK build or CPU architecture.
 * DeterminismTest and cpu-backend's ReproducibilityTest check this.
 */
public interface KernelProvider {

    /** System property that forces a provider. */
    String PROPERTY = "adjoint.cpu.kernels";

    /**
     * Short name: {@code vector} or {@code scalar}.
     *
     * @return the name
     */
    String name();

    /**
     * One line that says how this provider runs here: for {@code vector}, the vector width,
     * the register tile and the SGEMM block sizes chosen from the CPU's caches (see
     * {@code -Dadjoint.cpu.vectorBits}, {@code adjoint.cpu.tileRows} and
     * {@code adjoint.cpu.gemm.kc|mc|nc}); for both, the thread count.
     *
     * @return e.g. {@code vector: 256-bit, tile 4x16, KC 512, MC 128, NC 2048 (L1d 32 KiB, ...), 2 threads}
     */
    default String description() {
        return name() + ": " + Parallel.THREADS + " threads";
    }

    /**
     * {@link #description()} of the provider this JVM chose, for benchmark reports
     * ({@code bench/compare.sh} prints it).
     *
     * @return the description
     */
    static String configuration() {
        return lookup().description();
    }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} on row-major matrices with explicit leading
     * dimensions. {@code op(A)} is {@code m × k}: stored {@code m × k} with row stride
     * {@code lda}, or {@code k × m} when {@code transA}; likewise {@code op(B)} is
     * {@code k × n}, stored {@code n × k} when {@code transB}. With {@code beta == 0}, C is
     * overwritten (NaNs in it do not survive). Large products use the shared thread pool.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param m       rows of C
     * @param n       columns of C
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of A
     * @param lda     elements between rows of A as stored
     * @param b       storage of B
     * @param bOffset first element of B
     * @param ldb     elements between rows of B as stored
     * @param beta    scale of C's previous contents
     * @param c       storage of C
     * @param cOffset first element of C
     * @param ldc     elements between rows of C
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
               float beta, float[] c, int cOffset, int ldc);

    /**
     * Batched {@link #sgemm} on contiguous matrices: entry {@code p} of each operand starts
     * {@code p * stride} elements after its offset (a stride of 0 shares one matrix).
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products
     * @param m       rows of C
     * @param n       columns of C
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       storage of A
     * @param aOffset first element of the first A
     * @param aStride elements between consecutive A
     * @param b       storage of B
     * @param bOffset first element of the first B
     * @param bStride elements between consecutive B
     * @param beta    scale of C's previous contents
     * @param c       storage of C
     * @param cOffset first element of the first C
     * @param cStride elements between consecutive C
     */
    default void sgemmBatched(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                              float[] a, int aOffset, int aStride, float[] b, int bOffset, int bStride,
                              float beta, float[] c, int cOffset, int cStride) {
        // Products too small to split (a convolution's per-image GEMMs) run side by side, whole
        // entries claimed one at a time by each thread, when their Cs do not overlap: each entry
        // is still one serial sgemm, so the bits do not depend on the thread count, and a thread
        // that starts late only takes fewer entries. Larger products split themselves.
        boolean sideBySide = batch > 1 && (long) m * n * k < PackedGemm.SERIAL_BELOW
                && Math.abs((long) cStride) >= (long) m * n;
        if (sideBySide) {
            AtomicInteger next = new AtomicInteger();
            Parallel.together(Math.min(batch, Parallel.THREADS), threads -> part -> {
                for (int p = next.getAndIncrement(); p < batch; p = next.getAndIncrement()) {
                    sgemm(transA, transB, m, n, k, alpha, a, aOffset + p * aStride, transA ? m : k,
                            b, bOffset + p * bStride, transB ? k : n, beta, c, cOffset + p * cStride, n);
                }
            });
            return;
        }
        for (int p = 0; p < batch; p++) {
            sgemm(transA, transB, m, n, k, alpha, a, aOffset + p * aStride, transA ? m : k,
                    b, bOffset + p * bStride, transB ? k : n, beta, c, cOffset + p * cStride, n);
        }
    }

    /**
     * Whether {@link #conv2d}, {@link #conv2dInputGrad} and {@link #conv2dWeightGrad} run here,
     * as implicit GEMMs that pack the columns of the windows straight from the images instead
     * of unfolding them (im2col) first. When {@code false} those methods throw, and callers
     * unfold columns and multiply with {@link #sgemmBatched} themselves.
     *
     * @return {@code true} for the vector provider
     */
    default boolean implicitConvolution() {
        return false;
    }

    /**
     * A 2-D convolution (cross-correlation, as in PyTorch) of contiguous NCHW images:
     * {@code y [images, outputs, outHeight, outWidth] = conv(x [images, channels, height, width],
     * w [outputs, channels/groups, kernelHeight, kernelWidth])}, overwriting {@code y}. Each
     * element of {@code y} sums its products in the order of the weight's elements (channel,
     * tap row, tap column) with this provider's GEMM roundings, whatever the thread count.
     * Arguments are trusted: the caller has checked that they fit.
     *
     * @param x            images
     * @param w            weight
     * @param y            output, overwritten
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2d(float[] x, float[] w, float[] y, int images, int channels, int height, int width, int outputs,
                        int groups, int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: no implicit convolution");
    }

    /**
     * The input gradient of {@link #conv2d} for stride 1, overwriting
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}:
     * the convolution of {@code dy} with the weight flipped and transposed, so each element sums
     * in the order (output channel, tap row, tap column) of the flipped weight.
     *
     * @param dy           the output's cotangent
     * @param w            weight {@code [outputs, channels/groups, kernelHeight, kernelWidth]}
     * @param dx           output, overwritten
     * @param images       N
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param padding      zeros on every side of the forward input
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2dInputGrad(float[] dy, float[] w, float[] dx, int images, int channels, int height, int width,
                                 int outputs, int groups, int kernelHeight, int kernelWidth, int padding,
                                 int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: no implicit convolution");
    }

    /**
     * The input gradient of a convolution of any stride, overwriting
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}:
     * {@code col2im(W_gᵀ · dy_g)} one image at a time, each image's columns multiplied with
     * {@link #sgemm} into a buffer and folded into {@code dx} while they are in cache, with
     * the bits of the GEMMs and col2im run one after the other over all the images. Provided
     * by both providers; the vector one computes the same sums for stride 1 without writing
     * the columns ({@link DirectConv}), with the same bits, wherever it applies. Arguments are
     * trusted: the caller has checked that they fit.
     *
     * @param dy           the output's cotangent
     * @param w            weight {@code [outputs, channels/groups, kernelHeight, kernelWidth]}
     * @param dx           output, overwritten
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side of the forward input
     * @param dilation     step between taps
     */
    default void conv2dInputGradFolded(float[] dy, float[] w, float[] dx, int images, int channels, int height,
                                       int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                                       int stride, int padding, int dilation) {
        FoldedConv.inputGrad(this, Im2col.SCALAR_ADDER, dy, w, dx, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, stride, padding, dilation);
    }

    /**
     * The weight gradient of {@link #conv2d}, overwriting
     * {@code dw [outputs, channels/groups, kernelHeight, kernelWidth]} with
     * {@code Σ_images dy_g · columns_g(x)ᵀ}: images in order, each adding its positions'
     * products in order, whatever the thread count.
     *
     * @param x            images {@code [images, channels, height, width]}
     * @param dy           the output's cotangent {@code [images, outputs, outHeight, outWidth]}
     * @param dw           output, overwritten
     * @param images       N
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2dWeightGrad(float[] x, float[] dy, float[] dw, int images, int channels, int height, int width,
                                  int outputs, int groups, int kernelHeight, int kernelWidth, int stride, int padding,
                                  int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: no implicit convolution");
    }

    /**
     * {@link #conv2d}, then {@code y[n, o, p] = max(y[n, o, p] + bias[o], 0)} (the bias or the
     * ReLU left out when not asked), each element rounded as the convolution, the addition and
     * the ReLU one after the other round it. The default runs {@link #conv2d} and then
     * {@link #channelBiasRelu}; the vector provider applies both as it copies each image's
     * result out of its scratch.
     *
     * @param x            images
     * @param w            weight
     * @param bias         {@code outputs} values, or {@code null} for none
     * @param relu         whether to apply {@code max(·, 0)}
     * @param y            output, overwritten
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2dBiasRelu(float[] x, float[] w, float[] bias, boolean relu, float[] y, int images, int channels,
                                int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                                int stride, int padding, int dilation) {
        conv2d(x, w, y, images, channels, height, width, outputs, groups, kernelHeight, kernelWidth, stride, padding,
                dilation);
        int outHeight = (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1;
        int outWidth = (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1;
        channelBiasRelu(y, bias, relu, images, outputs, outHeight * outWidth);
    }

    /**
     * A per-channel bias and ReLU in place on NCHW planes, as {@link ChannelBias#biasRelu}.
     *
     * @param y         {@code [images, channels, positions]}, updated
     * @param bias      {@code channels} values, or {@code null} for none
     * @param relu      whether to apply {@code max(·, 0)}
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    default void channelBiasRelu(float[] y, float[] bias, boolean relu, int images, int channels, int positions) {
        ChannelBias.biasRelu(y, bias, relu, images, channels, positions);
    }

    /**
     * The ReLU's VJP on NCHW planes with the bias gradient in the same pass, as
     * {@link ChannelBias#reluGrad(float[], float[], float[], boolean, int, int, int)}: the bits
     * of this provider's {@link #unaryTimes} with STEP and of its {@link #sumTo} of the result
     * to {@code [channels]} when that sums plane by plane (more than one channel, or one image).
     *
     * @param y         the ReLU's output {@code [images, channels, positions]}
     * @param dy        its cotangent
     * @param grads     output: {@code g} in {@code [0, n)}, the sums in {@code [n, n + channels)} with {@code biasGrad}
     * @param biasGrad  whether to write the sums
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    default void channelReluGrad(float[] y, float[] dy, float[] grads, boolean biasGrad, int images, int channels,
                                 int positions) {
        ChannelBias.reluGrad(y, dy, grads, biasGrad, images, channels, positions);
    }

    /**
     * Bias and activation in place on a GEMM result, as {@link Fused#biasActivation}.
     *
     * @param activation the function
     * @param y          {@code rows × cols}, updated in place
     * @param bias       {@code cols} values or {@code null}
     * @param rows       row count
     * @param cols       column count
     */
    void biasActivation(Fused.Activation activation, float[] y, float[] bias, int rows, int cols);

    /**
     * The activation's VJP in one pass, as {@link Fused#activationGrad}.
     *
     * @param activation the function
     * @param y          activation outputs
     * @param cotangent  their cotangent
     * @param out        result
     * @param n          element count
     */
    void activationGrad(Fused.Activation activation, float[] y, float[] cotangent, float[] out, int n);

    /**
     * {@code y[i] += alpha · x[i]} for {@code i < n}.
     *
     * @param alpha scale of {@code x}
     * @param x     addend
     * @param y     updated in place
     * @param n     element count
     */
    void axpy(float alpha, float[] x, float[] y, int n);

    /**
     * One Adam update in one pass, as {@link ElementWise#adam}, with this provider's roundings:
     * the same bits as the update composed from its {@link #axpy} and element-wise operations.
     *
     * @param p               parameters, updated
     * @param g               gradient
     * @param m               first moments, updated
     * @param v               second moments, updated
     * @param n               element count
     * @param beta1           β1
     * @param beta2           β2
     * @param sqrtCorrection2 √(1 − β2^t)
     * @param epsilon         ε
     * @param step            −lr / (1 − β1^t)
     * @param decay           coupled weight decay, 0 for none
     * @param shrink          decoupled factor 1 − lr·λ, 1 for none
     */
    void adam(float[] p, float[] g, float[] m, float[] v, int n, float beta1, float beta2,
              float sqrtCorrection2, float epsilon, float step, float decay, float shrink);

    /**
     * Element-wise function of a contiguous range, as {@link ElementWise#apply}.
     *
     * @param function  which function
     * @param parameter its parameter
     * @param x         input
     * @param xOffset   first input element
     * @param out       output (may be {@code x})
     * @param outOffset first output element
     * @param n         element count
     */
    void unary(ElementWise.Unary function, float parameter, float[] x, int xOffset, float[] out, int outOffset, int n);

    /**
     * {@code out[i] = grad[i] · f(x[i])} for {@code i < n} in one pass, as
     * {@link ElementWise#applyTimes}: a pointwise VJP without the temporary {@code f(x)}, the
     * same bits as {@link #unary} followed by a product on this provider.
     *
     * @param function {@link ElementWise.Unary#STEP} or {@link ElementWise.Unary#GELU_GRAD}
     * @param x        the function's argument
     * @param grad     the factor
     * @param out      output (may be {@code x} or {@code grad})
     * @param n        element count
     * @throws IllegalArgumentException for another function
     */
    void unaryTimes(ElementWise.Unary function, float[] x, float[] grad, float[] out, int n);

    /**
     * Element-wise binary function over a strided index space, as {@link Strided#binary}.
     *
     * @param function   which function
     * @param lhs        left operand
     * @param lhsStrides its strides (0 broadcasts)
     * @param rhs        right operand
     * @param rhsStrides its strides (0 broadcasts)
     * @param out        contiguous output
     * @param shape      iteration shape
     */
    void binary(Strided.Binary function, float[] lhs, int[] lhsStrides, float[] rhs, int[] rhsStrides,
                float[] out, int[] shape);

    /**
     * {@link #binary(Strided.Binary, float[], int[], float[], int[], float[], int[])} with
     * operands that start at an offset (views of a larger storage); the default runs scalar
     * rows, providers override it with their own.
     *
     * @param function   which function
     * @param lhs        left operand
     * @param lhsOffset  its first element
     * @param lhsStrides its strides (0 broadcasts)
     * @param rhs        right operand
     * @param rhsOffset  its first element
     * @param rhsStrides its strides (0 broadcasts)
     * @param out        contiguous output
     * @param shape      iteration shape
     */
    default void binary(Strided.Binary function, float[] lhs, int lhsOffset, int[] lhsStrides, float[] rhs,
                        int rhsOffset, int[] rhsStrides, float[] out, int[] shape) {
        Strided.binary(function, lhs, lhsOffset, lhsStrides, rhs, rhsOffset, rhsStrides, out, 0, shape);
    }

    /**
     * Sum of a contiguous array into a smaller one, as {@link Strided#sumTo}.
     *
     * @param src        source, contiguous over {@code shape}
     * @param shape      its shape
     * @param out        output (overwritten)
     * @param outStrides output stride per source axis (0 where reduced)
     */
    void sumTo(float[] src, int[] shape, float[] out, int[] outStrides);

    /**
     * Softmax or log-softmax along an axis, as {@link AxisReductions#softmax}.
     *
     * @param x      input
     * @param outer  product of the axes before the axis
     * @param length the axis length
     * @param inner  product of the axes after it
     * @param log    log-softmax instead
     * @param out    output
     */
    void softmax(float[] x, int outer, int length, int inner, boolean log, float[] out);

    /**
     * The maximum along an axis and the one-hot mask of each lane's first maximum (a NaN wins),
     * as {@link AxisReductions#max}; the same bits from every provider.
     *
     * @param x      input {@code [outer, length, inner]}
     * @param outer  product of the axes before the axis
     * @param length the axis length
     * @param inner  product of the axes after it
     * @param values output {@code [outer, inner]}
     * @param mask   output of the input's size, or {@code null}
     */
    default void max(float[] x, int outer, int length, int inner, float[] values, float[] mask) {
        AxisReductions.max(x, outer, length, inner, values, mask);
    }

    /**
     * Whether {@link #conv2dWeightGrad} reads this convolution's windows straight from the
     * images ({@link DirectWeightGrad}: 3×3, stride 1, padding equal to the dilation, one input
     * channel per group) where its columns would be too narrow for the implicit GEMM: then it
     * is worth calling however few rows the columns have.
     *
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @return {@code false} unless the provider has such a kernel
     */
    default boolean directConv2dWeightGrad(int channels, int height, int width, int outputs, int groups,
                                           int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        return false;
    }

    /**
     * Max pooling with the argmax of each window, as {@link Pooling#maxPool}; the same bits from
     * every provider.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param values output, {@code [planes, outHeight, outWidth]}
     * @param argmax output of the same size, or {@code null}
     */
    default void maxPool(float[] in, Pooling.Window window, float[] values, float[] argmax) {
        Pooling.maxPool(in, window, values, argmax);
    }

    /**
     * The tap of each window that the argmax names, as {@link Pooling#maxPoolGather}.
     *
     * @param in     {@code [planes, height, width]}
     * @param argmax {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, outHeight, outWidth]}
     */
    default void maxPoolGather(float[] in, float[] argmax, Pooling.Window window, float[] out) {
        Pooling.maxPoolGather(in, argmax, window, out);
    }

    /**
     * The VJP of max pooling, as {@link Pooling#maxPoolScatter}; the same bits from every provider.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param argmax {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     */
    default void maxPoolScatter(float[] grad, float[] argmax, Pooling.Window window, float[] out) {
        Pooling.maxPoolScatter(grad, argmax, window, out);
    }

    /**
     * Average pooling, as {@link Pooling#avgPool}.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param out    output, {@code [planes, outHeight, outWidth]}
     */
    default void avgPool(float[] in, Pooling.Window window, float[] out) {
        Pooling.avgPool(in, window, out);
    }

    /**
     * The VJP of average pooling, as {@link Pooling#avgPoolScatter}.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     */
    default void avgPoolScatter(float[] grad, Pooling.Window window, float[] out) {
        Pooling.avgPoolScatter(grad, window, out);
    }

    /**
     * Layer normalisation of contiguous rows, as {@link Normalization#layerNorm}.
     *
     * @param x      input, {@code rows · size} elements
     * @param weight {@code size} elements, or {@code null} for 1
     * @param bias   {@code size} elements, or {@code null} for 0
     * @param rows   number of rows
     * @param size   row length, at least 1
     * @param eps    added to the variance
     * @param out    output, {@code rows · size} elements (may be {@code x})
     * @param mean   output, each row's mean
     * @param rstd   output, each row's {@code 1 / √(var + eps)}
     */
    default void layerNorm(float[] x, float[] weight, float[] bias, int rows, int size, float eps, float[] out,
                           float[] mean, float[] rstd) {
        Normalization.layerNorm(x, weight, bias, rows, size, eps, out, mean, rstd);
    }

    /**
     * The gradients of {@link #layerNorm}, as {@link Normalization#layerNormGrad}.
     *
     * @param x       the forward input
     * @param weight  the forward weight, or {@code null} for 1
     * @param mean    the forward means
     * @param rstd    the forward reciprocal standard deviations
     * @param dy      the output's cotangent
     * @param rows    number of rows
     * @param size    row length, at least 1
     * @param dx      output, or {@code null} when not wanted
     * @param dweight output, {@code size} elements (overwritten), or {@code null} when not wanted
     */
    default void layerNormGrad(float[] x, float[] weight, float[] mean, float[] rstd, float[] dy, int rows, int size,
                               float[] dx, float[] dweight) {
        Normalization.layerNormGrad(x, weight, mean, rstd, dy, rows, size, dx, dweight);
    }

    /**
     * Scaled dot-product attention ({@link AttentionKernels}): {@code out = softmax(scale · q·kᵀ + mask)·v}
     * per batch item and each query row's log-sum-exp, without the {@code t × s} scores of all
     * items, reading and writing the operands where their {@link MatrixRows} say. The default
     * runs this provider's {@link #sgemm} on the blocks of long sequences and plain loops on the
     * rows.
     *
     * @param q          queries, {@code t} rows of {@code d} per item
     * @param k          keys, {@code s} rows of {@code d}
     * @param v          values, {@code s} rows of {@code dv}
     * @param batchShape the batch axes the operands' strides walk
     * @param t          queries
     * @param s          keys, at least 1
     * @param d          query and key width
     * @param dv         value width
     * @param causal     whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale      factor of the scores
     * @param out        output, {@code t} rows of {@code dv}
     * @param logSumExp  {@code [batch, t]}, packed
     */
    default void attention(MatrixRows q, MatrixRows k, MatrixRows v, int[] batchShape, int t, int s, int d, int dv,
                           boolean causal, float scale, MatrixRows out, float[] logSumExp) {
        AttentionKernels.forward(this, AttentionKernels.SCALAR, q, k, v, batchShape, t, s, d, dv, causal, scale, out,
                logSumExp);
    }

    /**
     * {@link #attention(MatrixRows, MatrixRows, MatrixRows, int[], int, int, int, int, boolean, float, MatrixRows, float[])}
     * on packed operands: {@code q [batch, t, d]}, {@code k [batch, s, d]}, {@code v [batch, s, dv]},
     * {@code out [batch, t, dv]}.
     *
     * @param q         {@code [batch, t, d]}
     * @param k         {@code [batch, s, d]}
     * @param v         {@code [batch, s, dv]}
     * @param batch     batch items
     * @param t         queries
     * @param s         keys, at least 1
     * @param d         query and key width
     * @param dv        value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     factor of the scores
     * @param out       {@code [batch, t, dv]}
     * @param logSumExp {@code [batch, t]}
     */
    default void attention(float[] q, float[] k, float[] v, int batch, int t, int s, int d, int dv, boolean causal,
                           float scale, float[] out, float[] logSumExp) {
        attention(MatrixRows.packed(q, 0, t, d), MatrixRows.packed(k, 0, s, d), MatrixRows.packed(v, 0, s, dv),
                new int[] {batch}, t, s, d, dv, causal, scale, MatrixRows.packed(out, 0, t, dv), logSumExp);
    }

    /**
     * Attention's gradients from the output's cotangent, recomputing the probabilities from the
     * log-sum-exp: {@code dq}, {@code dk}, {@code dv} written where their {@link MatrixRows}
     * say (every element of their rows; they may share an array). The default runs this
     * provider's {@link #sgemm} on the blocks of long sequences and plain loops on the rows.
     *
     * @param q          queries, {@code t} rows of {@code d} per item
     * @param k          keys, {@code s} rows of {@code d}
     * @param v          values, {@code s} rows of {@code dv}
     * @param out        the forward output, {@code t} rows of {@code dv}
     * @param logSumExp  what the forward wrote, {@code [batch, t]} packed
     * @param dOut       the output's cotangent, {@code t} rows of {@code dv}
     * @param batchShape the batch axes the operands' strides walk
     * @param t          queries
     * @param s          keys, at least 1
     * @param d          query and key width
     * @param dv         value width
     * @param causal     whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale      factor of the scores
     * @param dQuery     output, {@code t} rows of {@code d}
     * @param dKey       output, {@code s} rows of {@code d}
     * @param dValue     output, {@code s} rows of {@code dv}
     */
    default void attentionGrad(MatrixRows q, MatrixRows k, MatrixRows v, MatrixRows out, float[] logSumExp,
                               MatrixRows dOut, int[] batchShape, int t, int s, int d, int dv, boolean causal,
                               float scale, MatrixRows dQuery, MatrixRows dKey, MatrixRows dValue) {
        AttentionKernels.backward(this, AttentionKernels.SCALAR, q, k, v, out, logSumExp, dOut, batchShape, t, s, d,
                dv, causal, scale, dQuery, dKey, dValue);
    }

    /**
     * The gradients on packed operands, {@code dq}, {@code dk}, {@code dv} one after another
     * in {@code grads} (see the strided form).
     *
     * @param q         {@code [batch, t, d]}
     * @param k         {@code [batch, s, d]}
     * @param v         {@code [batch, s, dv]}
     * @param out       the forward output, {@code [batch, t, dv]}
     * @param logSumExp what the forward wrote, {@code [batch, t]}
     * @param dOut      the output's cotangent, {@code [batch, t, dv]}
     * @param batch     batch items
     * @param t         queries
     * @param s         keys, at least 1
     * @param d         query and key width
     * @param dv        value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     factor of the scores
     * @param grads     {@code dq}, {@code dk}, {@code dv} one after another
     */
    default void attentionGrad(float[] q, float[] k, float[] v, float[] out, float[] logSumExp, float[] dOut,
                               int batch, int t, int s, int d, int dv, boolean causal, float scale, float[] grads) {
        int dkAt = batch * t * d;
        int dvAt = dkAt + batch * s * d;
        attentionGrad(MatrixRows.packed(q, 0, t, d), MatrixRows.packed(k, 0, s, d), MatrixRows.packed(v, 0, s, dv),
                MatrixRows.packed(out, 0, t, dv), logSumExp, MatrixRows.packed(dOut, 0, t, dv), new int[] {batch}, t,
                s, d, dv, causal, scale, MatrixRows.packed(grads, 0, t, d), MatrixRows.packed(grads, dkAt, s, d),
                MatrixRows.packed(grads, dvAt, s, dv));
    }

    /**
     * The provider for this JVM, chosen on first use (see the class description).
     *
     * @return the shared provider
     */
    static KernelProvider lookup() {
        return KernelSelection.CHOSEN;
    }

    /**
     * A provider by name, for tests and benchmarks that compare both.
     *
     * @param name {@code vector} or {@code scalar}
     * @return the provider
     * @throws IllegalArgumentException for another name
     * @throws UnsupportedOperationException when {@code vector} cannot load here, with the reason
     */
    static KernelProvider named(String name) {
        return KernelSelection.named(name);
    }
}
