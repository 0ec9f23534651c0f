package org.adjoint.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import org.adjoint.io.FileFuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Idx} under {@link FileFuzzer}: truncated, bit-flipped, spliced and gzip-wrapped
 * versions of a valid file of every element type, headers that claim huge or negative
 * sizes, and random bytes. Each case must read or fail cleanly, within the fuzzer's bounds
 * on time and allocation.
 */
class IdxFuzzTest {

    private static final int[] CLAIMS = {0, 1, 2, 3, 255, 65_535, 1 << 24, 1 << 30, Integer.MAX_VALUE - 8,
        Integer.MAX_VALUE, -1, Integer.MIN_VALUE};

    @TempDir
    Path directory;

    /** A valid file of each element type and of the awkward shapes: scalar, empty, rank 3. */
    static byte[][] seeds() {
        SplittableRandom random = new SplittableRandom(11);
        return new byte[][] {
            IdxTest.idx(0x08, new int[] {3, 2, 2}, bytes(random, 12)),
            IdxTest.idx(0x09, new int[] {5}, bytes(random, 5)),
            IdxTest.idx(0x0B, new int[] {2, 3}, bytes(random, 12)),
            IdxTest.idx(0x0C, new int[] {3}, bytes(random, 12)),
            IdxTest.idx(0x0D, new int[] {2, 2}, bytes(random, 16)),
            IdxTest.idx(0x0E, new int[] {2}, bytes(random, 16)),
            IdxTest.idx(0x08, new int[0], new byte[] {42}),
            IdxTest.idx(0x08, new int[] {0, 28, 28}, new byte[0]),
        };
    }

    private static byte[] bytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    static void checkArray(Idx.Array array) {
        long elements = 1;
        for (int size : array.shape()) {
            assertTrue(size >= 0, () -> "negative size in " + Arrays.toString(array.shape()));
            elements *= size;
        }
        assertEquals(elements, array.values().length, () -> "shape " + Arrays.toString(array.shape()));
    }

    @Test
    void everyMalformedFileFailsCleanly() {
        FileFuzzer fuzzer = new FileFuzzer(directory, "fuzzed-idx3-ubyte", 0x1D8L);
        byte[][] seeds = seeds();
        for (int i = 0; i < seeds.length; i++) {
            fuzzer.battery("seed" + i, seeds[i], true, 30, Idx::read, IdxFuzzTest::checkArray);
        }
        claimsOfEverySize(fuzzer);
        fuzzer.randomFiles(200, 64, Idx::read, IdxFuzzTest::checkArray);
        System.out.println(fuzzer.summary("Idx.read"));
        assertTrue(fuzzer.cases() >= 2_500, fuzzer.summary("Idx.read"));
    }

    /** Headers of random type codes and ranks whose sizes are drawn from {@link #CLAIMS}, over a little data. */
    private static void claimsOfEverySize(FileFuzzer fuzzer) {
        SplittableRandom random = fuzzer.random();
        for (int i = 0; i < 300 * FileFuzzer.scale(); i++) {
            int rank = random.nextInt(10) == 0 ? random.nextInt(256) : random.nextInt(5);
            int type = random.nextInt(4) == 0 ? random.nextInt(256) : 0x08 + random.nextInt(7);
            int[] sizes = new int[Math.min(rank, 8)];
            for (int d = 0; d < sizes.length; d++) {
                sizes[d] = random.nextBoolean() ? CLAIMS[random.nextInt(CLAIMS.length)] : random.nextInt(8);
            }
            byte[] header = IdxTest.idx(type, sizes, new byte[0]);
            header[3] = (byte) rank; // may announce more sizes than follow
            byte[] file = FileFuzzer.concat(header, bytes(random, random.nextInt(48)));
            fuzzer.run("claims", file, Idx::read);
            fuzzer.run("claims-gzip", FileFuzzer.gzip(file), Idx::read);
        }
    }

    @Test
    void datasetFromOneMalformedFileFailsCleanly() throws IOException {
        byte[] images = IdxTest.idx(0x08, new int[] {3, 2, 2}, new byte[12]);
        byte[] labels = IdxTest.idx(0x08, new int[] {3}, new byte[] {7, 0, 9});
        Path validImages = Files.write(directory.resolve("images-idx3-ubyte"), images);
        Path validLabels = Files.write(directory.resolve("labels-idx1-ubyte"), labels);

        FileFuzzer fuzzer = new FileFuzzer(directory, "fuzzed-labels", 0xDA7AL);
        fuzzer.battery("labels", labels, true, 40, file -> Idx.dataset(validImages, file),
                dataset -> assertEquals(3, dataset.size()));
        FileFuzzer images2 = new FileFuzzer(directory, "fuzzed-images", 0x1A6EL);
        images2.battery("images", images, true, 40, file -> Idx.dataset(file, validLabels),
                dataset -> assertEquals(3, dataset.size()));
        System.out.println(fuzzer.summary("Idx.dataset, labels"));
        System.out.println(images2.summary("Idx.dataset, images"));
    }
}
