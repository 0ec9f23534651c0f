package org.adjoint.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Recomputation;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.SideEffects;
import org.adjoint.internal.TensorImpl;

/**
 * Batch normalisation of images {@code [N, C, H, W]} per channel, as PyTorch's
 * {@code nn.BatchNorm2d} with {@code affine} and {@code track_running_stats}: see
 * {@link Functional#batchNorm}. In training (the initial mode) it normalises with the batch's
 * statistics and updates the running ones; after {@link #eval()} it uses the running ones.
 *
 * <p>The state dict has PyTorch's names and order: parameters {@code weight} (starting at 1)
 * and {@code bias} (at 0), buffers {@code running_mean} (0), {@code running_var} (1) and
 * {@code num_batches_tracked} (a 0-d count of training calls, float32 here where PyTorch keeps
 * an int64: exact to 2<sup>24</sup> calls, where it stops growing; nothing here reads it,
 * since the running statistics use {@code momentum}). The buffers are not
 * {@link #parameters()}: no optimizer updates them.
 * A checkpointed chain that re-runs the layer in its backward pass updates nothing a second time.
 */
public final class BatchNorm2d implements Module {

    private final int channels;
    private final float eps;
    private final float momentum;
    private final Tensor weight;
    private final Tensor bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private final Tensor numBatchesTracked;
    private boolean training = true;

    /**
     * A layer with PyTorch's defaults: {@code eps = 1e-5}, {@code momentum = 0.1}.
     *
     * @param channels the number of channels, {@code C}
     */
    public BatchNorm2d(int channels) {
        this(channels, 1e-5f, 0.1f);
    }

    /**
     * A layer with chosen constants.
     *
     * @param channels the number of channels, {@code C}, at least 1
     * @param eps      added to the variance, finite and {@code >= 0}
     * @param momentum weight of each batch in the running statistics, in {@code [0, 1]}
     */
    public BatchNorm2d(int channels, float eps, float momentum) {
        if (channels < 1) {
            throw new IllegalArgumentException("BatchNorm2d: channels must be at least 1, got " + channels);
        }
        if (!(eps >= 0f && eps < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("BatchNorm2d: eps must be finite and >= 0, got " + eps);
        }
        if (!(momentum >= 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("BatchNorm2d: momentum must be in [0, 1], got " + momentum);
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = Tensor.ones(channels).requiresGrad(true);
        this.bias = Tensor.zeros(channels).requiresGrad(true);
        this.runningMean = Tensor.zeros(channels);
        this.runningVar = Tensor.ones(channels);
        this.numBatchesTracked = Tensor.zeros();
    }

    @Override
    public Tensor apply(Tensor x) {
        int[] shape = x.shape();
        if (shape.length != 4 || shape[1] != channels) {
            throw new IllegalArgumentException("BatchNorm2d(" + channels + "): expected input [N, " + channels
                    + ", H, W], got " + Shapes.str(shape));
        }
        boolean counts = training && !Recomputation.active();
        Tensor nextCount = null;
        Buffer countBefore = null;
        if (counts) {
            // Computed before the layer runs so that nothing can fail between its update and this one.
            try (var _ = GradMode.noGrad()) {
                nextCount = Compute.copy(numBatchesTracked.add(1f));
            }
            if (SideEffects.logging()) {
                countBefore = Compute.buffer(SideEffects.snapshot(numBatchesTracked));
            }
        }
        Tensor y = Functional.batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
        if (counts) {
            TensorImpl target = TensorImpl.of(numBatchesTracked);
            if (countBefore != null) {
                Buffer before = countBefore;
                SideEffects.onUndo(() -> Functional.overwrite(target, before, 1));
            }
            Functional.overwrite(target, Compute.buffer(nextCount), 1);
        }
        return y;
    }

    @Override
    public BatchNorm2d train(boolean training) {
        this.training = training;
        return this;
    }

    /**
     * Whether the layer is in training mode.
     *
     * @return {@code true} after construction and {@code train(true)}, {@code false} after {@link #eval()}
     */
    public boolean isTraining() {
        return training;
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("weight", weight);
        named.put("bias", bias);
        return java.util.Collections.unmodifiableMap(named);
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("running_mean", runningMean);
        named.put("running_var", runningVar);
        named.put("num_batches_tracked", numBatchesTracked);
        return java.util.Collections.unmodifiableMap(named);
    }

    /**
     * The scale, {@code [C]}.
     *
     * @return the weight parameter
     */
    public Tensor weight() {
        return weight;
    }

    /**
     * The shift, {@code [C]}.
     *
     * @return the bias parameter
     */
    public Tensor bias() {
        return bias;
    }

    /**
     * The running mean, {@code [C]}, updated in place in training.
     *
     * @return the buffer
     */
    public Tensor runningMean() {
        return runningMean;
    }

    /**
     * The running (unbiased) variance, {@code [C]}, updated in place in training.
     *
     * @return the buffer
     */
    public Tensor runningVar() {
        return runningVar;
    }

    /**
     * The number of training calls so far, a 0-d tensor.
     *
     * @return the buffer
     */
    public Tensor numBatchesTracked() {
        return numBatchesTracked;
    }

    @Override
    public String toString() {
        return "BatchNorm2d(" + channels + ", eps=" + eps + ", momentum=" + momentum + ")";
    }
}
