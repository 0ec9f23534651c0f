package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.internal.Graph;
import org.adjoint.internal.TensorImpl;
import org.adjoint.internal.ops.Pointwise;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one driver that applies every primitive: each row of the element-wise table checked in
 * both modes from its one derivative, the residuals of {@code max} and {@code crossEntropy}
 * read through the version check, and {@link CustomFunction} saving through the same driver.
 */
public abstract class PrimitiveConformance extends BackendConformance {

    /** Where each row's derivative is smooth and finite: away from 0 for relu, positive for log, sqrt and pow. */
    private static Tensor domain(Pointwise row, long seed) {
        if (row == Pointwise.LOG || row == Pointwise.SQRT || row == Pointwise.POW) {
            return Tensor.rand(seed, 3, 4).mul(1.5f).add(0.5f);
        }
        float[] v = Tensor.randn(seed, 3, 4).toFloatArray();
        if (row == Pointwise.RELU) {
            for (int i = 0; i < v.length; i++) {
                v[i] = v[i] >= 0 ? v[i] + 0.1f : v[i] - 0.1f;
            }
        }
        return Tensor.of(v, 3, 4);
    }

    /** The exponents pow is checked at: the reciprocal, a root, the square (a rule of its own) and a cube. */
    private static final float[] EXPONENTS = {-1f, 0.5f, 2f, 3f};

    static Stream<Pointwise> rows() {
        return Pointwise.ROWS.stream();
    }

    private static List<Function<Tensor, Tensor>> functions(Pointwise row) {
        if (row != Pointwise.POW) {
            return List.of(row::apply);
        }
        return Stream.of(EXPONENTS[0], EXPONENTS[1], EXPONENTS[2], EXPONENTS[3])
                .<Function<Tensor, Tensor>>map(p -> x -> row.apply(x, p)).toList();
    }

    @ParameterizedTest
    @MethodSource("rows")
    void everyElementWiseRowPassesGradcheckInBothModesAndTwice(Pointwise row) {
        long seed = 40;
        for (Function<Tensor, Tensor> f : functions(row)) {
            Tensor x = domain(row, seed++);
            Function<List<Tensor>, Tensor> g = args -> f.apply(args.get(0));
            GradCheck.finiteDifferences(g, List.of(x)).assertPassed();
            GradCheck.adjointIdentity(g, List.of(x), seed).assertPassed();
            GradCheck.forwardMode(g, List.of(x), seed).assertPassed();
            // The rule is written with tensor operations, so a recorded backward pass differentiates it again.
            Function<List<Tensor>, Tensor> derivative = args -> Autodiff.grad(y -> f.apply(y).sum(), args.get(0));
            GradCheck.finiteDifferences(derivative, List.of(x)).assertPassed();
        }
    }

    @Test
    void theTableHasARowForEveryElementWiseFunctionOfTensor() {
        assertEquals(List.of("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "pow", "gelu", "gelu_grad"),
                Pointwise.ROWS.stream().map(row -> row.name(null)).toList());
        Tensor x = vec(0.5f, 1f, 2f);
        assertTensor(Pointwise.EXP.apply(x), shape(3), x.exp().toFloatArray());
        assertTensor(Pointwise.POW.apply(x, 3f), shape(3), x.pow(3f).toFloatArray());
    }

    /** Builds a graph, bumps the version of each tensor it saved but the given inputs, and expects backward to refuse. */
    private static void everySavedTensorIsChecked(String op, Supplier<Tensor> graph, Tensor... inputs) {
        int checked = 0;
        for (int index = 0; ; index++) {
            Tensor loss = graph.get();
            List<Tensor> saved = Graph.savedBy(loss).stream().filter(t -> !List.of(inputs).contains(t)).toList();
            if (index == saved.size()) {
                break;
            }
            Tensor target = saved.get(index);
            TensorImpl.of(target).version().increment();
            var error = assertThrows(IllegalStateException.class, loss::backward, op + " saved tensor " + index);
            String shape = java.util.Arrays.toString(target.shape());
            assertEquals("backward: a tensor of shape " + shape + " that '" + op + "' saved for its gradient was "
                    + "modified in place afterwards (version 0 then 1); run backward() before the optimizer step",
                    error.getMessage());
            checked++;
        }
        assertTrue(checked > 0, op + " saved nothing to check");
    }

    @Test
    void theMaskThatMaxKeepsFailsTheVersionCheckWhenModifiedInPlace() {
        Tensor x = Tensor.of(new float[] {1, 5, 2, 7, 3, 4}, 2, 3).requiresGrad(true);
        everySavedTensorIsChecked("max", () -> x.max(1, false).sum(), x);
        Tensor loss = x.max(1, false).sum();
        loss.backward();
        assertTensor(x.grad(), shape(2, 3), 0, 1, 0, 1, 0, 0);
    }

    @Test
    void theLogProbabilitiesAndLabelsThatCrossEntropyKeepsFailTheVersionCheckWhenModifiedInPlace() {
        Tensor logits = Tensor.of(new float[] {1, 2, 3, 3, 1, 2}, 2, 3).requiresGrad(true);
        int[] labels = {2, 0};
        everySavedTensorIsChecked("crossEntropy",
                () -> org.adjoint.nn.Losses.crossEntropy(logits, labels), logits);
        assertEquals(3, Graph.savedBy(org.adjoint.nn.Losses.crossEntropy(logits, labels)).size(),
                "the logits (for the recorded rule), the log-probabilities and the labels (for the fused one)");
    }

    @Test
    void crossEntropyReadsTheLabelsItUploadedNotTheCallersArray() {
        Tensor logits = Tensor.of(new float[] {1, 2, 3, 3, 1, 2}, 2, 3).requiresGrad(true);
        int[] labels = {2, 0};
        Tensor expected = Autodiff.grad(l -> org.adjoint.nn.Losses.crossEntropy(l, new int[] {2, 0}), logits);
        Tensor recorded = Autodiff.grad(l -> {
            Tensor loss = org.adjoint.nn.Losses.crossEntropy(l, labels);
            labels[0] = 1;
            return loss;
        }, logits);
        assertTensor(recorded, shape(2, 3), expected.toFloatArray());
    }

    /**
     * {@code x² + x} that saves its input and {@code 2x + 1} (a residual): the VJP reads the
     * residual, the JVP the input.
     */
    private static final class SquarePlus extends CustomFunction {
        @Override
        protected Tensor forward(Context ctx, List<Tensor> inputs) {
            Tensor x = inputs.get(0);
            ctx.save(x, x.mul(2f).add(1f));
            return x.mul(x).add(x);
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            return cotangent.mul(ctx.saved(1));
        }

        @Override
        protected Tensor jvp(Context ctx, List<Tensor> tangents) {
            return tangents.get(0).mul(ctx.saved(0).mul(2f).add(1f));
        }
    }

    @Test
    void aCustomFunctionSavesItsInputsByIndexAndAnythingElseAsAResidual() {
        Tensor x = vec(1f, -2f, 0.5f).requiresGrad(true);
        Tensor y = new SquarePlus().apply(x);
        List<Tensor> saved = Graph.savedBy(y);
        assertEquals(2, saved.size());
        assertTrue(saved.contains(x), "the input itself, with its history");
        GradCheck.finiteDifferences(args -> new SquarePlus().apply(args.get(0)), List.of(vec(1f, -2f, 0.5f)))
                .assertPassed();
        GradCheck.forwardMode(args -> new SquarePlus().apply(args.get(0)), List.of(vec(1f, -2f, 0.5f)), 3)
                .assertPassed();
        everySavedTensorIsChecked("SquarePlus", () -> new SquarePlus().apply(x).sum(), x);
    }

    @Test
    void aCustomRuleThatReadsAnInputItDidNotSaveFailsNamingIt() {
        CustomFunction forgetful = new CustomFunction() {
            @Override
            protected Tensor forward(Context ctx, List<Tensor> inputs) {
                return inputs.get(0).mul(inputs.get(0));
            }

            @Override
            protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
                return cotangent.mul(ctx.inputs().get(0)).mul(2f);
            }

            @Override
            protected String displayName() {
                return "Forgetful";
            }
        };
        Tensor x = vec(1f, 2f).requiresGrad(true);
        Tensor loss = forgetful.apply(x).sum();
        var error = assertThrows(IllegalStateException.class, loss::backward);
        assertEquals("Forgetful: its rule read its input 0, which was not saved for the backward pass",
                error.getMessage());
    }

    @Test
    void aCustomFunctionAppliedWithoutGradientsRecordsNothing() {
        Tensor x = vec(1f, 2f);
        Tensor y = new SquarePlus().apply(x);
        assertNull(TensorImpl.of(y).producer());
        assertTensor(y, shape(2), 2f, 6f);
    }
}
