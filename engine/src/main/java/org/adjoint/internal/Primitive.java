package org.adjoint.internal;

import org.adjoint.Tensor;

/**
 * A differentiable operation, declared in parts that {@link Ops#apply} puts together: a pure
 * forward computation, a VJP per input and a JVP (written with {@link Tensor} operations, so
 * that they run on every backend and can be differentiated again), what the VJPs read (inputs
 * by index, the output, and residuals the forward computed on the way), and optionally a fused
 * VJP for a backward pass that is not itself recorded.
 *
 * <p>A primitive holds no per-call state: what varies between calls (an axis, a target shape,
 * transpose flags) is its attributes {@code A}, given to every part, so that the common
 * primitives are constants and applying one allocates nothing beyond its result. A primitive
 * never records, attaches tangents or saves anything itself: the driver does, the same way
 * for all of them.
 *
 * @param <A> the type of its attributes ({@link Void} for none)
 */
public abstract class Primitive<A> {

    /** What the rules read: saved values in a VJP (checked against in-place changes), primal values in a JVP. */
    public interface Values {
        /**
         * Whether input {@code index} gets its cotangent from this backward pass's rules: it
         * needs a gradient, and the pass does not place the output's cotangent for it by
         * region ({@link Primitive#cotangentRegion}). True outside a backward pass.
         *
         * @param index the input
         * @return whether a VJP of it will be asked for
         */
        default boolean receivesCotangent(int index) {
            return true;
        }

        /**
         * An input's value.
         *
         * @param index the input
         * @return its value
         * @throws IllegalStateException in a VJP, when the input was not saved or was modified in place since
         */
        Tensor input(int index);

        /**
         * The output's value.
         *
         * @return its value
         * @throws IllegalStateException in a VJP, when the output was not saved or was modified in place since
         */
        Tensor output();

        /**
         * A residual the forward computation kept.
         *
         * @param index the order in which it was kept
         * @return its value
         * @throws IllegalStateException in a VJP, when it was modified in place since
         */
        Tensor residual(int index);

        /**
         * An input's shape; in a VJP, only of an input that receives a gradient.
         *
         * @param index the input
         * @return its shape (do not modify)
         */
        int[] inputShape(int index);
    }

    /** Where a forward computation hands intermediate results that its rules need (a mask, log-probabilities). */
    @FunctionalInterface
    public interface Residuals {
        /**
         * Keeps one residual; the rules read it back by the order of these calls.
         *
         * @param residual a tensor the forward computed
         */
        void keep(Tensor residual);

        /**
         * Whether anything will read the residuals: {@code false} when the forward runs with
         * neither a tape nor tangents (inference, a re-run for a value alone), so that a
         * forward can skip computing them.
         *
         * @return whether {@link #keep} calls are used
         */
        default boolean wanted() {
            return true;
        }
    }

    /** The highest input index that can be saved by index; a primitive keeps an input beyond it as a residual. */
    public static final int MAX_SAVED_INPUT = 30;

    private final String name;

    /**
     * A primitive called {@code name} in messages.
     *
     * @param name the name
     */
    protected Primitive(String name) {
        this.name = name;
    }

    /**
     * The name of an application, for messages.
     *
     * @param attributes the attributes
     * @return the name, such as {@code matmul}
     */
    public String name(A attributes) {
        return name;
    }

    /**
     * Computes the output from the inputs' values, allocating only what it returns or keeps,
     * and reading nothing but its arguments, so that it can run again with the same result.
     *
     * @param attributes the attributes
     * @param inputs     the inputs (their tangents and history must not be used)
     * @param residuals  where to keep intermediate results the rules read
     * @return the output, a new tensor
     */
    protected abstract Tensor forward(A attributes, Tensor[] inputs, Residuals residuals);

    /**
     * The cotangent of one input.
     *
     * @param attributes the attributes
     * @param saved      what the forward pass saved
     * @param input      the input's index
     * @param cotangent  the output's cotangent, or what {@link #shared} made of it
     * @return the input's cotangent, of the input's shape, or {@code null} for zero
     */
    protected abstract Tensor vjp(A attributes, Values saved, int input, Tensor cotangent);

    /**
     * The output's tangent.
     *
     * @param attributes the attributes
     * @param primals    the inputs', output's and residuals' values
     * @param tangents   one tangent per input, {@code null} for zero
     * @return the output's tangent, or {@code null} for zero
     */
    protected abstract Tensor jvp(A attributes, Values primals, Tensor[] tangents);

    /**
     * Whether the VJPs read one input, which may depend on which inputs receive a gradient
     * ({@code inputs[i].requiresGrad()}): a product's VJP for one operand reads only the
     * other. The default saves none.
     *
     * @param attributes the attributes
     * @param index      the input
     * @param inputs     all inputs, for their {@code requiresGrad} only
     * @return true to save it
     */
    protected boolean savesInput(A attributes, int index, Tensor[] inputs) {
        return false;
    }

    /**
     * Whether the VJPs read the output. The default is no.
     *
     * @param attributes the attributes
     * @return true to save the output
     */
    protected boolean savesOutput(A attributes) {
        return false;
    }

    /**
     * What the VJPs of every input start from, computed once per backward pass: by default
     * the output's cotangent itself; a fused operation returns the cotangent of its inner
     * intermediate here, so that its several VJPs do not each compute it.
     *
     * @param attributes the attributes
     * @param saved      what the forward pass saved
     * @param cotangent  the output's cotangent
     * @param fused      whether the backward pass is not recorded, so kernels may replace differentiable operations
     * @return what {@link #vjp} and {@link #fusedVjp} receive as the cotangent
     */
    protected Tensor shared(A attributes, Values saved, Tensor cotangent, boolean fused) {
        return cotangent;
    }

    /**
     * Where the VJP of input {@code input} places the output's cotangent, when it places it in
     * zeros and does nothing else (see {@link Node#cotangentRegion}); {@code null}, the default,
     * for every other rule.
     *
     * @param attributes the attributes
     * @param input      index of the input
     * @return the range, or {@code null}
     */
    protected Node.Region cotangentRegion(A attributes, int input) {
        return null;
    }

    /**
     * The cotangent of one input when the backward pass is not recorded (no higher
     * derivatives, no tangents), so that one kernel may replace several differentiable
     * operations. The default is {@link #vjp}.
     *
     * @param attributes the attributes
     * @param saved      what the forward pass saved
     * @param input      the input's index
     * @param cotangent  the output's cotangent, or what {@link #shared} made of it
     * @return the input's cotangent, or {@code null} for zero
     */
    protected Tensor fusedVjp(A attributes, Values saved, int input, Tensor cotangent) {
        return vjp(attributes, saved, input, cotangent);
    }

    /**
     * The cotangents of several inputs from one computation when the backward pass is not
     * recorded, asked for once per backward pass, before any input's: a product whose operands
     * both need a gradient computes the two products in one backend call
     * ({@link org.adjoint.backend.ArithmeticOps#gemmPair}), which may run them side by side.
     * Entry {@code i} is input {@code i}'s cotangent; an input whose entry is {@code null}, or
     * beyond the array, gets {@link #fusedVjp}. Only inputs for which
     * {@link Values#receivesCotangent} holds are asked for. The default, {@code null}, gives
     * every input its {@link #fusedVjp}. The results must be those {@link #fusedVjp} gives.
     *
     * @param attributes the attributes
     * @param saved      what the forward pass saved, and which inputs receive a cotangent
     * @param cotangent  the output's cotangent, or what {@link #shared} made of it
     * @return cotangents by input, or {@code null}
     */
    protected Tensor[] fusedVjps(A attributes, Values saved, Tensor cotangent) {
        return null;
    }
}
