package org.adjoint.autodiff;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * A new differentiable operation with rules of its own, like {@code torch.autograd.Function}
 * or {@code jax.custom_vjp}: a forward computation (run without recording), a VJP per input,
 * and optionally a JVP for forward mode. Write the rules with {@link Tensor} operations: they
 * then run on every backend and can be differentiated again. It is applied by the same
 * driver as the built-in operations: what it saves is checked against in-place changes, and
 * anomaly mode checks its output and gradients.
 *
 * <pre>{@code
 * final class Square extends CustomFunction {
 *     protected Tensor forward(Context ctx, List<Tensor> in) {
 *         ctx.save(in.get(0));
 *         return in.get(0).mul(in.get(0));
 *     }
 *     protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
 *         return cotangent.mul(ctx.saved(0)).mul(2f);
 *     }
 * }
 * Tensor y = new Square().apply(x);
 * }</pre>
 */
public abstract class CustomFunction {

    private static final Rules RULES = new Rules();

    /** Creates the function. */
    protected CustomFunction() {
    }

    /**
     * What a forward computation keeps for its rules; checked against in-place changes. A
     * saved input is read back as the input itself, with its history; any other saved tensor
     * is a residual of the forward computation.
     */
    public static final class Context {
        private final CustomFunction function;
        private final String name;
        private final boolean[] savedInputs;
        private final List<Integer> slots = new ArrayList<>();
        private int residuals;
        // While forward runs: the inputs' values, what it saved, and where residuals go.
        private List<Tensor> forwardInputs;
        private List<Tensor> kept;
        private Primitive.Residuals sink;
        // While a rule runs: what it reads.
        private Primitive.Values values;

        private Context(CustomFunction function, int inputs) {
            this.function = function;
            this.name = function.displayName();
            this.savedInputs = new boolean[inputs];
        }

        /**
         * Keeps tensors for the rules. An input saved here is kept with its history, so rules
         * that read it can be differentiated again; anything else is kept as a constant.
         *
         * @param tensors the tensors
         * @throws IllegalStateException outside {@link #forward}
         */
        public void save(Tensor... tensors) {
            if (forwardInputs == null) {
                throw new IllegalStateException(name + ": ctx.save is for the forward computation");
            }
            for (Tensor t : tensors) {
                int slot = -1;
                for (int i = 0; i < forwardInputs.size(); i++) {
                    if (forwardInputs.get(i) == t) {
                        slot = i;
                    }
                }
                // The node saves inputs by index only so far; one beyond is kept as a constant.
                if (slot >= 0 && slot <= Primitive.MAX_SAVED_INPUT) {
                    savedInputs[slot] = true;
                } else {
                    slot = -1 - residuals++;
                    sink.keep(t);
                }
                slots.add(slot);
                kept.add(t);
            }
        }

        /**
         * A kept tensor.
         *
         * @param index the order in which it was saved
         * @return the tensor
         * @throws IllegalStateException when it was modified in place since
         */
        public Tensor saved(int index) {
            if (values == null) {
                if (kept == null) {
                    throw new IllegalStateException(name + ": ctx.saved is for the forward computation and the rules");
                }
                return kept.get(index);
            }
            int slot = slots.get(index);
            return slot >= 0 ? values.input(slot) : values.residual(-1 - slot);
        }

        /**
         * The operation's inputs, for a JVP that needs their values; a VJP reads those it
         * saved.
         *
         * @return the inputs (values only, no tangents or history)
         * @throws IllegalStateException outside the forward computation and the rules
         */
        public List<Tensor> inputs() {
            if (forwardInputs != null) {
                return forwardInputs;
            }
            Primitive.Values reading = values;
            if (reading == null) {
                throw new IllegalStateException(name + ": ctx.inputs is for the forward computation and the rules");
            }
            return new AbstractList<>() {
                @Override
                public Tensor get(int index) {
                    return reading.input(index);
                }

                @Override
                public int size() {
                    return savedInputs.length;
                }
            };
        }
    }

    /**
     * Computes the output; runs with recording off.
     *
     * @param ctx    where to save what the rules need
     * @param inputs the inputs
     * @return the output
     */
    protected abstract Tensor forward(Context ctx, List<Tensor> inputs);

    /**
     * The cotangent of one input.
     *
     * @param ctx       what {@link #forward} saved
     * @param input     index of the input
     * @param cotangent cotangent of the output
     * @return the input's cotangent, of its shape, or {@code null} for zero
     */
    protected abstract Tensor vjp(Context ctx, int input, Tensor cotangent);

    /**
     * The output's tangent for forward mode; by default forward mode is not supported.
     *
     * @param ctx      what {@link #forward} saved
     * @param tangents one tangent per input ({@code null} for zero)
     * @return the output's tangent
     */
    protected Tensor jvp(Context ctx, List<Tensor> tangents) {
        throw new UnsupportedOperationException(displayName() + " has no JVP rule for forward mode");
    }

    /**
     * The name used in messages: the class's simple name, or its full name for an anonymous class.
     *
     * @return the name
     */
    protected String displayName() {
        String simple = getClass().getSimpleName();
        return simple.isEmpty() ? getClass().getName() : simple;
    }

    /**
     * Applies the operation.
     *
     * @param inputs the inputs
     * @return the output, recorded for reverse mode and carrying a tangent in forward mode
     */
    public final Tensor apply(Tensor... inputs) {
        return Ops.apply(RULES, new Context(this, inputs.length), inputs);
    }

    /** A custom function as a primitive: its context is the attributes of one application. */
    private static final class Rules extends Primitive<Context> {

        Rules() {
            super("custom");
        }

        @Override
        public String name(Context ctx) {
            return ctx.name;
        }

        @Override
        protected Tensor forward(Context ctx, Tensor[] inputs, Residuals residuals) {
            List<Tensor> values = new ArrayList<>(inputs.length);
            for (Tensor t : inputs) {
                values.add(Forward.primal(t));
            }
            // A re-run (a recomputation of what the node saved) makes the same choices again.
            ctx.slots.clear();
            ctx.residuals = 0;
            Arrays.fill(ctx.savedInputs, false);
            ctx.forwardInputs = List.copyOf(values);
            ctx.kept = new ArrayList<>();
            ctx.sink = residuals;
            Tensor out;
            try (var _ = GradMode.noGrad()) {
                out = ctx.function.forward(ctx, ctx.forwardInputs);
            } finally {
                ctx.forwardInputs = null;
                ctx.kept = null;
                ctx.sink = null;
            }
            if (out == null) {
                throw new IllegalStateException(ctx.name + ": forward returned null; it must return the output tensor");
            }
            return Forward.primal(out);
        }

        @Override
        protected boolean savesInput(Context ctx, int index, Tensor[] inputs) {
            return ctx.savedInputs[index];
        }

        @Override
        protected Tensor vjp(Context ctx, Values saved, int input, Tensor cotangent) {
            Tensor result;
            ctx.values = saved;
            try {
                result = ctx.function.vjp(ctx, input, cotangent);
            } finally {
                ctx.values = null;
            }
            int[] shape = saved.inputShape(input);
            if (result != null && !Arrays.equals(result.shape(), shape)) {
                throw new IllegalStateException(ctx.name + ".vjp returned shape " + Shapes.str(result.shape())
                        + " for input " + input + " of shape " + Shapes.str(shape));
            }
            return result;
        }

        @Override
        protected Tensor jvp(Context ctx, Values primals, Tensor[] tangents) {
            Tensor tangent;
            ctx.values = primals;
            try {
                tangent = ctx.function.jvp(ctx, Arrays.asList(tangents));
            } finally {
                ctx.values = null;
            }
            Tensor out = primals.output();
            if (tangent != null && !Arrays.equals(tangent.shape(), out.shape())) {
                throw new IllegalStateException(ctx.name + ".jvp returned shape "
                        + Shapes.str(tangent.shape()) + " for an output of shape " + Shapes.str(out.shape()));
            }
            return tangent;
        }
    }
}
