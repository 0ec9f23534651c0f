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
 * rather than by its real contents: the bytes the reading thread allocates are measured and
 * bounded by {@link #allowedBytes}, a per-format number of bytes per byte of the file's
 * decompressed contents plus {@value #FIXED_ALLOWANCE} bytes.
 *
 * <p>Cases are drawn from one {@link SplittableRandom}, so a seed reproduces a run:
 * {@code -Dadjoint.fuzz.seed=N} overrides a suite's seed and {@code -Dadjoint.fuzz.scale=K}
 * multiplies the random cases (CI runs scale 1; a nightly run can ask for 20). A failure
 * names the seed, the case and the first bytes of the file.
 */
public final class FileFuzzer {

    /** The longest one case may take; a reader that runs longer is taken to hang. */
    public static final Duration CASE_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Bytes a reader may allocate per byte of data, where the data becomes float32 arrays: a
     * byte of an IDX ubyte file is a 4-byte float, and the buffer it is read into doubles as
     * it grows (at most 8 per byte in all); a CSV field of a few characters becomes a float in
     * an array that also doubles (6.3 measured). An allocation sized by a lying header (a
     * gigabyte for a kilobyte file) exceeds it by orders of magnitude.
     */
    public static final long DATA_BYTES_PER_INPUT_BYTE = 16;

    /**
     * Bytes per byte for a format with a JSON header: a shape of 100,000 ones ({@code "1,"},
     * two characters each) becomes a list of boxed numbers and the tensor's shape, about 70
     * bytes per header byte, measured.
     */
    public static final long JSON_BYTES_PER_INPUT_BYTE = 80;

    /**
     * Buffers that do not grow with the file (each reader's are at most 64 KiB, smaller for a
     * smaller file; at most 43 KiB were measured in a case, including a second, valid file
     * that a dataset case also reads).
     */
    public static final long FIXED_ALLOWANCE = 64L << 10;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Byte values that mean something to one of the formats: zero, sign bits, JSON and CSV punctuation. */
    private static final byte[] INTERESTING = {0x00, (byte) 0xFF, 0x7F, (byte) 0x80, 0x01, 0x08, 0x0D, ' ', '"',
        '{', '}', '[', ']', ',', ':', '-', '.', 'e', '9', '\\', '\n', '\r', (byte) 0x1F, (byte) 0x8B};

    private final Path file;
    private final long bytesPerInputByte;
    private final long seed;
    private final SplittableRandom random;
    private final Map<String, Integer> counts = new TreeMap<>();
    private Runnable afterEachCase = () -> { };
    private int cases;
    private int accepted;

    /**
     * A fuzzer that writes each case to one file, for a format whose data becomes float32
     * arrays ({@value #DATA_BYTES_PER_INPUT_BYTE} bytes allocated per byte).
     *
     * @param directory   where the file lives (a test's temporary directory)
     * @param fileName    its name, which every error message must contain (with the directory)
     * @param defaultSeed the seed unless {@code -Dadjoint.fuzz.seed} gives another
     */
    public FileFuzzer(Path directory, String fileName, long defaultSeed) {
        this(directory, fileName, defaultSeed, DATA_BYTES_PER_INPUT_BYTE);
    }

    /**
     * A fuzzer that writes each case to one file.
     *
     * @param directory         where the file lives (a test's temporary directory)
     * @param fileName          its name, which every error message must contain (with the directory)
     * @param defaultSeed       the seed unless {@code -Dadjoint.fuzz.seed} gives another
     * @param bytesPerInputByte what reading may allocate per byte of the file's contents, for
     *                          example {@link #JSON_BYTES_PER_INPUT_BYTE}
     */
    public FileFuzzer(Path directory, String fileName, long defaultSeed, long bytesPerInputByte) {
        this.bytesPerInputByte = bytesPerInputByte;
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
            result = assertTimeoutPreemptively(CASE_TIMEOUT, () -> measured(reader, allocated),
                    () -> describe(kind, index, bytes) + ": the reader did not finish");
        } catch (AssertionFailedError timeout) {
            throw timeout;
        } catch (Throwable thrown) {
            failure = thrown;
        }
        if (failure != null && !isCleanRejection(failure)) {
            throw new AssertionFailedError(describe(kind, index, bytes) + ": expected an IllegalArgumentException or "
                    + "UncheckedIOException naming " + file + ", got " + failure, failure);
        }
        long allowed = allowedBytes(contentLength(bytes));
        if (allocated[0] > allowed) {
            // The first run of a code path loads classes and links call sites (hundreds of KiB,
            // once); an allocation sized by a claim comes back on the second run, they do not.
            long first = allocated[0];
            try {
                assertTimeoutPreemptively(CASE_TIMEOUT, () -> measured(reader, allocated));
            } catch (AssertionFailedError timeout) {
                throw timeout;
            } catch (Throwable again) {
                // The same rejection as the first time; only the allocation is of interest here.
            }
            if (allocated[0] > allowed) {
                fail(describe(kind, index, bytes) + ": reading allocated " + allocated[0] + " bytes (" + first
                        + " the first time), more than the " + allowed + " its contents justify (an allocation sized"
                        + " by an unchecked claim?)");
            }
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
     * What reading a file whose contents (decompressed) have this many bytes may allocate.
     *
     * @param contentBytes the contents' length
     * @return the bytes per input byte times the length, plus {@value #FIXED_ALLOWANCE}
     */
    public long allowedBytes(long contentBytes) {
        return bytesPerInputByte * contentBytes + FIXED_ALLOWANCE;
    }

    /**
     * The bytes the calling thread allocates while {@code action} runs. Run it once before to
     * leave out what a first run allocates only once (classes loaded, call sites linked).
     *
     * @param action what to measure; what it throws is passed on
     * @return the bytes allocated
     */
    public static long allocatedBy(Runnable action) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        action.run();
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }

    private <T> T measured(Function<Path, T> reader, long[] allocated) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        try {
            return reader.apply(file);
        } finally {
            allocated[0] = THREADS.getCurrentThreadAllocatedBytes() - before;
        }
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
