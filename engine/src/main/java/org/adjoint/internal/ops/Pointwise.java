package org.adjoint.internal.ops;

import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.nn.Activation;

/**
 * Element-wise functions of one tensor, one row each: the kernel that computes it, its
 * derivative as a function of the input or of the output, and its name. The derivative is
 * one factor that serves both modes: the VJP is {@code cotangent · f'} and the JVP
 * {@code tangent · f'}. The row saves only the value its derivative is written in. The
 * attribute is the kernel's parameter (the exponent of {@code pow}), {@code null} for none.
 */
public final class Pointwise extends Primitive<Float> {

    /** A derivative written in one value (the input or the output) and the kernel's parameter. */
    @FunctionalInterface
    interface Derivative {
        /**
         * The factor {@code f'} at {@code value}.
         *
         * @param value     the input or the output, as the row says
         * @param parameter the kernel's parameter
         * @return the factor, or {@code null} where the derivative is zero everywhere
         */
        Tensor at(Tensor value, float parameter);
    }

    /** {@code e^x}: {@code d e^x = e^x dx}. */
    public static final Pointwise EXP = new Pointwise("exp", UnaryOp.EXP, true, (y, p) -> y);
    /** Natural logarithm: {@code d log x = dx / x}. */
    public static final Pointwise LOG = new Pointwise("log", UnaryOp.LOG, false, (x, p) -> x.pow(-1f));
    /** Square root: {@code d √x = dx / (2 √x)}. */
    public static final Pointwise SQRT = new Pointwise("sqrt", UnaryOp.SQRT, true, (y, p) -> y.mul(2f).pow(-1f));
    /** Hyperbolic tangent: {@code d tanh x = (1 − tanh² x) dx}. */
    public static final Pointwise TANH = new Pointwise("tanh", UnaryOp.TANH, true, (y, p) -> y.mul(y).neg().add(1f));
    /** Logistic sigmoid: {@code dσ = σ (1 − σ) dx}. */
    public static final Pointwise SIGMOID = new Pointwise("sigmoid", UnaryOp.SIGMOID, true,
            (y, p) -> y.mul(y.neg().add(1f)));
    /** ReLU: the cotangent masked where the output is 0 (a constant mask, so the rule stays differentiable). */
    public static final Pointwise RELU = new Pointwise("relu", UnaryOp.RELU, true,
            (y, p) -> Compute.unary(UnaryOp.STEP, 0f, y), UnaryOp.STEP);
    /** {@code x^p} for a constant {@code p}: {@code p x^(p−1) dx}. */
    public static final Pointwise POW = new Pointwise("pow", UnaryOp.POW, false,
            (x, p) -> p == 0f ? null : p == 2f ? x.mul(2f) : x.pow(p - 1f).mul(p));

    /** {@code 1 / √(2π)}, the standard normal density at 0. */
    private static final float INV_SQRT_2PI = (float) (1 / Math.sqrt(2 * Math.PI));
    /**
     * The derivative of exact GELU, {@code Φ(x) + x·φ(x)} (a kernel of its own, since Φ is not
     * a composition of the others); its own derivative {@code φ(x)·(2 − x²)} is composed, so
     * every order differentiates.
     */
    public static final Pointwise GELU_GRAD = new Pointwise("gelu_grad", UnaryOp.GELU_GRAD, false,
            (x, p) -> {
                Tensor square = x.mul(x);
                return square.mul(-0.5f).exp().mul(square.neg().add(2f)).mul(INV_SQRT_2PI);
            });
    /** Exact GELU {@code x·Φ(x)} (the erf form): {@code d gelu = (Φ(x) + x·φ(x)) dx}, the row above. */
    public static final Pointwise GELU = new Pointwise("gelu", UnaryOp.GELU, false, (x, p) -> GELU_GRAD.apply(x),
            UnaryOp.GELU_GRAD);

    /** Every row, for tests that cover the table. */
    public static final List<Pointwise> ROWS = List.of(EXP, LOG, SQRT, TANH, SIGMOID, RELU, POW, GELU, GELU_GRAD);

    private final UnaryOp op;
    private final boolean fromOutput;
    private final Derivative derivative;
    /** The kernel whose value is the derivative factor, for the one-pass VJP; {@code null} for none. */
    private final UnaryOp factorKernel;

    private Pointwise(String name, UnaryOp op, boolean fromOutput, Derivative derivative) {
        this(name, op, fromOutput, derivative, null);
    }

    private Pointwise(String name, UnaryOp op, boolean fromOutput, Derivative derivative, UnaryOp factorKernel) {
        super(name);
        this.op = op;
        this.fromOutput = fromOutput;
        this.derivative = derivative;
        this.factorKernel = factorKernel;
    }

    /**
     * The row of a fused layer's activation.
     *
     * @param activation the activation
     * @return its row, or {@code null} for the identity
     */
    static Pointwise of(Activation activation) {
        return switch (activation) {
            case IDENTITY -> null;
            case RELU -> RELU;
            case TANH -> TANH;
            case SIGMOID -> SIGMOID;
        };
    }

    /**
     * The kernel function, in the backend's vocabulary.
     *
     * @return the unary function
     */
    UnaryOp op() {
        return op;
    }

    /**
     * Whether the derivative is written in the output (else in the input).
     *
     * @return true for the output
     */
    public boolean fromOutput() {
        return fromOutput;
    }

    /**
     * Applies the function element-wise.
     *
     * @param x input
     * @return a new tensor of {@code x}'s shape
     */
    public Tensor apply(Tensor x) {
        return Ops.apply(this, null, x);
    }

    /**
     * Applies the function with a parameter ({@code pow}'s exponent).
     *
     * @param x         input
     * @param parameter the parameter
     * @return a new tensor of {@code x}'s shape
     */
    public Tensor apply(Tensor x, float parameter) {
        return Ops.apply(this, parameter, x);
    }

    /**
     * The derivative factor at a value: {@code cotangent · factor} is the VJP.
     *
     * @param value     the input or the output, as {@link #fromOutput()} says
     * @param parameter the parameter
     * @return the factor, or {@code null} for zero
     */
    Tensor factor(Tensor value, float parameter) {
        return derivative.at(value, parameter);
    }

    private static float parameter(Float attribute) {
        return attribute == null ? 0f : attribute;
    }

    @Override
    protected Tensor forward(Float parameter, Tensor[] inputs, Residuals residuals) {
        return Compute.unary(op, parameter(parameter), inputs[0]);
    }

    @Override
    protected boolean savesInput(Float parameter, int index, Tensor[] inputs) {
        return !fromOutput;
    }

    @Override
    protected boolean savesOutput(Float parameter) {
        return fromOutput;
    }

    @Override
    protected Tensor vjp(Float parameter, Values saved, int input, Tensor cotangent) {
        Tensor factor = derivative.at(fromOutput ? saved.output() : saved.input(0), parameter(parameter));
        return factor == null ? null : cotangent.mul(factor);
    }

    /**
     * Unrecorded, a row whose factor is one kernel ({@code relu}, {@code gelu}) computes
     * {@code cotangent · factor} in one pass ({@link org.adjoint.backend.ArithmeticOps#unaryTimes}),
     * the same bits as {@link #vjp}'s product without the factor's temporary.
     */
    @Override
    protected Tensor fusedVjp(Float parameter, Values saved, int input, Tensor cotangent) {
        Tensor value = fromOutput ? saved.output() : saved.input(0);
        if (factorKernel == null || !Arrays.equals(value.shape(), cotangent.shape())) {
            return vjp(parameter, saved, input, cotangent);
        }
        Backend backend = Compute.backend(name(parameter), value, cotangent);
        Buffer result = Compute.allocateUninitialized(backend, value.size());
        backend.unaryTimes(factorKernel, parameter(parameter), Compute.buffer(value), Compute.buffer(cotangent), result);
        return Compute.wrap(backend, result, value.shape());
    }

    @Override
    protected Tensor jvp(Float parameter, Values primals, Tensor[] tangents) {
        Tensor factor = derivative.at(fromOutput ? primals.output() : primals.input(0), parameter(parameter));
        return factor == null ? null : tangents[0].mul(factor);
    }
}
