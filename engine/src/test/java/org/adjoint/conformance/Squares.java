package org.adjoint.conformance;

import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.conformance.programs.CustomOp;
import org.adjoint.conformance.programs.Kind;
import org.adjoint.conformance.programs.Program;
import org.adjoint.conformance.programs.Watch;

/**
 * Custom functions {@code x²} with deliberately wrong derivative rules, for the random-program
 * suite to show that its checks catch them, and how to tell a program the wrong rule leaves
 * harmless (its gradients are those of the right rule) from one the checks miss.
 */
final class Squares {

    private Squares() {
    }

    /** The program with every custom step running {@code op}. */
    static Program withCustom(Program p, CustomOp op) {
        return new Program(p.seed(), p.inputs(),
                p.steps().stream().map(s -> s.kind() == Kind.CUSTOM ? s.withCustom(op) : s).toList());
    }

    /** Whether two programs of the same shapes give their inputs the same gradients of a random weighting of the output. */
    static boolean sameGradients(Program a, Program b) {
        float[] left = gradients(a);
        float[] right = gradients(b);
        float scale = 0;
        for (float v : right) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < left.length; i++) {
            if (!(Math.abs(left[i] - right[i]) <= 1e-4f * Math.max(1f, scale))) {
                return false;
            }
        }
        return true;
    }

    /** The inputs' gradients of {@code Σ w ⊙ output} for weights drawn from the program's seed, one after another. */
    private static float[] gradients(Program p) {
        List<Tensor> inputs = p.inputTensors().stream().map(t -> t.detach().requiresGrad(true)).toList();
        Tensor out = p.run(inputs, new Watch());
        out.mul(Tensor.randn(p.seed(), out.shape())).sum().backward();
        float[] flat = new float[inputs.stream().mapToInt(x -> (int) x.size()).sum()];
        int at = 0;
        for (Tensor x : inputs) {
            if (x.grad() != null) {
                float[] grad = x.grad().toFloatArray();
                System.arraycopy(grad, 0, flat, at, grad.length);
            }
            at += (int) x.size();
        }
        return flat;
    }

    /** {@code x²} with derivative rules that scale {@code u·x} (VJP) and {@code t·x} (JVP) as given: 2 is right. */
    abstract static class Square extends CustomFunction {
        private final float vjpScale;
        private final float jvpScale;

        Square(float vjpScale, float jvpScale) {
            this.vjpScale = vjpScale;
            this.jvpScale = jvpScale;
        }

        @Override
        protected Tensor forward(Context ctx, List<Tensor> inputs) {
            ctx.save(inputs.get(0));
            return inputs.get(0).mul(inputs.get(0));
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            return scaled(cotangent.mul(ctx.saved(0)), vjpScale);
        }

        @Override
        protected Tensor jvp(Context ctx, List<Tensor> tangents) {
            return tangents.get(0) == null ? null : scaled(tangents.get(0).mul(ctx.inputs().get(0)), jvpScale);
        }

        private static Tensor scaled(Tensor t, float scale) {
            return scale == 1f ? t : t.mul(scale);
        }
    }

    /** {@code x²} whose VJP is {@code u·x} instead of {@code 2 u·x}. */
    static final class WrongSquare extends Square {
        static final CustomOp OP = new Op(WrongSquare::new, "WrongSquare");

        WrongSquare() {
            super(1f, 2f);
        }
    }

    /** {@code x²} with correct rules: what a program with {@link WrongSquare} should have computed. */
    static final class RightSquare extends Square {
        static final CustomOp OP = new Op(RightSquare::new, "RightSquare");

        RightSquare() {
            super(2f, 2f);
        }
    }

    /** {@code x²} with a correct VJP and a JVP of {@code t·x} instead of {@code 2 t·x}. */
    static final class SquareWithWrongJvp extends Square {
        static final CustomOp OP = new Op(SquareWithWrongJvp::new, "SquareWithWrongJvp");

        SquareWithWrongJvp() {
            super(2f, 1f);
        }
    }

    /** A custom function as a generator operation. */
    private record Op(java.util.function.Supplier<CustomFunction> function, String name) implements CustomOp {
        @Override
        public Tensor apply(Tensor x) {
            return function.get().apply(x);
        }

        @Override
        public String java(String operand) {
            return "new " + name + "().apply(" + operand + ")";
        }
    }
}
