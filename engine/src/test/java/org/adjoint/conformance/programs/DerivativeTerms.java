package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradMode;

/**
 * First-order scales of rounding in a program, each a sum of magnitudes weighted by adjoints:
 * {@link #magnitude} for {@code <J v, u>} (forward mode) and {@code <v, Jᵀ u>} (reverse mode),
 * the magnitude of every term that a step's derivative rule sums; {@link #ofValues} for
 * {@code <u, f>} itself, every value weighted by its adjoint.
 *
 * <p>A step {@code z = g(a, b, …)} with local Jacobian {@code A = ∂z/∂a} computes the tangent
 * {@code ż = Σ_b A[i][b]·ȧ[b] + …} in forward mode and the adjoint
 * {@code ā[b] = Σ_i z̄[i]·A[i][b] + …} in reverse mode, each to a few ulps of the terms it adds.
 * An error {@code δ} in {@code ż} reaches {@code <J v, u>} as {@code <δ, z̄>}, an error in
 * {@code ā} reaches {@code <v, Jᵀ u>} as {@code <ȧ, δ>}: to first order, both results are
 * within a few ulps of {@code Σ |z̄[i]·A[i][b]·ȧ[b]|}, summed over every operand of every step,
 * of the exact value. That sum does not cancel where the result does: a softmax whose input
 * tangents are equal along its axis has a tangent of exactly 0, while its adjoint rule
 * {@code s·(z̄ − <s, z̄>)} subtracts terms of order {@code |z̄|} and leaves an ulp of them,
 * which the steps before multiply by their own derivatives.
 *
 * <p>{@link #magnitude} costs one forward-mode pass per value and one Jacobian per step (the
 * values have at most {@value ProgramGenerator#MAX_VALUE_ELEMENTS} elements), {@link #ofValues}
 * one reverse pass: for checks that need them only when a cheaper bound fails.
 */
final class DerivativeTerms {

    private DerivativeTerms() {
    }

    /**
     * Sums {@code |z̄[i]·A[i][b]·ȧ[b]|} over the steps, their operands and the elements.
     *
     * @param program    the program
     * @param inputs     its inputs (without history)
     * @param directions the tangent {@code v}, one per input
     * @param u          the cotangent of the output
     * @param watch      the watch of the unperturbed evaluation, comparing
     * @return the magnitude
     */
    static double magnitude(Program program, List<Tensor> inputs, List<Tensor> directions, Tensor u, Watch watch) {
        Tensor[] values;
        try (var _ = GradMode.noGrad()) {
            values = program.evaluate(inputs, watch);
        }
        List<float[]> adjoints = adjoints(program, values, inputs, u, watch);
        List<float[]> tangents = new ArrayList<>(values.length);
        for (int value = 0; value < values.length; value++) {
            int index = value;
            tangents.add(Autodiff.jvp(in -> program.evaluate(in, watch)[index], inputs, directions).tangent()
                    .toFloatArray());
        }
        double magnitude = 0;
        int first = program.inputs().size();
        for (int value = first; value < values.length; value++) {
            Step step = program.steps().get(value - first);
            int[] operands = Arrays.stream(step.reads()).distinct().toArray();
            List<Tensor> at = new ArrayList<>(operands.length);
            for (int operand : operands) {
                at.add(values[operand]);
            }
            int index = value;
            List<Tensor> jacobians = Autodiff.jacobian(in -> {
                Tensor[] local = values.clone();
                for (int k = 0; k < operands.length; k++) {
                    local[operands[k]] = in.get(k);
                }
                return Ops.apply(step, index, local, watch);
            }, at);
            float[] adjoint = adjoints.get(value);
            for (int k = 0; k < operands.length; k++) {
                float[] jacobian = jacobians.get(k).toFloatArray();
                float[] tangent = tangents.get(operands[k]);
                for (int i = 0; i < adjoint.length; i++) {
                    for (int b = 0; b < tangent.length; b++) {
                        magnitude += Math.abs((double) adjoint[i] * jacobian[i * tangent.length + b] * tangent[b]);
                    }
                }
            }
        }
        return magnitude;
    }

    /**
     * Sums {@code |z̄[i]·z[i]|} over every element of every value (inputs and steps), with
     * {@code z̄} the adjoint of {@code <u, f>}: rounding each value to within {@code 2⁻²⁴} of
     * itself moves {@code <u, f>} by at most {@code 2⁻²⁴} of this, to first order. For the
     * output alone it is {@code Σ|uᵢ·fᵢ|}; the values before count where the output is a
     * small difference of large ones.
     *
     * @param program the program
     * @param inputs  its inputs (without history)
     * @param u       the weights of the outputs
     * @param watch   the watch of the unperturbed evaluation, comparing
     * @return the magnitude
     */
    static double ofValues(Program program, List<Tensor> inputs, Tensor u, Watch watch) {
        Tensor[] values;
        try (var _ = GradMode.noGrad()) {
            values = program.evaluate(inputs, watch);
        }
        List<float[]> adjoints = adjoints(program, values, inputs, u, watch);
        double magnitude = 0;
        for (int value = 0; value < values.length; value++) {
            float[] z = values[value].toFloatArray();
            float[] adjoint = adjoints.get(value);
            for (int i = 0; i < z.length; i++) {
                magnitude += Math.abs((double) adjoint[i] * z[i]);
            }
        }
        return magnitude;
    }

    /**
     * The adjoint of every value: the program with a zero added to each step's value, whose
     * gradient is that value's adjoint (adding zero leaves every value unchanged).
     */
    private static List<float[]> adjoints(Program program, Tensor[] values, List<Tensor> inputs, Tensor u,
                                          Watch watch) {
        int first = program.inputs().size();
        List<Tensor> extended = new ArrayList<>(inputs);
        for (int value = first; value < values.length; value++) {
            extended.add(Tensor.zeros(values[value].shape()));
        }
        List<Tensor> pulled = Autodiff.vjp(in -> {
            Tensor[] traced = new Tensor[values.length];
            for (int value = 0; value < first; value++) {
                traced[value] = in.get(value);
            }
            for (int value = first; value < values.length; value++) {
                traced[value] = Ops.apply(program.steps().get(value - first), value, traced, watch).add(in.get(value));
            }
            return traced[values.length - 1];
        }, extended).pullback().apply(u);
        List<float[]> adjoints = new ArrayList<>(pulled.size());
        for (Tensor adjoint : pulled) {
            adjoints.add(adjoint.toFloatArray());
        }
        return adjoints;
    }
}
