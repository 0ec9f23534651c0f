package org.adjoint.io;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors header, parsed and checked against the size of the data section before any
 * tensor data is read or any array is allocated for it.
 */
final class SafeTensorsHeader {

    /** The key under which a header holds its string-to-string metadata. */
    static final String METADATA_KEY = "__metadata__";

    /** The reference implementation's limit; a larger length means a corrupt or hostile file. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** The element types this reader converts to float32, with their sizes in bytes. */
    enum DType {
        F32(4) {
            @Override
            void convert(ByteBuffer source, float[] target, int offset, int count) {
                source.asFloatBuffer().get(target, offset, count);
            }
        },
        F64(8) {
            @Override
            void convert(ByteBuffer source, float[] target, int offset, int count) {
                var doubles = source.asDoubleBuffer();
                for (int i = 0; i < count; i++) {
                    // Rounded to nearest, as PyTorch's float() does: beyond float32's range, ±∞.
                    target[offset + i] = (float) doubles.get(i);
                }
            }
        },
        F16(2) {
            @Override
            void convert(ByteBuffer source, float[] target, int offset, int count) {
                var halves = source.asShortBuffer();
                for (int i = 0; i < count; i++) {
                    target[offset + i] = Float.float16ToFloat(halves.get(i));
                }
            }
        },
        BF16(2) {
            @Override
            void convert(ByteBuffer source, float[] target, int offset, int count) {
                var halves = source.asShortBuffer();
                for (int i = 0; i < count; i++) {
                    // bfloat16 is the upper half of a float32, so widening is exact.
                    target[offset + i] = Float.intBitsToFloat((halves.get(i) & 0xFFFF) << 16);
                }
            }
        },
        /** Integers (PyTorch's {@code num_batches_tracked}, position ids) that float32 holds exactly. */
        I64(8) {
            @Override
            void convert(ByteBuffer source, float[] target, int offset, int count) {
                var longs = source.asLongBuffer();
                for (int i = 0; i < count; i++) {
                    target[offset + i] = exactly(longs.get(i), offset + i);
                }
            }
        },
        /** As {@link #I64}. */
        I32(4) {
            @Override
            void convert(ByteBuffer source, float[] target, int offset, int count) {
                var ints = source.asIntBuffer();
                for (int i = 0; i < count; i++) {
                    target[offset + i] = exactly(ints.get(i), offset + i);
                }
            }
        };

        /** The integer as a float32, refused where float32 would round it. */
        private static float exactly(long value, int element) {
            float converted = (float) value;
            if (Math.abs(value) > 1L << 62 || (long) converted != value) {
                throw new IllegalArgumentException("element " + element + " is " + value
                        + ", which float32 cannot hold exactly");
            }
            return converted;
        }

        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** Converts {@code count} little-endian elements at the source's position. */
        abstract void convert(ByteBuffer source, float[] target, int offset, int count);
    }

    /** One tensor's entry: element type, shape and byte range within the data section. */
    record Entry(String name, DType dtype, int[] shape, long begin, long end) {

        int elements() {
            return (int) ((end - begin) / dtype.bytes);
        }

        String describe() {
            return "'" + name + "' (" + dtype + " " + Arrays.toString(shape) + ", data_offsets [" + begin + ", "
                    + end + "])";
        }
    }

    private final String file;
    final List<Entry> entries = new ArrayList<>();
    final Map<String, String> metadata = new LinkedHashMap<>();

    private SafeTensorsHeader(String file) {
        this.file = file;
    }

    /**
     * Parses the header JSON and checks that its entries tile the data section exactly.
     *
     * @param file       the file name, for messages
     * @param json       the header text
     * @param dataLength bytes after the header
     * @return the entries in file order, and the metadata
     */
    static SafeTensorsHeader parse(String file, String json, long dataLength) {
        SafeTensorsHeader header = new SafeTensorsHeader(file);
        Object root;
        try {
            root = Json.parse(json);
        } catch (IllegalArgumentException e) {
            IllegalArgumentException error = header.error("header is not valid JSON: " + e.getMessage());
            error.initCause(e);
            throw error;
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw header.error("header is not a JSON object but " + describe(root));
        }
        for (Map.Entry<?, ?> item : map.entrySet()) {
            String name = (String) item.getKey();
            if (name.equals(METADATA_KEY)) {
                header.readMetadata(item.getValue());
            } else {
                header.entries.add(header.readEntry(name, item.getValue()));
            }
        }
        header.checkLayout(dataLength);
        return header;
    }

    private void readMetadata(Object value) {
        if (!(value instanceof Map<?, ?> map)) {
            throw error(METADATA_KEY + " is not an object of strings but " + describe(value));
        }
        for (Map.Entry<?, ?> item : map.entrySet()) {
            if (!(item.getValue() instanceof String text)) {
                throw error(METADATA_KEY + " value for key '" + item.getKey() + "' is " + describe(item.getValue())
                        + ", not a string");
            }
            metadata.put((String) item.getKey(), text);
        }
    }

    private Entry readEntry(String name, Object value) {
        if (!(value instanceof Map<?, ?> fields)) {
            throw error("tensor '" + name + "' is described by " + describe(value) + ", not an object");
        }
        // Like the reference implementation, fields other than these three are ignored.
        Object dtypeField = required(name, fields, "dtype");
        Object shapeField = required(name, fields, "shape");
        Object offsetsField = required(name, fields, "data_offsets");
        if (!(dtypeField instanceof String dtypeName)) {
            throw error("tensor '" + name + "' has dtype " + describe(dtypeField) + ", not a string");
        }
        DType dtype = dtype(name, dtypeName);
        if (!(shapeField instanceof List<?> dims)) {
            throw error("tensor '" + name + "' has shape " + describe(shapeField) + ", not an array");
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            long dim = nonNegative(name, "shape", i, dims.get(i));
            if (dim > Integer.MAX_VALUE) {
                throw error("tensor '" + name + "' has dimension " + dim + " in shape " + dims
                        + ", more than " + Integer.MAX_VALUE);
            }
            shape[i] = (int) dim;
        }
        long elements = elementsOrMinusOne(shape);
        if (!(offsetsField instanceof List<?> offsets) || offsets.size() != 2) {
            throw error("tensor '" + name + "' has data_offsets " + describe(offsetsField)
                    + ", not an array [begin, end]");
        }
        long begin = nonNegative(name, "data_offsets", 0, offsets.get(0));
        long end = nonNegative(name, "data_offsets", 1, offsets.get(1));
        if (end < begin) {
            throw error("tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] that end before they begin");
        }
        long bytes = elements < 0 ? -1 : multiplyOrMinusOne(elements, dtype.bytes);
        if (bytes != end - begin) {
            throw error("tensor '" + name + "' has shape " + Arrays.toString(shape) + " of " + dtype + " ("
                    + (bytes < 0 ? "more than 2^63" : String.valueOf(bytes)) + " bytes) but data_offsets ["
                    + begin + ", " + end + "] span " + (end - begin) + " bytes");
        }
        if (elements > MAX_ELEMENTS) {
            throw error("tensor '" + name + "' has " + elements + " elements, more than one tensor can hold ("
                    + MAX_ELEMENTS + ")");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private DType dtype(String name, String dtypeName) {
        for (DType dtype : DType.values()) {
            if (dtype.name().equals(dtypeName)) {
                return dtype;
            }
        }
        throw error("tensor '" + name + "' has dtype " + dtypeName
                + ", which cannot be read as float32 (supported: F32, F64, F16, BF16, I64, I32)");
    }

    private Object required(String name, Map<?, ?> fields, String key) {
        if (!fields.containsKey(key)) {
            throw error("tensor '" + name + "' has no \"" + key + "\" (its fields: " + fields.keySet() + ")");
        }
        return fields.get(key);
    }

    private long nonNegative(String name, String field, int index, Object value) {
        if (value instanceof BigDecimal number) {
            try {
                long result = number.longValueExact();
                if (result >= 0) {
                    return result;
                }
            } catch (ArithmeticException e) {
                // not an integer, or beyond 64 bits: reported below
            }
        }
        throw error("tensor '" + name + "' has " + field + "[" + index + "] = " + value
                + ", not a non-negative 64-bit integer");
    }

    /** Orders the entries by offset and checks that they cover the data section with no gap or overlap. */
    private void checkLayout(long dataLength) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry entry : sorted) {
            if (entry.begin() < covered) {
                throw error("tensor " + entry.describe() + " overlaps tensor " + previous.describe());
            }
            if (entry.begin() > covered) {
                throw error("bytes [" + covered + ", " + entry.begin() + ") of the data section belong to no tensor "
                        + "(a hole before tensor " + entry.describe() + ")");
            }
            if (entry.end() > dataLength) {
                throw error("tensor " + entry.describe() + " ends beyond the data section, which has "
                        + dataLength + " bytes (is the file truncated?)");
            }
            covered = entry.end();
            previous = entry;
        }
        if (covered < dataLength) {
            throw error("the data section has " + dataLength + " bytes but the tensors cover only " + covered
                    + " (trailing bytes are rejected, as the reference implementation does)");
        }
    }

    /** The product of the dimensions, or -1 when it exceeds 64 bits. */
    private static long elementsOrMinusOne(int[] shape) {
        long elements = 1;
        for (int dim : shape) {
            if (dim == 0) {
                return 0;
            }
        }
        for (int dim : shape) {
            elements = multiplyOrMinusOne(elements, dim);
            if (elements < 0) {
                return -1;
            }
        }
        return elements;
    }

    private static long multiplyOrMinusOne(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    private static String describe(Object value) {
        return switch (value) {
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            case String text -> "the string \"" + text + "\"";
            default -> value.toString();
        };
    }

    private IllegalArgumentException error(String reason) {
        return new IllegalArgumentException(file + ": " + reason);
    }
}
