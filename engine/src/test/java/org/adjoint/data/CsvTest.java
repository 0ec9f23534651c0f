package org.adjoint.data;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

    @TempDir
    Path directory;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(directory.resolve(name), text);
    }

    private String reject(Csv.Reader reader, String text) throws IOException {
        Path file = write("bad.csv", text);
        var error = assertThrows(IllegalArgumentException.class, () -> reader.read(file));
        String prefix = file + ": ";
        assertTrue(error.getMessage().startsWith(prefix), error.getMessage());
        return error.getMessage().substring(prefix.length());
    }

    private String reject(String text) throws IOException {
        return reject(Csv.reader(), text);
    }

    @Test
    void detectsAHeaderAndTakesTheLastColumnAsLabel() throws IOException {
        Dataset iris = Csv.read(write("iris.csv", """
                sepal_length,sepal_width,species
                5.1,3.5,0
                7.0,3.2,1
                6.3,3.3,2
                """));
        assertEquals(3, iris.size());
        assertEquals(2, iris.width());
        assertArrayEquals(new float[] {5.1f, 3.5f, 7.0f, 3.2f, 6.3f, 3.3f}, iris.featureArray());
        assertArrayEquals(new int[] {0, 1, 2}, iris.labels());
    }

    @Test
    void withoutAHeaderTheFirstLineIsData() throws IOException {
        Dataset table = Csv.read(write("plain.csv", "1,2,0\n3,4,1\n"));
        assertArrayEquals(new float[] {1, 2, 3, 4}, table.featureArray());
        assertArrayEquals(new int[] {0, 1}, table.labels());
    }

    @Test
    void labelColumnFromEitherEnd() throws IOException {
        Path file = write("digits.csv", "7,0.5,0.25\n3,1e-2,-.5\n");
        Dataset first = Csv.reader().labelColumn(0).read(file);
        assertArrayEquals(new int[] {7, 3}, first.labels());
        assertArrayEquals(new float[] {0.5f, 0.25f, 0.01f, -0.5f}, first.featureArray());
        Dataset fromEnd = Csv.reader().labelColumn(-3).read(file);
        assertArrayEquals(first.labels(), fromEnd.labels());
        assertArrayEquals(first.featureArray(), fromEnd.featureArray());
    }

    @Test
    void headerCanBeForcedEitherWay() throws IOException {
        Path numericHeader = write("numbered.csv", "0,1,2\n5,6,1\n");
        Dataset skipped = Csv.reader().header(true).read(numericHeader);
        assertEquals(1, skipped.size());
        assertArrayEquals(new float[] {5, 6}, skipped.featureArray());
        assertEquals("line 1: field 1 'x' is not a number",
                reject(Csv.reader().header(false), "x,y,label\n1,2,0\n"));
    }

    @Test
    void toleratesSpacesBlankLinesCrLfAndAByteOrderMark() throws IOException {
        Dataset table = Csv.read(write("windows.csv", "\uFEFFa, b ,label\r\n\r\n 1 , +2 ,1\r\n   \r\n3,4, 0 \r\n"));
        assertArrayEquals(new float[] {1, 2, 3, 4}, table.featureArray());
        assertArrayEquals(new int[] {1, 0}, table.labels());
    }

    @Test
    void gzipIsDetectedFromTheBytes() throws IOException {
        Path file = directory.resolve("table.csv");
        Files.write(file, IdxTest.gzip("f,label\n1.5,2\n-1,0\n".getBytes(UTF_8)));
        Dataset table = Csv.read(file);
        assertArrayEquals(new float[] {1.5f, -1}, table.featureArray());
        assertArrayEquals(new int[] {2, 0}, table.labels());
    }

    @Test
    void badFieldsAreNamedWithTheirLine() throws IOException {
        assertEquals("line 3: field 2 'abc' is not a number", reject("a,b,c\n1,2,0\n3,abc,1\n"));
        assertEquals("line 3: field 1 '' is not a number", reject("1,2,0\n\n,2,1\n"));
        assertEquals("line 2: field 2 'NaN' is not a number", reject("1,2,0\n1,NaN,1\n"));
        assertEquals("line 2: field 1 '1e39' is beyond the range of float32", reject("1,2,0\n1e39,2,1\n"));
        assertEquals("line 2: field 3 '1.5' is not a class label (a whole number from 0 to 16777215)",
                reject("1,2,0\n1,2,1.5\n"));
        assertEquals("line 1: field 3 '-1' is not a class label (a whole number from 0 to 16777215)", reject("1,2,-1\n"));
        assertEquals("line 2: field 1 'cat' is not a class label (a whole number from 0 to 16777215)",
                reject(Csv.reader().labelColumn(0), "label,x\ncat,1\n"));
    }

    @Test
    void linesWithADifferentFieldCountAreRejected() throws IOException {
        assertEquals("line 4: 2 fields, expected 3 as on line 1", reject("a,b,c\n1,2,0\n\n3,1\n"));
        assertEquals("line 3: 4 fields, expected 3 as on line 2", reject("\n1,2,0\n1,2,3,0\n"));
    }

    @Test
    void tablesWithoutDataOrWithoutFeaturesAreRejected() throws IOException {
        assertEquals("no data lines", reject("a,b,label\n"));
        assertEquals("no data lines", reject("\n\n"));
        assertEquals("line 1: 1 field; a table needs a label column and at least one feature column",
                reject("3\n4\n"));
        assertEquals("label column 3 does not exist in a table of 3 columns", reject(Csv.reader().labelColumn(3),
                "1,2,0\n"));
        assertEquals("label column -4 does not exist in a table of 3 columns", reject(Csv.reader().labelColumn(-4),
                "1,2,0\n"));
    }

    @Test
    void missingFileIsAnIoError() {
        Path missing = directory.resolve("absent.csv");
        var error = assertThrows(UncheckedIOException.class, () -> Csv.read(missing));
        assertTrue(error.getMessage().startsWith(missing + ": cannot read: "), error.getMessage());
    }

    @Test
    void largeTablesGrowTheirBuffers() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int row = 0; row < 5000; row++) {
            text.append(row).append(',').append(-row).append(',').append(row % 10).append('\n');
        }
        Dataset table = Csv.read(write("large.csv", text.toString()));
        assertEquals(5000, table.size());
        float[] features = table.featureArray();
        assertEquals(4999f, features[2 * 4999]);
        assertEquals(-4999f, features[2 * 4999 + 1]);
        assertEquals(9, table.labels()[4999]);
        assertEquals(10, Arrays.stream(table.labels()).distinct().count());
    }
}
