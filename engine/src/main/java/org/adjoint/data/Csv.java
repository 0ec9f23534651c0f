package org.adjoint.data;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Path;
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
 * skipped; a line may hold at most {@value #MAX_LINE_CHARS} characters. A file whose first
 * two bytes are the gzip magic number is decompressed. Errors are
 * {@link IllegalArgumentException}s naming the file, the line and the offending field; a
 * table too large for the heap fails with an {@link org.adjoint.backend.OutOfMemoryException}
 * that names the file and the line, with the sizes, not with an {@link OutOfMemoryError}.
 */
public final class Csv {

    /**
     * The longest line read, in characters: room for a million columns, and a bound on the
     * memory one line can take when a compressed file inflates to a single endless line.
     */
    public static final int MAX_LINE_CHARS = 1 << 24;

    // Possessive quantifiers: \d+\.?\d* can split a run of digits between its two parts
    // in as many ways as there are digits, so a long field that is not a number took time
    // quadratic in its length to reject (100,000 digits and an 'x': over a minute).
    private static final Pattern NUMBER =
            Pattern.compile("[+-]?+(?:\\d++(?:\\.\\d*+)?+|\\.\\d++)(?:[eE][+-]?+\\d++)?+");
    private static final int MAX_VALUES = Integer.MAX_VALUE - 8;

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
            try (java.io.Reader text = new InputStreamReader(Compression.open(file), UTF_8)) {
                return new Table(file, labelColumn, header).read(new Lines(file, text));
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

        Dataset read(Lines lines) throws IOException {
            int lineNumber = 0;
            String line;
            while ((line = lines.next(lineNumber + 1)) != null) {
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
            int values = rows * (columns - 1);
            return Dataset.owning(values == features.length ? features
                            : HeapArrays.copyOf(file, features, values, "the table's " + values + " feature values"),
                    columns - 1, rows == labels.length ? labels : HeapArrays.copyOf(file, labels, rows, "its labels"));
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
            if ((long) (rows + 1) * width > MAX_VALUES) {
                throw error(lineNumber, "more values than a data set can hold (" + MAX_VALUES + ")");
            }
            if ((rows + 1) * width > features.length) {
                int grown = (int) Math.min(MAX_VALUES, Math.max(2L * features.length, (long) (rows + 1) * width));
                features = HeapArrays.copyOf(file, features, grown, "line " + lineNumber + ": the table so far");
            }
            if (rows == labels.length) {
                // In long: doubling 2^30 labels would overflow int.
                labels = HeapArrays.copyOf(file, labels, (int) Math.min(MAX_VALUES, 2L * labels.length),
                        "line " + lineNumber + ": the labels so far");
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
            if (!(value >= 0 && value < Dataset.LABEL_LIMIT && value == Math.rint(value))) {
                throw fieldError(lineNumber, column, field, "is not a class label (a whole number from 0 to "
                        + (Dataset.LABEL_LIMIT - 1) + ")");
            }
            return (int) value;
        }

        private IllegalArgumentException fieldError(int lineNumber, int column, String field, String reason) {
            String shown = field.length() <= 64 ? "'" + field + "'"
                    : "'" + field.substring(0, 32) + "...' (" + field.length() + " characters)";
            return error(lineNumber, "field " + (column + 1) + " " + shown + " " + reason);
        }

        private IllegalArgumentException error(int lineNumber, String reason) {
            return new IllegalArgumentException(file + ": line " + lineNumber + ": " + reason);
        }
    }

    /**
     * The lines of a text, split as {@link java.io.BufferedReader#readLine()} splits them (at
     * {@code \n}, {@code \r} or {@code \r\n}), refusing a line longer than
     * {@link #MAX_LINE_CHARS} before it is held whole.
     */
    private static final class Lines {

        private final Path file;
        private final java.io.Reader in;
        private final char[] buffer = new char[1 << 13];
        private final StringBuilder line = new StringBuilder();
        private int position;
        private int filled;
        private boolean skipLineFeed;

        Lines(Path file, java.io.Reader in) {
            this.file = file;
            this.in = in;
        }

        /** The next line without its terminator, or {@code null} at the end of the text. */
        String next(int lineNumber) throws IOException {
            line.setLength(0);
            boolean started = false;
            while (true) {
                if (position == filled) {
                    filled = in.read(buffer, 0, buffer.length);
                    position = 0;
                    if (filled < 0) {
                        filled = 0;
                        return started ? line.toString() : null;
                    }
                }
                if (skipLineFeed) {
                    skipLineFeed = false;
                    if (buffer[position] == '\n') {
                        position++;
                        continue;
                    }
                }
                int start = position;
                while (position < filled && buffer[position] != '\n' && buffer[position] != '\r') {
                    position++;
                }
                if (line.length() + (position - start) > MAX_LINE_CHARS) {
                    throw new IllegalArgumentException(file + ": line " + lineNumber + ": longer than "
                            + MAX_LINE_CHARS + " characters (is this a table of numbers?)");
                }
                line.append(buffer, start, position - start);
                started |= position > start;
                if (position < filled) {
                    skipLineFeed = buffer[position++] == '\r';
                    return line.toString();
                }
            }
        }
    }
}
