package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;

/**
 * Checks one program's derivatives every way the engine computes them, against each other
 * and against central differences:
 *
 * <ol>
 *   <li>{@value #REVERSE}: the output recorded with grad mode on equals the plain forward
 *       pass, and {@code backward(u)} runs;</li>
 *   <li>{@value #VJP}: {@code Autodiff.vjp}'s pullback of {@code u} equals those gradients;</li>
 *   <li>{@value #ADJOINT}: {@link GradCheck#adjointIdentity} on the (non-scalar) output, at
 *       three steps, then extrapolated from the last two ({@link CentralDifferences});</li>
 *   <li>{@value #FINITE}: {@link GradCheck#finiteDifferences} of {@code sum(output * R)} for a
 *       fixed random {@code R}, at three steps, then allowing for the values' rounding and
 *       extrapolated ({@link CentralDifferences});</li>
 *   <li>{@value #FORWARD}: {@code Autodiff.jvp} gives the same value and
 *       {@code <J v, u> = <v, Jᵀ u>} against the reverse-mode gradients, up to the rounding of
 *       the terms summed, in the two dot products or inside the derivative rules
 *       ({@link DerivativeTerms}) (checked last, so that a wrong VJP is reported by the checks
 *       against central differences);</li>
 *   <li>{@value #REFERENCE}, when a reference backend is given: value and gradients equal the
 *       reference backend's, element by element within a {@link ReferenceTolerance}.</li>
 * </ol>
 *
 * A check at perturbed inputs that fails where a perturbation crossed a kink (see
 * {@link Watch}) is reported as {@link Status#SKIPPED}, not as a failure.
 */
public final class ProgramChecker {

    /** Name of the plain forward pass, which must not throw. */
    public static final String FORWARD_PASS = "forward pass";
    /** Name of the grad-mode forward and {@code backward} check. */
    public static final String REVERSE = "reverse mode";
    /** Name of the {@code Autodiff.vjp} check. */
    public static final String VJP = "vjp";
    /** Name of the forward-mode check. */
    public static final String FORWARD = "forward mode";
    /** Name of the adjoint-identity check. */
    public static final String ADJOINT = "adjoint identity";
    /** Name of the finite-difference check. */
    public static final String FINITE = "finite differences";
    /** Name of the reference-backend check. */
    public static final String REFERENCE = "reference backend";

    /** Relative agreement of results that differ only in rounding (different code paths, same float32 math). */
    private static final double ROUNDING = 1e-4;

    /**
     * Rounding of one derivative rule relative to the terms it adds ({@link DerivativeTerms}):
     * a sum of up to {@value ProgramGenerator#MAX_VALUE_ELEMENTS} terms, each rounded to
     * {@code 2⁻²⁴ ≈ 6e-8} of its magnitude, is within {@code 7e-6} of their sum of magnitudes.
     */
    private static final double TERM_ROUNDING = 1e-5;

    /** Smallest difference the forward-mode check reports, for gradients that are rounding noise themselves. */
    private static final double FORWARD_FLOOR = 1e-5;

    /** Result of a check. */
    public enum Status {
        /** Every check passed. */
        PASSED,
        /** A check failed: a wrong derivative, or an exception. */
        FAILED,
        /** A check failed only where a perturbation crossed a kink: no evidence either way. */
        SKIPPED,
        /** The program is not well-formed at its inputs (shape error or precondition violated). */
        INVALID
    }

    /**
     * What checking a program found.
     *
     * @param status the result
     * @param check  the check that decided it (for a failure), or {@code null}
     * @param detail    what was wrong, with the numbers
     * @param tolerance the tolerance of the deciding check, when it was a finite-difference one
     */
    public record Outcome(Status status, String check, String detail, GradCheck.Tolerance tolerance) {

        Outcome(Status status, String check, String detail) {
            this(status, check, detail, null);
        }

        static Outcome passed() {
            return new Outcome(Status.PASSED, null, "");
        }

        /**
         * Whether both outcomes are failures of the same check (what the shrinker keeps).
         *
         * @param other another outcome
         * @return true when both failed the same check
         */
        public boolean sameFailureAs(Outcome other) {
            return status == Status.FAILED && other.status == Status.FAILED && check.equals(other.check);
        }
    }

    private final GradCheck.Tolerance tolerance;
    private final Backend reference;
    private final ReferenceTolerance referenceTolerance;

    /**
     * A checker with the default float32 tolerance and no reference backend.
     */
    public ProgramChecker() {
        this(GradCheck.Tolerance.float32(), null);
    }

    /**
     * A checker whose reference backend, if any, is the other kernel provider ({@link ReferenceTolerance#PROVIDERS}).
     *
     * @param tolerance for the finite-difference and adjoint checks
     * @param reference a backend whose results the current one must match, or {@code null}
     */
    public ProgramChecker(GradCheck.Tolerance tolerance, Backend reference) {
        this(tolerance, reference, ReferenceTolerance.PROVIDERS);
    }

    /**
     * A checker.
     *
     * @param tolerance          for the finite-difference and adjoint checks
     * @param reference          a backend whose results the current one must match, or {@code null}
     * @param referenceTolerance how closely, element by element
     */
    public ProgramChecker(GradCheck.Tolerance tolerance, Backend reference, ReferenceTolerance referenceTolerance) {
        this.tolerance = tolerance;
        this.reference = reference;
        this.referenceTolerance = referenceTolerance;
    }

    /**
     * Seed of the cotangent {@code u}; the adjoint check draws {@code u} from it and its
     * directions from the next seeds, the forward check uses the same.
     *
     * @param program the program
     * @return the seed
     */
    public static long cotangentSeed(Program program) {
        return 1000 + Math.floorMod(program.seed(), 1000) * 10L;
    }

    /**
     * Seed of the weights {@code R} of the finite-difference check's scalar {@code sum(output * R)}.
     *
     * @param program the program
     * @return the seed
     */
    public static long weightSeed(Program program) {
        return cotangentSeed(program) + 9;
    }

    /**
     * Runs every check on the current backend.
     *
     * @param program the program
     * @return the first failure, a skip, or a pass
     */
    public Outcome check(Program program) {
        Watch watch = new Watch();
        Tensor expected;
        try (var _ = GradMode.noGrad()) {
            expected = program.run(program.inputTensors(), watch);
        } catch (IllegalArgumentException e) {
            return new Outcome(Status.INVALID, null, e.getMessage());
        } catch (RuntimeException | AssertionError | StackOverflowError e) {
            return failure(FORWARD_PASS, e);
        }
        if (watch.violation() != null) {
            return new Outcome(Status.INVALID, null, watch.violation());
        }
        watch.compare();
        Function<List<Tensor>, Tensor> f = in -> program.run(in, watch);
        List<Tensor> inputs = program.inputTensors();
        long seed = cotangentSeed(program);
        Tensor u = Tensor.randn(seed, expected.shape());
        List<float[]> grads;
        String step = REVERSE;
        try {
            Reverse reverse = reverse(f, program, u);
            grads = reverse.grads();
            String wrong = compare(expected.toFloatArray(), reverse.value(), ROUNDING);
            if (wrong != null) {
                return new Outcome(Status.FAILED, REVERSE, "the output recorded for backward differs from the plain "
                        + "forward pass: " + wrong);
            }
            step = VJP;
            List<Tensor> pulled = Autodiff.vjp(f, inputs).pullback().apply(u);
            for (int j = 0; j < inputs.size(); j++) {
                wrong = compare(grads.get(j), pulled.get(j).toFloatArray(), ROUNDING);
                if (wrong != null) {
                    return new Outcome(Status.FAILED, VJP, "Autodiff.vjp and backward(u) disagree on input " + j
                            + ": " + wrong);
                }
            }
            // The directions of the adjoint identity (GradCheck draws them from the seeds after
            // u's), and the terms of <v, Jᵀ u>, which scale its bound.
            List<Tensor> directions = new ArrayList<>();
            Dot terms = new Dot();
            for (int j = 0; j < inputs.size(); j++) {
                directions.add(Tensor.randn(seed + 1 + j, inputs.get(j).shape()));
                terms.add(directions.get(j).toFloatArray(), grads.get(j));
            }
            step = ADJOINT;
            GradCheck.Tolerance adjointTolerance = adjointTolerance(terms);
            Outcome adjoint = confirmed(ADJOINT, t -> GradCheck.adjointIdentity(f, inputs, seed, t), adjointTolerance,
                    watch);
            if (adjoint != null && adjoint.status() == Status.FAILED) {
                adjoint = CentralDifferences.extrapolated(adjoint, f, inputs, directions, u, terms.sum);
            }
            if (adjoint != null) {
                return adjoint;
            }
            step = FINITE;
            Tensor weights = Tensor.randn(weightSeed(program), expected.shape());
            Outcome finite = confirmed(FINITE,
                    t -> GradCheck.finiteDifferences(in -> f.apply(in).mul(weights).sum(), inputs, t), tolerance, watch);
            if (finite != null && finite.status() == Status.FAILED) {
                finite = CentralDifferences.withRoundingAndExtrapolation(finite, f, inputs, weights,
                        reverse(f, program, weights).grads(), DerivativeTerms.ofValues(program, inputs, weights, watch));
            }
            if (finite != null) {
                return finite;
            }
            // Reverse mode now agrees with central differences: a disagreement is forward mode's.
            step = FORWARD;
            Outcome forward = forward(program, f, inputs, expected, u, directions, terms, watch);
            if (forward != null) {
                return forward;
            }
            if (reference != null) {
                step = REFERENCE;
                Outcome onReference = againstReference(program, expected, grads, seed);
                if (onReference != null) {
                    return onReference;
                }
            }
        } catch (RuntimeException | AssertionError | StackOverflowError e) {
            return failure(step, e);
        }
        return Outcome.passed();
    }

    /**
     * The adjoint identity compares one sum, {@code <v, Jᵀ u>}, whose terms may cancel to a
     * small value while each term carries its own central-difference error (all inputs are
     * perturbed at once, so the step in input space is {@code h·|v|}, several times {@code h}).
     * The absolute bound therefore grows with the terms' magnitudes, not with the sum's:
     * the element-wise finite-difference check keeps the per-element bound.
     */
    private GradCheck.Tolerance adjointTolerance(Dot terms) {
        return new GradCheck.Tolerance(tolerance.step(), tolerance.absolute() + tolerance.relative() * terms.magnitude,
                tolerance.relative());
    }

    /**
     * Runs a central-difference check, and when it fails, again with a quarter and a sixteenth
     * of the step: the truncation error of central differences falls sixteen-fold with each
     * (it is large where saturating or singular functions are composed, and where all inputs
     * are perturbed at once), while a wrong derivative stays wrong. Only a failure at every
     * step counts, unless a perturbation crossed a kink.
     *
     * @return the failure or skip, or {@code null} when any step passed
     */
    private static Outcome confirmed(String check, Function<GradCheck.Tolerance, GradCheck.Report> run,
                                     GradCheck.Tolerance first, Watch watch) {
        watch.takeCrossing();
        StringBuilder reports = new StringBuilder();
        GradCheck.Tolerance tolerance = first;
        for (int attempt = 0; attempt < 3; attempt++) {
            GradCheck.Report report = run.apply(tolerance);
            if (report.passed()) {
                return null;
            }
            reports.append(attempt == 0 ? "" : "; ").append("step ").append(tolerance.step()).append(": ")
                    .append(report.worst());
            if (attempt < 2) {
                tolerance = new GradCheck.Tolerance(tolerance.step() / 4, tolerance.absolute(), tolerance.relative());
            }
        }
        String crossing = watch.takeCrossing();
        return crossing != null ? new Outcome(Status.SKIPPED, check, crossing, tolerance)
                : new Outcome(Status.FAILED, check, check + " failed at every step: " + reports, tolerance);
    }

    private static Outcome failure(String check, Throwable e) {
        StringBuilder where = new StringBuilder(e.toString());
        StackTraceElement[] trace = e.getStackTrace();
        for (int i = 0; i < Math.min(8, trace.length); i++) {
            where.append("\n    at ").append(trace[i]);
        }
        return new Outcome(Status.FAILED, check, check + " threw " + where);
    }

    private static List<Tensor> leaves(Program program) {
        List<Tensor> leaves = program.inputTensors();
        for (Tensor leaf : leaves) {
            leaf.requiresGrad(true);
        }
        return leaves;
    }

    /**
     * The output as recorded with grad mode on, and the gradients of {@code backward(u)}.
     *
     * @param value the output's elements
     * @param grads one gradient per input (zeros where none arrived)
     */
    private record Reverse(float[] value, List<float[]> grads) {
    }

    private static Reverse reverse(Function<List<Tensor>, Tensor> f, Program program, Tensor u) {
        List<Tensor> leaves = leaves(program);
        Tensor y;
        try (var _ = GradMode.enableGrad()) {
            y = f.apply(leaves);
        }
        if (!y.requiresGrad()) {
            throw new AssertionError("the output of shape " + Arrays.toString(y.shape())
                    + " does not require a gradient although every input does");
        }
        y.backward(u);
        List<float[]> grads = new ArrayList<>();
        for (Tensor leaf : leaves) {
            grads.add(leaf.grad() == null ? new float[(int) leaf.size()] : leaf.grad().toFloatArray());
        }
        return new Reverse(y.toFloatArray(), grads);
    }

    private static Outcome forward(Program program, Function<List<Tensor>, Tensor> f, List<Tensor> inputs,
                                   Tensor expected, Tensor u, List<Tensor> directions, Dot reverse, Watch watch) {
        Autodiff.Jvp jvp = Autodiff.jvp(f, inputs, directions);
        String wrong = compare(expected.toFloatArray(), jvp.value().toFloatArray(), ROUNDING);
        if (wrong != null) {
            return new Outcome(Status.FAILED, FORWARD, "Autodiff.jvp's value differs from the forward pass: " + wrong);
        }
        if (!Arrays.equals(jvp.tangent().shape(), expected.shape())) {
            return new Outcome(Status.FAILED, FORWARD, "Autodiff.jvp's tangent has shape "
                    + Arrays.toString(jvp.tangent().shape()) + " for an output of shape " + Arrays.toString(expected.shape()));
        }
        Dot forward = new Dot();
        forward.add(jvp.tangent().toFloatArray(), u.toFloatArray());
        // Both sides are exact derivatives in float32: they differ only by rounding, relative to
        // the terms summed (not to the sum, which may cancel), with a floor for gradients that
        // are themselves rounding noise (x - x feeding later steps).
        double difference = Math.abs(forward.sum - reverse.sum);
        double allowed = ROUNDING * Math.max(forward.magnitude, reverse.magnitude) + FORWARD_FLOOR;
        if (difference <= allowed) {
            return null;
        }
        // The terms may instead have cancelled inside the program, where the final dot products
        // cannot see them: the terms of every derivative rule bound the rounding. Taking the
        // larger bound, computing them only here (they cost a Jacobian per step) decides as
        // computing them always would.
        double terms = DerivativeTerms.magnitude(program, inputs, directions, u, watch);
        allowed = Math.max(allowed, TERM_ROUNDING * terms + FORWARD_FLOOR);
        if (!(difference <= allowed)) {
            return new Outcome(Status.FAILED, FORWARD, "forward mode <J v, u> = " + forward.sum
                    + " but reverse mode <v, J^T u> = " + reverse.sum + " (allowed difference " + allowed
                    + ", from the terms that the derivative rules add, " + terms
                    + "), and reverse mode agrees with central differences");
        }
        return null;
    }

    private Outcome againstReference(Program program, Tensor expected, List<float[]> grads, long seed) {
        Backend current = Backends.current();
        Reverse onReference;
        try {
            Backends.use(reference);
            Watch watch = new Watch();
            watch.compare();
            onReference = reverse(in -> program.run(in, watch), program, Tensor.randn(seed, expected.shape()));
        } finally {
            Backends.use(current);
        }
        float[] value = expected.toFloatArray();
        float[] referenceValue = onReference.value();
        List<float[]> referenceGrads = onReference.grads();
        // Kernels may round differently (fused multiply-adds, vector exp, lane-wise sums).
        String wrong = referenceTolerance.firstDisagreement(referenceValue, value);
        if (wrong != null) {
            return new Outcome(Status.FAILED, REFERENCE, "the output differs from " + reference.name()
                    + "'s: " + wrong);
        }
        for (int j = 0; j < grads.size(); j++) {
            wrong = referenceTolerance.firstDisagreement(referenceGrads.get(j), grads.get(j));
            if (wrong != null) {
                return new Outcome(Status.FAILED, REFERENCE, "the gradient of input " + j + " differs from "
                        + reference.name() + "'s: " + wrong);
            }
        }
        return null;
    }

    /** The first element where {@code actual} is not within {@code relative} of {@code expected}, or null. */
    private static String compare(float[] expected, float[] actual, double relative) {
        if (expected.length != actual.length) {
            return expected.length + " elements expected, " + actual.length + " found";
        }
        for (int i = 0; i < expected.length; i++) {
            double allowed = relative * Math.max(1, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= allowed)) {
                return "element " + i + ": " + expected[i] + " vs " + actual[i];
            }
        }
        return null;
    }

    /** A dot product in double, with the sum of the terms' magnitudes to scale its rounding bound. */
    private static final class Dot {
        double sum;
        double magnitude;

        void add(float[] x, float[] y) {
            for (int i = 0; i < x.length; i++) {
                double term = (double) x[i] * y[i];
                sum += term;
                magnitude += Math.abs(term);
            }
        }
    }
}
