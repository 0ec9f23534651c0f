package org.adjoint.nn;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.Conv2d;

/**
 * Stateless operations of neural networks with {@code torch.nn.functional} semantics; images
 * are NCHW. Each is differentiable in reverse and forward mode, to any order.
 */
public final class Functional {

    private Functional() {
    }

    /**
     * 2-D convolution (cross-correlation, as in PyTorch). With {@code K = dilation·(k − 1) + 1}
     * the span of a kernel side {@code k}, the output has {@code H' = (H + 2·padding − K_H) / stride + 1}
     * rows and likewise columns. Input channels are split into {@code groups} consecutive
     * groups, each convolved with its own {@code O/groups} filters ({@code groups = C} is a
     * depthwise convolution).
     *
     * <p>Computed as im2col and one GEMM per group on the current backend, unfolding a tile of
     * images at a time so that the columns workspace stays at most 4 Mi floats (one image at
     * least); a 1×1 kernel with stride 1 and no padding unfolds nothing.
     *
     * @param input    {@code [N, C, H, W]}
     * @param weight   {@code [O, C/groups, kH, kW]}
     * @param bias     {@code [O]}, or {@code null} for none
     * @param stride   step between windows, at least 1
     * @param padding  zeros added on every side, at least 0
     * @param dilation step between kernel taps, at least 1
     * @param groups   channel groups, at least 1, dividing {@code C} and {@code O}
     * @return {@code [N, O, H', W']}
     * @throws IllegalArgumentException naming {@code conv2d} and the shapes: a rank other than 4,
     *                                  {@code C} other than the weight's {@code C/groups · groups},
     *                                  {@code groups} not dividing {@code C} or {@code O}, a kernel
     *                                  larger than the padded input, a stride or dilation below 1,
     *                                  a negative padding, a bias not {@code [O]}
     */
    public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                                int groups) {
        return Conv2d.apply(input, weight, bias, stride, padding, dilation, groups);
    }
}
