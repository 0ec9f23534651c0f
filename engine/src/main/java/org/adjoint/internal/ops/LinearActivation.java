package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;
import org.adjoint.nn.Activation;

/**
 * {@code y = activation(x·W + b)} as one primitive (the attribute is the activation): one GEMM,
 * then bias and activation in place on its result (no intermediate tensors; without an
 * activation, the product and bias in one backend call, {@code gemmBias}), and backward
 * {@code g = dy · activation'(y)} once, shared by the three VJPs: {@code dx = g·Wᵀ},
 * {@code dW = xᵀ·g}, {@code db = Σ_rows g}. The activation's derivative is its
 * {@link Pointwise} row's; a backward pass that is not recorded computes {@code g} with one
 * kernel instead. Saves x only when W needs a gradient, W only when x does, and y unless the
 * activation is the identity.
 */
public final class LinearActivation extends Primitive<Activation> {

    private static final LinearActivation LINEAR = new LinearActivation();

    private LinearActivation() {
        super("linear");
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
        return bias == null ? Ops.apply(LINEAR, activation, x, w) : Ops.apply(LINEAR, activation, x, w, bias);
    }

    @Override
    protected Tensor forward(Activation activation, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Tensor w = inputs[1];
        Tensor bias = inputs.length > 2 ? inputs[2] : null;
        Backend backend = bias == null ? Compute.backend("linear", x, w) : Compute.backend("linear", x, w, bias);
        int rows = Compute.shape(x)[0];
        int in = Compute.shape(x)[1];
        int out = Compute.shape(w)[1];
        Buffer result = Compute.allocateUninitialized(backend, (long) rows * out);
        Compute.Matrices mx = Compute.matrices(x);
        Compute.Matrices mw = Compute.matrices(w);
        if (activation == Activation.IDENTITY && bias != null) {
            // The product and its bias in one call, which may save the pass over the result.
            backend.gemmBias(mx.transposed(), mw.transposed(), rows, out, in, mx.buffer(), mx.offset(), mw.buffer(),
                    mw.offset(), Compute.buffer(bias), result);
        } else {
            backend.gemm(mx.transposed(), mw.transposed(), 1, rows, out, in, 1f,
                    mx.buffer(), mx.offset(), 0, mw.buffer(), mw.offset(), 0, 0f, result, 0, 0);
            backend.biasActivation(kernel(activation), result, bias == null ? null : Compute.buffer(bias), rows, out);
        }
        return Compute.wrap(backend, result, new int[] {rows, out});
    }

    /** The backend's name of the activation: its {@link Pointwise} row's function, {@code null} for none. */
    private static UnaryOp kernel(Activation activation) {
        Pointwise row = Pointwise.of(activation);
        return row == null ? null : row.op();
    }

    @Override
    protected boolean savesInput(Activation activation, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected boolean savesOutput(Activation activation) {
        return activation != Activation.IDENTITY;
    }

    @Override
    protected Tensor shared(Activation activation, Values saved, Tensor cotangent, boolean fused) {
        if (activation == Activation.IDENTITY) {
            return cotangent;
        }
        Tensor y = saved.output();
        if (!fused) {
            return cotangent.mul(Pointwise.of(activation).factor(y, 0f));
        }
        Backend backend = Compute.backend("linear", y, cotangent);
        Buffer result = Compute.allocate(backend, y.size());
        backend.activationGrad(kernel(activation), Compute.buffer(y), Compute.buffer(cotangent), result);
        return Compute.wrap(backend, result, y.shape());
    }

    @Override
    protected Tensor vjp(Activation activation, Values saved, int input, Tensor g) {
        return switch (input) {
            case 0, 1 -> product(saved, input, g).apply();
            default -> g.sum(0, false);
        };
    }

    /** {@code dx} and {@code dW} from one {@link MatMul#pair} call when both are needed; {@code db} from {@link #vjp}. */
    @Override
    protected Tensor[] fusedVjps(Activation activation, Values saved, Tensor g) {
        return saved.receivesCotangent(0) && saved.receivesCotangent(1)
                ? MatMul.pair(product(saved, 0, g), product(saved, 1, g)) : null;
    }

    /** The product that is the input's ({@code dx = g·Wᵀ}) or the weight's ({@code dW = xᵀ·g}) cotangent. */
    private static MatMul.Operands product(Values saved, int input, Tensor g) {
        return input == 0 ? new MatMul.Operands(g, saved.input(1), false, true)
                : new MatMul.Operands(saved.input(0), g, true, false);
    }

    /** {@code activation'(y) · (dx·W + x·dW + db)}. */
    @Override
    protected Tensor jvp(Activation activation, Values primals, Tensor[] tangents) {
        Tensor dx = tangents[0];
        Tensor dw = tangents[1];
        Tensor db = tangents.length > 2 ? tangents[2] : null;
        Tensor y = primals.output();
        Tensor pre = Add.sum(dx == null ? null : dx.matmul(primals.input(1)),
                dw == null ? null : primals.input(0).matmul(dw));
        pre = Add.sum(pre, db == null ? null : BroadcastTo.apply(db, y.shape()));
        if (pre == null) {
            return null;
        }
        pre = BroadcastTo.apply(pre, y.shape());
        return activation == Activation.IDENTITY ? pre : pre.mul(Pointwise.of(activation).factor(y, 0f));
    }
}
