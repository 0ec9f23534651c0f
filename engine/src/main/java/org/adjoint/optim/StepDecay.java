package org.adjoint.optim;

/**
 * A rate that is multiplied by {@code gamma} every {@code period} steps (or epochs):
 * {@code rate(n) = baseRate · gamma^⌊n / period⌋}, PyTorch's {@code StepLR}.
 *
 * @param baseRate the rate from step 0 to {@code period − 1}, finite and {@code > 0}
 * @param period   how many steps (or epochs) each rate lasts, {@code >= 1}
 * @param gamma    the factor applied at each boundary, finite and {@code > 0} (below 1 to decay)
 */
public record StepDecay(float baseRate, int period, float gamma) implements LearningRateSchedule {

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for a value out of range, named with its value
     */
    public StepDecay {
        if (!(baseRate > 0f && baseRate < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("StepDecay: base rate must be finite and > 0, got " + baseRate);
        }
        if (period < 1) {
            throw new IllegalArgumentException("StepDecay: period must be >= 1, got " + period);
        }
        if (!(gamma > 0f && gamma < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("StepDecay: gamma must be finite and > 0, got " + gamma);
        }
    }

    @Override
    public float rate(int step) {
        if (step < 0) {
            throw new IllegalArgumentException("StepDecay: step must be >= 0, got " + step);
        }
        float rate = (float) (baseRate * Math.pow(gamma, step / period));
        if (!Float.isFinite(rate)) {
            throw new IllegalStateException("StepDecay: the rate " + baseRate + " × " + gamma + "^" + (step / period)
                    + " at step " + step + " is not a finite float");
        }
        return rate;
    }
}
