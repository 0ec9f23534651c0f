package org.adjoint.optim;

/**
 * Cosine annealing from {@code baseRate} to {@code minRate}, after an optional linear warm-up.
 * With {@code W = warmupSteps} and {@code T = totalSteps} (warm-up included):
 *
 * <pre>
 * rate(n) = baseRate · (n + 1) / W                                    for n &lt; W
 * rate(n) = minRate + (baseRate − minRate) · (1 + cos(π (n − W) / (T − W))) / 2   for W ≤ n &lt; T
 * rate(n) = minRate                                                    for n ≥ T
 * </pre>
 *
 * <p>The warm-up starts at {@code baseRate / W} rather than 0, so that the first step already
 * moves, and reaches {@code baseRate} at step {@code W − 1}; the cosine then starts at
 * {@code baseRate} at step {@code W}, passes the mean of both rates halfway, and ends at
 * {@code minRate} at step {@code T}, where it stays. Without warm-up this is PyTorch's
 * {@code CosineAnnealingLR} with {@code T_max = T}. Steps may be epochs (see
 * {@link LearningRateSchedule}).
 *
 * @param baseRate    the peak rate, finite and {@code > 0}
 * @param minRate     the final rate, in {@code [0, baseRate]}
 * @param totalSteps  the step at which {@code minRate} is reached, warm-up included, {@code >= 1}
 * @param warmupSteps the length of the linear warm-up, in {@code [0, totalSteps)}
 */
public record CosineDecay(float baseRate, float minRate, int totalSteps, int warmupSteps)
        implements LearningRateSchedule {

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException for a value out of range, named with its value
     */
    public CosineDecay {
        if (!(baseRate > 0f && baseRate < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("CosineDecay: base rate must be finite and > 0, got " + baseRate);
        }
        if (!(minRate >= 0f && minRate <= baseRate)) {
            throw new IllegalArgumentException("CosineDecay: minimum rate must be in [0, " + baseRate + "], got "
                    + minRate);
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("CosineDecay: total steps must be >= 1, got " + totalSteps);
        }
        if (warmupSteps < 0 || warmupSteps >= totalSteps) {
            throw new IllegalArgumentException("CosineDecay: warm-up steps must be in [0, " + totalSteps + "), got "
                    + warmupSteps);
        }
    }

    /**
     * Cosine annealing without warm-up.
     *
     * @param baseRate   the rate at step 0, finite and {@code > 0}
     * @param minRate    the final rate, in {@code [0, baseRate]}
     * @param totalSteps the step at which {@code minRate} is reached, {@code >= 1}
     * @throws IllegalArgumentException for a value out of range, named with its value
     */
    public CosineDecay(float baseRate, float minRate, int totalSteps) {
        this(baseRate, minRate, totalSteps, 0);
    }

    @Override
    public float rate(int step) {
        if (step < 0) {
            throw new IllegalArgumentException("CosineDecay: step must be >= 0, got " + step);
        }
        if (step < warmupSteps) {
            return (float) ((double) baseRate * (step + 1) / warmupSteps);
        }
        if (step >= totalSteps) {
            return minRate;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return (float) (minRate + ((double) baseRate - minRate) * (1 + Math.cos(Math.PI * progress)) / 2);
    }
}
