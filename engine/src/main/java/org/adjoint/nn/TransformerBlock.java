package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * A pre-norm transformer block, as in GPT-2:
 *
 * <pre>
 * x ← x + attn(ln_1(x))
 * x ← x + mlp(ln_2(x))      mlp(h) = dropout(c_proj(gelu(c_fc(h))))
 * </pre>
 *
 * with causal {@link MultiHeadAttention}, {@link LayerNorm}s over the width, and an MLP four
 * times as wide as the model with the exact GELU. Parameters carry nanoGPT's names:
 * {@code ln_1.weight}, {@code ln_1.bias}, {@code attn.c_attn.weight}, ...,
 * {@code mlp.c_fc.weight}, {@code mlp.c_fc.bias}, {@code mlp.c_proj.weight}, {@code mlp.c_proj.bias}
 * (linear weights {@code [in, out]}).
 */
public final class TransformerBlock extends Composite {

    /** The feed-forward part: width to four widths, exact GELU, back, dropout. */
    private static final class Mlp extends Composite {
        private final Linear expand;
        private final Linear project;
        private final Dropout dropout;

        Mlp(int width, int layers, float dropout, long seed) {
            expand = child("c_fc", new Linear(GptInit.normal(seed, 0.02f, width, 4 * width),
                    Tensor.zeros(4 * width).requiresGrad(true), Activation.IDENTITY));
            project = child("c_proj", new Linear(
                    GptInit.normal(seed + 1, (float) (0.02 / Math.sqrt(2.0 * layers)), 4 * width, width),
                    Tensor.zeros(width).requiresGrad(true), Activation.IDENTITY));
            this.dropout = child("dropout", new Dropout(dropout));
        }

        @Override
        public Tensor apply(Tensor x) {
            return dropout.apply(project.apply(expand.apply(x).gelu()));
        }
    }

    private final LayerNorm norm1;
    private final MultiHeadAttention attention;
    private final LayerNorm norm2;
    private final Mlp mlp;

    /**
     * Creates a block with GPT-2's initialization (see {@link MultiHeadAttention}).
     *
     * @param width   the model width
     * @param heads   the head count, dividing {@code width}
     * @param layers  the depth of the model, which scales the output projections' initial weights
     * @param dropout probability of the dropouts after the attention and the MLP, in {@code [0, 1)}
     * @param seed    seed of the initial weights (the block uses {@code seed} to {@code seed + 3})
     * @throws IllegalArgumentException when a count is below 1 or {@code heads} does not divide
     *                                  {@code width}
     */
    public TransformerBlock(int width, int heads, int layers, float dropout, long seed) {
        this(width, heads, layers, dropout, 0f, seed);
    }

    /**
     * Creates a block whose attention also drops its weights in training (see {@link MultiHeadAttention}).
     *
     * @param width            the model width
     * @param heads            the head count, dividing {@code width}
     * @param layers           the depth of the model, which scales the output projections' initial weights
     * @param dropout          probability of the dropouts after the attention and the MLP, in {@code [0, 1)}
     * @param attentionDropout probability of dropping each attention weight in training, in {@code [0, 1)}
     * @param seed             seed of the initial weights (the block uses {@code seed} to {@code seed + 3})
     * @throws IllegalArgumentException when a count is below 1, {@code heads} does not divide
     *                                  {@code width}, or a probability is outside {@code [0, 1)}
     */
    public TransformerBlock(int width, int heads, int layers, float dropout, float attentionDropout, long seed) {
        norm1 = child("ln_1", new LayerNorm(width));
        attention = child("attn", new MultiHeadAttention(width, heads, layers, dropout, attentionDropout, seed));
        norm2 = child("ln_2", new LayerNorm(width));
        mlp = child("mlp", new Mlp(width, layers, dropout, seed + 2));
    }

    /**
     * Runs the block.
     *
     * @param x {@code [batch, time, width]}
     * @return the same shape
     */
    @Override
    public Tensor apply(Tensor x) {
        Tensor h = x.add(attention.apply(norm1.apply(x)));
        return h.add(mlp.apply(norm2.apply(h)));
    }
}
