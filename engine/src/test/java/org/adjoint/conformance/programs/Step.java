package org.adjoint.conformance.programs;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.nn.Activation;

/**
 * One operation of a {@link Program}: its kind, the values it reads (indices into the
 * program's inputs followed by the earlier steps' outputs) and its parameters. Fields a kind
 * does not use keep their defaults.
 *
 * @param kind       the operation
 * @param operands   value indices; for {@link Kind#LINEAR}, {@link Kind#CONV2D} and
 *                   {@link Kind#BATCH_NORM} the input, then the weight and the bias, each a value
 *                   index, {@link #CONSTANT} or {@link #ABSENT} (the bias only, except for batch norm)
 * @param constant   the scalar of {@code add/sub/mul/div(float)}, the exponent of {@code pow},
 *                   the scale of a constant {@code Linear} or {@code conv2d} weight, batch norm's {@code eps}
 * @param axis       the axis of axis reductions and the softmax family
 * @param flag       {@code keepDim} of axis reductions; for {@code matmul}, transpose the right operand;
 *                   for batch norm, evaluation mode with constant running statistics
 * @param shape      the target of {@code reshape}; {@code {out}} for a constant {@code Linear} weight; for
 *                   the image operations the shape the first operand is reshaped to, or empty for none
 * @param geometry   for {@link Kind#CONV2D} {@code {outChannels, kernelHeight, kernelWidth, stride, padding,
 *                   dilation, groups}}; for the pools {@code {kernel, stride, padding}}; else empty
 * @param prefix     what makes an operand safe for the operation (the divisor for {@code div})
 * @param activation the activation of {@code Linear}
 * @param seed       the seed of constant {@code Linear}, {@code conv2d} and batch-norm parameters and
 *                   statistics, and of cross-entropy labels
 * @param custom     the operation of {@link Kind#CUSTOM}
 */
public record Step(Kind kind, int[] operands, float constant, int axis, boolean flag, int[] shape, int[] geometry,
                   Prefix prefix, Activation activation, long seed, CustomOp custom) {

    /** A weight or bias drawn from {@link #seed} instead of read from a value. */
    public static final int CONSTANT = -1;

    /** A layer without bias (for batch norm, also without weight). */
    public static final int ABSENT = -2;

    /** Transformations that keep an operand inside an operation's domain, printed as part of the call. */
    public enum Prefix {
        /** The operand as it is (the precondition holds on its values). */
        NONE,
        /** {@code a.mul(a).add(1f)}: at least 1. */
        SQUARE_PLUS_ONE,
        /** {@code a.sigmoid()}: in (0, 1). */
        SIGMOID,
        /** {@code a.tanh()}: in (-1, 1), for {@code exp}. */
        TANH;

        Tensor apply(Tensor a) {
            return switch (this) {
                case NONE -> a;
                case SQUARE_PLUS_ONE -> a.mul(a).add(1f);
                case SIGMOID -> a.sigmoid();
                case TANH -> a.tanh();
            };
        }

        String java(String a) {
            return switch (this) {
                case NONE -> a;
                case SQUARE_PLUS_ONE -> a + ".mul(" + a + ").add(1f)";
                case SIGMOID -> a + ".sigmoid()";
                case TANH -> a + ".tanh()";
            };
        }
    }

    /**
     * A step with only a kind and operands.
     *
     * @param kind     the operation
     * @param operands value indices
     * @return the step
     */
    public static Step of(Kind kind, int... operands) {
        return new Step(kind, operands, 0f, 0, false, new int[0], new int[0], Prefix.NONE, Activation.IDENTITY, 0L, null);
    }

    /**
     * This step reading other values.
     *
     * @param newOperands value indices (markers kept for {@code Linear}, {@code conv2d} and batch norm)
     * @return the changed step
     */
    public Step withOperands(int... newOperands) {
        return new Step(kind, newOperands, constant, axis, flag, shape, geometry, prefix, activation, seed, custom);
    }

    /**
     * This step with another constant.
     *
     * @param value the scalar, exponent or scale
     * @return the changed step
     */
    public Step withConstant(float value) {
        return new Step(kind, operands, value, axis, flag, shape, geometry, prefix, activation, seed, custom);
    }

    /**
     * This step with another axis.
     *
     * @param value the axis
     * @return the changed step
     */
    public Step withAxis(int value) {
        return new Step(kind, operands, constant, value, flag, shape, geometry, prefix, activation, seed, custom);
    }

    /**
     * This step with another flag.
     *
     * @param value keepDim, or transpose-the-right-operand for matmul
     * @return the changed step
     */
    public Step withFlag(boolean value) {
        return new Step(kind, operands, constant, axis, value, shape, geometry, prefix, activation, seed, custom);
    }

    /**
     * This step with another shape parameter.
     *
     * @param value the reshape target, or {@code {out}}
     * @return the changed step
     */
    public Step withShape(int... value) {
        return new Step(kind, operands, constant, axis, flag, value, geometry, prefix, activation, seed, custom);
    }

    /**
     * This step with another geometry.
     *
     * @param value the sizes of a convolution or pooling window
     * @return the changed step
     */
    public Step withGeometry(int... value) {
        return new Step(kind, operands, constant, axis, flag, shape, value, prefix, activation, seed, custom);
    }

    /**
     * This step with another prefix.
     *
     * @param value the prefix
     * @return the changed step
     */
    public Step withPrefix(Prefix value) {
        return new Step(kind, operands, constant, axis, flag, shape, geometry, value, activation, seed, custom);
    }

    /**
     * This step with another activation.
     *
     * @param value the activation
     * @return the changed step
     */
    public Step withActivation(Activation value) {
        return new Step(kind, operands, constant, axis, flag, shape, geometry, prefix, value, seed, custom);
    }

    /**
     * This step with another seed.
     *
     * @param value the seed
     * @return the changed step
     */
    public Step withSeed(long value) {
        return new Step(kind, operands, constant, axis, flag, shape, geometry, prefix, activation, value, custom);
    }

    /**
     * This step applying a custom operation.
     *
     * @param value the operation
     * @return the changed step
     */
    public Step withCustom(CustomOp value) {
        return new Step(kind, operands, constant, axis, flag, shape, geometry, prefix, activation, seed, value);
    }

    /**
     * The value indices this step reads, without the markers of constant and absent parameters.
     *
     * @return indices, possibly repeated
     */
    public int[] reads() {
        return Arrays.stream(operands).filter(i -> i >= 0).toArray();
    }

    @Override
    public String toString() {
        return kind + Arrays.toString(operands);
    }
}
