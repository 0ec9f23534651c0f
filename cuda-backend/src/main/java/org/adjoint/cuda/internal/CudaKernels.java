package org.adjoint.cuda.internal;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import java.util.List;
import java.util.Map;

import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * The kernels of {@code adjoint.cu}, compiled once per process by NVRTC for the device's
 * architecture (to a CUBIN, or to PTX when NVRTC or the driver cannot do that), each behind a method that lays out its parameters and picks its grid.
 * Callers hold the device's lock and have made its context current
 * ({@link CudaDevice#withKernels}). Addresses are device addresses; enum arguments are the
 * kernels' ordinals ({@link org.adjoint.kernels.ElementWise.Unary},
 * {@link org.adjoint.kernels.Strided.Binary}, {@link org.adjoint.kernels.Fused.Activation}).
 */
public final class CudaKernels {

    /** Kernel names this class launches; each must be in {@link CudaKernelSource#kernelNames()}. */
    static final List<String> USED = List.of("dropout_mask", "axpy", "adam", "fill_many", "axpy_many", "adam_many", "squares_many",
            "norm_from_squares", "clip_many", "unary", "unary_times", "binary", "copy_strided", "copy_strided_to", "masked_fill",
            "sum_to", "column_sums", "sum_to_parts", "max_axis", "softmax", "layer_norm", "layer_norm_grad", "layer_norm_grad_weight",
            "gather", "scatter_add", "scatter_add_parts", "scatter_add_combine", "im2col", "col2im", "bias_activation",
            "activation_grad", "nll", "cross_entropy_grad", "attention_forward_32", "attention_forward_64",
            "attention_forward_128", "attention_backward_query_32", "attention_backward_query_64", "attention_backward_query_128",
            "attention_backward_key_32", "attention_backward_key_64", "attention_backward_key_128");

    /** Fewest entries a part of a split scatter adds ({@link #scatterParts}). */
    private static final int SCATTER_MIN_CHUNK = 32;

    /** Threads a split scatter aims to keep busy ({@link #scatterParts}): a device's worth, whatever the device. */
    private static final long SCATTER_THREADS = 1L << 20;

    /** Most floats of partial sums a split scatter uses (64 MiB). */
    private static final long SCATTER_PARTIALS_FLOATS = 16L << 20;

    private final Map<String, CUfunction> functions;
    private final CUstream stream;
    private final LaunchGrid grid;
    private final String form;
    private final MultiTensorLaunches multiTensor = new MultiTensorLaunches(this);
    private final AttentionLaunches attention = new AttentionLaunches(this);

    private CudaKernels(Map<String, CUfunction> functions, CUstream stream, LaunchGrid grid, String form) {
        this.functions = functions;
        this.stream = stream;
        this.grid = grid;
        this.form = form;
    }

    /**
     * The multi-tensor kernels.
     *
     * @return their launches on this stream
     */
    public MultiTensorLaunches multiTensor() {
        return multiTensor;
    }

    /**
     * The attention kernels.
     *
     * @return their launches on this stream
     */
    public AttentionLaunches attention() {
        return attention;
    }

    /** The grid sizes of this device. */
    LaunchGrid grid() {
        return grid;
    }

    /**
     * What was loaded, for the log: {@code CUBIN for sm_90}, or {@code PTX for compute_90} and
     * why the CUBIN was not used.
     *
     * @return the description
     */
    String form() {
        return form;
    }

    /**
     * Compiles the source and loads every kernel ({@link KernelCompiler}).
     *
     * @param nvrtc  the compiler
     * @param major  compute capability, major
     * @param minor  compute capability, minor
     * @param stream the stream launches go to
     * @param grid   the device's grids
     * @return the kernels
     * @throws IllegalStateException when compiling or loading fails, with the compiler's log
     */
    static CudaKernels compile(Nvrtc nvrtc, int major, int minor, CUstream stream, LaunchGrid grid) {
        KernelCompiler.Module module = KernelCompiler.compile(nvrtc, major, minor, USED);
        return new CudaKernels(module.functions(), stream, grid, module.form());
    }

    /**
     * An inverted-dropout mask drawn on the device: element {@code i} is 0 or {@code 1 / (1 − p)}
     * as {@code RandomOps.dropoutMaskElement(key, i, p)} says, the same bits as every backend.
     *
     * @param key  the draw's key
     * @param p    the probability of dropping
     * @param mask where the mask goes
     * @param n    element count
     */
    public void dropoutMask(long key, float p, long mask, long n) {
        launch("dropout_mask", grid.gridStride(n), new KernelArguments().i64(key).f32(p).address(mask).i64(n));
    }

    /**
     * {@code y += alpha·x}.
     *
     * @param alpha scale
     * @param x     addend
     * @param y     updated in place
     * @param n     element count
     */
    public void axpy(float alpha, long x, long y, long n) {
        launch("axpy", grid.gridStride(n), new KernelArguments().f32(alpha).address(x).address(y).i64(n));
    }

    /**
     * The Adam (or AdamW) update of one parameter in one pass, with the composed update's bits
     * ({@code org.adjoint.backend.FusedAdam}).
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
     * @param shrink          decoupled factor, 1 for none
     */
    public void adam(long p, long g, long m, long v, long n, float beta1, float beta2, float sqrtCorrection2,
                     float epsilon, float step, float decay, float shrink) {
        launch("adam", grid.gridStride(n), new KernelArguments().address(p).address(g).address(m).address(v).i64(n)
                .f32(beta1).f32(beta2).f32(sqrtCorrection2).f32(epsilon).f32(step).f32(decay).f32(shrink));
    }

    /**
     * {@code out = grad · op(x)}, with the bits of {@link #unary} followed by a product.
     *
     * @param op        kernel ordinal of the function
     * @param parameter its parameter
     * @param x         input
     * @param grad      the factor
     * @param out       output (may be {@code x}, not {@code grad})
     * @param n         element count
     */
    public void unaryTimes(int op, float parameter, long x, long grad, long out, long n) {
        launch("unary_times", grid.gridStride(n),
                new KernelArguments().i32(op).f32(parameter).address(x).address(grad).address(out).i64(n));
    }

    /**
     * {@code out = op(x)}.
     *
     * @param op        kernel ordinal of the function
     * @param parameter its parameter
     * @param x         input
     * @param out       output (may be {@code x})
     * @param n         element count
     */
    public void unary(int op, float parameter, long x, long out, long n) {
        launch("unary", grid.gridStride(n), new KernelArguments().i32(op).f32(parameter).address(x).address(out).i64(n));
    }

    /**
     * {@code out = op(lhs, rhs)} over a strided index space.
     *
     * @param op      kernel ordinal of the function
     * @param lhs     left operand (strides {@code a})
     * @param rhs     right operand (strides {@code b})
     * @param out     contiguous output
     * @param strided the index space, not empty
     */
    public void binary(int op, long lhs, long rhs, long out, StridedArgument strided) {
        launch("binary", grid.gridStride(strided.count()), new KernelArguments().i32(op).address(lhs).address(rhs)
                .address(out).struct(strided.encode()).i64(strided.count()));
    }

    /**
     * Gathers a strided view into contiguous {@code out}.
     *
     * @param src     source (strides {@code a})
     * @param out     contiguous output
     * @param strided the index space, not empty
     */
    public void copyStrided(long src, long out, StridedArgument strided) {
        launch("copy_strided", grid.gridStride(strided.count()),
                new KernelArguments().address(src).address(out).struct(strided.encode()).i64(strided.count()));
    }

    /**
     * Copies a strided view into a strided view.
     *
     * @param src     source (strides {@code a})
     * @param out     output (strides {@code b}); elements outside the view are left as they are
     * @param strided the index space, not empty
     */
    public void copyStridedTo(long src, long out, StridedArgument strided) {
        launch("copy_strided_to", grid.gridStride(strided.count()),
                new KernelArguments().address(src).address(out).struct(strided.encode()).i64(strided.count()));
    }

    /**
     * {@code out = mask != 0 ? value : x}, both operands strided, {@code out} contiguous.
     *
     * @param x       the operand (strides {@code a})
     * @param mask    the mask (strides {@code b})
     * @param value   the fill value
     * @param out     contiguous output
     * @param strided the index space, not empty
     */
    public void maskedFill(long x, long mask, float value, long out, StridedArgument strided) {
        launch("masked_fill", grid.gridStride(strided.count()), new KernelArguments().address(x).address(mask).f32(value)
                .address(out).struct(strided.encode()).i64(strided.count()));
    }

    /**
     * Sums contiguous {@code src} into {@code out}, one thread per output element.
     *
     * @param src      source, contiguous over the shape
     * @param out      output (overwritten)
     * @param strided  source shape, output stride per axis in {@code a} (0 where summed)
     * @param outCount output elements, at least 1
     */
    public void sumTo(long src, long out, StridedArgument strided, long outCount) {
        launch("sum_to", grid.gridStride(outCount),
                new KernelArguments().address(src).address(out).struct(strided.encode()).i64(outCount));
    }

    /**
     * The sums of a contiguous {@code [rows, cols]} matrix's columns, in one launch
     * ({@code column_sums}: 32 columns a block, 8 lanes of rows each).
     *
     * @param x    the matrix
     * @param rows rows
     * @param cols columns, at least 1
     * @param out  {@code cols} sums
     */
    public void columnSums(long x, long rows, long cols, long out) {
        launch("column_sums", (int) Math.max(1, Math.min(grid.cap(), Math.ceilDiv(cols, 32))),
                new KernelArguments().address(x).i64(rows).i64(cols).address(out));
    }

    /**
     * The first pass of a split sum: {@code split.parts()} partial sums per output element.
     *
     * @param src      source, contiguous over the shape
     * @param partials {@code split.partialCount()} elements (overwritten), laid out as the split says
     * @param strided  source shape, output stride per axis in {@code a} (0 where summed)
     * @param split    the split
     */
    public void sumToParts(long src, long partials, StridedArgument strided, SumSplit split) {
        launch("sum_to_parts", grid.gridStride(split.partialCount()), new KernelArguments().address(src).address(partials)
                .struct(strided.encode()).i64(split.outCount()).i64(split.parts()).i32(split.partsInner() ? 1 : 0));
    }

    /**
     * Maximum along the middle axis of {@code [outer, length, inner]}, with its one-hot mask.
     *
     * @param x      input
     * @param values {@code outer·inner} maxima
     * @param mask   mask of the input's size, or 0 for none
     * @param outer  outer count
     * @param length axis length, at least 1
     * @param inner  inner count
     */
    public void maxAxis(long x, long values, long mask, int outer, int length, int inner) {
        launch("max_axis", grid.gridStride((long) outer * inner),
                new KernelArguments().address(x).address(values).address(mask).i32(outer).i32(length).i32(inner));
    }

    /**
     * Softmax or log-softmax along the middle axis of {@code [outer, length, inner]}.
     *
     * @param x      input
     * @param out    output (may be {@code x})
     * @param outer  outer count
     * @param length axis length
     * @param inner  inner count
     * @param log    log-softmax instead
     */
    public void softmax(long x, long out, int outer, int length, int inner, boolean log) {
        launch("softmax", grid.softmax(outer, length, inner),
                new KernelArguments().address(x).address(out).i32(outer).i32(length).i32(inner).i32(log ? 1 : 0));
    }

    /**
     * Layer norm over the rows of {@code [rows, size]}, a block per row, as
     * {@code Normalization.layerNorm}; also writes each row's mean and rstd.
     *
     * @param x      input
     * @param weight per-column scale, or 0 for none
     * @param bias   per-column shift, or 0 for none
     * @param rows   row count, at least 1
     * @param size   row length, at least 1
     * @param eps    added to the variance
     * @param out    output
     * @param mean   the rows' means
     * @param rstd   the rows' reciprocal standard deviations
     */
    public void layerNorm(long x, long weight, long bias, int rows, int size, float eps, long out, long mean,
                          long rstd) {
        launch("layer_norm", grid.rows(rows), new KernelArguments().address(x).address(weight).address(bias).i32(rows)
                .i32(size).f32(eps).address(out).address(mean).address(rstd));
    }

    /**
     * The input gradient of layer norm, a block per row, as {@code Normalization.layerNormGrad}.
     *
     * @param x      the forward input
     * @param weight the forward weight, or 0 for none
     * @param mean   the saved means
     * @param rstd   the saved reciprocal standard deviations
     * @param dy     the output's cotangent
     * @param rows   row count, at least 1
     * @param size   row length, at least 1
     * @param dx     the input's gradient
     */
    public void layerNormGrad(long x, long weight, long mean, long rstd, long dy, int rows, int size, long dx) {
        launch("layer_norm_grad", grid.rows(rows), new KernelArguments().address(x).address(weight).address(mean)
                .address(rstd).address(dy).i32(rows).i32(size).address(dx));
    }

    /**
     * The weight gradient of layer norm: partial sums over parts of {@code rowsPerPart} rows, a
     * thread per (part, column) adding its rows in order into {@code out[part · size + column]}.
     * With one part ({@code rowsPerPart ≥ rows}) {@code out} is the gradient, with the scalar CPU
     * kernel's bits; with more, the caller adds the parts.
     *
     * @param x           the forward input
     * @param mean        the saved means
     * @param rstd        the saved reciprocal standard deviations
     * @param dy          the output's cotangent
     * @param rows        row count, at least 1
     * @param size        row length, at least 1
     * @param rowsPerPart rows a part adds, at least 1
     * @param out         {@code ceil(rows / rowsPerPart) · size} sums, overwritten
     */
    public void layerNormGradWeight(long x, long mean, long rstd, long dy, int rows, int size, int rowsPerPart,
                                    long out) {
        long parts = Math.ceilDiv(rows, rowsPerPart);
        launch("layer_norm_grad_weight", grid.gridStride(parts * size), new KernelArguments().address(x).address(mean)
                .address(rstd).address(dy).i32(rows).i32(size).i32(rowsPerPart).address(out));
    }

    /**
     * How many rows each part of {@link #layerNormGradWeight} adds: enough parts that about
     * 2¹⁵ threads share the work, each part at least 64 rows. It depends on the shape alone, so a
     * shape's gradient has the same bits on every device.
     *
     * @param rows row count, at least 1
     * @param size row length, at least 1
     * @return rows per part; {@code rows} or more when one part does
     */
    public static int layerNormRowsPerPart(int rows, int size) {
        long parts = Math.max(1, Math.min(Math.ceilDiv(1L << 15, size), rows / 64));
        return (int) Math.ceilDiv(rows, parts);
    }

    /**
     * {@code out[o, j, i] = src[o, indices[o, j, i], i]}, one thread per output element.
     *
     * @param src     {@code [outer, length, inner]}
     * @param outer   outer count
     * @param length  indexed axis length of {@code src}
     * @param inner   inner count
     * @param indices {@code [outer, count, inner]} whole numbers as floats
     * @param count   indexed axis length of {@code out}
     * @param out     {@code [outer, count, inner]}
     */
    public void gather(long src, int outer, int length, int inner, long indices, int count, long out) {
        launch("gather", grid.gridStride((long) outer * count * inner), new KernelArguments().address(src).i32(outer)
                .i32(length).i32(inner).address(indices).i32(count).address(out));
    }

    /**
     * {@code out[o, indices[o, j, i], i] += values[o, j, i]}, one thread per {@code (o, i)} lane adding
     * in increasing {@code j}, so the sums do not depend on the grid.
     *
     * @param values  {@code [outer, count, inner]}
     * @param outer   outer count
     * @param count   indexed axis length of {@code values}
     * @param inner   inner count
     * @param indices {@code [outer, count, inner]} whole numbers as floats
     * @param out     {@code [outer, length, inner]}, updated in place
     * @param length  indexed axis length of {@code out}
     */
    public void scatterAdd(long values, int outer, int count, int inner, long indices, long out, int length) {
        launch("scatter_add", grid.gridStride((long) outer * inner), new KernelArguments().address(values).i32(outer)
                .i32(count).i32(inner).address(indices).address(out).i32(length));
    }

    /**
     * How many parts {@link #scatterAddInParts} splits a scatter's entries into: 1 (scatter with
     * {@link #scatterAdd}) when its lanes alone fill a large device ({@value #SCATTER_THREADS}
     * threads at once, the most a Hopper GPU keeps resident), when there are fewer than
     * {@value #SCATTER_MIN_CHUNK} × 2 entries a lane, or when two parts' partial sums would
     * exceed {@value #SCATTER_PARTIALS_FLOATS} floats; otherwise enough parts to give such a
     * device about one thread per lane of each part, at least {@value #SCATTER_MIN_CHUNK}
     * entries each. A function of the shape alone, so that a split scatter gives the same bits
     * on every device.
     *
     * @param outer  outer count
     * @param count  entries a lane
     * @param inner  inner count
     * @param length indexed axis length of the output
     * @return parts, at least 1
     */
    public static int scatterParts(int outer, int count, int inner, int length) {
        long lanes = (long) outer * inner;
        long partFloats = lanes * length;
        if (partFloats == 0 || lanes >= SCATTER_THREADS / 2 || count < 2 * SCATTER_MIN_CHUNK
                || 2 * partFloats > SCATTER_PARTIALS_FLOATS) {
            return 1;
        }
        long parts = Math.min(count / SCATTER_MIN_CHUNK, Math.ceilDiv(SCATTER_THREADS, lanes));
        return (int) Math.max(1, Math.min(parts, SCATTER_PARTIALS_FLOATS / partFloats));
    }

    /**
     * The same sums as {@link #scatterAdd} split along the scattered axis into {@code parts}
     * chunks ({@code scatter_add_parts}, one thread per part and lane, each adding its chunk in
     * increasing {@code j} into its own zeroed slice), then added into {@code out} in part order
     * ({@code scatter_add_combine}): deterministic for given parts, not the CPU's order.
     *
     * @param values   {@code [outer, count, inner]}
     * @param outer    outer count
     * @param count    indexed axis length of {@code values}
     * @param inner    inner count
     * @param indices  {@code [outer, count, inner]} whole numbers as floats
     * @param out      {@code [outer, length, inner]}, updated in place
     * @param length   indexed axis length of {@code out}
     * @param partials scratch of {@code parts × outer × length × inner} floats
     * @param parts    from {@link #scatterParts}, at least 2
     */
    public void scatterAddInParts(long values, int outer, int count, int inner, long indices, long out, int length,
                                  long partials, int parts) {
        launch("scatter_add_parts", grid.gridStride((long) parts * outer * inner), new KernelArguments().address(values)
                .i32(outer).i32(count).i32(inner).address(indices).address(partials).i32(length).i32(parts));
        long n = (long) outer * length * inner;
        launch("scatter_add_combine", grid.gridStride(n), new KernelArguments().address(partials).i32(parts).i64(n)
                .address(out));
    }

    /**
     * Unfolds {@code images} contiguous {@code [channels, height, width]} images into columns
     * {@code [images, channels·kh·kw, outH·outW]}, one thread per column element; a tap on
     * padding reads {@code padValue}. The geometry has been checked (the window fits).
     *
     * @param input    the first image
     * @param channels channels of one image
     * @param height   rows of one image
     * @param width    columns of one image
     * @param kh       rows of the window
     * @param kw       columns of the window
     * @param stride   step between windows
     * @param padding  rows and columns added on every side
     * @param dilation step between taps
     * @param images   how many images
     * @param padValue what padding reads
     * @param columns  output
     */
    public void im2col(long input, int channels, int height, int width, int kh, int kw, int stride, int padding,
                       int dilation, int images, float padValue, long columns) {
        long count = (long) images * channels * kh * kw * windows(height, kh, stride, padding, dilation)
                * windows(width, kw, stride, padding, dilation);
        launch("im2col", grid.gridStride(count), new KernelArguments().address(input).i32(channels).i32(height).i32(width)
                .i32(kh).i32(kw).i32(stride).i32(padding).i32(dilation).i32(images).f32(padValue).address(columns));
    }

    /**
     * The adjoint of {@link #im2col}: overwrites the images with, for each element, the sum of the
     * column entries that read it, one thread per image element adding in column order, so the
     * sums do not depend on the grid.
     *
     * @param columns  {@code [images, channels·kh·kw, outH·outW]}
     * @param channels channels of one image
     * @param height   rows of one image
     * @param width    columns of one image
     * @param kh       rows of the window
     * @param kw       columns of the window
     * @param stride   step between windows
     * @param padding  rows and columns added on every side
     * @param dilation step between taps
     * @param images   how many images
     * @param input    the first image, overwritten
     */
    public void col2im(long columns, int channels, int height, int width, int kh, int kw, int stride, int padding,
                       int dilation, int images, long input) {
        launch("col2im", grid.gridStride((long) images * channels * height * width), new KernelArguments().address(columns)
                .i32(channels).i32(height).i32(width).i32(kh).i32(kw).i32(stride).i32(padding).i32(dilation)
                .i32(images).address(input));
    }

    private static long windows(int size, int taps, int stride, int padding, int dilation) {
        return (size + 2L * padding - (long) dilation * (taps - 1) - 1) / stride + 1;
    }

    /**
     * {@code y = act(y + bias)} in place on a row-major matrix.
     *
     * @param activation kernel ordinal of the activation
     * @param y          the matrix
     * @param bias       {@code cols} values, or 0 for none
     * @param rows       rows
     * @param cols       columns
     */
    public void biasActivation(int activation, long y, long bias, int rows, int cols) {
        launch("bias_activation", grid.gridStride((long) rows * cols),
                new KernelArguments().i32(activation).address(y).address(bias).i32(rows).i32(cols));
    }

    /**
     * {@code out = cotangent · act'} from the activation's outputs.
     *
     * @param activation kernel ordinal of the activation
     * @param y          activation outputs
     * @param cotangent  their cotangent
     * @param out        result (may be {@code cotangent})
     * @param n          element count
     */
    public void activationGrad(int activation, long y, long cotangent, long out, long n) {
        launch("activation_grad", grid.gridStride(n),
                new KernelArguments().i32(activation).address(y).address(cotangent).address(out).i64(n));
    }

    /**
     * Mean negative log-likelihood into one element.
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices as floats
     * @param rows             rows
     * @param cols             classes
     * @param out              one element
     */
    public void negativeLogLikelihood(long logProbabilities, long labels, int rows, int cols, long out) {
        // One block: the kernel sums in a fixed tree inside it, so the loss is deterministic.
        launch("nll", 1, new KernelArguments().address(logProbabilities).address(labels).i32(rows).i32(cols).address(out));
    }

    /**
     * {@code out = scale · (e^logp − onehot(labels))}.
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices as floats
     * @param rows             rows
     * @param cols             classes
     * @param scale            scale, unless {@code cotangent} is given
     * @param cotangent        0, or one float on the device: the scale is then {@code cotangent[0] / rows}
     * @param out              {@code rows × cols}
     */
    public void crossEntropyGrad(long logProbabilities, long labels, int rows, int cols, float scale, long cotangent,
                                 long out) {
        launch("cross_entropy_grad", grid.gridStride((long) rows * cols), new KernelArguments().address(logProbabilities)
                .address(labels).i32(rows).i32(cols).f32(scale).address(cotangent).address(out));
    }

    /** Launches a kernel of {@link LaunchGrid#THREADS} threads a block on this stream. */
    void launch(String name, int blocks, KernelArguments arguments) {
        launch(name, blocks, LaunchGrid.THREADS, arguments);
    }

    /** Launches a kernel on this stream. */
    void launch(String name, int blocks, int threads, KernelArguments arguments) {
        Driver.check(cuLaunchKernel(functions.get(name), blocks, 1, 1, threads, 1, 1, 0, stream, arguments.pointer(),
                null), "cuLaunchKernel(" + name + ")");
    }
}
