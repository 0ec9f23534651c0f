package org.adjoint.checkpoint;

import java.util.Locale;

/**
 * How a chain of {@code n} layers trades memory for recomputation in the backward pass.
 * Costs below count layer forward calls (the first pass included) and the activations held
 * at once for the backward pass, in stored layer outputs ("slots") and layer tapes.
 *
 * <ul>
 *   <li>{@link #none()}: tape every layer in the forward pass. {@code n} calls; all {@code n}
 *       tapes held.</li>
 *   <li>{@link #everyK(int)}: store the input of every segment of {@code k} layers, re-run each
 *       segment but the last once, taped, during backward (like PyTorch's
 *       {@code checkpoint_sequential}). About {@code 2n − k} calls; {@code n/k} slots plus
 *       {@code k} tapes.</li>
 *   <li>{@link #sqrt()}: {@code everyK(⌈√n⌉)}, about {@code 2√n} layer outputs held.</li>
 *   <li>{@link #binomial(int)}: Griewank and Walther's Revolve with {@code c} slots and one
 *       tape: the fewest forward calls any schedule with {@code c} slots can make,
 *       {@code G(n, c) = n + t(n, c + 1)} where {@code t(l, s) = r·l − β(s + 1, r − 1)},
 *       {@code β(s, r) = C(s + r, s)}, {@code r} the least with {@code β(s, r) ≥ l}. With
 *       {@code c ≥ n − 1}: {@code 2n − 1} calls; with {@code c = 0}: {@code n(n + 1)/2}.</li>
 *   <li>{@link #memoryBudget(long)}: the most slots a byte budget holds next to one tape, run
 *       as {@code binomial}, and wherever the free bytes hold the tapes of several layers,
 *       those layers are taped in one sweep instead of being split further: never more calls
 *       than {@code binomial} with that many slots, and never more saved bytes than the budget
 *       (for a chain of identical layers). What a tape costs is learnt by taping the first
 *       layer (and the next ones while their tapes save nothing, as a leading reshape of the
 *       input into images does); a budget too small for that tape, or for a later layer's taped in the forward
 *       call, is refused with the model as the call found it: the random stream is set back,
 *       a batch norm's running statistics and batch count are restored, and the chain's
 *       buffers are handed back. A later layer first taped in the backward pass that exceeds
 *       the budget fails that pass; the forward call's effects stay, as they would for any
 *       backward pass that fails.</li>
 * </ul>
 */
public sealed interface CheckpointPolicy {

    /**
     * Store everything: the plain backward pass.
     *
     * @return the policy
     */
    static CheckpointPolicy none() {
        return new None();
    }

    /**
     * Segments of {@code k} layers.
     *
     * @param k segment length, at least 1
     * @return the policy
     */
    static CheckpointPolicy everyK(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("everyK: segment length must be at least 1, got " + k);
        }
        return new EveryK(k);
    }

    /**
     * Segments of {@code ⌈√n⌉} layers.
     *
     * @return the policy
     */
    static CheckpointPolicy sqrt() {
        return new Sqrt();
    }

    /**
     * Revolve with {@code slots} checkpoints: optimal in forward calls.
     *
     * @param slots stored layer outputs available, at least 0 (the chain input is not one)
     * @return the policy
     */
    static CheckpointPolicy binomial(int slots) {
        if (slots < 0) {
            throw new IllegalArgumentException("binomial: slots must be at least 0, got " + slots);
        }
        return new Binomial(slots);
    }

    /**
     * As many slots as {@code bytes} holds, and multi-layer taping where it fits.
     *
     * @param bytes most activation bytes to hold at once
     * @return the policy
     */
    static CheckpointPolicy memoryBudget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("memoryBudget: the budget must be positive, got " + bytes + " bytes");
        }
        return new MemoryBudget(bytes);
    }

    /**
     * Parses {@code none}, {@code every:K}, {@code sqrt}, {@code binomial:C} or
     * {@code budget:BYTES} (the command line's spelling).
     *
     * @param text the policy
     * @return the policy
     * @throws IllegalArgumentException naming the text when it is not one of those
     */
    static CheckpointPolicy parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.equals("none")) {
                return none();
            }
            if (t.equals("sqrt")) {
                return sqrt();
            }
            if (t.startsWith("every:")) {
                return everyK(Integer.parseInt(t.substring(6)));
            }
            if (t.startsWith("binomial:")) {
                return binomial(Integer.parseInt(t.substring(9)));
            }
            if (t.startsWith("budget:")) {
                return memoryBudget(Long.parseLong(t.substring(7)));
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("checkpoint policy '" + text + "': " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("checkpoint policy '" + text
                + "' is not one of none, every:K, sqrt, binomial:C, budget:BYTES");
    }

    /** The plain backward pass. */
    record None() implements CheckpointPolicy {
        @Override
        public String toString() {
            return "none";
        }
    }

    /**
     * Fixed-length segments.
     *
     * @param k segment length
     */
    record EveryK(int k) implements CheckpointPolicy {
        @Override
        public String toString() {
            return "every:" + k;
        }
    }

    /** Segments of about the square root of the chain length. */
    record Sqrt() implements CheckpointPolicy {
        @Override
        public String toString() {
            return "sqrt";
        }
    }

    /**
     * Revolve.
     *
     * @param slots checkpoint slots
     */
    record Binomial(int slots) implements CheckpointPolicy {
        @Override
        public String toString() {
            return "binomial:" + slots;
        }
    }

    /**
     * Byte budget.
     *
     * @param bytes the budget
     */
    record MemoryBudget(long bytes) implements CheckpointPolicy {
        @Override
        public String toString() {
            return "budget:" + bytes;
        }
    }
}
