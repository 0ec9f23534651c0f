package org.adjoint.conformance.programs;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Watches evaluations of a program for the places where finite differences lose their
 * meaning. The first evaluation, at the unperturbed inputs, records: it checks every
 * operation's precondition (log and sqrt above 0, divisors away from 0, ReLU inputs off the
 * kink, max lanes without near-ties, moderate magnitudes) and remembers which side of each
 * kink every element is on. Later evaluations, at perturbed inputs, compare: when a
 * perturbation moves an element across a ReLU kink or changes a lane's argmax, the
 * function is not smooth on the segment that the differences span, and a disagreement
 * there is no evidence of a wrong derivative.
 */
public final class Watch {

    /** Nearest a ReLU input, or the top two of a max lane, may be to the kink at the unperturbed point. */
    public static final double KINK_MARGIN = 0.02;

    /** Smallest value under log, sqrt and fractional powers. */
    public static final double POSITIVE_MARGIN = 0.2;

    /** Smallest magnitude of a divisor or of a base raised to a negative power. */
    public static final double POLE_MARGIN = 0.3;

    /** Largest argument of exp. */
    public static final double EXP_LIMIT = 4;

    /** Largest magnitude any value may reach. */
    public static final double MAGNITUDE_LIMIT = 100;

    private final Map<Integer, int[]> sides = new HashMap<>();
    private boolean recording = true;
    private String violation;
    private String crossing;

    /** Creates a watch that records. */
    public Watch() {
    }

    /**
     * Whether this watch is still recording the unperturbed evaluation.
     *
     * @return true before {@link #compare()}
     */
    public boolean recording() {
        return recording;
    }

    /** Ends recording: later evaluations are compared against the recorded sides. */
    public void compare() {
        recording = false;
    }

    /**
     * Checks a precondition while recording (perturbed evaluations skip the work).
     *
     * @param holds whether it holds
     * @param what  what does not hold, for the report
     */
    public void require(BooleanSupplier holds, Supplier<String> what) {
        if (recording && violation == null && !holds.getAsBoolean()) {
            violation = what.get();
        }
    }

    /**
     * Records or compares the sides of one operation's kinks.
     *
     * @param value the value index of the operation
     * @param side  one entry per element or lane (sign, or argmax)
     */
    public void sides(int value, int[] side) {
        if (recording) {
            sides.put(value, side);
            return;
        }
        int[] recorded = sides.get(value);
        if (crossing == null && recorded != null && !Arrays.equals(recorded, side)) {
            crossing = "a perturbation moved value t" + value + " across a kink (" + Arrays.toString(recorded) + " to "
                    + Arrays.toString(side) + ")";
        }
    }

    /**
     * The first precondition that failed at the unperturbed point.
     *
     * @return a description, or {@code null} when all held
     */
    public String violation() {
        return violation;
    }

    /**
     * The first kink that a perturbed evaluation crossed since the last call, and forgets it.
     *
     * @return a description, or {@code null} when none was crossed
     */
    public String takeCrossing() {
        String taken = crossing;
        crossing = null;
        return taken;
    }
}
