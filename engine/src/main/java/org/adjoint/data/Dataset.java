package org.adjoint.data;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Shapes;

/**
 * A classification data set held on the host: {@code size()} examples, each a row of
 * {@code width()} float features and one class label. Immutable; the transformations return
 * new data sets.
 *
 * <pre>{@code
 * Dataset.Split parts = Csv.read(Path.of("iris.csv")).split(0.8, 42);
 * Dataset train = parts.train().standardize(parts.train());
 * Dataset test = parts.test().standardize(parts.train());
 * for (int epoch = 0; epoch < 10; epoch++) {
 *     for (Batch batch : train.batches(32).shuffle(42, epoch)) {
 *         Tensor loss = Losses.crossEntropy(model.apply(batch.features()), batch.labels());
 *         ...
 *     }
 * }
 * }</pre>
 */
public final class Dataset {

    private final float[] features;
    private final int width;
    private final int[] labels;

    private Dataset(float[] features, int width, int[] labels) {
        this.features = features;
        this.width = width;
        this.labels = labels;
    }

    /**
     * A data set from row-major features and one label per row (both arrays are copied).
     *
     * @param features {@code labels.length × width} values, one row per example
     * @param width    features per example
     * @param labels   class indices, each from 0 to 2<sup>24</sup> − 1
     * @return the data set
     * @throws IllegalArgumentException when the lengths disagree or a label is out of range
     */
    public static Dataset of(float[] features, int width, int[] labels) {
        return owning(HostArrays.allocate("Dataset.of", features.length, Float.BYTES, features::clone), width,
                HostArrays.allocate("Dataset.of", labels.length, Integer.BYTES, labels::clone));
    }

    /**
     * One more than the largest class label: the classes that float32 (and so a label file's
     * values, the loss's labels and an index selection) tells apart exactly.
     */
    static final int LABEL_LIMIT = Shapes.FLOAT_EXACT_INTEGERS;

    /** Like {@link #of}, taking the arrays without copying them (readers hand over arrays they built). */
    static Dataset owning(float[] features, int width, int[] labels) {
        if (width < 0 || (long) labels.length * width != features.length) {
            throw new IllegalArgumentException("Dataset.of: " + features.length + " feature values do not make "
                    + labels.length + " rows of width " + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= LABEL_LIMIT) {
                throw new IllegalArgumentException("Dataset.of: label of example " + i + " is " + labels[i]
                        + "; class labels run from 0 to " + (LABEL_LIMIT - 1));
            }
        }
        return new Dataset(features, width, labels);
    }

    /**
     * The number of examples.
     *
     * @return the row count
     */
    public int size() {
        return labels.length;
    }

    /**
     * The number of features per example.
     *
     * @return the row length
     */
    public int width() {
        return width;
    }

    /**
     * The number of classes the labels imply: the largest label plus one.
     *
     * @return 0 for an empty data set
     */
    public int classes() {
        int max = -1;
        for (int label : labels) {
            max = Math.max(max, label);
        }
        return max + 1;
    }

    /**
     * All features as one tensor, uploaded on each call.
     *
     * @return a tensor of shape {@code [size(), width()]} on the current backend
     */
    public Tensor features() {
        return Tensor.of(features, labels.length, width);
    }

    /**
     * All features, row-major, without going through a backend.
     *
     * @return a new array of {@code size() × width()} values
     */
    public float[] featureArray() {
        return HostArrays.allocate("Dataset.featureArray", features.length, Float.BYTES, features::clone);
    }

    /**
     * The labels.
     *
     * @return a new array, one class index per example
     */
    public int[] labels() {
        return labels.clone();
    }

    /**
     * Every feature multiplied by a factor, for example {@code scale(1f / 255)} to bring
     * 8-bit pixels into {@code [0, 1]}.
     *
     * @param factor the multiplier, finite
     * @return a new data set with the same labels
     * @throws IllegalArgumentException for a factor that is NaN or infinite ({@code 1f / max}
     *                                  of a maximum of 0, say), which would make every feature one
     */
    public Dataset scale(float factor) {
        if (!Float.isFinite(factor)) {
            throw new IllegalArgumentException("Dataset.scale: the factor must be finite, got " + factor);
        }
        float[] scaled = HostArrays.floats("Dataset.scale", features.length);
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = features[i] * factor;
        }
        return new Dataset(scaled, width, labels);
    }

    /**
     * Every feature shifted by its mean in {@code reference} and divided by its standard
     * deviation there (features constant in the reference are only shifted). Standardize the
     * training set by itself and the test set by the training set, so the test set does not
     * leak into the statistics.
     *
     * @param reference the data set whose statistics are used, of the same width
     * @return a new data set with the same labels
     * @throws IllegalArgumentException when the widths differ or the reference is empty
     */
    public Dataset standardize(Dataset reference) {
        if (reference.width != width || reference.size() == 0) {
            throw new IllegalArgumentException("standardize: reference has " + reference.size() + " rows of width "
                    + reference.width + ", need at least one row of width " + width);
        }
        double[] mean = new double[width];
        double[] squares = new double[width];
        int rows = reference.size();
        for (int row = 0; row < rows; row++) {
            for (int column = 0; column < width; column++) {
                mean[column] += reference.features[row * width + column];
            }
        }
        for (int column = 0; column < width; column++) {
            mean[column] /= rows;
        }
        for (int row = 0; row < rows; row++) {
            for (int column = 0; column < width; column++) {
                double centred = reference.features[row * width + column] - mean[column];
                squares[column] += centred * centred;
            }
        }
        float[] result = HostArrays.floats("Dataset.standardize", features.length);
        for (int column = 0; column < width; column++) {
            double deviation = Math.sqrt(squares[column] / rows);
            double divisor = deviation > 0 ? deviation : 1;
            for (int row = 0; row < labels.length; row++) {
                int at = row * width + column;
                result[at] = (float) ((features[at] - mean[column]) / divisor);
            }
        }
        return new Dataset(result, width, labels);
    }

    /**
     * A training part and a test part.
     *
     * @param train the examples to fit on
     * @param test  the held-out examples
     */
    public record Split(Dataset train, Dataset test) {
    }

    /**
     * Splits the examples at random into a training and a test part, the same way for the
     * same seed. Each part keeps the examples' original relative order.
     *
     * @param trainFraction the share of examples for training, in {@code [0, 1]}; the training
     *                      part gets {@code round(size() × trainFraction)} of them
     * @param seed          the seed of the shuffle
     * @return both parts
     * @throws IllegalArgumentException when the fraction is outside {@code [0, 1]}
     */
    public Split split(double trainFraction, long seed) {
        if (!(trainFraction >= 0 && trainFraction <= 1)) {
            throw new IllegalArgumentException("split: train fraction " + trainFraction + " is not in [0, 1]");
        }
        int trainSize = (int) Math.round(labels.length * trainFraction);
        int[] order = permutation(labels.length, new SplittableRandom(seed));
        int[] train = Arrays.copyOfRange(order, 0, trainSize);
        int[] test = Arrays.copyOfRange(order, trainSize, order.length);
        Arrays.sort(train);
        Arrays.sort(test);
        return new Split(select(train, 0, train.length), select(test, 0, test.length));
    }

    /**
     * The examples in batches of {@code batchSize}, in order, keeping a last smaller batch;
     * {@link Batches#shuffle(long, int)} and {@link Batches#dropLast()} change that.
     *
     * @param batchSize examples per batch, at least 1
     * @return an iterable that can be traversed any number of times
     * @throws IllegalArgumentException when {@code batchSize} is below 1
     */
    public Batches batches(int batchSize) {
        return new Batches(this, batchSize, false, 0, 0, false);
    }

    /** The examples at {@code order[from..to)}, as a data set that shares nothing with this one. */
    Dataset select(int[] order, int from, int to) {
        float[] rows = HostArrays.floats("Dataset: a selection of examples", (long) (to - from) * width);
        int[] classes = new int[to - from];
        for (int i = from; i < to; i++) {
            System.arraycopy(features, order[i] * width, rows, (i - from) * width, width);
            classes[i - from] = labels[order[i]];
        }
        return new Dataset(rows, width, classes);
    }

    /** The batch of the examples at {@code order[from..to)}. */
    Batch batch(int[] order, int from, int to) {
        Dataset rows = select(order, from, to);
        return new Batch(Tensor.of(rows.features, to - from, width), rows.labels);
    }

    /** A uniformly random permutation of {@code 0..n-1} (Fisher–Yates), fixed by the generator's seed. */
    static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    @Override
    public String toString() {
        return "Dataset[" + labels.length + " examples × " + width + " features, " + classes() + " classes]";
    }
}
