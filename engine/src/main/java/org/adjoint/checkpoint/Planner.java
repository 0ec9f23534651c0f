package org.adjoint.checkpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a chain length, the bytes of one stored layer output, the bytes of one layer's tape
 * and a {@link CheckpointPolicy} into a {@link Schedule}. Pure: no tensors, no layers.
 */
public final class Planner {

    private Planner() {
    }

    /**
     * Plans one forward and backward pass.
     *
     * @param layers    chain length, at least 1
     * @param slotBytes bytes of one stored layer output
     * @param tapeBytes bytes one layer's tape saves (its input and output included)
     * @param policy    the policy
     * @return the schedule
     * @throws IllegalArgumentException when a budget cannot hold one layer's tape
     */
    public static Schedule plan(int layers, long slotBytes, long tapeBytes, CheckpointPolicy policy) {
        if (layers < 1) {
            throw new IllegalArgumentException("plan: a chain needs at least one layer, got " + layers);
        }
        Builder b = new Builder(layers, slotBytes, tapeBytes);
        switch (policy) {
            case CheckpointPolicy.None none -> b.segments(layers);
            case CheckpointPolicy.EveryK every -> b.segments(Math.min(every.k(), layers));
            case CheckpointPolicy.Sqrt sqrt -> b.segments((int) Math.ceil(Math.sqrt(layers)));
            case CheckpointPolicy.Binomial binomial -> b.revolve(0, layers, Math.min(binomial.slots(), layers - 1), tapeBytes);
            case CheckpointPolicy.MemoryBudget budget -> {
                if (budget.bytes() < tapeBytes) {
                    throw new IllegalArgumentException("memoryBudget: " + budget.bytes() + " bytes cannot hold even one "
                            + "layer's tape (" + tapeBytes + " bytes)");
                }
                b.revolve(0, layers, -1, budget.bytes());
            }
        }
        return b.build();
    }

    /** Emits actions while simulating the current state, slots and live tapes. */
    private static final class Builder {
        private final int layers;
        private final long slotBytes;
        private final long tapeBytes;
        private final List<Action> actions = new ArrayList<>();
        private int current;
        private int slots;
        private int maxSlots;
        private int tapes;
        private long peak;
        private long calls;

        Builder(int layers, long slotBytes, long tapeBytes) {
            this.layers = layers;
            this.slotBytes = slotBytes;
            this.tapeBytes = tapeBytes;
        }

        private void add(Action.Kind kind, int index) {
            actions.add(new Action(kind, index));
            switch (kind) {
                case ADVANCE -> {
                    calls++;
                    current = index;
                }
                case RECORD -> {
                    calls++;
                    tapes++;
                    current = index;
                }
                case REVERSE -> {
                    tapes--;
                    current = index - 1;
                }
                case STORE -> {
                    slots++;
                    maxSlots = Math.max(maxSlots, slots);
                }
                case FREE -> slots--;
                case RESTORE -> current = index;
            }
            peak = Math.max(peak, slots * slotBytes + tapes * tapeBytes);
        }

        private void moveTo(int state) {
            if (current != state) {
                add(Action.Kind.RESTORE, state);
            }
        }

        /** Segments of {@code k}: store each segment's input, tape the last segment in the forward pass. */
        void segments(int k) {
            List<Integer> starts = new ArrayList<>();
            for (int start = 0; start < layers; start += k) {
                starts.add(start);
            }
            int last = starts.get(starts.size() - 1);
            for (int start : starts) {
                if (start > 0) {
                    add(Action.Kind.STORE, start);
                }
                int end = Math.min(start + k, layers);
                for (int layer = start + 1; layer <= end; layer++) {
                    add(start == last ? Action.Kind.RECORD : Action.Kind.ADVANCE, layer);
                }
            }
            for (int s = starts.size() - 1; s >= 0; s--) {
                int start = starts.get(s);
                int end = Math.min(start + k, layers);
                if (start != last) {
                    moveTo(start);
                    for (int layer = start + 1; layer <= end; layer++) {
                        add(Action.Kind.RECORD, layer);
                    }
                }
                for (int layer = end; layer > start; layer--) {
                    add(Action.Kind.REVERSE, layer);
                }
                if (start > 0) {
                    add(Action.Kind.FREE, start);
                }
            }
        }

        /**
         * Reverses layers {@code from+1 .. from+n} with state {@code from} available.
         * With {@code slotsLeft >= 0} it is Revolve with that many slots and one tape; with
         * {@code slotsLeft < 0} the slots follow from {@code freeBytes}, and any stretch whose
         * tapes fit in {@code freeBytes} is taped in one sweep.
         */
        void revolve(int from, int n, int slotsLeft, long freeBytes) {
            boolean budget = slotsLeft < 0;
            int c = budget ? (int) Math.min(n - 1, Math.max(0, (freeBytes - tapeBytes) / Math.max(1, slotBytes))) : slotsLeft;
            long fitting = budget ? freeBytes / Math.max(1, tapeBytes) : 1;
            if (n <= fitting) {
                moveTo(from);
                for (int layer = from + 1; layer <= from + n; layer++) {
                    add(Action.Kind.RECORD, layer);
                }
                for (int layer = from + n; layer > from; layer--) {
                    add(Action.Kind.REVERSE, layer);
                }
                return;
            }
            if (c == 0) {
                // No slot: sweep from the start for each stretch of `fitting` layers, last first.
                int end = from + n;
                while (end > from) {
                    int length = (int) Math.min(fitting, end - from);
                    moveTo(from);
                    for (int layer = from + 1; layer <= end - length; layer++) {
                        add(Action.Kind.ADVANCE, layer);
                    }
                    for (int layer = end - length + 1; layer <= end; layer++) {
                        add(Action.Kind.RECORD, layer);
                    }
                    for (int layer = end; layer > end - length; layer--) {
                        add(Action.Kind.REVERSE, layer);
                    }
                    end -= length;
                }
                return;
            }
            int j = Revolve.split(n, c);
            moveTo(from);
            for (int layer = from + 1; layer <= from + j; layer++) {
                add(Action.Kind.ADVANCE, layer);
            }
            add(Action.Kind.STORE, from + j);
            revolve(from + j, n - j, budget ? -1 : c - 1, freeBytes - slotBytes);
            add(Action.Kind.FREE, from + j);
            revolve(from, j, budget ? -1 : c, freeBytes);
        }

        Schedule build() {
            return new Schedule(layers, List.copyOf(actions), calls, maxSlots, peak);
        }
    }
}
