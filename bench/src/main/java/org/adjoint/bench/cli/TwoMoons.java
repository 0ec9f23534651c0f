package org.adjoint.bench.cli;

import java.util.SplittableRandom;

import org.adjoint.Tensor;

/**
 * Two interleaved half-moons in the plane, one per class, with Gaussian noise: a small data
 * set that no linear model separates but a two-layer MLP does.
 *
 * <p>Class 0 lies on the upper half of the unit circle, class 1 on the lower half of a unit
 * circle shifted by {@code (1, 0.5)}, so each moon reaches into the other's hollow. The points
 * are centred on the origin and given in a shuffled order. The same seed gives the same data
 * on every backend: the points are drawn on the host and then uploaded.
 *
 * @param points [n, 2] coordinates
 * @param labels [n] class of each point, 0 or 1, as floats
 */
public record TwoMoons(Tensor points, Tensor labels) {

    /** Standard deviation of the noise added to each coordinate by {@link #generate(int, long)}. */
    public static final float DEFAULT_NOISE = 0.1f;

    /** Number of classes. */
    public static final int CLASSES = 2;

    /**
     * Checks that the tensors fit together.
     *
     * @param points [n, 2] coordinates
     * @param labels [n] classes
     * @throws IllegalArgumentException when the shapes do not match
     */
    public TwoMoons {
        int[] p = points.shape();
        int[] l = labels.shape();
        if (p.length != 2 || p[1] != 2 || l.length != 1 || l[0] != p[0]) {
            throw new IllegalArgumentException("TwoMoons: points must be [n, 2] and labels [n], got "
                    + java.util.Arrays.toString(p) + " and " + java.util.Arrays.toString(l));
        }
    }

    /**
     * Draws a data set with {@link #DEFAULT_NOISE}.
     *
     * @param samples number of points, at least 2 (the first moon gets the odd one)
     * @param seed    seed of every random draw
     * @return the data set
     */
    public static TwoMoons generate(int samples, long seed) {
        return generate(samples, DEFAULT_NOISE, seed);
    }

    /**
     * Draws a data set.
     *
     * @param samples number of points, at least 2 (the first moon gets the odd one)
     * @param noise   standard deviation of the Gaussian noise on each coordinate
     * @param seed    seed of every random draw
     * @return the data set
     * @throws IllegalArgumentException when {@code samples < 2} or {@code noise} is negative
     */
    public static TwoMoons generate(int samples, float noise, long seed) {
        if (samples < 2) {
            throw new IllegalArgumentException("TwoMoons: need at least 2 samples (one per class), got " + samples);
        }
        if (!(noise >= 0f)) {
            throw new IllegalArgumentException("TwoMoons: noise must be >= 0, got " + noise);
        }
        SplittableRandom random = new SplittableRandom(seed);
        int[] order = permutation(samples, random);
        float[] points = new float[2 * samples];
        float[] labels = new float[samples];
        int upper = (samples + 1) / 2;
        for (int i = 0; i < samples; i++) {
            double angle = Math.PI * random.nextDouble();
            boolean second = i >= upper;
            double x = second ? 1.0 - Math.cos(angle) : Math.cos(angle);
            double y = second ? 0.5 - Math.sin(angle) : Math.sin(angle);
            int row = order[i];
            // Centring on the origin (the moons span [-1, 2] x [-0.5, 1]) keeps tanh units out of saturation.
            points[2 * row] = (float) (x - 0.5 + noise * random.nextGaussian());
            points[2 * row + 1] = (float) (y - 0.25 + noise * random.nextGaussian());
            labels[row] = second ? 1f : 0f;
        }
        return new TwoMoons(Tensor.of(points, samples, 2), Tensor.of(labels));
    }

    /**
     * The number of points.
     *
     * @return n
     */
    public int size() {
        return labels.shape()[0];
    }

    /**
     * A uniformly random permutation of {@code 0 .. n-1} (Fisher–Yates).
     *
     * @param n      its length
     * @param random the source of randomness
     * @return the permutation
     */
    static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }
}
