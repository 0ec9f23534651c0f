package org.adjoint.nn;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.HeadsAttention;

/**
 * Causal multi-head self-attention over {@code [batch, time, width]}, as in GPT-2: one fused
 * linear layer makes queries, keys and values ({@code c_attn}, width to three widths), each
 * is split into {@code heads} heads of {@code width / heads}, causal scaled dot-product attention
 * ({@link Functional#scaledDotProductAttention}) runs on every head at once, the heads are joined
 * again and projected back ({@code c_proj}), then dropout. The split, the attention and the join
 * are one primitive ({@code HeadsAttention}) that reads the heads where the projection wrote them
 * and writes the projection's gradient in one buffer.
 *
 * <p>With attention dropout (nanoGPT's {@code attn_dropout}, PyTorch's {@code dropout_p}) the
 * attention weights themselves are dropped in training: then the heads' attention is the plain
 * composition the fused one is tested against ({@code HeadsAttention.reference}) with the dropout
 * between its weights and the values, {@code dropout(softmax(masked(q·kᵀ/√d)))·v}, which holds every head's
 * {@code T × T} weights; in evaluation, or with a probability of 0, the fused primitive runs.
 *
 * <p>Parameters: {@code c_attn.weight} {@code [width, 3·width]}, {@code c_attn.bias},
 * {@code c_proj.weight} {@code [width, width]}, {@code c_proj.bias} (PyTorch's and nanoGPT's
 * names; weights here are {@code [in, out]}, the transpose of PyTorch's). The columns of
 * {@code c_attn} are the queries', then the keys', then the values'.
 */
public final class MultiHeadAttention extends Composite {

    private final int width;
    private final int heads;
    private final Linear attention;
    private final Linear projection;
    private final Dropout dropout;
    private final Dropout weightDropout;
    private final float weightDropoutP;
    private boolean training = true;

    /**
     * Creates the layer with GPT-2's initialization and no attention dropout.
     *
     * @param width   the model width
     * @param heads   the head count, dividing {@code width}
     * @param layers  the depth of the model, which scales the output projection's initial weights
     * @param dropout probability of the dropout after the projection, in {@code [0, 1)}
     * @param seed    seed of the initial weights
     * @throws IllegalArgumentException when {@code heads} does not divide {@code width}
     */
    public MultiHeadAttention(int width, int heads, int layers, float dropout, long seed) {
        this(width, heads, layers, dropout, 0f, seed);
    }

    /**
     * Creates the layer with GPT-2's initialization: weights from {@code N(0, 0.02²)}, the
     * output projection's from {@code N(0, (0.02 / √(2·layers))²)}, biases zero.
     *
     * @param width   the model width
     * @param heads   the head count, dividing {@code width}
     * @param layers  the depth of the model, which scales the output projection's initial weights
     * @param dropout probability of the dropout after the projection, in {@code [0, 1)}
     * @param attentionDropout probability of dropping each attention weight in training, in {@code [0, 1)}
     * @param seed    seed of the initial weights
     * @throws IllegalArgumentException when a count is below 1, {@code heads} does not divide
     *                                  {@code width}, or a probability is outside {@code [0, 1)}
     */
    public MultiHeadAttention(int width, int heads, int layers, float dropout, float attentionDropout, long seed) {
        if (width < 1 || heads < 1 || layers < 1) {
            throw new IllegalArgumentException("MultiHeadAttention: width, heads and layers must be at least 1, got "
                    + width + ", " + heads + " and " + layers);
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention: " + heads + " heads do not divide the width " + width
                    + " (the head count must divide the width)");
        }
        // Before any weight is drawn, and naming which of the two probabilities is wrong.
        float[] probabilities = {dropout, attentionDropout};
        String[] names = {"dropout", "attentionDropout"};
        for (int i = 0; i < probabilities.length; i++) {
            if (!(probabilities[i] >= 0f && probabilities[i] < 1f)) {
                throw new IllegalArgumentException("MultiHeadAttention: " + names[i] + " must be in [0, 1), got "
                        + probabilities[i]);
            }
        }
        this.width = width;
        this.heads = heads;
        this.attention = child("c_attn", new Linear(GptInit.normal(seed, 0.02f, width, 3 * width),
                Tensor.zeros(3 * width).requiresGrad(true), Activation.IDENTITY));
        this.projection = child("c_proj", new Linear(
                GptInit.normal(seed + 1, (float) (0.02 / Math.sqrt(2.0 * layers)), width, width),
                Tensor.zeros(width).requiresGrad(true), Activation.IDENTITY));
        this.dropout = child("resid_dropout", new Dropout(dropout));
        this.weightDropout = child("attn_dropout", new Dropout(attentionDropout));
        this.weightDropoutP = attentionDropout;
    }

    /**
     * Attends.
     *
     * @param x {@code [batch, time, width]}
     * @return the same shape
     * @throws IllegalArgumentException when {@code x} is not of rank 3 with this width
     */
    @Override
    public Tensor apply(Tensor x) {
        int[] shape = x.shape();
        if (shape.length != 3 || shape[2] != width) {
            throw new IllegalArgumentException("MultiHeadAttention: the input must be [batch, time, " + width + "], got "
                    + java.util.Arrays.toString(shape));
        }
        Tensor qkv = attention.apply(x);
        // Dropping the weights needs them: the plain composition then, whose weights the dropout
        // sees. Otherwise the fused attention reads the heads where the projection wrote them,
        // writes them joined, and its backward writes the three gradients into the projection's columns.
        Tensor y = training && weightDropoutP > 0f ? HeadsAttention.reference(qkv, heads, true, weightDropout::apply)
                : HeadsAttention.apply(qkv, heads, true);
        return dropout.apply(projection.apply(y));
    }

    @Override
    public MultiHeadAttention train(boolean training) {
        super.train(training);
        this.training = training;
        return this;
    }

    /**
     * The head count.
     *
     * @return heads
     */
    public int heads() {
        return heads;
    }

    /**
     * The probability of dropping an attention weight in training.
     *
     * @return it, 0 for none
     */
    public float attentionDropout() {
        return weightDropoutP;
    }

    @Override
    public String toString() {
        return "MultiHeadAttention(" + width + ", heads=" + heads
                + (weightDropoutP > 0f ? ", attentionDropout=" + weightDropoutP : "") + ")";
    }
}
