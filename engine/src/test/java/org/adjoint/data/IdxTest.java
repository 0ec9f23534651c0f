package org.adjoint.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import org.adjoint.io.FileFuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

    /** What reading a small file with a huge claim may allocate. */
    private static final long HUGE_CLAIM_BYTES = 16 << 10;

    @TempDir
    Path directory;

    /** An IDX file: magic 00 00 type rank, big-endian sizes, then {@code data} as given. */
    static byte[] idx(int type, int[] sizes, byte[] data) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * sizes.length + data.length); // big-endian by default
        buffer.put((byte) 0).put((byte) 0).put((byte) type).put((byte) sizes.length);
        for (int size : sizes) {
            buffer.putInt(size);
        }
        return buffer.put(data).array();
    }

    static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        }
        return out.toByteArray();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(directory.resolve(name), bytes);
    }

    private String reject(byte[] bytes) throws IOException {
        Path file = write("bad-idx", bytes);
        var error = assertThrows(IllegalArgumentException.class, () -> Idx.read(file));
        String prefix = file + ": ";
        assertTrue(error.getMessage().startsWith(prefix), error.getMessage());
        return error.getMessage().substring(prefix.length());
    }

    private static final byte[] PIXELS = {0, 1, 2, (byte) 255, 10, 20, 30, 40, (byte) 128, 7, 8, 9};

    @Test
    void readsUnsignedBytesPlainAndGzipped() throws IOException {
        byte[] plain = idx(0x08, new int[] {3, 2, 2}, PIXELS);
        float[] expected = {0, 1, 2, 255, 10, 20, 30, 40, 128, 7, 8, 9};
        for (Path file : new Path[] {write("images-idx3-ubyte", plain), write("images-idx3-ubyte.gz", gzip(plain))}) {
            Idx.Array array = Idx.read(file);
            assertArrayEquals(new int[] {3, 2, 2}, array.shape());
            assertArrayEquals(expected, array.values());
            assertEquals(3, array.count());
        }
    }

    @Test
    void compressionIsToldFromTheBytesNotTheName() throws IOException {
        byte[] plain = idx(0x08, new int[] {2}, new byte[] {4, 2});
        assertArrayEquals(new float[] {4, 2}, Idx.read(write("labels.gz", plain)).values());
        assertArrayEquals(new float[] {4, 2}, Idx.read(write("labels.idx", gzip(plain))).values());
    }

    @Test
    void readsEveryElementTypeBigEndian() throws IOException {
        assertArrayEquals(new float[] {-1, 127, -128},
                Idx.read(write("b", idx(0x09, new int[] {3}, new byte[] {-1, 127, -128}))).values());
        ByteBuffer shorts = ByteBuffer.allocate(4).putShort((short) -300).putShort((short) 32767);
        assertArrayEquals(new float[] {-300, 32767}, Idx.read(write("s", idx(0x0B, new int[] {2}, shorts.array())))
                .values());
        ByteBuffer ints = ByteBuffer.allocate(8).putInt(70_000).putInt(-5);
        assertArrayEquals(new float[] {70_000, -5}, Idx.read(write("i", idx(0x0C, new int[] {2}, ints.array())))
                .values());
        ByteBuffer floats = ByteBuffer.allocate(8).putFloat(1.5f).putFloat(-0.25f);
        assertArrayEquals(new float[] {1.5f, -0.25f}, Idx.read(write("f", idx(0x0D, new int[] {2}, floats.array())))
                .values());
        ByteBuffer doubles = ByteBuffer.allocate(16).putDouble(0.1).putDouble(1e300);
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY},
                Idx.read(write("d", idx(0x0E, new int[] {1, 2}, doubles.array()))).values());
    }

    @Test
    void scalarsAndEmptyArrays() throws IOException {
        Idx.Array scalar = Idx.read(write("scalar", idx(0x08, new int[0], new byte[] {42})));
        assertArrayEquals(new int[0], scalar.shape());
        assertArrayEquals(new float[] {42}, scalar.values());
        Idx.Array empty = Idx.read(write("empty", idx(0x08, new int[] {0, 28, 28}, new byte[0])));
        assertArrayEquals(new int[] {0, 28, 28}, empty.shape());
        assertEquals(0, empty.values().length);
    }

    @Test
    void wrongMagicIsShownInHex() throws IOException {
        assertEquals("not an IDX file: it starts with bytes 50 4b 03 04, not 00 00 followed by a type code",
                reject(new byte[] {0x50, 0x4b, 0x03, 0x04, 0, 0}));
        assertEquals("file has 2 bytes, fewer than the 4-byte IDX magic number", reject(new byte[] {0, 0}));
    }

    @Test
    void unknownTypeCodes() throws IOException {
        String known = " (known: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)";
        assertEquals("unknown IDX data type 0x0a" + known, reject(idx(0x0A, new int[] {1}, new byte[1])));
        assertEquals("unknown IDX data type 0x07" + known, reject(idx(0x07, new int[] {1}, new byte[1])));
        assertEquals("unknown IDX data type 0xff" + known, reject(idx(0xFF, new int[] {1}, new byte[1])));
    }

    @Test
    void sizesThatAreNegativeTruncatedOrTooLarge() throws IOException {
        assertEquals("header announces 3 dimensions but the file ends after 1 of their sizes",
                reject(Arrays.copyOf(idx(0x08, new int[] {1, 1, 1}, new byte[1]), 9)));
        assertEquals("dimension 1 has negative size -1 (as unsigned, 4294967295)",
                reject(idx(0x08, new int[] {2, -1}, new byte[2])));
        assertEquals("shape [65536, 65536] has more elements than an array can hold (2147483639)",
                reject(idx(0x08, new int[] {65536, 65536}, new byte[4])));
        assertEquals("shape [300000000] of double needs 2400000000 bytes, more than this reader supports (2147483639)",
                reject(idx(0x0E, new int[] {300_000_000}, new byte[8])));
    }

    @Test
    void dataMustMatchTheHeaderExactly() throws IOException {
        assertEquals("shape [3, 2, 2] of ubyte expects 12 bytes of data, found 10",
                reject(idx(0x08, new int[] {3, 2, 2}, Arrays.copyOf(PIXELS, 10))));
        assertEquals("shape [3, 2, 2] of ubyte expects 12 bytes of data, found 15 (3 trailing bytes)",
                reject(idx(0x08, new int[] {3, 2, 2}, Arrays.copyOf(PIXELS, 15))));
        assertEquals("shape [2] of int expects 8 bytes of data, found 7",
                reject(gzip(idx(0x0C, new int[] {2}, new byte[7]))));
    }

    @Test
    void aHugeClaimInASmallCompressedFileFailsWithoutAllocatingIt() throws IOException {
        assertEquals("shape [1073741824] of ubyte expects 1073741824 bytes of data, found 10",
                reject(gzip(idx(0x08, new int[] {1 << 30}, new byte[10]))));
    }

    /**
     * A header that claims a gigabyte (or 2^40 bytes) in a file of about 100 bytes: reading
     * allocates a few KiB (the first data buffer, 4 KiB, a stream buffer of at most the file's
     * size, the message), measured on the reading thread, never the claim.
     */
    @Test
    void hugeClaimsInSmallFilesAllocateAFewKibibytes() throws IOException {
        byte[] data = new byte[100];
        Arrays.fill(data, (byte) 7);
        byte[][] files = {
            idx(0x08, new int[] {1 << 30}, data),
            gzip(idx(0x08, new int[] {1 << 30}, data)),
            idx(0x0D, new int[] {1 << 29}, data),
            gzip(idx(0x0E, new int[] {1 << 28}, data)),
            idx(0x08, new int[] {1 << 20, 1 << 20}, data),
        };
        for (byte[] bytes : files) {
            Path file = write("claims-" + bytes.length, bytes);
            Runnable read = () -> assertThrows(IllegalArgumentException.class, () -> Idx.read(file));
            read.run();
            long allocated = FileFuzzer.allocatedBy(read);
            assertTrue(allocated <= HUGE_CLAIM_BYTES, () -> "reading " + bytes.length + " bytes that claim more allocated "
                    + allocated + " bytes, more than " + HUGE_CLAIM_BYTES);
        }
    }

    @Test
    void truncatedGzipIsRejected() throws IOException {
        byte[] compressed = gzip(idx(0x08, new int[] {3, 2, 2}, PIXELS));
        String message = reject(Arrays.copyOf(compressed, compressed.length - 12));
        assertTrue(message.startsWith("corrupt or truncated gzip data ("), message);
    }

    @Test
    void missingFileIsAnIoError() {
        Path missing = directory.resolve("absent");
        var error = assertThrows(UncheckedIOException.class, () -> Idx.read(missing));
        assertTrue(error.getMessage().startsWith(missing + ": cannot read: "), error.getMessage());
    }

    @Test
    void imagesAndLabelsMakeADataset() throws IOException {
        Path images = write("images.gz", gzip(idx(0x08, new int[] {3, 2, 2}, PIXELS)));
        Path labels = write("labels", idx(0x08, new int[] {3}, new byte[] {7, 0, 9}));
        Dataset dataset = Idx.dataset(images, labels);
        assertEquals(3, dataset.size());
        assertEquals(4, dataset.width());
        assertEquals(10, dataset.classes());
        assertArrayEquals(new int[] {7, 0, 9}, dataset.labels());
        assertArrayEquals(new float[] {0, 1, 2, 255, 10, 20, 30, 40, 128, 7, 8, 9}, dataset.featureArray());
        assertArrayEquals(new float[] {0, 1 / 255f, 2 / 255f, 1}, Arrays.copyOf(dataset.scale(1 / 255f)
                .featureArray(), 4), 1e-7f);
    }

    @Test
    void imagesAndLabelsMustAgree() throws IOException {
        Path images = write("images", idx(0x08, new int[] {3, 2, 2}, PIXELS));
        Path twoLabels = write("two", idx(0x08, new int[] {2}, new byte[] {1, 2}));
        var error = assertThrows(IllegalArgumentException.class, () -> Idx.dataset(images, twoLabels));
        assertEquals(images + " has 3 examples but " + twoLabels + " has 2 labels", error.getMessage());

        Path matrix = write("matrix", idx(0x08, new int[] {3, 1}, new byte[] {1, 2, 3}));
        error = assertThrows(IllegalArgumentException.class, () -> Idx.dataset(images, matrix));
        assertEquals(matrix + ": labels must have shape [n] but have shape [3, 1]", error.getMessage());

        ByteBuffer fractions = ByteBuffer.allocate(12).putFloat(1).putFloat(2.5f).putFloat(3);
        Path fractional = write("fractional", idx(0x0D, new int[] {3}, fractions.array()));
        error = assertThrows(IllegalArgumentException.class, () -> Idx.dataset(images, fractional));
        assertEquals(fractional + ": element 1 is 2.5, not a class label (a whole number from 0 to 16777215)",
                error.getMessage());

        Path negative = write("negative", idx(0x09, new int[] {3}, new byte[] {1, -1, 3}));
        error = assertThrows(IllegalArgumentException.class, () -> Idx.dataset(images, negative));
        assertEquals(negative + ": element 1 is -1, not a class label (a whole number from 0 to 16777215)",
                error.getMessage());

        // 16777217 reaches the reader as the float 16777216: refused, not changed into another class.
        ByteBuffer large = ByteBuffer.allocate(12).putInt(1).putInt(16_777_217).putInt(3);
        Path rounded = write("rounded", idx(0x0C, new int[] {3}, large.array()));
        error = assertThrows(IllegalArgumentException.class, () -> Idx.dataset(images, rounded));
        assertEquals(rounded + ": element 1 is 16777216, not a class label (a whole number from 0 to 16777215)",
                error.getMessage());
    }
}
