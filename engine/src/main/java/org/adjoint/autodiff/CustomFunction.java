package org.adjoint.autodiff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Node;
import org.adjoint.internal.Saved;
import org.adjoint.internal.Shapes;

/**
 * A new differentiable operation with rules of its own, like {@code torch.autograd.Function}
 * or {@code jax.custom_vjp}: a forward computation (run without recording), a VJP per input,
 * and optionally a JVP for forward mode. Write the rules with {@link Tensor} operations: they
 * then run on every backend and can be differentiated again.
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

    /** Creates the function. */
    protected CustomFunction() {
    }

    /** What a forward computation keeps for its rules; checked against in-place changes. */
    public static final class Context {
        private final List<Saved> saved = new ArrayList<>();
        private final String name;
        private List<Tensor> inputs = List.of();
        private Tensor[] originals = new Tensor[0];

        private Context(String name) {
            this.name = name;
        }

        /**
         * Keeps tensors for the rules. An input saved here is kept with its history, so rules
         * that read it can be differentiated again; anything else is kept as a constant.
         *
         * @param tensors the tensors
         */
        public void save(Tensor... tensors) {
            for (Tensor t : tensors) {
                Tensor kept = t;
                for (int i = 0; i < originals.length; i++) {
                    if (inputs.get(i) == t) {
                        kept = originals[i];
                    }
                }
                saved.add(Saved.of(kept));
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
            return saved.get(index).get(name);
        }

        /**
         * The operation's inputs, for a JVP that needs their values.
         *
         * @return the inputs (values only, no tangents or history)
         */
        public List<Tensor> inputs() {
            return inputs;
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
        Context ctx = new Context(displayName());
        List<Tensor> values = new ArrayList<>();
        for (Tensor t : inputs) {
            values.add(Forward.primal(t));
        }
        ctx.inputs = List.copyOf(values);
        ctx.originals = inputs.clone();
        Tensor out;
        try (var _ = GradMode.noGrad()) {
            out = forward(ctx, values);
        }
        out = Forward.primal(out);
        if (Forward.any(inputs)) {
            List<Tensor> tangents = new ArrayList<>();
            for (Tensor t : inputs) {
                tangents.add(Forward.tangent(t));
            }
            Tensor tangent = jvp(ctx, tangents);
            if (tangent != null && !Arrays.equals(tangent.shape(), out.shape())) {
                throw new IllegalStateException(displayName() + ".jvp returned shape "
                        + Shapes.str(tangent.shape()) + " for an output of shape " + Shapes.str(out.shape()));
            }
            Forward.attach(out, tangent);
        }
        if (!Graph.recording(inputs)) {
            return out;
        }
        int[][] shapes = new int[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            shapes[i] = inputs[i].shape();
        }
        return Graph.record(new CustomNode(this, ctx, shapes), out, inputs);
    }

    /** The recorded application. */
    private static final class CustomNode extends Node {
        private final CustomFunction function;
        private final int[][] shapes;
        private Context ctx;

        CustomNode(CustomFunction function, Context ctx, int[][] shapes) {
            this.function = function;
            this.ctx = ctx;
            this.shapes = shapes;
        }

        @Override
        public String name() {
            return function.displayName();
        }

        @Override
        public List<Tensor> saved() {
            return ctx == null ? List.of() : Saved.tensors(ctx.saved.toArray(Saved[]::new));
        }

        @Override
        protected Tensor vjp(int input, Tensor cotangent) {
            Tensor result = function.vjp(ctx, input, cotangent);
            if (result != null && !Arrays.equals(result.shape(), shapes[input])) {
                throw new IllegalStateException(name() + ".vjp returned shape " + Shapes.str(result.shape())
                        + " for input " + input + " of shape " + Shapes.str(shapes[input]));
            }
            return result;
        }

        @Override
        protected void releaseSaved() {
            ctx = null;
        }
    }
}
