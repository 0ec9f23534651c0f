package org.adjoint.checkpoint;

/**
 * The arithmetic of binomial checkpointing (Griewank and Walther, "Algorithm 799: Revolve",
 * ACM TOMS 26(1), 2000), in this library's cost model: the chain input is held by the caller,
 * each reversed layer is run once more to record its tape, and the last layer is taped in the
 * first pass. Then the fewest layer forward calls for {@code n} layers and {@code c} slots is
 * {@code G(n, c) = n + t(n, c + 1)}, where Revolve's {@code t(l, s) = r·l − β(s + 1, r − 1)}
 * counts the extra forward steps with {@code s} snapshots (the input being one of them),
 * {@code β(s, r) = C(s + r, s)} and {@code r} is the least integer with {@code β(s, r) ≥ l}.
 * It satisfies the recurrence
 * {@code G(n, c) = min over 1 ≤ j < n of [j + G(n − j, c − 1) + G(j, c)]},
 * {@code G(1, c) = 1}, {@code G(n, 0) = n(n + 1)/2}.
 */
public final class Revolve {

    private Revolve() {
    }

    /**
     * {@code β(s, r) = C(s + r, s)}, saturating at {@link Long#MAX_VALUE}.
     *
     * @param s snapshots
     * @param r repetitions
     * @return the binomial coefficient
     */
    public static long beta(int s, int r) {
        if (s < 0 || r < 0) {
            return 0;
        }
        long value = 1;
        int small = Math.min(s, r);
        long large = Math.max(s, r);
        for (int i = 1; i <= small; i++) {
            // value = C(s + r, i) after this step; the division is exact. In long: s + r may pass an int.
            long factor = large + i;
            if (value > Long.MAX_VALUE / factor) {
                return Long.MAX_VALUE;
            }
            value = value * factor / i;
        }
        return value;
    }

    /**
     * Extra forward steps of Revolve for {@code l} steps and {@code s ≥ 1} snapshots.
     *
     * @param l chain length
     * @param s snapshots, the input included
     * @return {@code t(l, s)}
     */
    static long extraSteps(long l, int s) {
        if (l <= 1) {
            return 0;
        }
        int r = 0;
        while (beta(s, r) < l) {
            r++;
        }
        return r * l - beta(s + 1, r - 1);
    }

    /**
     * The fewest layer forward calls that reverse {@code n} layers with {@code c} slots.
     *
     * @param n layers, at least 1
     * @param c slots, at least 0
     * @return {@code G(n, c)}
     */
    public static long forwardCalls(int n, int c) {
        if (n < 1 || c < 0) {
            throw new IllegalArgumentException("Revolve.forwardCalls: need n >= 1 and c >= 0, got n = " + n + ", c = " + c);
        }
        // Slots past n − 1 hold nothing more (every layer's input is kept): G is then 2n − 1.
        // Clamped first, so that c + 1 cannot wrap round.
        return n + extraSteps(n, Math.min(c, n - 1) + 1);
    }

    /**
     * A split that attains {@code G(n, c)}: advance {@code j} layers, store, reverse the
     * last {@code n − j} with {@code c − 1} slots, then the first {@code j} with {@code c}.
     * The cost {@code j + G(n − j, c − 1) + G(j, c)} is convex in {@code j} (each {@code G} is
     * convex and piecewise linear in the length), so a binary search on its slope finds it.
     *
     * @param n layers, at least 2
     * @param c slots, at least 1
     * @return the optimal {@code j} (the smallest one)
     * @throws IllegalArgumentException for {@code n < 2} or {@code c < 1}
     */
    public static int split(int n, int c) {
        if (n < 2 || c < 1) {
            throw new IllegalArgumentException("Revolve.split: need n >= 2 and c >= 1, got n = " + n + ", c = " + c);
        }
        int low = 1;
        int high = n - 1;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (splitCost(n, c, mid + 1) < splitCost(n, c, mid)) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    private static long splitCost(int n, int c, int j) {
        return j + forwardCalls(n - j, c - 1) + forwardCalls(j, c);
    }
}
