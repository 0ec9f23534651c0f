package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;
import org.adjoint.internal.Shapes;
import org.adjoint.nn.Activation;

/**
 * {@code y = activation(x·W + b)} as one primitive: one GEMM, then bias and activation in
 * place on its result (no intermediate tensors), and backward one pass for
 * {@code g = dy · activation'} shared by the three VJPs: {@code dx = g·Wᵀ},
 * {@code dW = xᵀ·g}, {@code db = Σ_rows g}. Saves x only when W needs a gradient, W only
 * when x does, and y unless the activation is the identity.
 */
public final class LinearActivation extends Node {

    private final Activation activation;
    private Saved x;
    private Saved w;
    private Saved y;
    private Tensor lastCotangent;
    private Tensor lastGrad;

    private LinearActivation(Activation activation) {
        this.activation = activation;
    }

    /**
     * Applies the layer.
     *
     * @param x          {@code [rows, in]}
     * @param w          {@code [in, out]}
     * @param bias       {@code [out]}, or {@code null}
     * @param activation the function
     * @return {@code [rows, out]}
     */
    public static Tensor apply(Tensor x, Tensor w, Tensor bias, Activation activation) {
        int[] xs = Compute.shape(x);
        int[] ws = Compute.shape(w);
        if (xs.length != 2 || ws.length != 2 || xs[1] != ws[0]
                || bias != null && (bias.rank() != 1 || bias.shape()[0] != ws[1])) {
            throw new IllegalArgumentException("linear: cannot apply weight " + Shapes.str(ws)
                    + (bias == null ? "" : " and bias " + Shapes.str(Compute.shape(bias))) + " to input " + Shapes.str(xs)
                    + " (expected input [rows, " + (ws.length == 2 ? ws[0] : "in") + "], weight [in, out], bias [out])");
        }
        Backend backend = bias == null ? Compute.backend("linear", x, w) : Compute.backend("linear", x, w, bias);
        int rows = xs[0];
        int in = xs[1];
        int out = ws[1];
        Buffer result = Compute.allocate(backend, (long) rows * out);
        backend.gemm(false, false, 1, rows, out, in, 1f, Compute.buffer(x), 0, Compute.buffer(w), 0, 0f, result, 0);
        backend.biasActivation(activation, result, bias == null ? null : Compute.buffer(bias), rows, out);
        Tensor y = Compute.wrap(backend, result, new int[] {rows, out});
        if (Forward.any(x, w, bias)) {
            Forward.attach(y, tangent(x, w, bias, Forward.primal(y), activation));
        }
        Tensor[] inputs = bias == null ? new Tensor[] {x, w} : new Tensor[] {x, w, bias};
        if (!Graph.recording(inputs)) {
            return y;
        }
        LinearActivation node = new LinearActivation(activation);
        if (w.requiresGrad()) {
            node.x = Saved.of(x);
        }
        if (x.requiresGrad()) {
            node.w = Saved.of(w);
        }
        Graph.record(node, y, inputs);
        if (activation != Activation.IDENTITY) {
            node.y = Saved.of(y);
        }
        return y;
    }

    /** JVP: {@code activation'(y) · (dx·W + x·dW + db)}. */
    private static Tensor tangent(Tensor x, Tensor w, Tensor bias, Tensor y, Activation activation) {
        Tensor dx = Forward.tangent(x);
        Tensor dw = Forward.tangent(w);
        Tensor db = bias == null ? null : Forward.tangent(bias);
        Tensor pre = Add.sum(dx == null ? null : dx.matmul(Forward.primal(w)), dw == null ? null : Forward.primal(x).matmul(dw));
        pre = Add.sum(pre, db == null ? null : BroadcastTo.apply(db, y.shape()));
        if (pre == null) {
            return null;
        }
        pre = BroadcastTo.apply(pre, y.shape());
        return switch (activation) {
            case IDENTITY -> pre;
            case RELU -> pre.mul(Compute.unary(UnaryOp.STEP, 0f, y));
            case TANH -> pre.mul(y.mul(y).neg().add(1f));
            case SIGMOID -> pre.mul(y.mul(y.neg().add(1f)));
        };
    }

    @Override
    public String name() {
        return "linear";
    }

    @Override
    protected Tensor vjp(int input, Tensor cotangent) {
        Tensor g = activationGrad(cotangent);
        return switch (input) {
            case 0 -> MatMul.apply(g, w.get(name()), false, true);
            case 1 -> MatMul.apply(x.get(name()), g, true, false);
            default -> g.sum(0, false);
        };
    }

    /** {@code dy · activation'}, computed once per cotangent for the three VJPs. */
    private Tensor activationGrad(Tensor cotangent) {
        if (cotangent == lastCotangent) {
            return lastGrad;
        }
        Tensor g;
        if (activation == Activation.IDENTITY) {
            g = cotangent;
        } else if (GradMode.isEnabled() || Forward.active()) {
            // Recording a backward pass, or pushing tangents through it: compose the derivative
            // from operations that record and propagate.
            Tensor out = y.get(name());
            g = switch (activation) {
                case RELU -> cotangent.mul(Compute.unary(UnaryOp.STEP, 0f, out));
                case TANH -> cotangent.mul(out.mul(out).neg().add(1f));
                case SIGMOID -> cotangent.mul(out.mul(out.neg().add(1f)));
                case IDENTITY -> cotangent;
            };
        } else {
            Tensor out = y.get(name());
            Backend backend = Compute.backend("linear", out, cotangent);
            Buffer result = Compute.allocate(backend, out.size());
            backend.activationGrad(activation, Compute.buffer(out), Compute.buffer(cotangent), result);
            g = Compute.wrap(backend, result, out.shape());
        }
        lastCotangent = cotangent;
        lastGrad = g;
        return g;
    }

    @Override
    protected void pullbackDone() {
        // The shared derivative belongs to this pass: its buffer is recycled after it.
        lastCotangent = null;
        lastGrad = null;
    }

    @Override
    protected void releaseSaved() {
        x = null;
        w = null;
        y = null;
        lastCotangent = null;
        lastGrad = null;
    }

    @Override
    public java.util.List<Tensor> saved() {
        return Saved.tensors(x, w, y);
    }
}
