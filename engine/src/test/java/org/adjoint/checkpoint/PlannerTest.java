package org.adjoint.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class PlannerTest {

    private static final int MAX_N = 200;
    private static final int MAX_C = 12;

    /** G(n, c) by the recurrence of the issue, bottom up. */
    private static long[][] recurrence() {
        long[][] g = new long[MAX_N + 1][MAX_C + 1];
        for (int c = 0; c <= MAX_C; c++) {
            for (int n = 1; n <= MAX_N; n++) {
                if (n == 1) {
                    g[n][c] = 1;
                } else if (c == 0) {
                    g[n][c] = (long) n * (n + 1) / 2;
                } else {
                    long best = Long.MAX_VALUE;
                    for (int j = 1; j < n; j++) {
                        best = Math.min(best, j + g[n - j][c - 1] + g[j][c]);
                    }
                    g[n][c] = best;
                }
            }
        }
        return g;
    }

    /**
     * The plans behind the 64-layer table in docs/checkpointing.md (width 512, batch 256: a
     * layer output is 512 KiB and the fused tanh layer's tape holds two of them), exactly as
     * {@code ./adjoint checkpoint} plans them: forward calls and slots. (The peak saved bytes in
     * the table are the meter's; consecutive layers share a tensor, so the meter's peak is below
     * the plan's bound.)
     */
    @Test
    void theDocumentedSixtyFourLayerPlans() {
        long output = 4L * 256 * 512;
        record Row(CheckpointPolicy policy, long calls, int slots) {
        }
        List<Row> rows = List.of(
                new Row(CheckpointPolicy.none(), 64, 0),
                new Row(CheckpointPolicy.sqrt(), 120, 7),
                new Row(CheckpointPolicy.binomial(4), 236, 4),
                new Row(CheckpointPolicy.binomial(8), 190, 8),
                new Row(CheckpointPolicy.memoryBudget(6291456), 177, 10));
        for (Row row : rows) {
            Schedule schedule = Planner.plan(64, output, 2 * output, row.policy());
            assertEquals(row.calls(), schedule.forwardCalls(), "layer forward calls of " + row.policy());
            assertEquals(row.slots(), schedule.slots(), "slots of " + row.policy());
        }
        assertEquals(6291456, Planner.plan(64, output, 2 * output, CheckpointPolicy.memoryBudget(6291456))
                .predictedPeakBytes(), "the budget plan fills its budget exactly");
        assertEquals(179, Revolve.forwardCalls(64, 10), "binomial:10 with the budget's 10 slots");
    }

    @Test
    void closedFormMatchesTheRecurrence() {
        long[][] g = recurrence();
        for (int n = 1; n <= MAX_N; n++) {
            for (int c = 0; c <= MAX_C; c++) {
                assertEquals(g[n][c], Revolve.forwardCalls(n, c), "G(" + n + ", " + c + ")");
            }
        }
    }

    @Test
    void binomialSchedulesAreValidAndOptimal() {
        long[][] g = recurrence();
        for (int n = 1; n <= MAX_N; n++) {
            for (int c = 0; c <= MAX_C; c++) {
                Schedule schedule = Planner.plan(n, 10, 30, CheckpointPolicy.binomial(c));
                assertEquals(g[n][c], schedule.forwardCalls(), "calls for n=" + n + " c=" + c);
                Replay replay = Replay.check(schedule);
                assertEquals(g[n][c], replay.calls, "replayed calls for n=" + n + " c=" + c);
                assertTrue(replay.maxSlots <= c, "slots " + replay.maxSlots + " > " + c + " for n=" + n);
                assertTrue(replay.maxTapes <= 1, "binomial holds one tape, got " + replay.maxTapes);
            }
        }
    }

    @Test
    void knownValues() {
        assertEquals(1, Revolve.forwardCalls(1, 0));
        assertEquals(6, Revolve.forwardCalls(3, 0));
        assertEquals(5, Revolve.forwardCalls(3, 1));
        assertEquals(2 * 64 - 1, Revolve.forwardCalls(64, 63));
        assertEquals(2 * 64 - 1, Revolve.forwardCalls(64, 100));
        assertEquals(10, Revolve.beta(2, 3));
        assertEquals(1, Revolve.beta(0, 7));
        // Near the int range: s + r and c + 1 must not wrap round.
        assertEquals(2147483648L, Revolve.beta(Integer.MAX_VALUE, 1));
        assertEquals(Long.MAX_VALUE, Revolve.beta(Integer.MAX_VALUE, 3));
        assertEquals(2 * 10 - 1, Revolve.forwardCalls(10, Integer.MAX_VALUE));
        assertEquals(2 * 10 - 1, Revolve.forwardCalls(10, Integer.MAX_VALUE - 1));
        assertThrows(IllegalArgumentException.class, () -> Revolve.split(1, 3));
        assertThrows(IllegalArgumentException.class, () -> Revolve.split(5, 0));
    }

    @Test
    void longChainsPlanQuickly() {
        Schedule schedule = Planner.plan(5000, 4, 8, CheckpointPolicy.binomial(10));
        assertEquals(Revolve.forwardCalls(5000, 10), schedule.forwardCalls());
        Replay.check(schedule);
    }

    @Test
    void segmentPolicies() {
        Schedule none = Planner.plan(64, 10, 30, CheckpointPolicy.none());
        assertEquals(64, none.forwardCalls());
        assertEquals(0, none.slots());
        assertEquals(64 * 30, none.predictedPeakBytes());
        Schedule sqrt = Planner.plan(64, 10, 30, CheckpointPolicy.sqrt());
        assertEquals(64 + 56, sqrt.forwardCalls(), "segments of 8, the last taped in the first pass");
        assertEquals(7, sqrt.slots());
        Schedule every = Planner.plan(10, 10, 30, CheckpointPolicy.everyK(4));
        assertEquals(10 + 8, every.forwardCalls());
        assertEquals(2, every.slots());
        Replay.check(none);
        Replay.check(sqrt);
        Replay.check(every);
        Replay.check(Planner.plan(1, 10, 30, CheckpointPolicy.sqrt()));
        Replay.check(Planner.plan(5, 10, 30, CheckpointPolicy.everyK(9)));
    }

    @Test
    void budgetsStayWithinBytesAndNeverCostMoreThanBinomial() {
        long slot = 100;
        long tape = 250;
        for (int n : new int[] {1, 2, 3, 7, 16, 64, 129}) {
            for (long budget = tape; budget <= 40 * tape; budget += 37) {
                Schedule schedule = Planner.plan(n, slot, tape, CheckpointPolicy.memoryBudget(budget));
                Replay replay = Replay.check(schedule);
                long peak = replay.maxSlotsAndTapesBytes(slot, tape);
                assertTrue(peak <= budget, "n=" + n + " budget " + budget + ": peak " + peak);
                int slots = (int) Math.min(n - 1, (budget - tape) / slot);
                assertTrue(schedule.forwardCalls() <= Revolve.forwardCalls(n, slots),
                        "n=" + n + " budget " + budget + ": " + schedule.forwardCalls() + " calls, binomial("
                                + slots + ") needs " + Revolve.forwardCalls(n, slots));
            }
        }
        // Room for several tapes: fewer calls than binomial with the same slots.
        Schedule roomy = Planner.plan(16, slot, tape, CheckpointPolicy.memoryBudget(4 * tape + slot));
        assertTrue(roomy.forwardCalls() < Revolve.forwardCalls(16, 3), "calls " + roomy.forwardCalls());
        Schedule everything = Planner.plan(16, slot, tape, CheckpointPolicy.memoryBudget(16 * tape));
        assertEquals(16, everything.forwardCalls());
    }

    @Test
    void aBudgetBelowOneTapeIsRefused() {
        var error = assertThrows(IllegalArgumentException.class,
                () -> Planner.plan(8, 100, 250, CheckpointPolicy.memoryBudget(249)));
        assertEquals("memoryBudget: 249 bytes cannot hold even one layer's tape (250 bytes)", error.getMessage());
    }

    @Test
    void policiesParseAndPrint() {
        for (String text : List.of("none", "sqrt", "every:4", "binomial:8", "budget:1048576")) {
            assertEquals(text, CheckpointPolicy.parse(text).toString());
        }
        var error = assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parse("fast"));
        assertEquals("checkpoint policy 'fast' is not one of none, every:K, sqrt, binomial:C, budget:BYTES",
                error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parse("every:0"));
        assertThrows(IllegalArgumentException.class, () -> CheckpointPolicy.parse("binomial:x"));
    }

    /** Plays a schedule symbolically and checks that every action is legal. */
    static final class Replay {
        long calls;
        int maxSlots;
        int maxTapes;
        private int slots;
        private int tapes;
        private final List<long[]> history = new java.util.ArrayList<>();

        static Replay check(Schedule schedule) {
            Replay r = new Replay();
            int n = schedule.layers();
            Integer current = 0;
            Set<Integer> stored = new HashSet<>();
            ArrayDeque<Integer> liveTapes = new ArrayDeque<>();
            int nextReverse = n;
            boolean reversing = false;
            for (Action action : schedule.actions()) {
                int i = action.index();
                switch (action.kind()) {
                    case ADVANCE, RECORD -> {
                        if (current == null || current != i - 1) {
                            fail("layer " + i + " run from state " + current + " in " + schedule.actions());
                        }
                        if (reversing && i > nextReverse) {
                            fail("layer " + i + " run after it was reversed");
                        }
                        r.calls++;
                        current = i;
                        if (action.kind() == Action.Kind.RECORD) {
                            liveTapes.push(i);
                            r.tapes++;
                        }
                    }
                    case REVERSE -> {
                        reversing = true;
                        if (i != nextReverse || liveTapes.isEmpty() || liveTapes.peek() != i) {
                            fail("reverse " + i + " out of order (expected " + nextReverse + ", tapes " + liveTapes + ")");
                        }
                        liveTapes.pop();
                        r.tapes--;
                        nextReverse--;
                        current = i - 1;
                    }
                    case STORE -> {
                        if (current == null || current != i || !stored.add(i)) {
                            fail("store " + i + " with current state " + current);
                        }
                        r.slots++;
                    }
                    case RESTORE -> {
                        if (i != 0 && !stored.contains(i)) {
                            fail("restore of state " + i + ", which is not stored");
                        }
                        current = i;
                    }
                    case FREE -> {
                        if (!stored.remove(i)) {
                            fail("free of state " + i + ", which is not stored");
                        }
                        r.slots--;
                    }
                }
                r.maxSlots = Math.max(r.maxSlots, r.slots);
                r.maxTapes = Math.max(r.maxTapes, r.tapes);
                r.history.add(new long[] {r.slots, r.tapes});
            }
            assertEquals(0, nextReverse, "every layer reversed once");
            assertTrue(stored.isEmpty(), "slots left: " + stored);
            return r;
        }

        long maxSlotsAndTapesBytes(long slot, long tape) {
            long peak = 0;
            for (long[] h : history) {
                peak = Math.max(peak, h[0] * slot + h[1] * tape);
            }
            return peak;
        }
    }
}
