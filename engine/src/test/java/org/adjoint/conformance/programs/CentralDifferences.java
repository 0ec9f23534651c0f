package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.autodiff.GradMode;
import org.adjoint.conformance.programs.ProgramChecker.Outcome;
import org.adjoint.conformance.programs.ProgramChecker.Status;

/**
 * What {@link ProgramChecker} tries when {@link GradCheck}'s central differences failed at
 * every step it ran, before it calls that a wrong derivative: estimates of the same
 * derivatives that know the two limits of central differences in float32, the truncation
 * error that falls with {@code h²} and the rounding of the outputs that grows with
 * {@code 1/h}. A wrong derivative stays wrong under both, since each estimate converges to
 * the true derivative.
 */
final class CentralDifferences {

    private CentralDifferences() {
    }

    /**
     * The last chance of an adjoint identity that failed at every step: the Richardson
     * extrapolation of the last two steps, {@code N(h) + (N(h) − N(4h)) / 15}, which removes
     * the {@code h²} term of the central differences' truncation error. Where a steep function
     * (an {@code exp} of a product, raised to powers) keeps that term above the bound even at the
     * smallest step, the errors still fall sixteen-fold per step, and the extrapolated value
     * agrees with a right derivative; a wrong derivative stays as far from it as from the
     * central differences themselves, since both converge to the true derivative.
     *
     * @param failed     the failure at every step, whose tolerance has the smallest step
     * @param f          the program
     * @param inputs     its inputs
     * @param directions {@code v}, one per input
     * @param u          the cotangent
     * @param analytic   {@code <v, Jᵀ u>} from reverse mode
     * @return {@code null} when the extrapolated value agrees, else the failure with it added
     */
    static Outcome extrapolated(Outcome failed, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                List<Tensor> directions, Tensor u, double analytic) {
        GradCheck.Tolerance last = failed.tolerance();
        double coarse = centralDifference(f, inputs, directions, u, 4 * last.step());
        double fine = centralDifference(f, inputs, directions, u, last.step());
        double richardson = fine + (fine - coarse) / 15;
        double error = Math.abs(analytic - richardson);
        double allowed = last.absolute() + last.relative() * Math.max(Math.abs(analytic), Math.abs(richardson));
        if (Double.isFinite(richardson) && error <= allowed) {
            return null;
        }
        return new Outcome(Status.FAILED, ProgramChecker.ADJOINT, failed.detail()
                + "; extrapolated from the last two steps: " + richardson + ", error " + error + " (allowed " + allowed
                + ")", last);
    }

    /**
     * The last chance of an element-wise check that failed at every step: the same central
     * differences of {@code L = Σ wᵢ·fᵢ} (summed in double), each element allowed, besides the
     * tolerance, the rounding of the program's values, and their Richardson extrapolation
     * from the last two steps. Every value {@code z} of the program is float32, rounded to
     * within {@code 2⁻²⁴·|z|} of what its operands give exactly, and that error moves {@code L}
     * by the value's adjoint times it: to first order {@code L} at either point is within
     * {@code ε = 2⁻²⁴·Σ|z̄·z|} ({@link DerivativeTerms#ofValues}) of a smooth function, and the
     * difference over {@code 2h} within {@code ε / h}; no step resolves a derivative more
     * finely. (A step that rounds several times inside, or sums terms that cancel, can exceed
     * its share; the bound is a worst case that the scatter seen stays well inside.) Seed
     * 450577 (16 outputs up to 52, 25 steps) has {@code Σ|z̄·z| = 17,000}, 42 times the
     * outputs' share {@code Σ|wᵢ·fᵢ|}, so {@code ε / h = 0.1} at {@code h = 0.01}; its
     * differences scatter by 0.01 there and by 0.12 at {@code h/16}. Every element must pass
     * with one estimate (one step, or the extrapolation), as in
     * {@link GradCheck#finiteDifferences}. The adjoint identity, which ran before with no such
     * allowance, has checked the same gradients in a random direction.
     *
     * @param failed   the failure at every step, whose tolerance has the smallest step
     * @param weights  the weights {@code w}
     * @param analytic the gradients of {@code L} from reverse mode, one per input
     * @param values   {@link DerivativeTerms#ofValues} for the weights
     * @return {@code null} when an estimate agrees on every element, else the failure with the closest miss added
     */
    static Outcome withRoundingAndExtrapolation(Outcome failed, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                                Tensor weights, List<float[]> analytic, double values) {
        GradCheck.Tolerance tolerance = failed.tolerance();
        float[] w = weights.toFloatArray();
        double rounding = 0x1p-24 * values;
        double[] steps = {16 * tolerance.step(), 4 * tolerance.step(), tolerance.step()};
        List<List<double[]>> numeric = new ArrayList<>();
        for (double h : steps) {
            List<double[]> perInput = new ArrayList<>();
            for (int j = 0; j < inputs.size(); j++) {
                float[] x = inputs.get(j).toFloatArray();
                double[] estimates = new double[x.length];
                for (int e = 0; e < x.length; e++) {
                    float[] unit = new float[x.length];
                    unit[e] = 1f;
                    List<float[]> direction = new ArrayList<>();
                    for (int k = 0; k < inputs.size(); k++) {
                        direction.add(k == j ? unit : new float[(int) inputs.get(k).size()]);
                    }
                    estimates[e] = centralDifference(f, inputs, direction, w, h);
                }
                perInput.add(estimates);
            }
            numeric.add(perInput);
        }
        String closest = null;
        double closestRatio = Double.POSITIVE_INFINITY;
        for (int estimate = 0; estimate <= steps.length; estimate++) {
            boolean extrapolated = estimate == steps.length;
            double noise = extrapolated ? 17.0 / 15 * rounding / steps[2] : rounding / steps[estimate];
            double worstRatio = 0;
            String worst = null;
            for (int j = 0; j < inputs.size(); j++) {
                for (int e = 0; e < analytic.get(j).length; e++) {
                    double n = extrapolated
                            ? numeric.get(2).get(j)[e] + (numeric.get(2).get(j)[e] - numeric.get(1).get(j)[e]) / 15
                            : numeric.get(estimate).get(j)[e];
                    double a = analytic.get(j)[e];
                    double allowed = tolerance.absolute() + noise
                            + tolerance.relative() * Math.max(Math.abs(a), Math.abs(n));
                    double ratio = Double.isFinite(n) ? Math.abs(a - n) / allowed : Double.POSITIVE_INFINITY;
                    if (!(ratio <= worstRatio)) {
                        worstRatio = ratio;
                        worst = (extrapolated ? "extrapolated" : "step " + steps[estimate]) + ", input " + j
                                + ", element " + e + ": analytic " + a + ", numeric " + n + " (allowed " + allowed
                                + " with " + noise + " for the values' rounding)";
                    }
                }
            }
            if (worstRatio <= 1) {
                return null;
            }
            if (worstRatio < closestRatio) {
                closestRatio = worstRatio;
                closest = worst;
            }
        }
        return new Outcome(Status.FAILED, ProgramChecker.FINITE, failed.detail()
                + "; allowing for the values' rounding and extrapolating, the closest was " + closest, tolerance);
    }

    /**
     * {@code <J v, u>} by central differences, computed as {@link GradCheck#adjointIdentity} does
     * (the perturbed points rounded to float32, the dot product in double).
     */
    private static double centralDifference(Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                            List<Tensor> directions, Tensor u, double step) {
        List<float[]> v = new ArrayList<>();
        for (Tensor direction : directions) {
            v.add(direction.toFloatArray());
        }
        return centralDifference(f, inputs, v, u.toFloatArray(), step);
    }

    private static double centralDifference(Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                            List<float[]> directions, float[] cotangent, double step) {
        List<Tensor> plus = new ArrayList<>();
        List<Tensor> minus = new ArrayList<>();
        for (int j = 0; j < inputs.size(); j++) {
            float[] x = inputs.get(j).toFloatArray();
            float[] v = directions.get(j);
            float[] high = new float[x.length];
            float[] low = new float[x.length];
            for (int e = 0; e < x.length; e++) {
                high[e] = (float) (x[e] + step * v[e]);
                low[e] = (float) (x[e] - step * v[e]);
            }
            int[] shape = inputs.get(j).shape();
            plus.add(shape.length == 0 ? Tensor.scalar(high[0]) : Tensor.of(high, shape));
            minus.add(shape.length == 0 ? Tensor.scalar(low[0]) : Tensor.of(low, shape));
        }
        try (var _ = GradMode.noGrad()) {
            float[] high = f.apply(plus).toFloatArray();
            float[] low = f.apply(minus).toFloatArray();
            double dot = 0;
            for (int i = 0; i < cotangent.length; i++) {
                dot += ((double) high[i] - low[i]) * cotangent[i];
            }
            return dot / (2 * step);
        }
    }
}
