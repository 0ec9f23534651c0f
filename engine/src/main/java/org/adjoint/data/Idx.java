package org.adjoint.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.ZipException;

import org.adjoint.internal.HostArrays;

/**
 * Reads the IDX format of the MNIST family of data sets (MNIST, Fashion-MNIST, KMNIST,
 * EMNIST): two zero bytes, a type code, the number of dimensions {@code r}, {@code r}
 * big-endian int32 sizes, then the elements, big-endian, in row-major order.
 *
 * <pre>{@code
 * Dataset train = Idx.dataset(Path.of("train-images-idx3-ubyte.gz"), Path.of("train-labels-idx1-ubyte.gz"))
 *         .scale(1f / 255);
 * }</pre>
 *
 * <p>Files may be gzip-compressed or not; that is told from their first bytes, not their
 * names. A file that does not hold exactly the elements its header announces is rejected
 * with an {@link IllegalArgumentException} naming it and giving both counts; sizes are
 * checked before anything is allocated for them, and a file too large for the heap fails
 * with an {@link org.adjoint.backend.OutOfMemoryException} that names it and gives the sizes,
 * not an {@link OutOfMemoryError}.
 */
public final class Idx {

    /** Element type codes and their sizes in bytes, indexed by code − 0x08 (0 where the code is unused). */
    private static final int[] TYPE_BYTES = {1, 1, 0, 2, 4, 4, 8};
    private static final String[] TYPE_NAMES = {"ubyte", "byte", null, "short", "int", "float", "double"};
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /** The first data buffer, doubled as data arrives: a huge claim in a small file costs no more than this. */
    private static final int CHUNK_BYTES = 1 << 12;

    private Idx() {
    }

    /**
     * An IDX file's contents, converted to float32.
     *
     * @param shape  the sizes from the header (empty for a scalar)
     * @param values the elements in row-major order; int32 values beyond 2^24 and doubles are rounded
     */
    public record Array(int[] shape, float[] values) {

        /**
         * The number of entries along the first axis, for example the number of images.
         *
         * @return the first size, or 1 for a scalar
         */
        public int count() {
            return shape.length == 0 ? 1 : shape[0];
        }

        /**
         * The elements as class labels, for a labels file.
         *
         * @return a new array
         * @throws IllegalArgumentException when an element is not a whole number from 0 to 2^24 − 1
         */
        public int[] labels() {
            int[] labels = HostArrays.allocate("Idx labels", values.length, Integer.BYTES,
                    () -> new int[values.length]);
            for (int i = 0; i < values.length; i++) {
                float value = values[i];
                // An int32 past 2^24 reaches here rounded (16777217 as 16777216): refused, not changed.
                if (!(value >= 0 && value < Dataset.LABEL_LIMIT && value == Math.rint(value))) {
                    String text = Float.isFinite(value) && value == Math.rint(value) ? String.valueOf((long) value)
                            : String.valueOf(value);
                    throw new IllegalArgumentException("element " + i + " is " + text
                            + ", not a class label (a whole number from 0 to " + (Dataset.LABEL_LIMIT - 1) + ")");
                }
                labels[i] = (int) value;
            }
            return labels;
        }
    }

    /**
     * Reads one IDX file, gzip-compressed or not.
     *
     * @param file the file
     * @return its shape and elements
     * @throws IllegalArgumentException when the file is not valid IDX: wrong magic number, unknown
     *                                  type, negative or oversized dimensions, or a data length that
     *                                  differs from the one the header implies
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static Array read(Path file) {
        try (InputStream in = Compression.open(file)) {
            return read(file, in);
        } catch (ZipException | EOFException e) {
            throw new IllegalArgumentException(file + ": corrupt or truncated gzip data (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e, e);
        }
    }

    /**
     * Reads an images file and a labels file into a data set, one example per image with
     * each image flattened to a row.
     *
     * @param images an IDX file of shape {@code [n, ...]}
     * @param labels an IDX file of shape {@code [n]} holding whole numbers
     * @return the data set, with pixel values as stored (0 to 255 for MNIST)
     * @throws IllegalArgumentException when either file is invalid or their counts differ
     * @throws UncheckedIOException     when a file cannot be read
     */
    public static Dataset dataset(Path images, Path labels) {
        Array features = read(images);
        Array classes = read(labels);
        if (features.shape().length == 0) {
            throw new IllegalArgumentException(images + ": holds a scalar, not a list of examples");
        }
        if (classes.shape().length != 1) {
            throw new IllegalArgumentException(labels + ": labels must have shape [n] but have shape "
                    + Arrays.toString(classes.shape()));
        }
        if (features.count() != classes.count()) {
            throw new IllegalArgumentException(images + " has " + features.count() + " examples but " + labels
                    + " has " + classes.count() + " labels");
        }
        int[] labelValues;
        try {
            labelValues = classes.labels();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(labels + ": " + e.getMessage(), e);
        }
        int width = features.count() == 0 ? productOfRest(features.shape()) : features.values().length / features.count();
        return Dataset.owning(features.values(), width, labelValues);
    }

    private static int productOfRest(int[] shape) {
        long product = 1;
        for (int i = 1; i < shape.length; i++) {
            product *= shape[i];
            if (product > MAX_ELEMENTS) {
                throw new IllegalArgumentException("example shape " + Arrays.toString(shape) + " is too large");
            }
        }
        return (int) product;
    }

    private static Array read(Path file, InputStream in) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IllegalArgumentException(file + ": file has " + magic.length
                    + " bytes, fewer than the 4-byte IDX magic number");
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IllegalArgumentException(file + ": not an IDX file: it starts with bytes "
                    + HexFormat.ofDelimiter(" ").formatHex(magic) + ", not 00 00 followed by a type code");
        }
        int code = magic[2] & 0xFF;
        int typeIndex = code - 0x08;
        if (typeIndex < 0 || typeIndex >= TYPE_BYTES.length || TYPE_BYTES[typeIndex] == 0) {
            throw new IllegalArgumentException(file + ": unknown IDX data type 0x" + HexFormat.of().toHexDigits((byte) code)
                    + " (known: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)");
        }
        int rank = magic[3] & 0xFF;
        byte[] sizeBytes = in.readNBytes(4 * rank);
        if (sizeBytes.length < 4 * rank) {
            throw new IllegalArgumentException(file + ": header announces " + rank + " dimensions but the file ends "
                    + "after " + sizeBytes.length / 4 + " of their sizes");
        }
        ByteBuffer sizes = ByteBuffer.wrap(sizeBytes).order(ByteOrder.BIG_ENDIAN);
        int[] shape = new int[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = sizes.getInt();
            if (shape[i] < 0) {
                throw new IllegalArgumentException(file + ": dimension " + i + " has negative size " + shape[i]
                        + " (as unsigned, " + Integer.toUnsignedString(shape[i]) + ")");
            }
        }
        boolean empty = Arrays.stream(shape).anyMatch(size -> size == 0);
        for (int i = 0; i < rank && !empty; i++) {
            elements *= shape[i];
            if (elements > MAX_ELEMENTS) {
                throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape)
                        + " has more elements than an array can hold (" + MAX_ELEMENTS + ")");
            }
        }
        if (empty) {
            elements = 0;
        }
        int size = TYPE_BYTES[typeIndex];
        long expected = elements * size;
        if (expected > MAX_ELEMENTS) {
            throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " of "
                    + TYPE_NAMES[typeIndex] + " needs " + expected + " bytes, more than this reader supports ("
                    + MAX_ELEMENTS + ")");
        }
        byte[] data = readUpTo(file, in, (int) expected);
        if (data.length < expected) {
            throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " of "
                    + TYPE_NAMES[typeIndex] + " expects " + expected + " bytes of data, found " + data.length);
        }
        long trailing = in.transferTo(OutputStream.nullOutputStream());
        if (trailing > 0) {
            throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " of "
                    + TYPE_NAMES[typeIndex] + " expects " + expected + " bytes of data, found " + (expected + trailing)
                    + " (" + trailing + " trailing bytes)");
        }
        return new Array(shape, convert(code, data, HeapArrays.floats(file, elements,
                "shape " + Arrays.toString(shape) + " as float32")));
    }

    /**
     * Up to {@code length} bytes, grown as they arrive: a header's claim alone never decides
     * the size of an allocation, since a compressed file's real length is unknown up front.
     */
    private static byte[] readUpTo(Path file, InputStream in, int length) throws IOException {
        byte[] buffer = new byte[Math.min(length, CHUNK_BYTES)];
        int filled = 0;
        while (filled < length) {
            if (filled == buffer.length) {
                buffer = HeapArrays.copyOf(file, buffer, (int) Math.min(length, 2L * buffer.length), "its data");
            }
            int read = in.read(buffer, filled, buffer.length - filled);
            if (read < 0) {
                break;
            }
            filled += read;
        }
        return filled == buffer.length ? buffer : HeapArrays.copyOf(file, buffer, filled, "its data");
    }

    private static float[] convert(int code, byte[] data, float[] values) {
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (code) {
                case 0x08 -> data[i] & 0xFF;
                case 0x09 -> data[i];
                case 0x0B -> buffer.getShort();
                case 0x0C -> buffer.getInt();
                case 0x0D -> buffer.getFloat();
                case 0x0E -> (float) buffer.getDouble();
                default -> throw new IllegalStateException("type 0x" + Integer.toHexString(code));
            };
        }
        return values;
    }
}
