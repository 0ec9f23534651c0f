package org.adjoint.data;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Pattern;
import java.util.zip.ZipException;

/**
 * Reads small numeric tables from comma-separated text into a {@link Dataset}: one example
 * per line, every field a decimal number, one of them (by default the last) the class label.
 *
 * <pre>{@code
 * Dataset iris = Csv.read(Path.of("iris.csv"));                             // label last, header detected
 * Dataset digits = Csv.reader().labelColumn(0).header(false).read(Path.of("digits.csv.gz"));
 * }</pre>
 *
 * <p>Fields are trimmed of surrounding spaces; quoting is not supported; blank lines are
 * skipped. A file whose first two bytes are the gzip magic number is decompressed. Errors
 * are {@link IllegalArgumentException}s naming the file, the line and the offending field.
 */
public final class Csv {

    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private Csv() {
    }

    /**
     * Reads a table with the label in the last column and a header row detected: the first
     * line is a header when one of its fields is not a number.
     *
     * @param file the file, gzip-compressed or not
     * @return one example per data line
     * @throws IllegalArgumentException when a field is not a number, a label not a non-negative
     *                                  whole number, a line has a different number of fields,
     *                                  or there are no data lines
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static Dataset read(Path file) {
        return reader().read(file);
    }

    /**
     * A reader with the default settings, to adjust before reading.
     *
     * @return a reader taking the label from the last column and detecting a header
     */
    public static Reader reader() {
        return new Reader(-1, null);
    }

    /** Settings for reading a table; immutable, each setter returns a new reader. */
    public static final class Reader {

        private final int labelColumn;
        private final Boolean header;

        private Reader(int labelColumn, Boolean header) {
            this.labelColumn = labelColumn;
            this.header = header;
        }

        /**
         * Which column holds the label.
         *
         * @param column 0 for the first; a negative number counts from the end, -1 the last
         * @return a reader with that setting
         */
        public Reader labelColumn(int column) {
            return new Reader(column, header);
        }

        /**
         * Whether the first line is a header, instead of detecting it.
         *
         * @param present true to skip the first line, false to read it as data
         * @return a reader with that setting
         */
        public Reader header(boolean present) {
            return new Reader(labelColumn, present);
        }

        /**
         * Reads a table.
         *
         * @param file the file, gzip-compressed or not
         * @return one example per data line
         * @throws IllegalArgumentException when a field is not a number, a label not a
         *                                  non-negative whole number, a line has a different
         *                                  number of fields, the label column does not exist,
         *                                  or there are no data lines
         * @throws UncheckedIOException     when the file cannot be read
         */
        public Dataset read(Path file) {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(Compression.open(file), UTF_8))) {
                return new Table(file, labelColumn, header).read(lines);
            } catch (ZipException | EOFException e) {
                throw new IllegalArgumentException(file + ": corrupt or truncated gzip data (" + e.getMessage() + ")",
                        e);
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": cannot read: " + e, e);
            }
        }

        @Override
        public String toString() {
            return "Csv.reader(label column " + labelColumn + ", header "
                    + (header == null ? "detected" : header ? "present" : "absent") + ")";
        }
    }

    /** The state of one read. */
    private static final class Table {

        private final Path file;
        private final int requestedLabelColumn;
        private final Boolean header;
        private int columns;
        private int firstLine;
        private int labelColumn;
        private float[] features = new float[1024];
        private int[] labels = new int[64];
        private int rows;

        Table(Path file, int labelColumn, Boolean header) {
            this.file = file;
            this.requestedLabelColumn = labelColumn;
            this.header = header;
        }

        Dataset read(BufferedReader lines) throws IOException {
            int lineNumber = 0;
            String line;
            while ((line = lines.readLine()) != null) {
                lineNumber++;
                if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                String[] fields = line.split(",", -1);
                if (firstLine == 0) {
                    firstLine = lineNumber;
                    start(fields);
                    if (header != null ? header : !allNumbers(fields)) {
                        continue;
                    }
                } else if (fields.length != columns) {
                    throw error(lineNumber, fields.length + " fields, expected " + columns + " as on line " + firstLine);
                }
                addRow(lineNumber, fields);
            }
            if (rows == 0) {
                throw new IllegalArgumentException(file + ": no data lines");
            }
            return Dataset.owning(Arrays.copyOf(features, rows * (columns - 1)), columns - 1,
                    Arrays.copyOf(labels, rows));
        }

        private void start(String[] fields) {
            columns = fields.length;
            labelColumn = requestedLabelColumn < 0 ? columns + requestedLabelColumn : requestedLabelColumn;
            if (columns < 2) {
                throw error(firstLine, "1 field; a table needs a label column and at least one feature column");
            }
            if (labelColumn < 0 || labelColumn >= columns) {
                throw new IllegalArgumentException(file + ": label column " + requestedLabelColumn
                        + " does not exist in a table of " + columns + " columns");
            }
        }

        private static boolean allNumbers(String[] fields) {
            for (String field : fields) {
                if (!NUMBER.matcher(field.strip()).matches()) {
                    return false;
                }
            }
            return true;
        }

        private void addRow(int lineNumber, String[] fields) {
            int width = columns - 1;
            if ((long) (rows + 1) * width > Integer.MAX_VALUE - 8) {
                throw error(lineNumber, "more values than a data set can hold (" + (Integer.MAX_VALUE - 8) + ")");
            }
            if ((rows + 1) * width > features.length) {
                features = Arrays.copyOf(features, (int) Math.min(Integer.MAX_VALUE - 8,
                        Math.max(2L * features.length, (long) (rows + 1) * width)));
            }
            if (rows == labels.length) {
                labels = Arrays.copyOf(labels, 2 * labels.length);
            }
            int at = rows * width;
            for (int column = 0; column < columns; column++) {
                String field = fields[column].strip();
                if (column == labelColumn) {
                    labels[rows] = label(lineNumber, column, field);
                } else {
                    features[at++] = number(lineNumber, column, field);
                }
            }
            rows++;
        }

        private float number(int lineNumber, int column, String field) {
            if (!NUMBER.matcher(field).matches()) {
                throw fieldError(lineNumber, column, field, "is not a number");
            }
            float value = Float.parseFloat(field);
            if (Float.isInfinite(value)) {
                throw fieldError(lineNumber, column, field, "is beyond the range of float32");
            }
            return value;
        }

        private int label(int lineNumber, int column, String field) {
            double value = NUMBER.matcher(field).matches() ? Double.parseDouble(field) : Double.NaN;
            if (!(value >= 0 && value <= Integer.MAX_VALUE && value == Math.rint(value))) {
                throw fieldError(lineNumber, column, field, "is not a class label (a whole number, at least 0)");
            }
            return (int) value;
        }

        private IllegalArgumentException fieldError(int lineNumber, int column, String field, String reason) {
            return error(lineNumber, "field " + (column + 1) + " '" + field + "' " + reason);
        }

        private IllegalArgumentException error(int lineNumber, String reason) {
            return new IllegalArgumentException(file + ": line " + lineNumber + ": " + reason);
        }
    }
}
