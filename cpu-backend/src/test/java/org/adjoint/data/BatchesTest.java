package org.adjoint.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.IntStream;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.nn.Losses;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Mini-batches, which are tensors, so they need a backend. */
class BatchesTest {

    @BeforeEach
    void selectBackend() {
        Backends.use(new CpuBackend());
    }

    /** {@code n} examples whose three features are {@code i}, {@code 2i}, {@code -i}, labelled {@code i % 4}. */
    private static Dataset numbered(int n) {
        float[] features = new float[3 * n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            features[3 * i] = i;
            features[3 * i + 1] = 2 * i;
            features[3 * i + 2] = -i;
            labels[i] = i % 4;
        }
        return Dataset.of(features, 3, labels);
    }

    /** The example numbers of an epoch, batch by batch, checking each batch's shape and rows. */
    private static List<int[]> epoch(Batches batches) {
        List<int[]> ids = new ArrayList<>();
        for (Batch batch : batches) {
            float[] x = batch.features().toFloatArray();
            assertArrayEquals(new int[] {batch.size(), 3}, batch.features().shape());
            int[] batchIds = new int[batch.size()];
            for (int row = 0; row < batch.size(); row++) {
                batchIds[row] = (int) x[3 * row];
                assertEquals(2f * batchIds[row], x[3 * row + 1], "a row stays whole");
                assertEquals(-batchIds[row], x[3 * row + 2], "a row stays whole");
                assertEquals(batchIds[row] % 4, batch.labels()[row], "labels follow their rows");
            }
            ids.add(batchIds);
        }
        return ids;
    }

    private static int[] flat(List<int[]> batches) {
        return batches.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void inOrderByDefaultWithTheLastPartialBatchKept() {
        List<int[]> batches = epoch(numbered(10).batches(4));
        assertEquals(3, batches.size());
        assertArrayEquals(new int[] {0, 1, 2, 3}, batches.get(0));
        assertArrayEquals(new int[] {8, 9}, batches.get(2));
    }

    @Test
    void aBatchThatFailedToBuildIsTheNextOneAgain() {
        // A backend whose second upload fails, as one out of memory would.
        Backend cpu = new CpuBackend();
        int[] uploads = {0};
        Backend failing = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (self, method, arguments) -> {
                    switch (method.getName()) {
                        case "equals" -> {
                            return self == arguments[0];
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(self);
                        }
                        case "upload" -> {
                            if (++uploads[0] == 2) {
                                throw new IllegalStateException("no memory for this batch");
                            }
                        }
                        default -> {
                        }
                    }
                    try {
                        return method.invoke(cpu, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Backends.use(failing);
        try {
            Iterator<Batch> batches = numbered(10).batches(4).iterator();
            batches.next();
            assertThrows(IllegalStateException.class, batches::next);
            assertTrue(batches.hasNext());
            float[] second = batches.next().features().toFloatArray();
            assertEquals(4f, second[0], "the batch that failed, not the one after it");
            assertEquals(2, batches.next().size());
            assertFalse(batches.hasNext());
        } finally {
            Backends.use(cpu);
        }
    }

    @Test
    void dropLastKeepsOnlyFullBatches() {
        List<int[]> batches = epoch(numbered(10).batches(4).shuffle(1, 0).dropLast());
        assertEquals(2, batches.size());
        assertTrue(batches.stream().allMatch(batch -> batch.length == 4));
    }

    @Test
    void everyEpochCoversEveryExampleExactlyOnce() {
        Dataset dataset = numbered(103);
        int[] all = IntStream.range(0, 103).toArray();
        for (int epoch = 0; epoch < 5; epoch++) {
            List<int[]> batches = epoch(dataset.batches(16).shuffle(7, epoch));
            assertEquals(7, batches.size());
            assertEquals(7, batches.get(6).length, "103 = 6 × 16 + 7");
            assertArrayEquals(all, Arrays.stream(flat(batches)).sorted().toArray());
        }
    }

    @Test
    void shufflingIsReproducibleAndChangesWithEpochAndSeed() {
        Dataset dataset = numbered(64);
        int[] first = flat(epoch(dataset.batches(8).shuffle(42, 0)));
        assertArrayEquals(first, flat(epoch(dataset.batches(8).shuffle(42, 0))), "same seed and epoch");
        Batches reused = dataset.batches(8).shuffle(42, 0);
        assertArrayEquals(flat(epoch(reused)), flat(epoch(reused)), "an iterable can be traversed again");
        assertFalse(Arrays.equals(first, flat(epoch(dataset.batches(8).shuffle(42, 1)))), "next epoch");
        assertFalse(Arrays.equals(first, flat(epoch(dataset.batches(8).shuffle(43, 0)))), "other seed");
        assertFalse(Arrays.equals(IntStream.range(0, 64).toArray(), first), "actually shuffled");
        assertArrayEquals(first, flat(epoch(dataset.batches(4).shuffle(42, 0))),
                "the order depends on seed and epoch, not on the batch size");
    }

    @Test
    void consecutiveEpochsAreNotShiftsOfEachOther() {
        Dataset dataset = numbered(50);
        int[] epoch0 = flat(epoch(dataset.batches(50).shuffle(0, 0)));
        int[] epoch1 = flat(epoch(dataset.batches(50).shuffle(0, 1)));
        int samePlace = 0;
        for (int i = 0; i < 50; i++) {
            samePlace += epoch0[i] == epoch1[i] ? 1 : 0;
        }
        assertTrue(samePlace < 10, samePlace + " of 50 examples kept their place");
    }

    @Test
    void batchesFeedCrossEntropyDirectly() {
        Dataset dataset = numbered(20).scale(0.1f);
        Tensor weight = Tensor.randn(5, 3, dataset.classes()).requiresGrad(true);
        for (Batch batch : dataset.batches(6).shuffle(3, 0)) {
            Tensor loss = Losses.crossEntropy(batch.features().matmul(weight), batch.labels());
            assertEquals(0, loss.rank());
            assertTrue(Float.isFinite(loss.item()));
            loss.backward();
        }
        assertArrayEquals(new int[] {3, 4}, weight.grad().shape());
    }

    @Test
    void featuresAsOneTensor() {
        Dataset dataset = numbered(5);
        Tensor features = dataset.features();
        assertArrayEquals(new int[] {5, 3}, features.shape());
        assertArrayEquals(dataset.featureArray(), features.toFloatArray());
        assertArrayEquals(new int[] {0, 3}, Dataset.of(new float[0], 3, new int[0]).features().shape());
    }

    @Test
    void iteratorEndsCleanly() {
        Iterator<Batch> iterator = numbered(3).batches(2).iterator();
        assertEquals(2, iterator.next().size());
        assertEquals(1, iterator.next().size());
        assertFalse(iterator.hasNext());
        var error = assertThrows(NoSuchElementException.class, iterator::next);
        assertEquals("all 2 batches were returned", error.getMessage());
        assertNotEquals(0, numbered(3).batches(2).count());
    }
}
