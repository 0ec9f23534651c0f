package org.adjoint.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** The host-side parts of {@link Dataset}; batching, which creates tensors, is tested in cpu-backend. */
class DatasetTest {

    /** {@code n} examples whose two features are {@code i} and {@code -i}, labelled {@code i % 3}. */
    static Dataset numbered(int n) {
        float[] features = new float[2 * n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            features[2 * i] = i;
            features[2 * i + 1] = -i;
            labels[i] = i % 3;
        }
        return Dataset.of(features, 2, labels);
    }

    /** The example numbers of a data set built by {@link #numbered(int)}, in its order. */
    static int[] ids(Dataset dataset) {
        float[] features = dataset.featureArray();
        int[] labels = dataset.labels();
        int[] ids = new int[dataset.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) features[2 * i];
            assertEquals(-ids[i], features[2 * i + 1], "features stay together");
            assertEquals(ids[i] % 3, labels[i], "labels stay with their features");
        }
        return ids;
    }

    @Test
    void describesItself() {
        Dataset dataset = numbered(7);
        assertEquals(7, dataset.size());
        assertEquals(2, dataset.width());
        assertEquals(3, dataset.classes());
        assertEquals("Dataset[7 examples × 2 features, 3 classes]", dataset.toString());
        assertEquals(0, Dataset.of(new float[0], 5, new int[0]).classes());
    }

    @Test
    void copiesInAndOut() {
        float[] features = {1, 2};
        int[] labels = {4};
        Dataset dataset = Dataset.of(features, 2, labels);
        features[0] = 99;
        labels[0] = 99;
        dataset.featureArray()[1] = 99;
        dataset.labels()[0] = 99;
        assertArrayEquals(new float[] {1, 2}, dataset.featureArray());
        assertArrayEquals(new int[] {4}, dataset.labels());
    }

    @Test
    void rejectsInconsistentInput() {
        var error = assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[5], 2, new int[3]));
        assertEquals("Dataset.of: 5 feature values do not make 3 rows of width 2", error.getMessage());
        error = assertThrows(IllegalArgumentException.class, () -> Dataset.of(new float[4], 2, new int[] {0, -2}));
        assertEquals("Dataset.of: label of example 1 is -2; class labels run from 0 to 16777215", error.getMessage());
        // classes() is the largest label plus one: a label past 2^24 - 1 would overflow it or lose its bits as float32.
        assertEquals("Dataset.of: label of example 0 is 2147483647; class labels run from 0 to 16777215",
                assertThrows(IllegalArgumentException.class,
                        () -> Dataset.of(new float[] {0f}, 1, new int[] {Integer.MAX_VALUE})).getMessage());
    }

    @Test
    void scaleMultipliesEveryFeature() {
        Dataset pixels = Dataset.of(new float[] {0, 255, 51, 102}, 2, new int[] {1, 0});
        assertArrayEquals(new float[] {0, 1, 0.2f, 0.4f}, pixels.scale(1 / 255f).featureArray(), 1e-7f);
        assertArrayEquals(new int[] {1, 0}, pixels.scale(2).labels());
        float noMaximum = 0f;
        assertEquals("Dataset.scale: the factor must be finite, got Infinity",
                assertThrows(IllegalArgumentException.class, () -> pixels.scale(1 / noMaximum)).getMessage());
    }

    @Test
    void standardizeUsesTheReferenceStatistics() {
        // Column 0: mean 2, population standard deviation sqrt(2/3); column 1 constant.
        Dataset train = Dataset.of(new float[] {1, 5, 2, 5, 3, 5}, 2, new int[] {0, 1, 0});
        Dataset standardized = train.standardize(train);
        double sd = Math.sqrt(2.0 / 3);
        assertArrayEquals(new float[] {(float) (-1 / sd), 0, 0, 0, (float) (1 / sd), 0}, standardized.featureArray(),
                1e-6f);
        Dataset test = Dataset.of(new float[] {4, 6}, 2, new int[] {1});
        assertArrayEquals(new float[] {(float) (2 / sd), 1}, test.standardize(train).featureArray(), 1e-6f);
        var error = assertThrows(IllegalArgumentException.class, () -> test.standardize(numbered(0)));
        assertEquals("standardize: reference has 0 rows of width 2, need at least one row of width 2",
                error.getMessage());
        Dataset wide = Dataset.of(new float[3], 3, new int[1]);
        error = assertThrows(IllegalArgumentException.class, () -> test.standardize(wide));
        assertEquals("standardize: reference has 1 rows of width 3, need at least one row of width 2",
                error.getMessage());
    }

    @Test
    void splitPartitionsTheExamples() {
        Dataset dataset = numbered(101);
        Dataset.Split split = dataset.split(0.8, 7);
        assertEquals(81, split.train().size());
        assertEquals(20, split.test().size());
        int[] train = ids(split.train());
        int[] test = ids(split.test());
        Set<Integer> all = new HashSet<>();
        Arrays.stream(train).forEach(all::add);
        Arrays.stream(test).forEach(all::add);
        assertEquals(101, all.size(), "every example lands in exactly one part");
        assertTrue(isSorted(train) && isSorted(test), "each part keeps the original order");
        assertFalse(Arrays.equals(Arrays.copyOf(train, 81), IntStream.range(0, 81).toArray()),
                "the split is random, not the first 80%");
    }

    @Test
    void splitIsDeterministicForASeed() {
        Dataset dataset = numbered(50);
        assertArrayEquals(ids(dataset.split(0.5, 3).train()), ids(dataset.split(0.5, 3).train()));
        assertArrayEquals(ids(dataset.split(0.5, 3).test()), ids(dataset.split(0.5, 3).test()));
        assertFalse(Arrays.equals(ids(dataset.split(0.5, 3).train()), ids(dataset.split(0.5, 4).train())));
    }

    @Test
    void splitEdgesAndErrors() {
        Dataset dataset = numbered(10);
        assertEquals(10, dataset.split(1, 0).train().size());
        assertEquals(0, dataset.split(1, 0).test().size());
        assertEquals(2, dataset.split(1, 0).test().width(), "an empty part keeps the width");
        assertEquals(0, dataset.split(0, 0).train().size());
        assertEquals(3, dataset.split(0.25, 0).train().size(), "rounds 2.5 up");
        for (double bad : new double[] {-0.1, 1.5, Double.NaN}) {
            var error = assertThrows(IllegalArgumentException.class, () -> dataset.split(bad, 0));
            assertEquals("split: train fraction " + bad + " is not in [0, 1]", error.getMessage());
        }
    }

    @Test
    void batchCountsAndErrorsNeedNoBackend() {
        Dataset dataset = numbered(10);
        assertEquals(4, dataset.batches(3).count());
        assertEquals(3, dataset.batches(3).dropLast().count());
        assertEquals(1, dataset.batches(10).dropLast().count());
        assertEquals(0, dataset.batches(11).dropLast().count());
        assertEquals(1, dataset.batches(11).count());
        assertEquals(0, numbered(0).batches(4).count());
        assertFalse(numbered(0).batches(4).iterator().hasNext());
        assertEquals("4 batches of 3, shuffled (seed 5, epoch 2)", dataset.batches(3).shuffle(5, 2).toString());
        var error = assertThrows(IllegalArgumentException.class, () -> dataset.batches(0));
        assertEquals("batches: batch size 0 is less than 1", error.getMessage());
    }

    @Test
    void permutationsAreUniformAndEpochSeedsDistinct() {
        int[] permutation = Dataset.permutation(1000, new SplittableRandom(1));
        assertArrayEquals(IntStream.range(0, 1000).toArray(),
                Arrays.stream(permutation).sorted().toArray());
        // Where element 0 lands, over many shuffles of 4: each slot about a quarter of the time.
        int[] counts = new int[4];
        SplittableRandom random = new SplittableRandom(9);
        for (int trial = 0; trial < 40_000; trial++) {
            int[] order = Dataset.permutation(4, random);
            for (int slot = 0; slot < 4; slot++) {
                if (order[slot] == 0) {
                    counts[slot]++;
                }
            }
        }
        for (int count : counts) {
            assertTrue(Math.abs(count - 10_000) < 600, Arrays.toString(counts));
        }
        Set<Long> seeds = new HashSet<>();
        for (long seed = 0; seed < 20; seed++) {
            for (int epoch = 0; epoch < 20; epoch++) {
                seeds.add(Batches.epochSeed(seed, epoch));
            }
        }
        assertEquals(400, seeds.size());
    }

    private static boolean isSorted(int[] values) {
        for (int i = 1; i < values.length; i++) {
            if (values[i - 1] > values[i]) {
                return false;
            }
        }
        return true;
    }
}
