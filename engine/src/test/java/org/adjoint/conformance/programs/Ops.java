package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Functional;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;

/** Runs one {@link Step} through the public API, reporting preconditions and kinks to a {@link Watch}. */
final class Ops {

    private Ops() {
    }

    /**
     * Computes one step.
     *
     * @param step   the operation
     * @param index  the value index it produces
     * @param values every value computed so far
     * @param watch  where preconditions and kink sides go
     * @return the step's value
     */
    static Tensor apply(Step step, int index, Tensor[] values, Watch watch) {
        int[] op = step.operands();
        Tensor a = values[op[0]];
        Tensor result = switch (step.kind()) {
            case NEG -> a.neg();
            case TANH -> a.tanh();
            case SIGMOID -> a.sigmoid();
            case RELU -> {
                float[] v = a.toFloatArray();
                watch.require(() -> minAbs(v) >= Watch.KINK_MARGIN, () -> "relu input within " + Watch.KINK_MARGIN + " of 0");
                watch.sides(index, signs(v));
                yield a.relu();
            }
            case EXP -> {
                Tensor p = step.prefix().apply(a);
                watch.require(() -> max(p.toFloatArray()) <= Watch.EXP_LIMIT, () -> "exp of a value above " + Watch.EXP_LIMIT);
                yield p.exp();
            }
            case LOG -> positive(step, a, "log", watch).log();
            case SQRT -> positive(step, a, "sqrt", watch).sqrt();
            case POW -> {
                float e = step.constant();
                Tensor p = e == Math.rint(e) ? step.prefix().apply(a) : positive(step, a, "pow", watch);
                if (e < 0) {
                    watch.require(() -> minAbs(p.toFloatArray()) >= Watch.POLE_MARGIN,
                            () -> "negative power of a value within " + Watch.POLE_MARGIN + " of 0");
                }
                yield p.pow(e);
            }
            case ADD_SCALAR -> a.add(step.constant());
            case SUB_SCALAR -> a.sub(step.constant());
            case MUL_SCALAR -> a.mul(step.constant());
            case DIV_SCALAR -> a.div(step.constant());
            case ADD -> a.add(values[op[1]]);
            case SUB -> a.sub(values[op[1]]);
            case MUL -> a.mul(values[op[1]]);
            case DIV -> {
                Tensor divisor = step.prefix().apply(values[op[1]]);
                watch.require(() -> minAbs(divisor.toFloatArray()) >= Watch.POLE_MARGIN,
                        () -> "divisor within " + Watch.POLE_MARGIN + " of 0");
                yield a.div(divisor);
            }
            case MATMUL -> a.matmul(step.flag() ? values[op[1]].transpose() : values[op[1]]);
            case TRANSPOSE -> a.transpose();
            case RESHAPE -> a.reshape(step.shape());
            case SUM -> a.sum();
            case MEAN -> a.mean();
            case SUM_AXIS -> a.sum(step.axis(), step.flag());
            case MEAN_AXIS -> a.mean(step.axis(), step.flag());
            case MAX_AXIS -> {
                int[] shape = a.shape();
                int axis = Math.floorMod(step.axis(), Math.max(1, shape.length));
                float[] v = a.toFloatArray();
                watch.require(() -> maxGap(v, shape, axis) >= Watch.KINK_MARGIN,
                        () -> "max lane with its top two values within " + Watch.KINK_MARGIN);
                watch.sides(index, argmax(v, shape, axis));
                yield a.max(step.axis(), step.flag());
            }
            case SOFTMAX -> a.softmax(step.axis());
            case LOG_SOFTMAX -> a.logSoftmax(step.axis());
            case LINEAR -> linear(step, index, values, watch);
            case CROSS_ENTROPY -> Losses.crossEntropy(a, labels(step.seed(), a.shape()[0], a.shape()[1]));
            case CONV2D -> conv2d(step, values);
            case MAX_POOL2D -> {
                Tensor x = image(step, a);
                int[] g = step.geometry();
                int[] shape = x.shape();
                float[] v = x.toFloatArray();
                watch.require(() -> windowGap(v, shape, g) >= Watch.KINK_MARGIN,
                        () -> "max-pooling window with its top two values within " + Watch.KINK_MARGIN);
                watch.sides(index, windowArgmax(v, shape, g));
                yield Functional.maxPool2d(x, g[0], g[1], g[2]);
            }
            case AVG_POOL2D -> {
                int[] g = step.geometry();
                yield Functional.avgPool2d(image(step, a), g[0], g[1], g[2]);
            }
            case BATCH_NORM -> batchNorm(step, values, watch);
            case GELU -> a.gelu();
            case LAYER_NORM -> NormSteps.layerNorm(step, values, watch);
            case ATTENTION -> Functional.scaledDotProductAttention(a, values[op[1]], values[op[2]], step.flag());
            case CUSTOM -> step.custom().apply(a);
            case PERMUTE -> a.permute(step.shape());
            case TRANSPOSE_AXES -> a.transpose(step.geometry()[0], step.geometry()[1]);
            case NARROW -> a.narrow(step.axis(), step.geometry()[0], step.geometry()[1]);
            case SPLIT -> StructureSteps.piece(a, step);
            case CAT -> Tensor.cat(List.of(a, values[op[1]]), step.axis());
            case STACK -> Tensor.stack(List.of(a, values[op[1]]), step.axis());
            case INDEX_SELECT -> a.indexSelect(step.axis(), step.geometry());
            case MASKED_FILL -> a.maskedFill(StructureSteps.mask(step), step.constant());
        };
        watch.require(() -> finiteAndBounded(result.toFloatArray()),
                () -> "value t" + index + " not finite or beyond " + Watch.MAGNITUDE_LIMIT);
        return result;
    }

    /** The operand after its prefix, required to be positive enough for {@code op}. */
    private static Tensor positive(Step step, Tensor a, String op, Watch watch) {
        Tensor p = step.prefix().apply(a);
        watch.require(() -> min(p.toFloatArray()) >= Watch.POSITIVE_MARGIN,
                () -> op + " of a value below " + Watch.POSITIVE_MARGIN);
        return p;
    }

    private static Tensor linear(Step step, int index, Tensor[] values, Watch watch) {
        int[] op = step.operands();
        Tensor x = values[op[0]];
        Tensor weight = linearWeight(step, x, values);
        Tensor bias = linearBias(step, weight, values);
        Tensor y = new Linear(weight, bias, step.activation()).apply(x);
        if (step.activation() == Activation.RELU) {
            if (watch.recording()) {
                try (var _ = GradMode.noGrad()) {
                    float[] pre = new Linear(weight.detach(), bias == null ? null : bias.detach(), Activation.IDENTITY)
                            .apply(x.detach()).toFloatArray();
                    watch.require(() -> minAbs(pre) >= Watch.KINK_MARGIN,
                            () -> "linear pre-activation within " + Watch.KINK_MARGIN + " of the ReLU kink");
                }
            }
            watch.sides(index, signs(y.toFloatArray()));
        }
        return y;
    }

    /** The first operand of an image operation, reshaped when the step names a shape. */
    static Tensor image(Step step, Tensor a) {
        return step.shape().length == 0 ? a : a.reshape(step.shape());
    }

    /** A parameter read from a value, reshaped to {@code shape} where its own differs (a value of another size is rejected). */
    private static Tensor parameter(Tensor value, int... shape) {
        return Arrays.equals(value.shape(), shape) ? value : value.reshape(shape);
    }

    /** Channels of an image operation's input, or an exception naming the step when it has none. */
    private static int channels(Step step, Tensor x, int rank) {
        int[] shape = x.shape();
        if (rank == 4 ? shape.length != 4 : shape.length < rank) {
            throw new IllegalArgumentException(step.kind() + " step: input of shape " + Arrays.toString(shape)
                    + " has no channel axis");
        }
        return shape[1];
    }

    /**
     * The weight shape of a {@code conv2d} step on an image of {@code channels} channels:
     * {@code [O, C/groups, kH, kW]}.
     */
    static int[] convWeightShape(Step step, int channels) {
        int[] g = step.geometry();
        return new int[] {g[0], channels / g[6], g[1], g[2]};
    }

    private static Tensor conv2d(Step step, Tensor[] values) {
        int[] op = step.operands();
        int[] g = step.geometry();
        Tensor x = image(step, values[op[0]]);
        int[] weightShape = convWeightShape(step, channels(step, x, 4));
        Tensor weight = op[1] >= 0 ? parameter(values[op[1]], weightShape)
                : Tensor.randn(step.seed(), weightShape).mul(step.constant());
        Tensor bias = switch (op[2]) {
            case Step.ABSENT -> null;
            case Step.CONSTANT -> Tensor.randn(step.seed() + 1, g[0]).mul(0.5f);
            default -> parameter(values[op[2]], g[0]);
        };
        if (asModule(step)) {
            return new Conv2d(weight, bias, g[3], g[4], g[5], g[6], Activation.IDENTITY).apply(x);
        }
        return Functional.conv2d(x, weight, bias, g[3], g[4], g[5], g[6]);
    }

    /**
     * Whether a {@code conv2d} step runs as the module ({@link Conv2d}, the fused primitive of
     * the convolution and its bias) rather than {@link Functional#conv2d}: the steps of odd
     * seed, the same values either way.
     */
    static boolean asModule(Step step) {
        return (step.seed() & 1) == 1;
    }

    private static Tensor batchNorm(Step step, Tensor[] values, Watch watch) {
        int[] op = step.operands();
        Tensor x = image(step, values[op[0]]);
        int channels = channels(step, x, 2);
        Tensor weight = switch (op[1]) {
            case Step.ABSENT -> null;
            case Step.CONSTANT -> Tensor.randn(step.seed() + 2, channels).mul(0.5f).add(1f);
            default -> parameter(values[op[1]], channels);
        };
        Tensor bias = switch (op[2]) {
            case Step.ABSENT -> null;
            case Step.CONSTANT -> Tensor.randn(step.seed() + 3, channels).mul(0.5f);
            default -> parameter(values[op[2]], channels);
        };
        float eps = step.constant();
        if (step.flag()) {
            Tensor mean = Tensor.randn(step.seed(), channels).mul(0.5f);
            Tensor variance = Tensor.randn(step.seed() + 1, channels).sigmoid().add(0.5f);
            return Functional.batchNorm(x, mean, variance, weight, bias, false, 0.1f, eps);
        }
        // The batch's variance is under a power of -1/2: kept away from 0 like sqrt's operand.
        watch.require(() -> minChannelVariance(x.toFloatArray(), x.shape()) + eps >= Watch.POSITIVE_MARGIN,
                () -> "batch norm of a channel whose variance plus eps is below " + Watch.POSITIVE_MARGIN);
        return Functional.batchNorm(x, null, null, weight, bias, true, 0.1f, eps);
    }

    /** Smallest biased variance over the channels (axis 1) of {@code [N, C, ...]} elements, in double. */
    static double minChannelVariance(float[] v, int[] shape) {
        if (shape.length < 2 || v.length == 0) {
            return Double.POSITIVE_INFINITY;
        }
        int channels = shape[1];
        int inner = v.length / (shape[0] * channels);
        double least = Double.POSITIVE_INFINITY;
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            double squares = 0;
            for (int n = 0; n < shape[0]; n++) {
                for (int i = 0; i < inner; i++) {
                    double x = v[(n * channels + c) * inner + i];
                    sum += x;
                    squares += x * x;
                }
            }
            double count = (double) shape[0] * inner;
            double mean = sum / count;
            least = Math.min(least, squares / count - mean * mean);
        }
        return least;
    }

    /**
     * Smallest difference between the largest and second-largest element of any max-pooling
     * window ({@code geometry = {kernel, stride, padding}}, padding never counted).
     */
    static double windowGap(float[] v, int[] shape, int[] geometry) {
        double[] gap = {Double.POSITIVE_INFINITY};
        forEachWindow(v, shape, geometry, (top, second, argmax) -> gap[0] = Math.min(gap[0], top - second));
        return gap[0];
    }

    /** The position of each max-pooling window's maximum within the image, window by window. */
    private static int[] windowArgmax(float[] v, int[] shape, int[] geometry) {
        List<Integer> sides = new ArrayList<>();
        forEachWindow(v, shape, geometry, (top, second, argmax) -> sides.add(argmax));
        return sides.stream().mapToInt(Integer::intValue).toArray();
    }

    /** What a window holds: its largest and second-largest element and where the largest is. */
    private interface WindowVisitor {
        void visit(double top, double second, int argmax);
    }

    private static void forEachWindow(float[] v, int[] shape, int[] geometry, WindowVisitor visitor) {
        int[] out = ShapeRules.pool2d(shape, geometry);
        if (out == null) {
            return;
        }
        int kernel = geometry[0];
        int stride = geometry[1];
        int padding = geometry[2];
        int height = shape[2];
        int width = shape[3];
        for (int plane = 0; plane < shape[0] * shape[1]; plane++) {
            for (int oh = 0; oh < out[2]; oh++) {
                for (int ow = 0; ow < out[3]; ow++) {
                    double top = Double.NEGATIVE_INFINITY;
                    double second = Double.NEGATIVE_INFINITY;
                    int argmax = -1;
                    for (int kh = 0; kh < kernel; kh++) {
                        int h = oh * stride - padding + kh;
                        for (int kw = 0; kw < kernel; kw++) {
                            int w = ow * stride - padding + kw;
                            if (h < 0 || h >= height || w < 0 || w >= width) {
                                continue;
                            }
                            int at = (plane * height + h) * width + w;
                            double x = v[at];
                            if (x > top) {
                                second = top;
                                top = x;
                                argmax = at;
                            } else if (x > second) {
                                second = x;
                            }
                        }
                    }
                    visitor.visit(top, second, argmax);
                }
            }
        }
    }

    /** The weight a {@code Linear} step uses: a value, or {@code randn(seed, in, out) * constant}. */
    static Tensor linearWeight(Step step, Tensor x, Tensor[] values) {
        int w = step.operands()[1];
        return w >= 0 ? values[w] : Tensor.randn(step.seed(), inFeatures(x.shape()), step.shape()[0]).mul(step.constant());
    }

    /** The bias a {@code Linear} step uses: a value, {@code randn(seed + 1, out) * 0.5}, or none. */
    static Tensor linearBias(Step step, Tensor weight, Tensor[] values) {
        int b = step.operands()[2];
        if (b == Step.ABSENT) {
            return null;
        }
        return b >= 0 ? values[b] : Tensor.randn(step.seed() + 1, weight.shape()[1]).mul(0.5f);
    }

    /** Input features of a {@code Linear} applied to a tensor of this shape (a scalar is one feature). */
    static int inFeatures(int[] shape) {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Class labels for cross-entropy, fixed by a seed. */
    static int[] labels(long seed, int rows, int classes) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = random.nextInt(classes);
        }
        return labels;
    }

    static double minAbs(float[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (float x : v) {
            m = Math.min(m, Math.abs(x));
        }
        return m;
    }

    static double min(float[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (float x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    static double max(float[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (float x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    static boolean finiteAndBounded(float[] v) {
        for (float x : v) {
            if (!(Math.abs(x) <= Watch.MAGNITUDE_LIMIT)) {
                return false;
            }
        }
        return true;
    }

    private static int[] signs(float[] v) {
        int[] side = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            side[i] = v[i] > 0 ? 1 : 0;
        }
        return side;
    }

    /** Smallest difference between the largest and second-largest value of any lane along {@code axis}. */
    static double maxGap(float[] v, int[] shape, int axis) {
        if (shape.length == 0 || shape[axis] < 2) {
            return Double.POSITIVE_INFINITY;
        }
        int length = shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int outer = v.length / (length * inner);
        double gap = Double.POSITIVE_INFINITY;
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double top = Double.NEGATIVE_INFINITY;
                double second = Double.NEGATIVE_INFINITY;
                for (int l = 0; l < length; l++) {
                    double x = v[(o * length + l) * inner + i];
                    if (x > top) {
                        second = top;
                        top = x;
                    } else if (x > second) {
                        second = x;
                    }
                }
                gap = Math.min(gap, top - second);
            }
        }
        return gap;
    }

    private static int[] argmax(float[] v, int[] shape, int axis) {
        if (shape.length == 0) {
            return new int[1];
        }
        int length = shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int outer = v.length / (length * inner);
        int[] side = new int[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int best = 0;
                for (int l = 1; l < length; l++) {
                    if (v[(o * length + l) * inner + i] > v[(o * length + best) * inner + i]) {
                        best = l;
                    }
                }
                side[o * inner + i] = best;
            }
        }
        return side;
    }
}
