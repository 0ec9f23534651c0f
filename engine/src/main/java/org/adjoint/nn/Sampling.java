package org.adjoint.nn;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Drawing a token from a language model's logits, with a temperature and top-k filtering,
 * as nanoGPT's {@code generate}: the logits are divided by the temperature, all but the
 * {@code k} largest (and any equal to the {@code k}-th) are dropped, and a token is drawn
 * from the softmax of the rest. The arithmetic is in double precision on the host.
 */
public final class Sampling {

    private Sampling() {
    }

    /**
     * Draws one token.
     *
     * @param logits      one score per token
     * @param temperature divides the logits, finite and {@code > 0} (below 1 sharpens, above flattens)
     * @param topK        the number of likeliest tokens to draw among, or {@code 0} for all (as
     *                    in nanoGPT, a {@code topK} of at least the logits' count also means all)
     * @param random      the generator, advanced by one draw (not at all when the call is refused)
     * @return the token id
     * @throws IllegalArgumentException for empty logits, a NaN or +∞ logit, logits that are all
     *                                  −∞, a bad temperature or a negative {@code topK}
     */
    public static int sample(float[] logits, float temperature, int topK, SplittableRandom random) {
        check(temperature, topK);
        if (logits.length == 0) {
            throw new IllegalArgumentException("Sampling: no logits to draw from");
        }
        for (int i = 0; i < logits.length; i++) {
            if (Float.isNaN(logits[i])) {
                // A NaN compares false with everything: it would be dropped, or made the top-k
                // threshold, and a broken model would go on drawing.
                throw new IllegalArgumentException("Sampling: logit " + i + " of " + logits.length + " is NaN");
            }
        }
        double threshold = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < logits.length) {
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            threshold = sorted[sorted.length - topK];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            if (l >= threshold) {
                max = Math.max(max, l);
            }
        }
        // Refused before the draw, so that the caller's generator is left as it was.
        if (max == Double.POSITIVE_INFINITY) {
            int at = 0;
            while (logits[at] != Float.POSITIVE_INFINITY) {
                at++;
            }
            throw new IllegalArgumentException("Sampling: logit " + at + " of " + logits.length + " is Infinity");
        }
        if (max == Double.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("Sampling: all " + logits.length + " logits are -Infinity: nothing can"
                    + " be drawn");
        }
        double[] weights = new double[logits.length];
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] >= threshold) {
                weights[i] = Math.exp((logits[i] - max) / temperature);
                total += weights[i];
            }
        }
        double draw = random.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < logits.length; i++) {
            if (weights[i] > 0) {
                last = i;
                draw -= weights[i];
                if (draw < 0) {
                    return i;
                }
            }
        }
        return last; // rounding left a sliver past the end (the maximum's weight, 1, makes last >= 0)
    }

    /**
     * Checks a temperature and a {@code k}.
     *
     * @param temperature finite and {@code > 0}
     * @param topK        {@code >= 0}
     * @throws IllegalArgumentException naming the bad value
     */
    static void check(float temperature, int topK) {
        if (!(temperature > 0f && temperature < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("Sampling: temperature must be finite and > 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("Sampling: top-k must be >= 0 (0 for all tokens), got " + topK);
        }
    }
}
