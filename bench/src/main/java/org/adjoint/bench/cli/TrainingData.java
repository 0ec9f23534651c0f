package org.adjoint.bench.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.adjoint.data.Csv;
import org.adjoint.data.Dataset;
import org.adjoint.data.Idx;

/**
 * The data sets {@code adjoint train} knows, with features scaled to {@code [0, 1]}.
 *
 * @param name        how the command line names it
 * @param train       the examples to fit on
 * @param test        the held-out examples evaluated after each epoch
 * @param description one line for the header: source and sizes
 */
record TrainingData(String name, Dataset train, Dataset test, String description) {

    /** Debian's {@code dataset-fashion-mnist} package installs the files here. */
    static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    private static final String DIGITS_RESOURCE = "/org/adjoint/bench/data/digits.csv.gz";

    /**
     * Loads a data set.
     *
     * @param name    {@code digits} or {@code fashion-mnist}
     * @param dataDir where the Fashion-MNIST files are, or {@code null} for the Debian location
     * @param seed    the seed of the digits' train / test split
     * @return the data
     * @throws IllegalStateException when Fashion-MNIST is not installed, naming the fix
     */
    static TrainingData load(String name, Path dataDir, long seed) {
        return switch (name) {
            case "digits" -> digits(seed);
            case "fashion-mnist" -> mnistFormat("fashion-mnist", dataDir == null ? FASHION_MNIST_DIR : dataDir);
            default -> throw new IllegalArgumentException("unknown data set '" + name + "'");
        };
    }

    /**
     * The 1,797 8×8 handwritten digits bundled in the jar (UCI, CC BY 4.0), pixels 0 to 16
     * scaled to [0, 1], split 80 / 20 at random from the seed.
     */
    private static TrainingData digits(long seed) {
        Dataset all;
        Path copy = null;
        try (InputStream in = TrainingData.class.getResourceAsStream(DIGITS_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the digits data set is missing from the jar (" + DIGITS_RESOURCE + ")");
            }
            copy = Files.createTempFile("adjoint-digits", ".csv.gz");
            Files.copy(in, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            all = Csv.reader().labelColumn(-1).header(false).read(copy);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled digits data set: " + e, e);
        } finally {
            deleteQuietly(copy);
        }
        Dataset.Split split = all.scale(1f / 16).split(0.8, seed);
        return new TrainingData("digits", split.train(), split.test(), String.format(java.util.Locale.ROOT,
                "digits 8x8 (bundled, UCI): %,d train / %,d test", split.train().size(), split.test().size()));
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // A leftover copy in the temporary directory is harmless; say so rather than hide it.
            System.err.println("adjoint: could not delete the temporary file " + file + ": " + e);
        }
    }

    /** A directory in the MNIST layout: train-/t10k- images and labels, gzip-compressed or not. */
    private static TrainingData mnistFormat(String name, Path dir) {
        List<String> missing = new ArrayList<>();
        Path trainImages = find(dir, "train-images-idx3-ubyte", missing);
        Path trainLabels = find(dir, "train-labels-idx1-ubyte", missing);
        Path testImages = find(dir, "t10k-images-idx3-ubyte", missing);
        Path testLabels = find(dir, "t10k-labels-idx1-ubyte", missing);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(name + " not found in " + dir + " (missing " + String.join(", ", missing)
                    + "); install Debian's package with 'sudo apt-get install dataset-fashion-mnist', or pass "
                    + "--data-dir DIR for a directory holding the four MNIST-format files");
        }
        Dataset train = Idx.dataset(trainImages, trainLabels).scale(1f / 255);
        Dataset test = Idx.dataset(testImages, testLabels).scale(1f / 255);
        if (train.width() != test.width()) {
            throw new IllegalStateException(trainImages + " has " + train.width() + " pixels per image but " + testImages
                    + " has " + test.width() + "; the two sets must have images of one size");
        }
        return new TrainingData(name, train, test, String.format(java.util.Locale.ROOT, "%s (%s): %,d train / %,d test",
                name, dir, train.size(), test.size()));
    }

    private static Path find(Path dir, String stem, List<String> missing) {
        for (String candidate : new String[] {stem + ".gz", stem}) {
            Path file = dir.resolve(candidate);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        missing.add(stem + "[.gz]");
        return null;
    }

    /**
     * Number of classes: one more than the largest label in either part.
     *
     * @return the classes
     */
    int classes() {
        return Math.max(train.classes(), test.classes());
    }
}
