package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;
import org.adjoint.internal.Shapes;

/**
 * Softmax cross-entropy of logits against class labels, averaged over rows, as one
 * primitive: log-softmax and the negative log-likelihood forward, and one pass
 * {@code (softmax − onehot) · dL / rows} backward, instead of the five passes the naive
 * composition {@code logSoftmax}, one-hot product, sum, mean makes.
 */
public final class CrossEntropy extends Node {

    private final int rows;
    private final int classes;
    private Saved logits;
    private Tensor logProbabilities;
    private Tensor labels;

    private CrossEntropy(int rows, int classes) {
        this.rows = rows;
        this.classes = classes;
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
        int rows = shape[0];
        int classes = shape[1];
        float[] labelValues = new float[rows];
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] >= classes) {
                throw new IllegalArgumentException("crossEntropy: label " + labels[r] + " of row " + r
                        + " is outside [0, " + classes + ")");
            }
            labelValues[r] = labels[r];
        }
        Backend backend = Compute.backend("crossEntropy", logits);
        Buffer logProbabilities = Compute.allocate(backend, logits.size());
        backend.softmax(Compute.buffer(logits), rows, classes, 1, true, logProbabilities);
        Buffer labelBuffer = backend.upload(labelValues);
        Buffer loss = Compute.allocate(backend, 1);
        backend.negativeLogLikelihood(logProbabilities, labelBuffer, rows, classes, loss);
        Tensor out = Compute.wrap(backend, loss, new int[0]);
        if (Forward.any(logits)) {
            Tensor probabilities = Compute.wrap(backend, logProbabilities, shape.clone()).exp();
            float[] oneHot = HostArrays.floats("crossEntropy one-hot labels", (long) rows * classes);
            for (int r = 0; r < rows; r++) {
                oneHot[r * classes + labels[r]] = 1f;
            }
            Tensor target = Compute.wrap(backend, backend.upload(oneHot), shape.clone());
            Forward.attach(out, probabilities.sub(target).mul(Forward.tangent(logits)).sum().div(rows));
        }
        if (!Graph.recording(logits)) {
            return out;
        }
        CrossEntropy node = new CrossEntropy(rows, classes);
        node.logits = Saved.of(logits);
        node.logProbabilities = Compute.wrap(backend, logProbabilities, shape.clone());
        node.labels = Compute.wrap(backend, labelBuffer, new int[] {rows});
        return Graph.record(node, out, logits);
    }

    @Override
    public String name() {
        return "crossEntropy";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        if (GradMode.isEnabled() || Forward.active()) {
            // Recording a backward pass: the same rule from differentiable operations.
            float[] oneHot = HostArrays.floats("crossEntropy one-hot labels", (long) rows * classes);
            float[] labelValues = labels.toFloatArray();
            for (int r = 0; r < rows; r++) {
                oneHot[r * classes + (int) labelValues[r]] = 1f;
            }
            Tensor target = Compute.wrap(Compute.backend("crossEntropy", cotangent),
                    Compute.backend("crossEntropy", cotangent).upload(oneHot), new int[] {rows, classes});
            return logits.get(name()).softmax(1).sub(target).mul(cotangent.div(rows));
        }
        Backend backend = Compute.backend("crossEntropy", cotangent);
        Buffer out = Compute.allocate(backend, (long) rows * classes);
        backend.crossEntropyGrad(Compute.buffer(logProbabilities), Compute.buffer(labels), rows, classes,
                cotangent.item() / rows, out);
        return Compute.wrap(backend, out, new int[] {rows, classes});
    }

    @Override
    protected void releaseSaved() {
        logits = null;
        logProbabilities = null;
        labels = null;
    }

    @Override
    public java.util.List<Tensor> saved() {
        java.util.List<Tensor> list = new java.util.ArrayList<>(Saved.tensors(logits));
        if (logProbabilities != null) {
            list.add(logProbabilities);
            list.add(labels);
        }
        return list;
    }
}
