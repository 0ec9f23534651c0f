package org.adjoint.nn;

import java.util.Map;

import org.adjoint.Tensor;

/**
 * A lookup table of {@code count} vectors of width {@code dim}: id {@code i} maps to row
 * {@code i} of the weight, PyTorch's {@code nn.Embedding}. The lookup is
 * {@code weight.indexSelect(0, ids)}, whose gradient adds into the rows it read, so an id
 * that appears twice gets the sum of both gradients. The parameter is named {@code weight}.
 */
public final class Embedding implements Module {

    private final Tensor weight;

    /**
     * A table drawn from {@code N(0, std²)}.
     *
     * @param count number of ids, {@code >= 1}
     * @param dim   width of each vector, {@code >= 1}
     * @param std   standard deviation of the initial values ({@code 1} is PyTorch's default, GPT-2 uses {@code 0.02})
     * @param seed  seed of the initial values
     * @throws IllegalArgumentException for a count or width below 1, or a standard deviation
     *                                  that is negative, infinite or NaN
     */
    public Embedding(int count, int dim, float std, long seed) {
        if (count < 1 || dim < 1) {
            throw new IllegalArgumentException("Embedding: needs at least one id and a width of at least 1, got " + count
                    + " ids of width " + dim);
        }
        if (!(std >= 0f && std < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("Embedding: the standard deviation must be finite and >= 0, got " + std);
        }
        this.weight = Tensor.randn(seed, count, dim).mul(std).detach().requiresGrad(true);
    }

    /**
     * A table on a given weight (shared with another module when the same tensor is passed).
     *
     * @param weight {@code [count, dim]}
     * @throws IllegalArgumentException when the weight is not a matrix
     */
    public Embedding(Tensor weight) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException("Embedding: the weight must be [count, dim], got "
                    + java.util.Arrays.toString(weight.shape()));
        }
        this.weight = weight;
    }

    /**
     * Looks up ids.
     *
     * @param ids   each in {@code [0, count)}
     * @param shape the shape of the ids ({@code ids.length} elements); none for 1-D
     * @return {@code shape ++ [dim]}
     * @throws IllegalArgumentException naming the first id out of range and its position, or
     *                                  a shape that does not hold the ids
     */
    public Tensor apply(int[] ids, int... shape) {
        int count = weight.shape()[0];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= count) {
                throw new IllegalArgumentException("Embedding: id " + ids[i] + " at position " + i
                        + " is out of range for a table of " + count + " entries [0, " + count + ")");
            }
        }
        int[] dims = shape.length == 0 ? new int[] {ids.length} : shape;
        long size = 1;
        for (int d : dims) {
            size *= d;
        }
        if (size != ids.length) {
            throw new IllegalArgumentException("Embedding: " + ids.length + " ids do not fill the shape "
                    + java.util.Arrays.toString(dims));
        }
        int[] out = java.util.Arrays.copyOf(dims, dims.length + 1);
        out[dims.length] = weight.shape()[1];
        return weight.indexSelect(0, ids).reshape(out);
    }

    /**
     * Looks up ids given as a tensor of whole numbers (as {@code nn.Embedding} takes a tensor).
     *
     * @param ids whole numbers in {@code [0, count)}, any shape
     * @return {@code ids.shape ++ [dim]}
     * @throws IllegalArgumentException for a value that is not a whole number in range
     */
    @Override
    public Tensor apply(Tensor ids) {
        int count = weight.shape()[0];
        return apply(wholeIds("Embedding", ids, count, "a table of " + count + " entries"), ids.shape());
    }

    /**
     * Ids given as a float tensor, as ints: each must be a whole number in {@code [0, count)},
     * checked before the conversion (a cast would clamp 3e9 to the largest int).
     *
     * @param op    names the caller in a message
     * @param ids   the ids
     * @param count the number of ids there are
     * @param table what holds them, for a message ("a vocabulary of 65")
     * @return the ids as ints
     */
    static int[] wholeIds(String op, Tensor ids, int count, String table) {
        float[] values = ids.toFloatArray();
        int[] whole = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            float value = values[i];
            if (value != Math.rint(value)) {
                throw new IllegalArgumentException(op + ": id " + value + " at position " + i + " is not a whole number");
            }
            if (value < 0 || value >= count) {
                String shown = Float.isInfinite(value) ? Float.toString(value) : Long.toString((long) value);
                throw new IllegalArgumentException(op + ": id " + shown + " at position " + i + " is out of range for "
                        + table + " [0, " + count + ")");
            }
            whole[i] = (int) value;
        }
        return whole;
    }

    /**
     * The table.
     *
     * @return {@code [count, dim]}
     */
    public Tensor weight() {
        return weight;
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        return Map.of("weight", weight);
    }

    @Override
    public String toString() {
        return "Embedding(" + weight.shape()[0] + ", " + weight.shape()[1] + ")";
    }
}
