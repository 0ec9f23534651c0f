package org.adjoint.conformance.programs;

/**
 * The operations a random program draws from: every differentiable call of the public
 * {@code Tensor} API, the fused {@code nn.Linear} layer, {@code Losses.crossEntropy}, the
 * convolutional-net operations of {@code nn.Functional}, and a slot for a user-supplied
 * {@link CustomOp}.
 */
public enum Kind {
    /** {@code a.neg()}. */
    NEG(1),
    /** {@code a.tanh()}. */
    TANH(1),
    /** {@code a.sigmoid()}. */
    SIGMOID(1),
    /** {@code a.relu()}, with {@code a} off the kink. */
    RELU(1),
    /** {@code a.exp()}, on bounded values (optionally through {@code tanh} first). */
    EXP(1),
    /** {@code a.log()} on positive values (optionally made positive first). */
    LOG(1),
    /** {@code a.sqrt()} on positive values (optionally made positive first). */
    SQRT(1),
    /** {@code a.pow(p)}, the base made safe for {@code p}. */
    POW(1),
    /** {@code a.add(c)}. */
    ADD_SCALAR(1),
    /** {@code a.sub(c)}. */
    SUB_SCALAR(1),
    /** {@code a.mul(c)}. */
    MUL_SCALAR(1),
    /** {@code a.div(c)}. */
    DIV_SCALAR(1),
    /** {@code a.add(b)}, broadcasting. */
    ADD(2),
    /** {@code a.sub(b)}, broadcasting. */
    SUB(2),
    /** {@code a.mul(b)}, broadcasting. */
    MUL(2),
    /** {@code a.div(b)}, broadcasting, the divisor kept away from 0. */
    DIV(2),
    /** {@code a.matmul(b)} or {@code a.matmul(b.transpose())}. */
    MATMUL(2),
    /** {@code a.transpose()}. */
    TRANSPOSE(1),
    /** {@code a.reshape(...)}. */
    RESHAPE(1),
    /** {@code a.sum()}. */
    SUM(1),
    /** {@code a.mean()}. */
    MEAN(1),
    /** {@code a.sum(axis, keepDim)}. */
    SUM_AXIS(1),
    /** {@code a.mean(axis, keepDim)}. */
    MEAN_AXIS(1),
    /** {@code a.max(axis, keepDim)}, off ties. */
    MAX_AXIS(1),
    /** {@code a.softmax(axis)}. */
    SOFTMAX(1),
    /** {@code a.logSoftmax(axis)}. */
    LOG_SOFTMAX(1),
    /** {@code new Linear(w, b, activation).apply(a)}: operands a, then w and b or a constant marker. */
    LINEAR(3),
    /** {@code Losses.crossEntropy(a, labels)}. */
    CROSS_ENTROPY(1),
    /** {@code a.gelu()}, exact. */
    GELU(1),
    /**
     * {@code Functional.layerNorm(a, axes, weight, bias, eps)} over the last 1 to 3 axes (more where those
     * hold one element), each row's variance kept away from 0: operands a, then the weight and the bias, each
     * a value, a constant or absent.
     */
    LAYER_NORM(3),
    /** {@code Functional.scaledDotProductAttention} of a query, a key and a value; the flag is causal. */
    ATTENTION(3),
    /**
     * {@code Functional.conv2d(a, w, b, stride, padding, dilation, groups)}, or the same as the
     * {@code Conv2d} module (its fused primitive) for a step of odd seed, {@code a} reshaped to an
     * image where it is not one: operands a, then w and b as for {@link #LINEAR}.
     */
    CONV2D(3),
    /** {@code Functional.maxPool2d(a, kernel, stride, padding)}, off ties within every window. */
    MAX_POOL2D(1),
    /** {@code Functional.avgPool2d(a, kernel, stride, padding)}. */
    AVG_POOL2D(1),
    /**
     * {@code Functional.batchNorm(a, ...)}: in training without running statistics (each channel's
     * variance kept away from 0), or in evaluation with constant ones; operands a, then the weight
     * and the bias, each a value, a constant or absent.
     */
    BATCH_NORM(3),
    /** A {@link CustomOp} applied element-wise. */
    CUSTOM(1),
    /** {@code a.permute(axes)}: a view. */
    PERMUTE(1),
    /** {@code a.transpose(axis0, axis1)}: a view. */
    TRANSPOSE_AXES(1),
    /** {@code a.narrow(axis, start, length)}: a view. */
    NARROW(1),
    /** {@code a.split(size, axis).get(piece)}. */
    SPLIT(1),
    /** {@code Tensor.cat(List.of(a, b), axis)}, {@code b} possibly {@code a}. */
    CAT(2),
    /** {@code Tensor.stack(List.of(a, b), axis)}, {@code b} possibly {@code a}. */
    STACK(2),
    /** {@code a.indexSelect(axis, indices)}, repeats allowed. */
    INDEX_SELECT(1),
    /** {@code a.maskedFill(mask, value)} with a constant random mask that broadcasts. */
    MASKED_FILL(1);

    private final int operands;

    Kind(int operands) {
        this.operands = operands;
    }

    /**
     * How many operand slots a step of this kind has.
     *
     * @return the slot count
     */
    public int operands() {
        return operands;
    }
}
