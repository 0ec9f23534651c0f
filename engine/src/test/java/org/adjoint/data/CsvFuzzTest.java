package org.adjoint.data;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Function;

import org.adjoint.io.FileFuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Csv} under {@link FileFuzzer}: truncated, bit-flipped, spliced and gzip-wrapped
 * versions of valid tables, random tables of awkward tokens (numbers at the edge of float32,
 * labels beyond {@code int}, fields of tens of thousands of digits), and random bytes, read
 * with the default settings and with the label first and no header.
 */
class CsvFuzzTest {

    /** Tokens a field may be: valid numbers of every spelling, and near misses. */
    private static final String[] TOKENS = {"0", "1", "7", "-0", "+3", ".5", "5.", "1e3", "1E-3", "2.5e+2",
        "3.4e38", "3.5e38", "-3.5e38", "1e-50", "NaN", "Infinity", "0x10", "", " ", "abc", "\"1\"", "1 2", "١",
        "2147483647", "2147483648", "1e10", "99999999999999999999", "-1", "1.5", "e5", ".", "+", "1e", "--1",
        "\uFEFF1", "1\u00A0"};
    private static final String[] LINE_ENDS = {"\n", "\n", "\r\n", "\r", "\n\n", "\n \n"};

    @TempDir
    Path directory;

    static final String IRIS = """
            sepal_length,sepal_width,species
            5.1,3.5,0
            7.0,3.2,1
            6.3,3.3,2
            """;
    static final String PLAIN = "\uFEFF1,-2.5e-3,0\r\n\r\n+3,.5,12\r\n4.,1E2,3\r\n";
    static final String LABEL_FIRST = "3,0.25,0.5,0.75\n1,1,2,3\n\n0,4,5,6";

    static void checkDataset(Dataset dataset) {
        assertTrue(dataset.size() > 0);
        assertEquals((long) dataset.size() * dataset.width(), dataset.featureArray().length);
        for (int label : dataset.labels()) {
            assertTrue(label >= 0, "label " + label);
        }
    }

    @Test
    void everyMalformedTableFailsCleanly() {
        Csv.Reader labelFirst = Csv.reader().labelColumn(0).header(false);
        FileFuzzer fuzzer = new FileFuzzer(directory, "fuzzed.csv", 0xC5FL);
        fuzzer.battery("iris", IRIS.getBytes(UTF_8), false, 60, Csv::read, CsvFuzzTest::checkDataset);
        fuzzer.battery("plain", PLAIN.getBytes(UTF_8), false, 60, Csv::read, CsvFuzzTest::checkDataset);
        fuzzer.battery("label-first", LABEL_FIRST.getBytes(UTF_8), false, 60, labelFirst::read,
                CsvFuzzTest::checkDataset);
        randomTables(fuzzer, Csv::read);
        randomTables(fuzzer, labelFirst::read);
        longFields(fuzzer);
        fuzzer.randomFiles(200, 64, Csv::read, CsvFuzzTest::checkDataset);
        System.out.println(fuzzer.summary("Csv"));
        assertTrue(fuzzer.cases() >= 3_000, fuzzer.summary("Csv"));
    }

    /** Tables of random shape whose fields are drawn from {@link #TOKENS}. */
    private static void randomTables(FileFuzzer fuzzer, Function<Path, Dataset> reader) {
        SplittableRandom random = fuzzer.random();
        for (int i = 0; i < 400 * FileFuzzer.scale(); i++) {
            int columns = 1 + random.nextInt(5);
            int rows = random.nextInt(6);
            StringBuilder text = new StringBuilder();
            for (int row = 0; row < rows; row++) {
                // Now and then a row of another width.
                int width = random.nextInt(8) == 0 ? 1 + random.nextInt(6) : columns;
                for (int column = 0; column < width; column++) {
                    if (column > 0) {
                        text.append(',');
                    }
                    boolean plausible = random.nextInt(4) != 0;
                    text.append(plausible ? String.valueOf(random.nextInt(10)) : TOKENS[random.nextInt(TOKENS.length)]);
                }
                text.append(LINE_ENDS[random.nextInt(LINE_ENDS.length)]);
            }
            byte[] bytes = text.toString().getBytes(UTF_8);
            check(fuzzer.run("random-table", bytes, reader));
            check(fuzzer.run("random-table-gzip", FileFuzzer.gzip(bytes), reader));
        }
    }

    /**
     * Fields of 20,000 to 100,000 digits, some ending in a character that makes them no number:
     * a number pattern that backtracks takes time quadratic in the length to say no.
     */
    private static void longFields(FileFuzzer fuzzer) {
        SplittableRandom random = fuzzer.random();
        String[] endings = {"x", "", ".5", "e", ".5e+", "e7"};
        for (int i = 0; i < 12; i++) {
            String digits = "1".repeat(20_000 + random.nextInt(80_000));
            String field = digits + endings[i % endings.length];
            String table = i % 2 == 0 ? "a,b\n" + field + ",1\n" : "1," + field + "\n";
            check(fuzzer.run("long-field", table.getBytes(UTF_8), Csv::read));
        }
    }

    @Test
    void aLongFieldThatIsNotANumberIsRejectedInLinearTime() throws IOException {
        // Regression: the number pattern backtracked, so this took over a minute.
        Path file = Files.writeString(directory.resolve("long.csv"), "1,2\n" + "1".repeat(200_000) + "x,1\n");
        var error = assertTimeoutPreemptively(FileFuzzer.CASE_TIMEOUT,
                () -> assertThrows(IllegalArgumentException.class, () -> Csv.read(file)));
        assertEquals(file + ": line 2: field 1 '" + "1".repeat(32) + "...' (200001 characters) is not a number",
                error.getMessage());
    }

    @Test
    void anEndlessLineIsRefusedBeforeItIsHeldWhole() throws IOException {
        // 16 MiB of digits compress to 16 KiB; a larger such file could inflate past the heap.
        byte[] endless = FileFuzzer.gzip(("1,".repeat(Csv.MAX_LINE_CHARS / 2) + "12").getBytes(UTF_8));
        Path file = Files.write(directory.resolve("endless.csv.gz"), endless);
        var error = assertThrows(IllegalArgumentException.class, () -> Csv.read(file));
        assertEquals(file + ": line 1: longer than 16777216 characters (is this a table of numbers?)",
                error.getMessage());
    }

    @Test
    void linesEndAsBufferedReaderEndsThem() throws IOException {
        // \r, \n and \r\n each end a line; the first \r\n straddles the 8192-character read buffer.
        String first = "0".repeat(8188) + "5,1\r";
        assertEquals(8192, first.length());
        Path file = Files.writeString(directory.resolve("ends.csv"), first + "\n3,4\r5,6\n\r\n7,8");
        Dataset table = Csv.reader().header(false).read(file);
        assertArrayEquals(new float[] {5, 3, 5, 7}, table.featureArray());
        assertArrayEquals(new int[] {1, 4, 6, 8}, table.labels());
    }

    private static void check(Dataset dataset) {
        if (dataset != null) {
            checkDataset(dataset);
        }
    }
}
