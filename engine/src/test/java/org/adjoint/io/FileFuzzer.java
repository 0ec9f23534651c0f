package org.adjoint.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import org.opentest4j.AssertionFailedError;

/**
 * Seeded malformed files for the readers, and a harness that holds a reader to the contract
 * they all promise: a file either reads, or fails with an {@link IllegalArgumentException} or
 * an {@link UncheckedIOException} whose message names the file; never another exception
 * type, never an {@link OutOfMemoryError}, never a hang (each case runs under
 * {@code assertTimeoutPreemptively}), and never an allocation sized by a claim in the file
 * rather than by its real contents (the bytes the reading thread allocates are measured and
 * bounded by the file's decompressed length).
 *
 * <p>Cases are drawn from one {@link SplittableRandom}, so a seed reproduces a run:
 * {@code -Dadjoint.fuzz.seed=N} overrides a suite's seed and {@code -Dadjoint.fuzz.scale=K}
 * multiplies the random cases (CI runs scale 1; a nightly run can ask for 20). A failure
 * names the seed, the case and the first bytes of the file.
 */
public final class FileFuzzer {

    /** The longest one case may take; a reader that runs longer is taken to hang. */
    public static final Duration CASE_TIMEOUT = Duration.ofSeconds(10);

    // Readers allocate per input byte: a JSON header becomes BigDecimals and lists (tens of
    // bytes per character), a CSV line strings and arrays, float32 doubles a half-precision
    // tensor. A fixed allowance covers buffers (the safetensors reader's 1 MiB chunk). An
    // allocation sized by a lying header (a gigabyte for a kilobyte file) exceeds both.
    private static final long BYTES_PER_INPUT_BYTE = 64;
    private static final long FIXED_ALLOWANCE = 16L << 20;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Byte values that mean something to one of the formats: zero, sign bits, JSON and CSV punctuation. */
    private static final byte[] INTERESTING = {0x00, (byte) 0xFF, 0x7F, (byte) 0x80, 0x01, 0x08, 0x0D, ' ', '"',
        '{', '}', '[', ']', ',', ':', '-', '.', 'e', '9', '\\', '\n', '\r', (byte) 0x1F, (byte) 0x8B};

    private final Path file;
    private final long seed;
    private final SplittableRandom random;
    private final Map<String, Integer> counts = new TreeMap<>();
    private Runnable afterEachCase = () -> { };
    private int cases;
    private int accepted;

    /**
     * A fuzzer that writes each case to one file.
     *
     * @param directory   where the file lives (a test's temporary directory)
     * @param fileName    its name, which every error message must contain (with the directory)
     * @param defaultSeed the seed unless {@code -Dadjoint.fuzz.seed} gives another
     */
    public FileFuzzer(Path directory, String fileName, long defaultSeed) {
        this.file = directory.resolve(fileName);
        this.seed = Long.getLong("adjoint.fuzz.seed", defaultSeed);
        this.random = new SplittableRandom(seed);
    }

    /**
     * The multiplier of random cases: {@code -Dadjoint.fuzz.scale}, 1 by default.
     *
     * @return at least 1
     */
    public static int scale() {
        return Math.max(1, Integer.getInteger("adjoint.fuzz.scale", 1));
    }

    /**
     * Sets a check to run after every case, whether the file was read or rejected; a test of
     * what reading changed (a model loaded from the file) asserts and resets there.
     *
     * @param action the check
     */
    public void afterEachCase(Runnable action) {
        this.afterEachCase = action;
    }

    /**
     * The generator every case draws from.
     *
     * @return the seeded generator
     */
    public SplittableRandom random() {
        return random;
    }

    /**
     * The file each case is written to.
     *
     * @return its path
     */
    public Path file() {
        return file;
    }

    /**
     * Cases run so far.
     *
     * @return the count
     */
    public int cases() {
        return cases;
    }

    /**
     * One line for the test log: the total, the seed, and the count of each kind of case
     * (summed over the seed files).
     *
     * @param reader what was fuzzed
     * @return the summary
     */
    public String summary(String reader) {
        return "fuzz " + reader + ": " + cases + " cases, " + accepted + " read and " + (cases - accepted)
                + " rejected cleanly (seed " + seed + ", scale " + scale() + ") " + counts;
    }

    /**
     * Runs the reader on the bytes and checks the contract.
     *
     * @param kind   the family of the case, for the counts and messages
     * @param bytes  the file's contents
     * @param reader reads the file
     * @param <T>    what it returns
     * @return what the reader returned, or {@code null} when it rejected the file as it should
     */
    public <T> T run(String kind, byte[] bytes, Function<Path, T> reader) {
        int index = cases++;
        counts.merge(kind.substring(kind.indexOf('/') + 1), 1, Integer::sum);
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long[] allocated = new long[1];
        Throwable failure = null;
        T result = null;
        try {
            result = assertTimeoutPreemptively(CASE_TIMEOUT, () -> {
                long before = THREADS.getCurrentThreadAllocatedBytes();
                try {
                    return reader.apply(file);
                } finally {
                    allocated[0] = THREADS.getCurrentThreadAllocatedBytes() - before;
                }
            }, () -> describe(kind, index, bytes) + ": the reader did not finish");
        } catch (AssertionFailedError timeout) {
            throw timeout;
        } catch (Throwable thrown) {
            failure = thrown;
        }
        if (failure != null && !isCleanRejection(failure)) {
            throw new AssertionFailedError(describe(kind, index, bytes) + ": expected an IllegalArgumentException or "
                    + "UncheckedIOException naming " + file + ", got " + failure, failure);
        }
        long allowed = BYTES_PER_INPUT_BYTE * contentLength(bytes) + FIXED_ALLOWANCE;
        if (allocated[0] > allowed) {
            fail(describe(kind, index, bytes) + ": reading allocated " + allocated[0] + " bytes, more than the "
                    + allowed + " its contents justify (an allocation sized by an unchecked claim?)");
        }
        if (failure == null) {
            accepted++;
        }
        try {
            afterEachCase.run();
        } catch (AssertionError e) {
            throw new AssertionFailedError(describe(kind, index, bytes) + ": " + e.getMessage(), e);
        }
        return result;
    }

    /**
     * Runs the reader on bytes that no valid file can be, such as a strict prefix of one.
     *
     * @param kind   the family of the case
     * @param bytes  the file's contents
     * @param reader reads the file
     */
    public void mustReject(String kind, byte[] bytes, Function<Path, ?> reader) {
        if (run(kind, bytes, reader) != null) {
            fail(describe(kind, cases - 1, bytes) + ": the reader accepted a file that cannot be valid");
        }
    }

    /**
     * The standard battery on one valid file: every strict prefix; bit flips, bytes set to
     * meaningful values and spliced ranges; and the same for its gzip-compressed form.
     * Where a mutant reads, {@code check} judges the result.
     *
     * @param name          names the valid file in the counts
     * @param valid         a file the reader accepts
     * @param prefixesFail  whether every strict prefix is invalid (true for formats whose header gives the length)
     * @param randomCases   mutants of each random kind, before {@link #scale()}
     * @param reader        reads a file
     * @param check         asserts what must hold of a successful read
     * @param <T>           what the reader returns
     */
    public <T> void battery(String name, byte[] valid, boolean prefixesFail, int randomCases,
                            Function<Path, T> reader, Consumer<T> check) {
        int count = randomCases * scale();
        T whole = run(name + "/valid", valid, reader);
        if (whole == null) {
            fail("fuzz seed file " + name + " is not valid");
        }
        check.accept(whole);
        for (int length = 0; length < valid.length; length++) {
            byte[] prefix = Arrays.copyOf(valid, length);
            if (prefixesFail) {
                mustReject(name + "/prefix", prefix, reader);
            } else {
                checkIfRead(run(name + "/prefix", prefix, reader), check);
            }
        }
        for (int i = 0; i < count; i++) {
            checkIfRead(run(name + "/bit-flip", flipBits(valid, 1 + random.nextInt(3)), reader), check);
            checkIfRead(run(name + "/set-bytes", setBytes(valid, 1 + random.nextInt(3)), reader), check);
            checkIfRead(run(name + "/splice", splice(valid), reader), check);
        }
        byte[] compressed = gzip(valid);
        checkIfRead(run(name + "/gzip", compressed, reader), check);
        // Every prefix of the compressed file: the gzip layer, not the format, must notice the cut.
        for (int length = 0; length < compressed.length; length++) {
            run(name + "/gzip-prefix", Arrays.copyOf(compressed, length), reader);
        }
        for (int i = 0; i < count; i++) {
            checkIfRead(run(name + "/gzip-bit-flip", flipBits(compressed, 1 + random.nextInt(2)), reader), check);
            checkIfRead(run(name + "/gzip-of-mutant", gzip(flipBits(valid, 1 + random.nextInt(3))), reader), check);
            checkIfRead(run(name + "/gzip-of-prefix", gzip(Arrays.copyOf(valid, random.nextInt(valid.length))), reader),
                    check);
        }
    }

    /**
     * Files of random bytes, random lengths up to {@code maxLength}, some behind a gzip header.
     *
     * @param count     how many, before {@link #scale()}
     * @param maxLength longest file
     * @param reader    reads a file
     * @param check     asserts what must hold of a successful read
     * @param <T>       what the reader returns
     */
    public <T> void randomFiles(int count, int maxLength, Function<Path, T> reader, Consumer<T> check) {
        for (int i = 0; i < count * scale(); i++) {
            byte[] bytes = new byte[random.nextInt(maxLength + 1)];
            random.nextBytes(bytes);
            checkIfRead(run("random-bytes", bytes, reader), check);
            checkIfRead(run("gzip-of-random-bytes", gzip(bytes), reader), check);
        }
    }

    private static <T> void checkIfRead(T result, Consumer<T> check) {
        if (result != null) {
            check.accept(result);
        }
    }

    /**
     * A copy with bits flipped at random positions.
     *
     * @param bytes the original
     * @param flips how many bits
     * @return the mutant
     */
    public byte[] flipBits(byte[] bytes, int flips) {
        byte[] mutant = bytes.clone();
        for (int i = 0; i < flips && mutant.length > 0; i++) {
            mutant[random.nextInt(mutant.length)] ^= (byte) (1 << random.nextInt(8));
        }
        return mutant;
    }

    /**
     * A copy with bytes at random positions set to values that mean something to a format.
     *
     * @param bytes the original
     * @param count how many bytes
     * @return the mutant
     */
    public byte[] setBytes(byte[] bytes, int count) {
        byte[] mutant = bytes.clone();
        for (int i = 0; i < count && mutant.length > 0; i++) {
            mutant[random.nextInt(mutant.length)] = INTERESTING[random.nextInt(INTERESTING.length)];
        }
        return mutant;
    }

    /**
     * A copy with a random range deleted, duplicated, or replaced by random bytes.
     *
     * @param bytes the original
     * @return the mutant
     */
    public byte[] splice(byte[] bytes) {
        int from = random.nextInt(bytes.length + 1);
        int to = from + random.nextInt(Math.min(16, bytes.length - from) + 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, from);
        switch (random.nextInt(3)) {
            case 0 -> { } // deleted
            case 1 -> {
                out.write(bytes, from, to - from);
                out.write(bytes, from, to - from);
            }
            default -> {
                byte[] noise = new byte[random.nextInt(9)];
                random.nextBytes(noise);
                out.write(noise, 0, noise.length);
            }
        }
        out.write(bytes, to, bytes.length - to);
        return out.toByteArray();
    }

    /**
     * The bytes compressed with gzip.
     *
     * @param bytes the original
     * @return a gzip file
     */
    public static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Concatenated arrays.
     *
     * @param parts the pieces
     * @return one array
     */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.write(part, 0, part.length);
        }
        return out.toByteArray();
    }

    /** The bytes a reader sees: the file's own, or as many as inflate from it when it starts as gzip does. */
    private static long contentLength(byte[] bytes) {
        if (bytes.length < 2 || bytes[0] != (byte) 0x1F || bytes[1] != (byte) 0x8B) {
            return bytes.length;
        }
        long inflated = 0;
        byte[] sink = new byte[8192];
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            for (int read; (read = in.read(sink)) >= 0; ) {
                inflated += read;
            }
        } catch (IOException e) {
            // Counted up to the damage, as far as a reader could get.
        }
        return Math.max(bytes.length, inflated);
    }

    private boolean isCleanRejection(Throwable failure) {
        if (!(failure instanceof IllegalArgumentException || failure instanceof UncheckedIOException)) {
            return false;
        }
        String message = failure.getMessage();
        return message != null && message.contains(file.toString());
    }

    private String describe(String kind, int index, byte[] bytes) {
        List<String> parts = new ArrayList<>();
        parts.add("case " + index + " (" + kind + ", seed " + seed + ")");
        parts.add(bytes.length + " bytes");
        parts.add("starting " + HexFormat.ofDelimiter(" ").formatHex(bytes, 0, Math.min(bytes.length, 96)));
        return String.join(", ", parts);
    }
}
