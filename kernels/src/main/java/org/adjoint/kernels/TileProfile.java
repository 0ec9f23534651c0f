package org.adjoint.kernels;

/**
 * Gives a tile's store both of its ways before C2 compiles the tile. A tile ends by writing C
 * ({@code accumulate} false) or adding to it (true), and C2 compiles only the way its profile
 * has seen: in the GPT the 12-row tile becomes hot in the forward pass, whose products are one
 * block of k (C written), and the first weight gradient ({@code xᵀ·dY}, 768 steps of k, so a
 * second block that adds) then deoptimizes it ({@code unstable_if}), and the weight gradients
 * run in the interpreter and C1 until C2 has compiled it again, some 0.4 s in a fresh process.
 *
 * <p>A daemon thread started with the kernels calls each of the tile's entries
 * ({@link MicroKernel#tile}, and {@link MicroKernel#tileColumns}, {@link MicroKernel#tileRows},
 * {@link MicroKernel#tileShort}, {@link MicroKernel#tileShortPair} and
 * {@link MicroKernel#tileNarrow} where the tile has them)
 * {@value #CALLS} times on its own small arrays, two steps of k, adding every other time. 300
 * calls were too few for C1's profiling code to record both ways (the deoptimization still
 * came); 1,000 were enough; 6,000 also pass C2's invocation threshold, so the thread gets the
 * tile compiled sooner than the first products alone do ({@code tileColumns} at 0.43 s into
 * the GPT's process against 0.59). It changes no result and no state but the JIT's. On a 2-core
 * Intel Xeon (2026-12-06, alternating fresh processes) the GPT's first ten iterations took
 * 2.59–2.85 s with 1,000 calls against 3.05–3.31 without (four pairs), and 2.15–2.63 s with
 * 6,000 against 2.63–2.82 with 1,000 (three pairs, then eight more with the edge tiles alike);
 * no deoptimization of the tile is logged. {@code -Dadjoint.cpu.seedTileProfile=false} leaves
 * the profile to the work.
 */
final class TileProfile {

    /** The system property that turns the seeding off ({@code false}); {@code true} by default. */
    static final String PROPERTY = "adjoint.cpu.seedTileProfile";

    /** Calls of each entry. */
    static final int CALLS = 6000;

    /** Steps of k of each call. */
    static final int STEPS = 2;

    private TileProfile() {
    }

    /**
     * Starts the seeding of {@code tile}'s profile on a daemon thread, when {@value #PROPERTY}
     * allows.
     *
     * @param tile the tile whose stores to profile both ways
     * @return the thread, or {@code null} when the property turns the seeding off
     * @throws IllegalArgumentException when the property is neither {@code true} nor {@code false}
     */
    static Thread start(MicroKernel tile) {
        if (!wanted(System.getProperty(PROPERTY))) {
            return null;
        }
        // Nothing of the caller's inherited: the thread touches only its own arrays.
        return Thread.ofPlatform().name("adjoint-tile-profile").daemon().inheritInheritableThreadLocals(false)
                .start(() -> seed(tile, CALLS));
    }

    /**
     * Calls each of {@code tile}'s entries {@code calls} times, adding to C every other time, on
     * arrays of its own (the short tile reads the first {@code shortRows()} rows of A's sliver,
     * the pair of short tiles twice as many, where they are fewer than the tile's, and the
     * narrow one the first {@code narrowColumns()} columns of B's).
     *
     * @param tile  the tile
     * @param calls calls of each entry
     */
    static void seed(MicroKernel tile, int calls) {
        int mr = tile.rows();
        int nr = tile.columns();
        float[] a = new float[STEPS * mr];
        float[] b = new float[STEPS * nr];
        float[] c = new float[mr * nr];
        repeat(calls, add -> tile.tile(STEPS, a, 0, b, 0, 1f, c, 0, nr, add));
        if (tile.transposedInPlaceColumns() > 0) {
            repeat(calls, add -> tile.tileColumns(STEPS, a, 0, mr, b, 0, 1f, c, 0, nr, add));
        }
        if (tile.readsRows()) {
            repeat(calls, add -> tile.tileRows(STEPS, a, 0, STEPS, b, 0, 1f, c, 0, nr, add));
        }
        if (tile.shortRows() > 0) {
            repeat(calls, add -> tile.tileShort(STEPS, a, 0, 1, mr, b, 0, 1f, c, 0, nr, add));
        }
        if (tile.shortRows() > 0 && 2 * tile.shortRows() < mr) {
            repeat(calls, add -> tile.tileShortPair(STEPS, a, 0, 1, mr, b, 0, 1f, c, 0, nr, add));
        }
        if (tile.narrowColumns() > 0) {
            repeat(calls, add -> tile.tileNarrow(STEPS, a, 0, 1, mr, b, 0, 1f, c, 0, nr, add));
        }
    }

    /** One entry of a tile, writing C or adding to it. */
    private interface Entry {
        void call(boolean add);
    }

    /** {@code calls} calls of {@code entry}, adding every other time. */
    private static void repeat(int calls, Entry entry) {
        for (int i = 0; i < calls; i++) {
            entry.call((i & 1) == 1);
        }
    }

    /**
     * Reads {@value #PROPERTY}: unset means {@code true}.
     *
     * @param value the property's value, or {@code null}
     * @return whether to seed
     * @throws IllegalArgumentException for anything but {@code true} or {@code false}
     */
    static boolean wanted(String value) {
        return Switches.on(PROPERTY, value);
    }
}
