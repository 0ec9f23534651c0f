package org.adjoint.autodiff;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import org.adjoint.Tensor;
import org.adjoint.internal.Forward;
import org.adjoint.internal.Graph;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Shapes;

/**
 * Functional transforms, as in JAX and {@code torch.func}: {@code grad}, {@code vjp},
 * {@code jvp}, {@code hvp} and {@code jacobian}, each for a function of one tensor and of a
 * list of tensors. They compose: {@code grad} of a function that itself calls {@code grad}
 * gives second derivatives, and {@code hvp} is forward mode over reverse mode.
 *
 * <ul>
 *   <li>Reverse mode ({@code grad}, {@code vjp}) records the function and runs one backward
 *       pass; the gradients are returned, never accumulated into any leaf's {@code grad()}
 *       (except through a checkpointed chain or segment, whose recomputation adds its
 *       parameters' gradients into their {@code grad()}: see {@code org.adjoint.checkpoint}).
 *       A transform asked for a gradient that a checkpoint adds out of its sight refuses.
 *       Called on inputs that already require a gradient (inside another {@code grad}), the
 *       backward pass is itself recorded, so it can be differentiated again.</li>
 *   <li>Forward mode ({@code jvp}) pushes a tangent through every primitive's JVP rule in the
 *       same pass as the values: no tape, no saved activations.</li>
 * </ul>
 *
 * <p>{@code jacobian} and {@code hvp} return values without history: they are computed from
 * detached copies of the inputs, so a transform around them (a {@code grad} of a Jacobian's
 * sum) sees no dependence and gives zeros; {@code jvp} refuses that case outright. Nest
 * {@code grad} and {@code jvp} instead, as {@code hvp} itself does.
 *
 * <p>Threads: the transforms are static and keep no state of their own; each call records
 * and reverses its own graph on the calling thread, so calls on different threads are
 * independent (see {@link GradMode} for what is confined to a thread). A {@code pullback}
 * belongs to the thread that uses it: two threads must not run one at the same time.
 */
public final class Autodiff {

    private Autodiff() {
    }

    /**
     * A value and the function that pulls cotangents back to the input.
     *
     * @param value    {@code f(x)}
     * @param pullback {@code u ↦ uᵀ J}, callable any number of times
     */
    public record Vjp(Tensor value, UnaryOperator<Tensor> pullback) {
    }

    /**
     * A value and the function that pulls cotangents back to each input.
     *
     * @param value    {@code f(x₁, …, xₖ)}
     * @param pullback {@code u ↦ (uᵀ J₁, …, uᵀ Jₖ)}
     */
    public record VjpList(Tensor value, Function<Tensor, List<Tensor>> pullback) {
    }

    /**
     * A value and its directional derivative.
     *
     * @param value   {@code f(x)}
     * @param tangent {@code J v}
     */
    public record Jvp(Tensor value, Tensor tangent) {
    }

    /** How {@link #jacobian(Function, Tensor, JacobianMode)} builds the matrix. */
    public enum JacobianMode {
        /** Forward mode when the input has at most as many elements as the output, else reverse. */
        AUTO,
        /** One {@code jvp} per input element (a column each). */
        FORWARD,
        /** One backward pass per output element (a row each). */
        REVERSE
    }

    /**
     * The gradient of a one-element function.
     *
     * @param f the function
     * @param x the point
     * @return {@code ∇f(x)}, of {@code x}'s shape
     * @throws IllegalArgumentException when {@code f(x)} has more than one element
     */
    public static Tensor grad(Function<Tensor, Tensor> f, Tensor x) {
        return grad(args -> f.apply(args.get(0)), Arrays.asList(x)).get(0); // a null x is named below
    }

    /**
     * The gradients of a one-element function of several tensors.
     *
     * @param f  the function
     * @param xs the point
     * @return one gradient per input, each of its input's shape
     * @throws IllegalArgumentException when the output has more than one element
     */
    public static List<Tensor> grad(Function<List<Tensor>, Tensor> f, List<Tensor> xs) {
        checkInputs("grad", xs);
        VjpList vjp = vjp(f, xs);
        Tensor y = vjp.value();
        if (y.size() != 1) {
            throw new IllegalArgumentException("grad: the function's output has shape " + Shapes.str(y.shape())
                    + " (" + y.size() + " elements); grad needs exactly one (use vjp or jacobian)");
        }
        return vjp.pullback().apply(onesLike(y));
    }

    /**
     * The value and the pullback of a function.
     *
     * @param f the function
     * @param x the point
     * @return {@code f(x)} and {@code u ↦ uᵀ J}
     */
    public static Vjp vjp(Function<Tensor, Tensor> f, Tensor x) {
        VjpList vjp = vjp(args -> f.apply(args.get(0)), Arrays.asList(x));
        return new Vjp(vjp.value(), u -> vjp.pullback().apply(u).get(0));
    }

    /**
     * The value and the pullback of a function of several tensors.
     *
     * @param f  the function
     * @param xs the point
     * @return {@code f(xs)} and {@code u ↦ (uᵀ J₁, …, uᵀ Jₖ)}
     */
    public static VjpList vjp(Function<List<Tensor>, Tensor> f, List<Tensor> xs) {
        checkInputs("vjp", xs);
        // Inputs that already require a gradient belong to an outer differentiation: keep their
        // history and record this backward pass, so the outer one can go through it.
        boolean nested = xs.stream().anyMatch(Tensor::requiresGrad);
        List<Tensor> variables = new ArrayList<>(xs.size());
        for (Tensor x : xs) {
            variables.add(x.requiresGrad() ? x : withTangentOf(x.detach().requiresGrad(true), x));
        }
        Tensor y;
        try (var _ = GradMode.enableGrad()) {
            y = returned("vjp", f.apply(variables));
        }
        Tensor value = y;
        Function<Tensor, List<Tensor>> pullback = u -> {
            if (u == null) {
                throw new IllegalArgumentException("vjp: the cotangent is null; pass a tensor of the output's shape "
                        + Shapes.str(value.shape()));
            }
            if (!Arrays.equals(u.shape(), value.shape())) {
                throw new IllegalArgumentException("vjp: cotangent of shape " + Shapes.str(u.shape())
                        + " does not match the output's shape " + Shapes.str(value.shape()));
            }
            if (!value.requiresGrad()) {
                return zerosLike(xs);
            }
            List<Tensor> grads = Graph.gradients(List.of(value), List.of(u), variables, true, nested);
            List<Tensor> out = new ArrayList<>(grads.size());
            for (int i = 0; i < grads.size(); i++) {
                out.add(grads.get(i) == null ? Tensor.zeros(xs.get(i).shape()) : grads.get(i));
            }
            return out;
        };
        return new VjpList(value, pullback);
    }

    /**
     * Forward mode: the value and the directional derivative {@code J v}, in one pass.
     *
     * @param f       the function
     * @param x       the point
     * @param tangent the direction, of {@code x}'s shape
     * @return {@code f(x)} and {@code J v}
     */
    public static Jvp jvp(Function<Tensor, Tensor> f, Tensor x, Tensor tangent) {
        return jvp(args -> f.apply(args.get(0)), Arrays.asList(x), Arrays.asList(tangent)); // nulls are named below
    }

    /**
     * Forward mode for a function of several tensors: {@code Σᵢ Jᵢ vᵢ}.
     *
     * @param f        the function
     * @param xs       the point
     * @param tangents one direction per input, each of its input's shape
     * @return {@code f(xs)} and its directional derivative
     */
    public static Jvp jvp(Function<List<Tensor>, Tensor> f, List<Tensor> xs, List<Tensor> tangents) {
        checkInputs("jvp", xs);
        checkDirections("jvp", "tangent", xs, tangents);
        for (int i = 0; i < xs.size(); i++) {
            if (xs.get(i).requiresGrad() && GradMode.isEnabled()) {
                // Tangents are computed from values without history, so reverse mode over this
                // forward pass would see no dependence and return zeros; refuse instead.
                throw new UnsupportedOperationException("jvp: input " + i + " requires a gradient, and reverse mode "
                        + "over forward mode is not supported (tangents have no history); differentiate first and "
                        + "push the tangent through the derivative, as hvp does, or call jvp on detached inputs");
            }
        }
        // Each input gets a dual of its own (a view without history), so that the same tensor
        // passed twice carries both tangents and the caller's tensors never carry one.
        List<Tensor> duals = new ArrayList<>(xs.size());
        Tensor y;
        Tensor tangent;
        try (AutoCloseable _ = Forward.enter(); var _ = GradMode.noGrad()) {
            for (int i = 0; i < xs.size(); i++) {
                Tensor dual = xs.get(i).detach();
                Forward.attach(dual, tangents.get(i));
                duals.add(dual);
            }
            y = returned("jvp", f.apply(duals));
            tangent = Forward.tangent(y);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        // The value is handed out as a constant: no tangent may leak into a later pass.
        Forward.attach(y, null);
        return new Jvp(y, tangent == null ? Tensor.zeros(y.shape()) : tangent);
    }

    /**
     * The Hessian-vector product of a one-element function: forward mode over reverse mode,
     * {@code jvp(x ↦ ∇f(x), x, v)}.
     *
     * @param f the function
     * @param x the point
     * @param v the direction, of {@code x}'s shape
     * @return {@code H v}, of {@code x}'s shape
     * @throws IllegalArgumentException when {@code f(x)} has more than one element or {@code v}'s shape differs
     */
    public static Tensor hvp(Function<Tensor, Tensor> f, Tensor x, Tensor v) {
        return hvp(args -> f.apply(args.get(0)), Arrays.asList(x), Arrays.asList(v)).get(0);
    }

    /**
     * Hessian-vector products of a one-element function of several tensors.
     *
     * @param f  the function
     * @param xs the point
     * @param vs one direction per input
     * @return {@code (H v)ᵢ} for each input
     */
    public static List<Tensor> hvp(Function<List<Tensor>, Tensor> f, List<Tensor> xs, List<Tensor> vs) {
        checkInputs("hvp", xs);
        checkDirections("hvp", "direction", xs, vs);
        Tensor y;
        try (var _ = GradMode.noGrad()) {
            y = returned("hvp", f.apply(xs));
        }
        if (y.size() != 1) {
            throw new IllegalArgumentException("hvp: the function's output has shape " + Shapes.str(y.shape())
                    + " (" + y.size() + " elements); a Hessian-vector product needs exactly one");
        }
        List<Tensor> constants = detached(xs);
        List<Tensor> result = new ArrayList<>(xs.size());
        for (int i = 0; i < xs.size(); i++) {
            int index = i;
            result.add(jvp(args -> grad(f, args).get(index), constants, vs).tangent());
        }
        return result;
    }

    /**
     * The Jacobian, by forward mode when the input has at most as many elements as the
     * output (one {@code jvp} per input element) and by reverse mode otherwise (one backward
     * pass per output element): whichever needs fewer passes.
     *
     * @param f the function
     * @param x the point
     * @return shape {@code f(x).shape ++ x.shape}
     */
    public static Tensor jacobian(Function<Tensor, Tensor> f, Tensor x) {
        return jacobian(f, x, JacobianMode.AUTO);
    }

    /**
     * The Jacobian, by the mode given.
     *
     * @param f    the function
     * @param x    the point
     * @param mode forward, reverse, or automatic
     * @return shape {@code f(x).shape ++ x.shape}
     */
    public static Tensor jacobian(Function<Tensor, Tensor> f, Tensor x, JacobianMode mode) {
        return jacobian(args -> f.apply(args.get(0)), Arrays.asList(x), mode).get(0);
    }

    /**
     * The Jacobian with respect to each of several inputs (mode chosen as for one input,
     * from the total input size).
     *
     * @param f  the function
     * @param xs the point
     * @return one Jacobian per input, shape {@code f.shape ++ xᵢ.shape}
     */
    public static List<Tensor> jacobian(Function<List<Tensor>, Tensor> f, List<Tensor> xs) {
        return jacobian(f, xs, JacobianMode.AUTO);
    }

    /**
     * The Jacobian with respect to each of several inputs, by the mode given.
     *
     * @param f    the function
     * @param xs   the point
     * @param mode forward, reverse, or automatic
     * @return one Jacobian per input
     */
    public static List<Tensor> jacobian(Function<List<Tensor>, Tensor> f, List<Tensor> xs, JacobianMode mode) {
        checkInputs("jacobian", xs);
        List<Tensor> points = detached(xs);
        Tensor y;
        try (var _ = GradMode.noGrad()) {
            y = returned("jacobian", f.apply(points));
        }
        long inputs = points.stream().mapToLong(Tensor::size).sum();
        boolean forward = mode == JacobianMode.FORWARD || mode == JacobianMode.AUTO && inputs <= y.size();
        int outSize = (int) y.size();
        List<Tensor> result = new ArrayList<>();
        if (forward) {
            for (int j = 0; j < points.size(); j++) {
                int inSize = (int) points.get(j).size();
                float[] matrix = HostArrays.floats("jacobian " + Shapes.str(concat(y.shape(), points.get(j).shape())),
                        (long) outSize * inSize);
                List<Tensor> tangents = new ArrayList<>();
                for (Tensor x : points) {
                    tangents.add(Tensor.zeros(x.shape()));
                }
                for (int e = 0; e < inSize; e++) {
                    float[] basis = new float[inSize];
                    basis[e] = 1f;
                    tangents.set(j, tensor(basis, points.get(j).shape()));
                    float[] column = jvp(f, points, tangents).tangent().toFloatArray();
                    for (int o = 0; o < outSize; o++) {
                        matrix[o * inSize + e] = column[o];
                    }
                }
                result.add(tensor(matrix, concat(y.shape(), points.get(j).shape())));
            }
            return result;
        }
        VjpList vjp = vjp(f, points);
        List<float[]> matrices = new ArrayList<>();
        for (Tensor x : points) {
            matrices.add(HostArrays.floats("jacobian " + Shapes.str(concat(y.shape(), x.shape())),
                    outSize * x.size()));
        }
        for (int o = 0; o < outSize; o++) {
            float[] basis = new float[outSize];
            basis[o] = 1f;
            List<Tensor> rows = vjp.pullback().apply(tensor(basis, y.shape()));
            for (int j = 0; j < points.size(); j++) {
                float[] row = rows.get(j).toFloatArray();
                System.arraycopy(row, 0, matrices.get(j), o * row.length, row.length);
            }
        }
        for (int j = 0; j < points.size(); j++) {
            result.add(tensor(matrices.get(j), concat(y.shape(), points.get(j).shape())));
        }
        return result;
    }

    /** {@code Tensor.of} that keeps rank 0 (where {@code Tensor.of} without a shape means 1-D). */
    private static Tensor tensor(float[] data, int[] shape) {
        return shape.length == 0 ? Tensor.scalar(data[0]) : Tensor.of(data, shape);
    }

    private static List<Tensor> detached(List<Tensor> xs) {
        List<Tensor> out = new ArrayList<>(xs.size());
        for (Tensor x : xs) {
            out.add(x.detach());
        }
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Tensor onesLike(Tensor t) {
        return Tensor.ones(t.shape());
    }

    private static List<Tensor> zerosLike(List<Tensor> xs) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor x : xs) {
            out.add(Tensor.zeros(x.shape()));
        }
        return out;
    }

    private static Tensor withTangentOf(Tensor leaf, Tensor source) {
        Tensor tangent = Forward.tangent(source);
        if (tangent != null) {
            Forward.attach(leaf, tangent);
        }
        return leaf;
    }
    /** Refuses a null list of inputs or a null input, naming the transform. */
    private static void checkInputs(String transform, List<Tensor> xs) {
        if (xs == null) {
            throw new IllegalArgumentException(transform + ": the list of inputs is null");
        }
        for (int i = 0; i < xs.size(); i++) {
            if (xs.get(i) == null) {
                throw new IllegalArgumentException(transform + ": input " + i + " is null");
            }
        }
    }

    /** Refuses directions (tangents) that are not one per input, each of its input's shape. */
    private static void checkDirections(String transform, String what, List<Tensor> xs, List<Tensor> directions) {
        if (directions == null) {
            throw new IllegalArgumentException(transform + ": the list of " + what + "s is null");
        }
        if (xs.size() != directions.size()) {
            throw new IllegalArgumentException(transform + ": " + xs.size() + " inputs but " + directions.size() + " "
                    + what + "s");
        }
        for (int i = 0; i < xs.size(); i++) {
            if (directions.get(i) == null) {
                throw new IllegalArgumentException(transform + ": " + what + " " + i + " is null; pass a tensor of its "
                        + "input's shape " + Shapes.str(xs.get(i).shape()));
            }
            if (!Arrays.equals(xs.get(i).shape(), directions.get(i).shape())) {
                throw new IllegalArgumentException(transform + ": " + what + " " + i + " has shape "
                        + Shapes.str(directions.get(i).shape()) + " but its input has shape "
                        + Shapes.str(xs.get(i).shape()));
            }
        }
    }

    /** The function's value, refused when null. */
    private static Tensor returned(String transform, Tensor y) {
        if (y == null) {
            throw new IllegalStateException(transform + ": the function returned null; it must return a tensor");
        }
        return y;
    }
}
