package org.adjoint.io;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a safetensors file can be malformed. These run in the engine with no backend,
 * which also proves that each is rejected before any tensor is created.
 */
class SafeTensorsValidationTest {

    /** A tensor of 2^40 float32 elements, offsets consistent with the shape. */
    private static final String FOUR_TIB = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],"
            + "\"data_offsets\":[0,4398046511104]}}";
    /** A tensor of 2^30 BF16 elements. */
    private static final String TWO_GIB = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[1073741824],"
            + "\"data_offsets\":[0,2147483648]}}";
    /** What reading a small file with a huge claim may allocate. */
    private static final long HUGE_CLAIM_BYTES = 16 << 10;

    @TempDir
    Path directory;

    /** A file laid out as the reference writes it: length, JSON padded with spaces to 8 bytes, data. */
    static byte[] file(String json, int dataBytes) {
        byte[] header = json.getBytes(UTF_8);
        int padded = header.length + (8 - header.length % 8) % 8;
        ByteBuffer buffer = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(padded).put(header);
        while (buffer.position() < 8 + padded) {
            buffer.put((byte) ' ');
        }
        return buffer.array();
    }

    private Path write(byte[] bytes) throws IOException {
        return Files.write(directory.resolve("model.safetensors"), bytes);
    }

    private String reject(byte[] bytes) throws IOException {
        Path file = write(bytes);
        var error = assertThrows(IllegalArgumentException.class, () -> SafeTensors.load(file));
        String prefix = file + ": ";
        assertTrue(error.getMessage().startsWith(prefix), error.getMessage());
        return error.getMessage().substring(prefix.length());
    }

    private String rejectHeader(String json, int dataBytes) throws IOException {
        return reject(file(json, dataBytes));
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        assertEquals("file has 5 bytes, fewer than the 8-byte header length that starts a safetensors file",
                reject(new byte[5]));
        assertEquals("file has 0 bytes, fewer than the 8-byte header length that starts a safetensors file",
                reject(new byte[0]));
    }

    @Test
    void absurdHeaderLengths() throws IOException {
        byte[] huge = new byte[16];
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
        assertEquals("header length 18446744073709551615 is more than 100000000 bytes (the reference limit); "
                + "is this a safetensors file?", reject(huge));
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L);
        assertEquals("header length 100000001 is more than 100000000 bytes (the reference limit); "
                + "is this a safetensors file?", reject(huge));
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(9);
        assertEquals("header length 9 runs past the end of the file (16 bytes; is it truncated?)", reject(huge));
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        byte[] bytes = file("{\"w\":1}", 0);
        bytes[10] = (byte) 0xC3; // a lead byte followed by an ASCII byte
        assertTrue(reject(bytes).startsWith("header is not valid UTF-8 ("));
    }

    @Test
    void headerThatIsNotJsonOrNotAnObject() throws IOException {
        assertEquals("header is not valid JSON: at character 8: unexpected end of input, expected a value",
                rejectHeader("{\"w\": ", 0));
        assertEquals("header is not valid JSON: at character 0: expected a value but found '}'",
                rejectHeader("}", 0));
        assertEquals("header is not a JSON object but an array", rejectHeader("[1, 2]", 0));
        assertEquals("header is not valid JSON: at character 0: unexpected end of input, expected a value",
                reject(new byte[8]));
    }

    @Test
    void entryMissingAFieldOrOfTheWrongKind() throws IOException {
        assertEquals("tensor 'w' is described by 3, not an object", rejectHeader("{\"w\":3}", 0));
        assertEquals("tensor 'w' has no \"dtype\" (its fields: [shape, data_offsets])",
                rejectHeader("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
        assertEquals("tensor 'w' has no \"shape\" (its fields: [dtype, data_offsets])",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4));
        assertEquals("tensor 'w' has no \"data_offsets\" (its fields: [dtype, shape])",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4));
        assertEquals("tensor 'w' has dtype 32, not a string",
                rejectHeader("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
        assertEquals("tensor 'w' has shape the string \"1\", not an array",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4));
        assertEquals("tensor 'w' has data_offsets an array, not an array [begin, end]",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4));
        assertEquals("__metadata__ value for key 'format' is 1, not a string",
                rejectHeader("{\"__metadata__\":{\"format\":1}}", 0));
        assertEquals("__metadata__ is not an object of strings but an array",
                rejectHeader("{\"__metadata__\":[]}", 0));
    }

    @Test
    void dtypesThatCannotBeConvertedAreNamed() throws IOException {
        assertEquals("tensor 'mask' has dtype U8, which cannot be read as float32 "
                + "(supported: F32, F64, F16, BF16, I64, I32)",
                rejectHeader("{\"mask\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
        assertEquals("tensor 'q' has dtype I8, which cannot be read as float32 "
                + "(supported: F32, F64, F16, BF16, I64, I32)",
                rejectHeader("{\"q\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
    }

    @Test
    void dimensionsAndOffsetsMustBeNonNegativeIntegers() throws IOException {
        assertEquals("tensor 'w' has shape[0] = -1, not a non-negative 64-bit integer",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8));
        assertEquals("tensor 'w' has shape[1] = 2.5, not a non-negative 64-bit integer",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,2.5],\"data_offsets\":[0,8]}}", 8));
        assertEquals("tensor 'w' has dimension 2147483648 in shape [1, 2147483648], more than 2147483647",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,2147483648],\"data_offsets\":[0,8]}}", 8));
        assertEquals("tensor 'w' has data_offsets[0] = -4, not a non-negative 64-bit integer",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4));
        assertEquals("tensor 'w' has data_offsets [8, 4] that end before they begin",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8));
    }

    @Test
    void headerThatLiesAboutSizes() throws IOException {
        assertEquals("tensor 'w' has shape [2, 3] of F32 (24 bytes) but data_offsets [0, 20] span 20 bytes",
                rejectHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20));
        assertEquals("tensor 'h' has shape [3] of F16 (6 bytes) but data_offsets [0, 12] span 12 bytes",
                rejectHeader("{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12));
        assertEquals("tensor 'w' has shape [2147483647, 2147483647, 2147483647] of F32 (more than 2^63 bytes) "
                + "but data_offsets [0, 16] span 16 bytes", rejectHeader("{\"w\":{\"dtype\":\"F32\","
                        + "\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,16]}}", 16));
    }

    @Test
    void hugeClaimsFailCleanlyInsteadOfAllocating() throws IOException {
        // 2^40 elements whose offsets agree with the shape: the check against the real file
        // size, not an attempt to allocate 4 TiB, must stop it.
        String message = rejectHeader(FOUR_TIB, 16);
        assertEquals("tensor 'w' has 1099511627776 elements, more than one tensor can hold (2147483639)", message);
        message = rejectHeader(TWO_GIB, 16);
        assertEquals("tensor 'w' (BF16 [1073741824], data_offsets [0, 2147483648]) ends beyond the data section, "
                + "which has 16 bytes (is the file truncated?)", message);
    }

    /**
     * The same claims, and a header length of 2^40, in files of about 100 bytes: reading
     * allocates a few KiB (the header, its parse, the message), measured on the reading
     * thread, never the claim.
     */
    @Test
    void hugeClaimsInSmallFilesAllocateAFewKibibytes() throws IOException {
        byte[] headerLengthClaim = new byte[100];
        ByteBuffer.wrap(headerLengthClaim).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        byte[] pastTheEnd = headerLengthClaim.clone();
        ByteBuffer.wrap(pastTheEnd).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_000L);
        for (byte[] bytes : new byte[][] {file(FOUR_TIB, 16), file(TWO_GIB, 16), headerLengthClaim, pastTheEnd}) {
            Path file = write(bytes);
            Runnable read = () -> assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(file));
            read.run();
            long allocated = FileFuzzer.allocatedBy(read);
            assertTrue(allocated <= HUGE_CLAIM_BYTES, () -> "reading " + bytes.length + " bytes that claim more allocated "
                    + allocated + " bytes, more than " + HUGE_CLAIM_BYTES);
        }
    }

    @Test
    void aNumberTooLongToParseQuicklyIsRefused() throws IOException {
        // Regression (found by fuzzing): a 4 MB header of one number held the reader for minutes.
        String before = "{\"w\":{\"dtype\":\"F32\",\"shape\":[";
        String json = before + "1".repeat(4_000_000) + "],\"data_offsets\":[0,4]}}";
        String message = assertTimeoutPreemptively(FileFuzzer.CASE_TIMEOUT, () -> rejectHeader(json, 4));
        assertEquals("header is not valid JSON: at character " + before.length() + ": number of 4000000 characters is "
                + "longer than the 1000 allowed", message);
    }

    @Test
    void offsetsMustTileTheDataSection() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
        String b = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
        assertEquals("tensor 'b' (F32 [2], data_offsets [4, 12]) overlaps tensor 'a' (F32 [2], data_offsets [0, 8])",
                rejectHeader("{" + a + "[0,8]}," + b + "[4,12]}}", 12));
        assertEquals("bytes [8, 12) of the data section belong to no tensor (a hole before tensor "
                + "'b' (F32 [2], data_offsets [12, 20]))", rejectHeader("{" + a + "[0,8]}," + b + "[12,20]}}", 20));
        assertEquals("bytes [0, 8) of the data section belong to no tensor (a hole before tensor "
                + "'a' (F32 [2], data_offsets [8, 16]))", rejectHeader("{" + a + "[8,16]}}", 16));
        assertEquals("the data section has 12 bytes but the tensors cover only 8 (trailing bytes are rejected, "
                + "as the reference implementation does)", rejectHeader("{" + a + "[0,8]}}", 12));
        assertEquals("the data section has 4 bytes but the tensors cover only 0 (trailing bytes are rejected, "
                + "as the reference implementation does)", rejectHeader("{}", 4));
        String zero = "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}";
        assertEquals("tensor 'z' (F32 [0], data_offsets [4, 4]) overlaps tensor 'a' (F32 [2], data_offsets [0, 8])",
                rejectHeader("{" + a + "[0,8]}," + zero + "}", 8));
    }

    @Test
    void truncatedFileIsRejectedWhole() throws IOException {
        byte[] whole = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}}", 20);
        byte[] truncated = Arrays.copyOf(whole, whole.length - 3);
        assertEquals("tensor 'b' (F32 [3], data_offsets [8, 20]) ends beyond the data section, which has 17 bytes "
                + "(is the file truncated?)", reject(truncated));
        byte[] inHeader = Arrays.copyOf(whole, 20);
        assertTrue(reject(inHeader).startsWith("header length "), "cut inside the header");
    }

    @Test
    void missingFileIsAnIoError() {
        Path missing = directory.resolve("absent.safetensors");
        var error = assertThrows(UncheckedIOException.class, () -> SafeTensors.read(missing));
        assertTrue(error.getMessage().startsWith(missing + ": cannot read: "), error.getMessage());
        assertInstanceOf(NoSuchFileException.class, error.getCause());
    }
}
