package org.adjoint.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * The mini-batches of one epoch over a {@link Dataset}, from {@link Dataset#batches(int)}.
 * Immutable: {@link #shuffle(long, int)} and {@link #dropLast()} return new values, and
 * every traversal yields the same batches, each uploaded to the current backend only when
 * the iterator reaches it.
 */
public final class Batches implements Iterable<Batch> {

    private final Dataset dataset;
    private final int batchSize;
    private final boolean shuffled;
    private final long seed;
    private final int epoch;
    private final boolean dropLast;

    Batches(Dataset dataset, int batchSize, boolean shuffled, long seed, int epoch, boolean dropLast) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batches: batch size " + batchSize + " is less than 1");
        }
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.shuffled = shuffled;
        this.seed = seed;
        this.epoch = epoch;
        this.dropLast = dropLast;
    }

    /**
     * The same batches drawn in a random order: a permutation of the examples that is a
     * function of {@code seed} and {@code epoch} only, so a run can be repeated, and that
     * differs from epoch to epoch.
     *
     * @param seed  the run's seed
     * @param epoch the epoch number
     * @return shuffled batches
     */
    public Batches shuffle(long seed, int epoch) {
        return new Batches(dataset, batchSize, true, seed, epoch, dropLast);
    }

    /**
     * The same batches without a last one smaller than the batch size, for models that need
     * every batch full.
     *
     * @return batches of exactly the batch size
     */
    public Batches dropLast() {
        return new Batches(dataset, batchSize, shuffled, seed, epoch, true);
    }

    /**
     * The number of batches in the epoch.
     *
     * @return {@code ceil(size / batchSize)}, or {@code floor} after {@link #dropLast()}
     */
    public int count() {
        int size = dataset.size();
        return dropLast ? size / batchSize : (int) (((long) size + batchSize - 1) / batchSize);
    }

    /**
     * Iterates over the batches of the epoch.
     *
     * @return a new iterator
     */
    @Override
    public Iterator<Batch> iterator() {
        int size = dataset.size();
        int[] order = shuffled ? Dataset.permutation(size, new SplittableRandom(epochSeed(seed, epoch)))
                : identity(size);
        int batches = count();
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("all " + batches + " batches were returned");
                }
                int from = next * batchSize;
                // Counted once built: a batch that failed (no memory for it) is the next one again.
                Batch batch = dataset.batch(order, from, Math.min(from + batchSize, size));
                next++;
                return batch;
            }
        };
    }

    /**
     * Hashes the pair. Not {@code seed + epoch * constant}: SplittableRandom advances its state
     * by a fixed gamma, so seeds a multiple of it apart give the same stream shifted.
     */
    static long epochSeed(long seed, int epoch) {
        return mix(seed ^ mix(epoch + 0x632BE59BD9B4E019L));
    }

    /** The finaliser of MurmurHash3: every input bit flips about half the output bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }

    private static int[] identity(int size) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        return order;
    }

    @Override
    public String toString() {
        return count() + " batches of " + batchSize + (shuffled ? ", shuffled (seed " + seed + ", epoch " + epoch + ")"
                : "") + (dropLast ? ", last partial batch dropped" : "");
    }
}
