package org.adjoint.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Recomputation;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.SideEffects;
import org.adjoint.internal.TensorImpl;
import org.adjoint.internal.ops.LayerNorm;
import org.adjoint.internal.ops.SumTo;

/**
 * Stateless building blocks of convolutional nets and transformers, with the semantics of
 * PyTorch's {@code torch.nn.functional}; images are NCHW ({@code [N, C, H, W]}). Every operation
 * is differentiable in reverse and forward mode and runs on every backend. Modules
 * ({@link Conv2d}, {@link BatchNorm2d}, ...) hold the parameters and call these.
 */
public final class Functional {

    // The primitives in internal.ops share their names with this package's modules (Conv2d,
    // MaxPool2d, AvgPool2d), so they are named in full below.

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
        return org.adjoint.internal.ops.Conv2d.apply(input, weight, bias, stride, padding, dilation, groups);
    }

    /**
     * 2-D max pooling with a square {@code kernel × kernel} window, as PyTorch's
     * {@code max_pool2d(input, kernel, stride, padding)}: each output element is the maximum of
     * its window; padding never wins (it reads −∞, and a window always holds at least one
     * element of the image). The gradient goes to the first maximal element of each window, in
     * row-major order within the window, and adds up where windows overlap.
     *
     * @param input   images {@code [N, C, H, W]}
     * @param kernel  window side, at least 1
     * @param stride  step between windows, at least 1
     * @param padding rows and columns added on every side, from 0 to {@code kernel / 2}
     * @return {@code [N, C, H', W']} with {@code H' = (H + 2·padding − kernel) / stride + 1}, and {@code W'} alike
     * @throws IllegalArgumentException when {@code input} is not of rank 4, a size is out of
     *                                  range, or the window is larger than the padded input
     */
    public static Tensor maxPool2d(Tensor input, int kernel, int stride, int padding) {
        return org.adjoint.internal.ops.MaxPool2d.apply(Objects.requireNonNull(input, "maxPool2d: input"), kernel, stride,
                padding);
    }

    /**
     * 2-D average pooling with a square {@code kernel × kernel} window, as PyTorch's
     * {@code avg_pool2d(input, kernel, stride, padding)} with {@code count_include_pad=True}:
     * padded zeros count, so every window's sum is divided by {@code kernel²}.
     *
     * @param input   images {@code [N, C, H, W]}
     * @param kernel  window side, at least 1
     * @param stride  step between windows, at least 1
     * @param padding rows and columns of zeros added on every side, from 0 to {@code kernel / 2}
     * @return {@code [N, C, H', W']} with {@code H' = (H + 2·padding − kernel) / stride + 1}, and {@code W'} alike
     * @throws IllegalArgumentException when {@code input} is not of rank 4, a size is out of
     *                                  range, or the window is larger than the padded input
     */
    public static Tensor avgPool2d(Tensor input, int kernel, int stride, int padding) {
        return org.adjoint.internal.ops.AvgPool2d.apply(Objects.requireNonNull(input, "avgPool2d: input"), kernel, stride,
                padding);
    }

    /**
     * Batch normalisation over every axis but axis 1 (the channels), as PyTorch's
     * {@code F.batch_norm}: {@code y = (x − mean) / √(var + eps) · weight + bias}, per channel.
     *
     * <p>In training the mean and the biased variance are the batch's, and the running
     * statistics, when given, are updated in place without being recorded:
     * {@code r = (1 − momentum)·r + momentum·batch}, with the unbiased variance for
     * {@code runningVar}. The update is skipped while a checkpointed chain or segment re-runs
     * the layer in its backward pass, so a batch is counted once whatever the checkpoint
     * policy. In evaluation the running statistics are used and left unchanged.
     *
     * <p>Built from differentiable tensor operations (reductions, broadcasting arithmetic and a
     * power), so gradients reach the input, the weight and the bias, forward mode and higher
     * derivatives work, and in evaluation gradients also reach running statistics that require
     * them.
     *
     * @param input       {@code [N, C, ...]}, rank at least 2
     * @param runningMean {@code [C]}, or {@code null} (then {@code runningVar} too) to keep no
     *                    running statistics, which is allowed in training only
     * @param runningVar  {@code [C]}, or {@code null}
     * @param weight      {@code [C]}, or {@code null} for 1
     * @param bias        {@code [C]}, or {@code null} for 0
     * @param training    whether to normalise with the batch's statistics and update the running ones
     * @param momentum    weight of the batch in the running statistics, in {@code [0, 1]}
     * @param eps         added to the variance, finite and {@code >= 0}
     * @return the normalised input, of the input's shape
     * @throws IllegalArgumentException on a rank below 2, a statistic, weight or bias that is not
     *                                  {@code [C]}, only one running statistic, a bad {@code eps}
     *                                  or {@code momentum}, evaluation without running statistics,
     *                                  or training with a single value per channel; nothing is
     *                                  changed then
     */
    public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, float momentum, float eps) {
        if (input == null) {
            throw new IllegalArgumentException("batchNorm: input is null");
        }
        int[] shape = input.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("batchNorm: input must have rank at least 2 ([N, C, ...]), got "
                    + Shapes.str(shape));
        }
        int channels = shape[1];
        checkPerChannel("running mean", runningMean, channels, shape);
        checkPerChannel("running variance", runningVar, channels, shape);
        checkPerChannel("weight", weight, channels, shape);
        checkPerChannel("bias", bias, channels, shape);
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException("batchNorm: running mean and running variance must both be given or "
                    + "both be null, got " + (runningMean == null ? "only the variance" : "only the mean"));
        }
        if (!(eps >= 0f && eps < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("batchNorm: eps must be finite and >= 0, got " + eps);
        }
        if (!(momentum >= 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("batchNorm: momentum must be in [0, 1], got " + momentum);
        }
        long count = input.size() / Math.max(channels, 1);
        if (training && count <= 1) {
            throw new IllegalArgumentException("batchNorm: Expected more than 1 value per channel when training, "
                    + "got input size " + Shapes.str(shape));
        }
        if (!training && runningMean == null) {
            throw new IllegalArgumentException("batchNorm: running mean and variance must be given in evaluation mode");
        }
        List<Tensor> operands = new ArrayList<>(List.of(input));
        for (Tensor t : new Tensor[] {runningMean, runningVar, weight, bias}) {
            if (t != null) {
                operands.add(t);
            }
        }
        Compute.backend("batchNorm", operands.toArray(Tensor[]::new));

        int batch = shape[0];
        int[] perChannel = {1, channels, 1};
        Tensor x = input.reshape(batch, channels, channels == 0 || batch == 0 ? 0 : (int) (count / batch));
        Tensor mean;
        Tensor variance;
        Tensor centered;
        if (training) {
            mean = SumTo.apply(x, perChannel).mul(1f / count);
            centered = x.sub(mean);
            variance = SumTo.apply(centered.mul(centered), perChannel).mul(1f / count);
        } else {
            mean = runningMean.reshape(perChannel);
            variance = runningVar.reshape(perChannel);
            centered = x.sub(mean);
        }
        Tensor y = centered.mul(variance.add(eps).pow(-0.5f));
        if (weight != null) {
            y = y.mul(weight.reshape(perChannel));
        }
        if (bias != null) {
            y = y.add(bias.reshape(perChannel));
        }
        y = y.reshape(shape);
        // A checkpointed re-run computes the same batch statistics; the first run already counted them.
        if (training && runningMean != null && !Recomputation.active()) {
            updateRunningStatistics(runningMean, runningVar, mean, variance, count, momentum);
        }
        return y;
    }

    /**
     * Layer normalisation over the last {@code normalizedAxes} axes ({@code torch.nn.functional.layer_norm}
     * with {@code normalized_shape} those axes' lengths): each slice over them is shifted to
     * mean 0 and scaled to variance 1 (the biased variance, plus {@code eps}), then multiplied
     * by {@code weight} and shifted by {@code bias} element by element.
     *
     * <p>One primitive: one pass per row forward (on the CPU), keeping each row's mean and
     * reciprocal standard deviation, and one pass per gradient backward; forward mode and
     * higher derivatives work.
     *
     * @param input          {@code [..., normalized axes]}
     * @param normalizedAxes how many trailing axes to normalise over, in {@code [1, rank]}
     * @param weight         of the normalised axes' shape, or {@code null} for 1
     * @param bias           of the normalised axes' shape, or {@code null} for 0
     * @param eps            added to the variance, finite and {@code >= 0} (PyTorch's default is 1e-5)
     * @return the normalised input, of the input's shape
     * @throws IllegalArgumentException on {@code normalizedAxes} out of range, a weight or bias
     *                                  of another shape than the normalised axes', or a bad
     *                                  {@code eps}; the message names the shapes
     */
    public static Tensor layerNorm(Tensor input, int normalizedAxes, Tensor weight, Tensor bias, float eps) {
        return LayerNorm.apply(input, normalizedAxes, weight, bias, eps);
    }

    private static void checkPerChannel(String what, Tensor t, int channels, int[] inputShape) {
        if (t != null && (t.rank() != 1 || t.shape()[0] != channels)) {
            throw new IllegalArgumentException("batchNorm: " + what + " has shape " + Shapes.str(t.shape())
                    + ", expected [" + channels + "] for the " + channels + " channels of input "
                    + Shapes.str(inputShape));
        }
    }

    /** Both new values are computed, and both targets given storage of their own, before either is written. */
    private static void updateRunningStatistics(Tensor runningMean, Tensor runningVar, Tensor batchMean,
                                                Tensor batchVariance, long count, float momentum) {
        int channels = runningMean.shape()[0];
        Tensor newMean;
        Tensor newVar;
        try (var _ = GradMode.noGrad()) {
            Tensor unbiased = batchVariance.detach().reshape(channels).mul((float) ((double) count / (count - 1)));
            newMean = runningMean.detach().mul(1f - momentum).add(batchMean.detach().reshape(channels).mul(momentum));
            newVar = runningVar.detach().mul(1f - momentum).add(unbiased.mul(momentum));
        }
        Buffer meanValues = Compute.buffer(newMean);
        Buffer varValues = Compute.buffer(newVar);
        TensorImpl meanTarget = TensorImpl.of(runningMean);
        TensorImpl varTarget = TensorImpl.of(runningVar);
        meanTarget.makeContiguous();
        varTarget.makeContiguous();
        if (SideEffects.logging()) {
            // A checkpointed chain that refuses its plan after this layer ran puts them back.
            Buffer meanBefore = Compute.buffer(SideEffects.snapshot(runningMean));
            Buffer varBefore = Compute.buffer(SideEffects.snapshot(runningVar));
            SideEffects.onUndo(() -> {
                overwrite(meanTarget, meanBefore, channels);
                overwrite(varTarget, varBefore, channels);
            });
        }
        overwrite(meanTarget, meanValues, channels);
        overwrite(varTarget, varValues, channels);
    }

    /** Writes {@code channels} values over a contiguous state tensor and counts the change in its version. */
    static void overwrite(TensorImpl target, Buffer values, int channels) {
        target.backend().copyStrided(values, 0, new int[] {1}, target.storage(), target.layout().offset(),
                new int[] {channels});
        target.version().increment();
    }

    /**
     * Scaled dot-product attention {@code softmax(q·kᵀ/√d)·v} over operands {@code [..., T, d]}:
     * the batch axes (all but the last two) broadcast, the keys and values may have a length
     * {@code S} other than the queries' {@code T}, and the values a width {@code dv} other than
     * {@code d}. With {@code causal}, query {@code i} sees keys {@code j ≤ i} only (PyTorch's
     * {@code is_causal}, aligned at the top left).
     *
     * <p>One fused primitive: the backend computes it block by block with an online softmax
     * (on the CPU and CUDA backends), keeping only the output and one log-sum-exp per query
     * row, never the {@code T × S} scores of every head at once; the backward pass recomputes
     * the probabilities from them. Forward mode and higher derivatives run through the plain
     * composition of matmul and softmax.
     *
     * @param query  {@code [..., T, d]}
     * @param key    {@code [..., S, d]}
     * @param value  {@code [..., S, dv]}
     * @param causal whether query {@code i} sees only keys {@code j ≤ i}
     * @return {@code [..., T, dv]}, with the broadcast batch axes
     * @throws IllegalArgumentException naming {@code scaledDotProductAttention} and the shapes: a rank
     *                                  below 2, query and key widths that differ, key and value
     *                                  lengths that differ, no keys, batch axes that do not broadcast
     */
    public static Tensor scaledDotProductAttention(Tensor query, Tensor key, Tensor value, boolean causal) {
        return org.adjoint.internal.ops.Attention.apply(query, key, value, causal);
    }
}
