package org.adjoint.kernels;

import java.util.SplittableRandom;

/** Seeded test data shared by the kernels' tests. */
final class TestArrays {

    private TestArrays() {
    }

    /**
     * {@code n} floats drawn uniformly from {@code [-1, 1)}, the same for the same seed.
     *
     * @param seed the seed
     * @param n    how many
     * @return a new array
     */
    static float[] uniform(long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextDouble(-1, 1);
        }
        return out;
    }
}
