package org.adjoint.bench;

import java.util.SplittableRandom;

/** Benchmark inputs: seeded floats, uniform in {@code [-1, 1)}. */
public final class UniformData {

    private UniformData() {
    }

    /**
     * Draws {@code length} values.
     *
     * @param length how many
     * @param seed   the seed
     * @return the values
     */
    public static float[] floats(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) random.nextDouble(-1, 1);
        }
        return values;
    }
}
