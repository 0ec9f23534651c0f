package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Softmax cross-entropy of logits against class labels, averaged over rows,
 * as one primitive: log-softmax and the negative log-likelihood forward, and one pass
 * {@code (softmax − onehot) · dL / rows} backward, instead of the five passes the naive
 * composition {@code logSoftmax}, one-hot product, sum, mean makes.
 *
 * <p>The labels are the second input, uploaded once as the device reads them and saved, so
 * that the node re-runs from its own copy. The forward keeps the log-probabilities as a
 * residual for the fused VJP; the recorded VJP reads the saved logits instead, so that it
 * can be differentiated again.
 */
public final class CrossEntropy extends Primitive<Void> {

    private static final CrossEntropy CROSS_ENTROPY = new CrossEntropy();
    private static final int LOG_PROBABILITIES = 0;
    private static final int LABELS = 1;

    private CrossEntropy() {
        super("crossEntropy");
    }

    /**
     * The mean cross-entropy.
     *
     * @param logits {@code [rows, classes]}
     * @param labels one class index in {@code [0, classes)} per row
     * @return a rank-0 tensor
     */
    public static Tensor apply(Tensor logits, int[] labels) {
        int[] shape = Compute.shape(logits);
        if (shape.length != 2 || shape[0] != labels.length) {
            throw new IllegalArgumentException("crossEntropy: logits " + Shapes.str(shape) + " do not match "
                    + labels.length + " labels (expected logits [" + labels.length + ", classes])");
        }
        if (shape[1] > Shapes.FLOAT_EXACT_INTEGERS) {
            // The labels travel as float32, exact up to 2^24: past it two classes would be one.
            throw new IllegalArgumentException("crossEntropy: " + shape[1] + " classes, more than the "
                    + Shapes.FLOAT_EXACT_INTEGERS
                    + " that float32 labels tell apart");
        }
        for (int r = 0; r < labels.length; r++) {
            if (labels[r] < 0 || labels[r] >= shape[1]) {
                throw new IllegalArgumentException("crossEntropy: label " + labels[r] + " of row " + r
                        + " is outside [0, " + shape[1] + ")");
            }
        }
        // The labels are an input the node saves, uploaded once here: a re-run reads them as they
        // were, whatever the caller does with its array afterwards.
        float[] labelValues = new float[labels.length];
        for (int r = 0; r < labels.length; r++) {
            labelValues[r] = labels[r];
        }
        Backend backend = Compute.backend("crossEntropy", logits);
        Tensor uploaded = Compute.wrap(backend, backend.upload(labelValues), new int[] {labels.length});
        return Ops.apply(CROSS_ENTROPY, null, logits, uploaded);
    }

    @Override
    protected Tensor forward(Void none, Tensor[] inputs, Residuals residuals) {
        Tensor logits = inputs[0];
        int[] shape = Compute.shape(logits);
        int rows = shape[0];
        int classes = shape[1];
        Backend backend = Compute.backend(name(none), logits);
        // softmax, the negative log-likelihood and the gradient write every element of their outputs.
        Buffer logProbabilities = Compute.allocateUninitialized(backend, logits.size());
        backend.softmax(Compute.buffer(logits), rows, classes, 1, true, logProbabilities);
        Buffer loss = Compute.allocateUninitialized(backend, 1);
        backend.negativeLogLikelihood(logProbabilities, Compute.buffer(inputs[LABELS]), rows, classes, loss);
        residuals.keep(Compute.wrap(backend, logProbabilities, shape));
        return Compute.wrap(backend, loss, new int[0]);
    }

    @Override
    protected boolean savesInput(Void none, int index, Tensor[] inputs) {
        return true;
    }

    @Override
    protected Tensor vjp(Void none, Values saved, int input, Tensor cotangent) {
        Tensor logits = saved.input(0);
        int[] shape = Compute.shape(logits);
        return logits.softmax(1).sub(oneHot(saved.input(LABELS).toFloatArray(), shape, cotangent))
                .mul(cotangent.div(shape[0]));
    }

    @Override
    protected Tensor fusedVjp(Void none, Values saved, int input, Tensor cotangent) {
        Tensor logProbabilities = saved.residual(LOG_PROBABILITIES);
        int[] shape = Compute.shape(logProbabilities);
        Backend backend = Compute.backend(name(none), cotangent);
        Buffer out = Compute.allocateUninitialized(backend, logProbabilities.size());
        backend.crossEntropyGrad(Compute.buffer(logProbabilities), Compute.buffer(saved.input(LABELS)), shape[0],
                shape[1], Compute.buffer(cotangent), out);
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected Tensor jvp(Void none, Values primals, Tensor[] tangents) {
        Tensor logProbabilities = primals.residual(LOG_PROBABILITIES);
        int[] shape = Compute.shape(logProbabilities);
        Tensor target = oneHot(primals.input(LABELS).toFloatArray(), shape, logProbabilities);
        return logProbabilities.exp().sub(target).mul(tangents[0]).sum().div(shape[0]);
    }

    /** The one-hot matrix of the labels, on the backend of {@code like}. */
    private Tensor oneHot(float[] labels, int[] shape, Tensor like) {
        float[] oneHot = HostArrays.floats("crossEntropy one-hot labels", (long) shape[0] * shape[1]);
        for (int r = 0; r < shape[0]; r++) {
            oneHot[r * shape[1] + (int) labels[r]] = 1f;
        }
        Backend backend = Compute.backend("crossEntropy", like);
        return Compute.wrap(backend, backend.upload(oneHot), shape.clone());
    }
}
