package org.adjoint.autodiff;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;

/**
 * Checks reverse-mode gradients numerically, two ways.
 *
 * <ul>
 *   <li>{@link #finiteDifferences}: every element of every input, central differences of
 *       the scalar {@code L(x) = <u, f(x)>} for a random {@code u}, against the gradient that
 *       {@code backward(u)} produces.</li>
 *   <li>{@link #adjointIdentity}: one random direction {@code v} (all inputs) and one random
 *       cotangent {@code u}: {@code <J v, u> ≈ <v, Jᵀ u>}, with {@code J v} from central
 *       differences. One forward pair and one backward pass, so it also suits large inputs.</li>
 * </ul>
 *
 * <p><b>Tolerances for float32.</b> The function runs in float32; sums of its outputs are
 * taken in double. With step {@code h}, central differences carry a truncation error of
 * about {@code h²·|f‴|/6} and a rounding error of about {@code 1e-7·|f|/h}; the default
 * {@code h = 1e-2} balances them at roughly {@code 1e-5} relative for functions of moderate
 * curvature. An element passes when {@code |analytic − numeric| ≤ absolute + relative·max(|analytic|, |numeric|)},
 * with the defaults {@code absolute = 1e-3} and {@code relative = 1e-2} of
 * {@link Tolerance#float32()}. Keep inputs at least {@code 2h} away from kinks (ReLU at 0,
 * {@code max} ties) and singularities ({@code log}, {@code sqrt} near 0), where finite
 * differences are meaningless. The step is applied as a float32 perturbation and the
 * realised step (after rounding) is what divides the difference; in the directional checks
 * the direction compared is the one the rounded points realise, {@code (x⁺ − x⁻) / 2h}, which
 * at {@code |x| ≈ 1e5} differs from {@code v} by tens of percent. A step that rounds away
 * entirely (an element of 1e6 with the default step) is refused, naming the value, rather
 * than reported as a wrong gradient. Large outputs carry their own rounding, {@code 1e-7·|f|}
 * against a change of {@code 2h·|J|}: check such functions at a smaller scale.
 */
public final class GradCheck {

    private static final long COTANGENT_SEED = 0x5EED_CAFEL;

    private GradCheck() {
    }

    /**
     * Step and acceptance bounds of a check.
     *
     * @param step     finite-difference step, finite and {@code > 0}
     * @param absolute absolute error allowed, finite and {@code >= 0}
     * @param relative error allowed relative to the larger of the two values compared, finite
     *                 and {@code >= 0}
     */
    public record Tolerance(double step, double absolute, double relative) {

        /**
         * Checks the values: a step of 0 or NaN would divide 0 by 0 and blame the gradient, an
         * infinite bound would pass any gradient.
         *
         * @throws IllegalArgumentException naming the bad value
         */
        public Tolerance {
            if (!(step > 0 && step < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("GradCheck.Tolerance: step must be finite and > 0, got " + step);
            }
            if (!(absolute >= 0 && absolute < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("GradCheck.Tolerance: absolute must be finite and >= 0, got "
                        + absolute);
            }
            if (!(relative >= 0 && relative < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("GradCheck.Tolerance: relative must be finite and >= 0, got "
                        + relative);
            }
        }

        /**
         * Defaults for float32 functions of moderate curvature; see the class description.
         *
         * @return step 1e-2, absolute 1e-3, relative 1e-2
         */
        public static Tolerance float32() {
            return new Tolerance(1e-2, 1e-3, 1e-2);
        }
    }

    /**
     * Result of a check.
     *
     * @param check          which check ran
     * @param passed         whether every compared value was within tolerance
     * @param maxAbsoluteError largest {@code |analytic − numeric|}
     * @param worst          where the relatively worst value was, with both numbers
     */
    public record Report(String check, boolean passed, double maxAbsoluteError, String worst) {

        /**
         * Throws when the check failed.
         *
         * @return this report
         * @throws AssertionError naming the worst value when it did not pass
         */
        public Report assertPassed() {
            if (!passed) {
                throw new AssertionError(check + " failed: " + worst);
            }
            return this;
        }
    }

    /**
     * Element-wise central differences with {@link Tolerance#float32()}.
     *
     * @param f      the function of several inputs
     * @param inputs points at which to check (not modified)
     * @return the report
     */
    public static Report finiteDifferences(Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        return finiteDifferences(f, inputs, Tolerance.float32());
    }

    /**
     * Element-wise central differences of {@code <u, f(x)>} for a fixed random {@code u},
     * compared with the gradients from {@code backward(u)}.
     *
     * @param f         the function of several inputs
     * @param inputs    points at which to check (not modified)
     * @param tolerance step and bounds
     * @return the report
     */
    public static Report finiteDifferences(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, Tolerance tolerance) {
        List<Tensor> leaves = leaves(inputs);
        Tensor output = f.apply(leaves);
        Tensor u = Tensor.randn(COTANGENT_SEED, output.shape());
        float[] cotangent = u.toFloatArray();
        if (output.requiresGrad()) {
            output.backward(u);
        }
        Comparison comparison = new Comparison("finite differences", tolerance);
        for (int j = 0; j < inputs.size(); j++) {
            float[] analytic = gradientOrZeros(leaves.get(j));
            float[] point = inputs.get(j).toFloatArray();
            for (int e = 0; e < point.length; e++) {
                float original = point[e];
                float plus = (float) (original + tolerance.step());
                float minus = (float) (original - tolerance.step());
                if (plus == minus) {
                    // 0/0 would be reported as the gradient's fault.
                    throw new IllegalArgumentException("GradCheck.finiteDifferences: the step " + tolerance.step()
                            + " vanishes at input " + j + ", element " + e + " (value " + original
                            + "): x + h and x - h round to the same float; use a larger step");
                }
                point[e] = plus;
                double high = project(f, inputs, j, point, cotangent);
                point[e] = minus;
                double low = project(f, inputs, j, point, cotangent);
                point[e] = original;
                double numeric = (high - low) / ((double) plus - (double) minus);
                comparison.add(analytic[e], numeric, "input " + j + ", element " + e);
            }
        }
        return comparison.report();
    }

    /**
     * The adjoint identity {@code <J v, u> ≈ <v, Jᵀ u>} in one random direction, with
     * {@link Tolerance#float32()}.
     *
     * @param f      the function of several inputs
     * @param inputs points at which to check (not modified)
     * @param seed   seed of the random direction and cotangent
     * @return the report
     */
    public static Report adjointIdentity(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, long seed) {
        return adjointIdentity(f, inputs, seed, Tolerance.float32());
    }

    /**
     * The adjoint identity {@code <J v, u> ≈ <v, Jᵀ u>} in one random direction.
     *
     * @param f         the function of several inputs
     * @param inputs    points at which to check (not modified)
     * @param seed      seed of the random direction and cotangent
     * @param tolerance step and bounds
     * @return the report
     */
    public static Report adjointIdentity(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, long seed,
                                         Tolerance tolerance) {
        List<Tensor> leaves = leaves(inputs);
        Tensor output = f.apply(leaves);
        Tensor u = Tensor.randn(seed, output.shape());
        if (output.requiresGrad()) {
            output.backward(u);
        }
        List<float[]> directions = new ArrayList<>();
        for (int j = 0; j < inputs.size(); j++) {
            directions.add(Tensor.randn(seed + 1 + j, inputs.get(j).shape()).toFloatArray());
        }
        Perturbed points = perturb("adjointIdentity", inputs, directions, tolerance.step());
        double vJtu = 0;
        for (int j = 0; j < inputs.size(); j++) {
            float[] d = points.realised().get(j);
            float[] grad = gradientOrZeros(leaves.get(j));
            for (int e = 0; e < d.length; e++) {
                vJtu += (double) d[e] * grad[e];
            }
        }
        float[] cotangent = u.toFloatArray();
        double jvu;
        try (var _ = GradMode.noGrad()) {
            float[] high = f.apply(points.plus()).toFloatArray();
            float[] low = f.apply(points.minus()).toFloatArray();
            double dot = 0;
            for (int i = 0; i < cotangent.length; i++) {
                dot += ((double) high[i] - low[i]) * cotangent[i];
            }
            jvu = dot / (2 * tolerance.step());
        }
        Comparison comparison = new Comparison("adjoint identity <Jv, u> = <v, J^T u>", tolerance);
        comparison.add(vJtu, jvu, "<v, J^T u> (analytic) vs <J v, u> (central differences)");
        return comparison.report();
    }

    /**
     * Forward mode against reverse mode: {@code <jvp(v), u> ≈ <v, vjp(u)>} for random
     * {@code v} and {@code u}, and forward mode against central differences:
     * {@code jvp(v) ≈ (f(x + h v) − f(x − h v)) / 2h} element by element, {@code v} being the
     * direction that {@code x ± h v} realise once rounded to float32.
     *
     * @param f      the function of several inputs
     * @param inputs points at which to check (not modified)
     * @param seed   seed of the random directions
     * @return the report (the worse of the two comparisons)
     */
    public static Report forwardMode(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, long seed) {
        Tolerance tolerance = Tolerance.float32();
        List<float[]> random = new ArrayList<>();
        for (int j = 0; j < inputs.size(); j++) {
            random.add(Tensor.randn(seed + 1 + j, inputs.get(j).shape()).toFloatArray());
        }
        // The direction the central differences below realise, used by both modes as well.
        Perturbed points = perturb("forwardMode", inputs, random, tolerance.step());
        List<Tensor> directions = new ArrayList<>();
        for (int j = 0; j < inputs.size(); j++) {
            directions.add(tensor(points.realised().get(j), inputs.get(j).shape()));
        }
        Autodiff.Jvp jvp = Autodiff.jvp(f, inputs, directions);
        float[] jv = jvp.tangent().toFloatArray();
        Tensor u = Tensor.randn(seed, jvp.value().shape());
        List<Tensor> pulled = Autodiff.vjp(f, inputs).pullback().apply(u);
        double forward = 0;
        float[] uValues = u.toFloatArray();
        for (int i = 0; i < jv.length; i++) {
            forward += (double) jv[i] * uValues[i];
        }
        double reverse = 0;
        for (int j = 0; j < inputs.size(); j++) {
            float[] v = directions.get(j).toFloatArray();
            float[] g = pulled.get(j).toFloatArray();
            for (int e = 0; e < v.length; e++) {
                reverse += (double) v[e] * g[e];
            }
        }
        Comparison comparison = new Comparison("forward mode (jvp) against reverse mode and central differences", tolerance);
        comparison.add(reverse, forward, "<v, vjp(u)> (reverse) vs <jvp(v), u> (forward)");
        try (var _ = GradMode.noGrad()) {
            float[] high = f.apply(points.plus()).toFloatArray();
            float[] low = f.apply(points.minus()).toFloatArray();
            for (int i = 0; i < jv.length; i++) {
                double numeric = ((double) high[i] - low[i]) / (2 * tolerance.step());
                comparison.add(jv[i], numeric, "jvp element " + i + " vs central differences");
            }
        }
        return comparison.report();
    }

    private static List<Tensor> leaves(List<Tensor> inputs) {
        List<Tensor> leaves = new ArrayList<>(inputs.size());
        for (Tensor in : inputs) {
            leaves.add(tensor(in.toFloatArray(), in.shape()).requiresGrad(true));
        }
        return leaves;
    }

    /** {@code Tensor.of} that keeps rank 0 (where {@code Tensor.of} without a shape means 1-D). */
    private static Tensor tensor(float[] data, int[] shape) {
        return shape.length == 0 ? Tensor.scalar(data[0]) : Tensor.of(data, shape);
    }

    /**
     * The points {@code x ± h·v} in float32, and the direction they realise,
     * {@code (x⁺ − x⁻) / 2h}: rounding moves each perturbed element by up to half a float
     * spacing, which at {@code |x| ≈ 1e5} is tens of percent of {@code h·v}, so the central
     * difference measures {@code J} times this direction, not times {@code v}.
     */
    private record Perturbed(List<Tensor> plus, List<Tensor> minus, List<float[]> realised) {
    }

    private static Perturbed perturb(String check, List<Tensor> inputs, List<float[]> directions, double step) {
        List<Tensor> plus = new ArrayList<>();
        List<Tensor> minus = new ArrayList<>();
        List<float[]> realised = new ArrayList<>();
        for (int j = 0; j < inputs.size(); j++) {
            float[] x = inputs.get(j).toFloatArray();
            float[] v = directions.get(j);
            float[] xp = new float[x.length];
            float[] xm = new float[x.length];
            float[] d = new float[x.length];
            boolean moved = x.length == 0;
            for (int e = 0; e < x.length; e++) {
                xp[e] = (float) (x[e] + step * v[e]);
                xm[e] = (float) (x[e] - step * v[e]);
                d[e] = (float) (((double) xp[e] - xm[e]) / (2 * step));
                moved |= d[e] != 0;
            }
            if (!moved) {
                // That input would add nothing to either side, and the check would pass without it.
                throw new IllegalArgumentException("GradCheck." + check + ": the step " + step + " vanishes at input "
                        + j + " (every x ± h·v rounds to x); use a larger step");
            }
            plus.add(tensor(xp, inputs.get(j).shape()));
            minus.add(tensor(xm, inputs.get(j).shape()));
            realised.add(d);
        }
        return new Perturbed(plus, minus, realised);
    }

    private static float[] gradientOrZeros(Tensor leaf) {
        Tensor grad = leaf.grad();
        return grad == null ? new float[(int) leaf.size()] : grad.toFloatArray();
    }

    private static double project(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, int replaced, float[] point,
                                  float[] cotangent) {
        List<Tensor> args = new ArrayList<>(inputs);
        args.set(replaced, tensor(point, inputs.get(replaced).shape()));
        try (var _ = GradMode.noGrad()) {
            float[] y = f.apply(args).toFloatArray();
            double sum = 0;
            for (int i = 0; i < y.length; i++) {
                sum += (double) y[i] * cotangent[i];
            }
            return sum;
        }
    }

    private static final class Comparison {
        private final String check;
        private final Tolerance tolerance;
        private boolean passed = true;
        private double maxAbsolute;
        private double worstRatio = -1;
        private String worst = "nothing compared";

        Comparison(String check, Tolerance tolerance) {
            this.check = check;
            this.tolerance = tolerance;
        }

        void add(double analytic, double numeric, String where) {
            double error = Math.abs(analytic - numeric);
            double allowed = tolerance.absolute() + tolerance.relative() * Math.max(Math.abs(analytic), Math.abs(numeric));
            // A non-finite value on either side is a failure, never "within a relative bound of infinity".
            boolean ok = Double.isFinite(analytic) && Double.isFinite(numeric) && error <= allowed;
            passed &= ok;
            maxAbsolute = Math.max(maxAbsolute, Double.isNaN(error) ? Double.POSITIVE_INFINITY : error);
            double ratio = ok ? error / allowed : Double.POSITIVE_INFINITY;
            if (ratio > worstRatio) {
                worstRatio = ratio;
                worst = where + ": analytic " + analytic + ", numeric " + numeric + ", error " + error
                        + " (allowed " + allowed + ")";
            }
        }

        Report report() {
            return new Report(check, passed, maxAbsolute, worst);
        }
    }
}
