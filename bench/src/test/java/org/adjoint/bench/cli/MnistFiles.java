package org.adjoint.bench.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/** Small MNIST-format data sets for the command-line tests. */
final class MnistFiles {

    private MnistFiles() {
    }

    /**
     * Writes {@code prefix-images-idx3-ubyte.gz} and {@code prefix-labels-idx1-ubyte.gz}: images
     * of 4×4 pixels whose brightest row of four is the label (3 classes), so that a linear
     * separation exists.
     *
     * @param dir    where the two files go
     * @param prefix {@code train} or {@code t10k}
     * @param count  how many images
     * @param random the noise
     * @throws IOException if a file cannot be written
     */
    static void write(Path dir, String prefix, int count, SplittableRandom random) throws IOException {
        write(dir, prefix, count, random, 4, 4);
    }

    /** As {@link #write(Path, String, int, SplittableRandom)}, with images of {@code rows × cols} (rows ≥ 3). */
    static void write(Path dir, String prefix, int count, SplittableRandom random, int rows, int cols)
            throws IOException {
        int pixels = rows * cols;
        ByteBuffer images = ByteBuffer.allocate(16 + count * pixels).putInt(0x803).putInt(count).putInt(rows)
                .putInt(cols);
        ByteBuffer labels = ByteBuffer.allocate(8 + count).putInt(0x801).putInt(count);
        for (int i = 0; i < count; i++) {
            int label = i % 3;
            for (int p = 0; p < pixels; p++) {
                int value = p / cols == label ? 200 + random.nextInt(50) : random.nextInt(60);
                images.put((byte) value);
            }
            labels.put((byte) label);
        }
        gzip(dir.resolve(prefix + "-images-idx3-ubyte.gz"), images.array());
        gzip(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), labels.array());
    }

    private static void gzip(Path file, byte[] bytes) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(bytes);
        }
    }
}
