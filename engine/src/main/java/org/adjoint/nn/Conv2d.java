package org.adjoint.nn;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.ConvActivation;
import org.adjoint.internal.ops.ConvMaxPool;

/**
 * A 2-D convolution over NCHW images, {@link Functional#conv2d}, with its parameters: a weight
 * {@code [out, in/groups, kernel, kernel]} and an optional bias {@code [out]}, named
 * {@code weight} and {@code bias} and shaped as PyTorch's {@code nn.Conv2d}, so state dicts move
 * between the two through safetensors unchanged.
 *
 * <p>Both start as PyTorch's defaults do: uniform in {@code ±1/√fanIn} with
 * {@code fanIn = in/groups · kernel²} (its Kaiming-uniform with {@code a = √5}), from the seed,
 * whatever the activation.
 *
 * <p>The layer is {@code activation(conv2d(x, w) + b)} ({@link Activation#IDENTITY} unless
 * given) run as one fused primitive: the backend adds the bias and applies the activation
 * while the convolution's output is in cache, and the backward pass computes the activation's
 * derivative and the bias gradient in one pass. The values and gradients have the bits of
 * {@link Functional#conv2d} followed by the activation's module ({@link ReLU}, {@link Tanh},
 * {@link Sigmoid}), with one tensor less stored.
 */
public final class Conv2d implements Module {

    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int padding;
    private final int dilation;
    private final int groups;
    private final Activation activation;

    /**
     * A convolution with stride 1, no padding, no dilation, one group and a bias.
     *
     * @param in     input channels
     * @param out    output channels
     * @param kernel the window's side
     * @param seed   seed of the initial parameters
     */
    public Conv2d(int in, int out, int kernel, long seed) {
        this(in, out, kernel, 1, 0, 1, 1, true, seed);
    }

    /**
     * A convolution with stride 1, {@code padding}, and a bias: {@code padding = kernel / 2}
     * keeps an odd kernel's output the size of its input.
     *
     * @param in      input channels
     * @param out     output channels
     * @param kernel  the window's side
     * @param padding zeros added on every side
     * @param seed    seed of the initial parameters
     */
    public Conv2d(int in, int out, int kernel, int padding, long seed) {
        this(in, out, kernel, 1, padding, 1, 1, true, seed);
    }

    /**
     * A convolution with stride 1, {@code padding}, a bias and an activation fused with it.
     *
     * @param in         input channels
     * @param out        output channels
     * @param kernel     the window's side
     * @param padding    zeros added on every side
     * @param activation the activation
     * @param seed       seed of the initial parameters
     */
    public Conv2d(int in, int out, int kernel, int padding, Activation activation, long seed) {
        this(in, out, kernel, 1, padding, 1, 1, true, activation, seed);
    }

    /**
     * A convolution with every option, without activation.
     *
     * @param in       input channels
     * @param out      output channels
     * @param kernel   the window's side
     * @param stride   step between windows
     * @param padding  zeros added on every side
     * @param dilation step between taps of a window
     * @param groups   channel groups ({@code in} and {@code out} must be multiples of it; {@code in} for depthwise)
     * @param bias     whether to add a learned bias
     * @param seed     seed of the initial parameters
     * @throws IllegalArgumentException when a size is not positive or the groups do not divide the channels
     */
    public Conv2d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias,
                  long seed) {
        this(in, out, kernel, stride, padding, dilation, groups, bias, Activation.IDENTITY, seed);
    }

    /**
     * A convolution with every option and an activation fused with it.
     *
     * @param in         input channels
     * @param out        output channels
     * @param kernel     the window's side
     * @param stride     step between windows
     * @param padding    zeros added on every side
     * @param dilation   step between taps of a window
     * @param groups     channel groups ({@code in} and {@code out} must be multiples of it; {@code in} for depthwise)
     * @param bias       whether to add a learned bias
     * @param activation the activation
     * @param seed       seed of the initial parameters
     * @throws IllegalArgumentException when a size is not positive, the groups do not divide the channels, or the
     *                                  activation is {@code null}
     */
    public Conv2d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias,
                  Activation activation, long seed) {
        if (activation == null) {
            throw new IllegalArgumentException("Conv2d: the activation must not be null (Activation.IDENTITY for none)");
        }
        if (in < 1 || out < 1 || kernel < 1 || groups < 1 || in % groups != 0 || out % groups != 0 || stride < 1
                || padding < 0 || dilation < 1) {
            throw new IllegalArgumentException("Conv2d: cannot make a convolution from " + in + " to " + out
                    + " channels with a " + kernel + "x" + kernel + " kernel in " + groups + " groups, stride " + stride
                    + ", padding " + padding + ", dilation " + dilation + " (channels, kernel, stride and dilation must "
                    + "be positive, padding not negative, the groups must divide both channel counts)");
        }
        int fanIn = in / groups * kernel * kernel;
        float bound = (float) (1 / Math.sqrt(fanIn));
        this.weight = uniform(seed, bound, out, in / groups, kernel, kernel);
        this.bias = bias ? uniform(seed + 1, bound, out) : null;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.activation = activation;
    }

    /**
     * A convolution on given parameters (shared between modules when the same tensors are passed).
     *
     * @param weight   {@code [out, in/groups, kernelHeight, kernelWidth]}
     * @param bias     {@code [out]}, or {@code null}
     * @param stride   step between windows
     * @param padding  zeros added on every side
     * @param dilation step between taps of a window
     * @param groups   channel groups
     * @throws IllegalArgumentException when the shapes do not form a convolution
     */
    public Conv2d(Tensor weight, Tensor bias, int stride, int padding, int dilation, int groups) {
        this(weight, bias, stride, padding, dilation, groups, Activation.IDENTITY);
    }

    /**
     * A convolution with an activation fused with it, on given parameters (shared between
     * modules when the same tensors are passed).
     *
     * @param weight     {@code [out, in/groups, kernelHeight, kernelWidth]}
     * @param bias       {@code [out]}, or {@code null}
     * @param stride     step between windows
     * @param padding    zeros added on every side
     * @param dilation   step between taps of a window
     * @param groups     channel groups
     * @param activation the activation
     * @throws IllegalArgumentException when the shapes do not form a convolution or the activation is {@code null}
     */
    public Conv2d(Tensor weight, Tensor bias, int stride, int padding, int dilation, int groups,
                  Activation activation) {
        if (activation == null) {
            throw new IllegalArgumentException("Conv2d: the activation must not be null (Activation.IDENTITY for none)");
        }
        int[] w = weight.shape();
        if (w.length != 4 || bias != null && (bias.rank() != 1 || bias.shape()[0] != w[0])) {
            throw new IllegalArgumentException("Conv2d: weight " + Arrays.toString(w)
                    + (bias == null ? "" : " and bias " + Arrays.toString(bias.shape()))
                    + " do not form a convolution (expected weight [out, in/groups, kH, kW] and bias [out])");
        }
        // The options, when constructed as the other constructor checks them, not first at apply.
        if (stride < 1 || padding < 0 || dilation < 1 || groups < 1 || w[0] % groups != 0) {
            throw new IllegalArgumentException("Conv2d: weight " + Arrays.toString(w) + " with stride " + stride
                    + ", padding " + padding + ", dilation " + dilation + " and " + groups + " groups (stride, dilation "
                    + "and groups must be positive, padding not negative, the groups must divide the " + w[0]
                    + " output channels)");
        }
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.activation = activation;
    }

    private static Tensor uniform(long seed, float bound, int... shape) {
        return Tensor.rand(seed, shape).mul(2 * bound).sub(bound).detach().requiresGrad(true);
    }

    @Override
    public Tensor apply(Tensor x) {
        return ConvActivation.apply(x, weight, bias, stride, padding, dilation, groups, activation);
    }

    /**
     * This layer followed by max pooling, as one primitive where the pooling windows do not
     * overlap and the activation is a ReLU ({@link Sequential} fuses the pair), with the bits of
     * {@code new MaxPool2d(kernel, stride, padding).apply(apply(x))}.
     */
    Tensor applyPooled(Tensor x, int poolKernel, int poolStride, int poolPadding) {
        if (activation != Activation.RELU) {
            return Functional.maxPool2d(apply(x), poolKernel, poolStride, poolPadding);
        }
        return ConvMaxPool.apply(x, weight, bias, stride, padding, dilation, groups, poolKernel, poolStride,
                poolPadding);
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("weight", weight);
        if (bias != null) {
            named.put("bias", bias);
        }
        return Collections.unmodifiableMap(named);
    }

    /**
     * The activation applied after the bias.
     *
     * @return the activation
     */
    public Activation activation() {
        return activation;
    }

    /**
     * The weight.
     *
     * @return {@code [out, in/groups, kH, kW]}
     */
    public Tensor weight() {
        return weight;
    }

    /**
     * The bias.
     *
     * @return {@code [out]}, or {@code null}
     */
    public Tensor bias() {
        return bias;
    }

    @Override
    public String toString() {
        int[] w = weight.shape();
        return "Conv2d(" + w[1] * groups + ", " + w[0] + ", kernel " + w[2] + "x" + w[3]
                + (stride == 1 ? "" : ", stride " + stride) + (padding == 0 ? "" : ", padding " + padding)
                + (dilation == 1 ? "" : ", dilation " + dilation) + (groups == 1 ? "" : ", groups " + groups)
                + (bias == null ? ", no bias" : "") + (activation == Activation.IDENTITY ? "" : ", " + activation) + ")";
    }
}
