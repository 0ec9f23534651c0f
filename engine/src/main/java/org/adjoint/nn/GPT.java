package org.adjoint.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;

/**
 * A decoder-only transformer language model in the style of GPT-2 (and nanoGPT): token and
 * position embeddings, a chain of pre-norm {@link TransformerBlock}s, a final
 * {@link LayerNorm}, and a head tied to the token embedding (the logits are
 * {@code x · wteᵀ}; the one parameter used twice gets the sum of both gradients).
 *
 * <pre>{@code
 * GPT model = new GPT(new GPT.Config(65, 64, 128, 4, 4, 0f), 42);
 * Tensor loss = model.loss(inputs, targets, batch, time);      // mean cross-entropy
 * loss.backward();
 * }</pre>
 *
 * <p>Parameter names are nanoGPT's: {@code transformer.wte.weight},
 * {@code transformer.wpe.weight}, {@code transformer.h.0.ln_1.weight}, ...,
 * {@code transformer.ln_f.weight}, {@code transformer.ln_f.bias}; the tied head is not listed
 * again ({@code lm_head.weight} in PyTorch is {@code transformer.wte.weight}). Linear weights
 * are {@code [in, out]}, the transpose of PyTorch's. The blocks are one {@link Sequential}
 * chain, so {@link #logits(int[], int, int, CheckpointPolicy, CheckpointMeter)} can run them
 * under any checkpoint policy with the same values and gradients.
 */
public final class GPT extends Composite {

    /**
     * The shape of a model.
     *
     * @param vocabulary number of token ids
     * @param context    the longest sequence (the position table's length)
     * @param width      the embedding width
     * @param layers     number of blocks
     * @param heads      attention heads, dividing {@code width}
     * @param dropout    dropout probability after the embeddings, each attention and each MLP
     * @param attentionDropout probability of dropping each attention weight in training
     *                   (nanoGPT's {@code attn_dropout}, which takes {@code dropout}); 0 keeps the
     *                   fused attention in training too
     */
    public record Config(int vocabulary, int context, int width, int layers, int heads, float dropout,
                         float attentionDropout) {

        /**
         * A configuration without attention dropout.
         *
         * @param vocabulary distinct tokens
         * @param context    the longest sequence
         * @param width      the embedding width
         * @param layers     number of blocks
         * @param heads      attention heads, dividing {@code width}
         * @param dropout    dropout probability after the embeddings, each attention and each MLP
         */
        public Config(int vocabulary, int context, int width, int layers, int heads, float dropout) {
            this(vocabulary, context, width, layers, heads, dropout, 0f);
        }

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException for a size below 1, a head count that does not
         *                                  divide the width, or a dropout outside {@code [0, 1)}
         */
        public Config {
            if (vocabulary < 1 || context < 1 || width < 1 || layers < 1 || heads < 1) {
                throw new IllegalArgumentException("GPT: vocabulary, context, width, layers and heads must be >= 1, got "
                        + vocabulary + ", " + context + ", " + width + ", " + layers + ", " + heads);
            }
            if (width % heads != 0) {
                throw new IllegalArgumentException("GPT: " + heads + " heads do not divide the width " + width
                        + " (the head count must divide the width)");
            }
            if (!(dropout >= 0f && dropout < 1f)) {
                throw new IllegalArgumentException("GPT: dropout must be in [0, 1), got " + dropout);
            }
            if (!(attentionDropout >= 0f && attentionDropout < 1f)) {
                throw new IllegalArgumentException("GPT: attention dropout must be in [0, 1), got " + attentionDropout);
            }
        }
    }

    /** The body: embeddings, blocks and final norm, named as nanoGPT's {@code transformer}. */
    private static final class Body extends Composite {
        private final Embedding tokens;
        private final Embedding positions;
        private final Dropout dropout;
        private final Sequential blocks;
        private final LayerNorm norm;

        Body(Config config, long seed) {
            tokens = child("wte", new Embedding(config.vocabulary(), config.width(), 0.02f, seed));
            positions = child("wpe", new Embedding(config.context(), config.width(), 0.02f, seed + 1));
            dropout = child("drop", new Dropout(config.dropout()));
            List<TransformerBlock> list = new ArrayList<>();
            for (int i = 0; i < config.layers(); i++) {
                list.add(new TransformerBlock(config.width(), config.heads(), config.layers(), config.dropout(),
                        config.attentionDropout(), seed + 16 + 4L * i));
            }
            blocks = child("h", new Sequential(list));
            norm = child("ln_f", new LayerNorm(config.width()));
        }

        @Override
        public Tensor apply(Tensor x) {
            throw new UnsupportedOperationException("GPT's body runs through GPT.logits");
        }
    }

    private final Config config;
    private final Body body;
    private boolean training = true;

    /**
     * Creates a model with GPT-2's initialization: weights and embeddings from
     * {@code N(0, 0.02²)}, the blocks' output projections from {@code N(0, (0.02/√(2·layers))²)},
     * biases zero, norms one and zero.
     *
     * @param config the shape
     * @param seed   seed of the initial values
     */
    public GPT(Config config, long seed) {
        this.config = config;
        this.body = child("transformer", new Body(config, seed));
    }

    /**
     * The shape of this model.
     *
     * @return the configuration
     */
    public Config config() {
        return config;
    }

    /**
     * The blocks, as the chain a checkpoint policy runs.
     *
     * @return the chain
     */
    public Sequential blocks() {
        return body.blocks;
    }

    /**
     * The token embedding, which the head shares.
     *
     * @return {@code [vocabulary, width]}
     */
    public Tensor tokenEmbedding() {
        return body.tokens.weight();
    }

    /**
     * The logits of every position, the blocks storing everything.
     *
     * @param ids   {@code batch × time} token ids, row-major
     * @param batch sequences
     * @param time  tokens per sequence, at most the context
     * @return {@code [batch, time, vocabulary]}
     */
    public Tensor logits(int[] ids, int batch, int time) {
        return logits(ids, batch, time, null, null);
    }

    /**
     * The logits of every position, the blocks under a checkpoint policy.
     *
     * @param ids    {@code batch × time} token ids, row-major, each in {@code [0, vocabulary)}
     * @param batch  sequences
     * @param time   tokens per sequence, at most the context
     * @param policy the blocks' policy, or {@code null} to run them as plain layers
     * @param meter  where the chain counts saved bytes and forward calls, or {@code null}
     * @return {@code [batch, time, vocabulary]}
     * @throws IllegalArgumentException for a sequence longer than the context, ids that are
     *                                  not {@code batch × time}, or an id out of range
     */
    public Tensor logits(int[] ids, int batch, int time, CheckpointPolicy policy, CheckpointMeter meter) {
        if (time > config.context()) {
            throw new IllegalArgumentException("GPT: a sequence of " + time + " tokens is longer than the context of "
                    + config.context() + " positions");
        }
        if (batch < 1 || time < 1 || (long) batch * time != ids.length) {
            throw new IllegalArgumentException("GPT: " + ids.length + " ids are not " + batch + " sequences of " + time
                    + " tokens");
        }
        Tensor x = body.tokens.apply(ids, batch, time).add(body.positions.weight().narrow(0, 0, time));
        // A call that fails (a checkpoint policy refused) leaves the random stream where it
        // found it, the embedding dropout's key included, so that a retry draws the same masks.
        long randomBefore = RandomState.get();
        try {
            x = body.dropout.apply(x);
            if (policy == null) {
                x = body.blocks.apply(x);
            } else {
                x = body.blocks.apply(x, policy, meter == null ? new CheckpointMeter() : meter);
            }
        } catch (RuntimeException | Error e) {
            RandomState.set(randomBefore);
            throw e;
        }
        x = body.norm.apply(x);
        return x.reshape(batch * time, config.width()).matmul(tokenEmbedding().transpose())
                .reshape(batch, time, config.vocabulary());
    }

    /**
     * The mean cross-entropy of next-token prediction, in nats per token.
     *
     * @param ids     {@code batch × time} inputs
     * @param targets the token after each input, the same length
     * @param batch   sequences
     * @param time    tokens per sequence
     * @param policy  the blocks' policy, or {@code null}
     * @param meter   where the chain counts, or {@code null}
     * @return a rank-0 tensor
     * @throws IllegalArgumentException for ids or targets that do not fit the model (the
     *                                  message names the value and its position), before any
     *                                  dropout key is drawn
     */
    public Tensor loss(int[] ids, int[] targets, int batch, int time, CheckpointPolicy policy, CheckpointMeter meter) {
        if (targets.length != ids.length) {
            throw new IllegalArgumentException("GPT: " + targets.length + " targets for " + ids.length + " ids");
        }
        // Checked before the forward pass, which draws dropout's keys and counts in the meter.
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] < 0 || targets[i] >= config.vocabulary()) {
                throw new IllegalArgumentException("GPT: target " + targets[i] + " (position " + i
                        + ") is out of range for a vocabulary of " + config.vocabulary());
            }
        }
        Tensor logits = logits(ids, batch, time, policy, meter);
        return Losses.crossEntropy(logits.reshape(batch * time, config.vocabulary()), targets);
    }

    /**
     * The mean cross-entropy with the blocks storing everything.
     *
     * @param ids     {@code batch × time} inputs
     * @param targets the token after each input
     * @param batch   sequences
     * @param time    tokens per sequence
     * @return a rank-0 tensor
     */
    public Tensor loss(int[] ids, int[] targets, int batch, int time) {
        return loss(ids, targets, batch, time, null, null);
    }

    /**
     * Logits of a tensor of token ids (whole numbers), {@code [batch, time]}.
     *
     * @param ids {@code [batch, time]} whole numbers
     * @return {@code [batch, time, vocabulary]}
     */
    @Override
    public Tensor apply(Tensor ids) {
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("GPT: the ids must be [batch, time], got " + Arrays.toString(ids.shape()));
        }
        int[] whole = Embedding.wholeIds("GPT", ids, config.vocabulary(), "a vocabulary of " + config.vocabulary());
        return logits(whole, ids.shape()[0], ids.shape()[1]);
    }

    /**
     * Continues a sequence one token at a time: each step runs the model (in evaluation mode,
     * without a tape) on the last {@code context} tokens and draws the next from the last
     * position's logits with {@link Sampling#sample}. The mode the model was in is restored.
     *
     * @param prompt      at least one token id
     * @param count       tokens to generate
     * @param temperature divides the logits, {@code > 0}
     * @param topK        draw only among the {@code topK} likeliest, or {@code 0} (or at least the
     *                    vocabulary) for all
     * @param seed        seed of the draws: the same seed gives the same tokens
     * @return the {@code count} new ids
     * @throws IllegalArgumentException for an empty prompt, a prompt id outside the vocabulary,
     *                                  a negative count, or a bad temperature or top-k
     */
    public int[] generate(int[] prompt, int count, float temperature, int topK, long seed) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("GPT.generate: the prompt needs at least one token");
        }
        if (count < 0 || count > Integer.MAX_VALUE - 8 - prompt.length) {
            throw new IllegalArgumentException("GPT.generate: count must be in [0, " + (Integer.MAX_VALUE - 8
                    - prompt.length) + "] for a prompt of " + prompt.length + " tokens, got " + count);
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= config.vocabulary()) {
                throw new IllegalArgumentException("GPT.generate: prompt token " + prompt[i] + " (position " + i
                        + ") is out of range for a vocabulary of " + config.vocabulary());
            }
        }
        Sampling.check(temperature, topK);
        boolean wasTraining = training;
        train(false);
        SplittableRandom random = new SplittableRandom(seed);
        int[] sequence = Arrays.copyOf(prompt, prompt.length + count);
        try (var _ = GradMode.noGrad()) {
            for (int n = prompt.length; n < sequence.length; n++) {
                int start = Math.max(0, n - config.context());
                int[] window = Arrays.copyOfRange(sequence, start, n);
                Tensor logits = logits(window, 1, window.length);
                float[] last = logits.narrow(1, window.length - 1, 1).toFloatArray();
                sequence[n] = Sampling.sample(last, temperature, topK, random);
            }
        } finally {
            train(wasTraining);
        }
        return Arrays.copyOfRange(sequence, prompt.length, sequence.length);
    }

    @Override
    public GPT train(boolean training) {
        super.train(training);
        this.training = training;
        return this;
    }

    @Override
    public String toString() {
        return "GPT(vocabulary=" + config.vocabulary() + ", context=" + config.context() + ", width=" + config.width()
                + ", layers=" + config.layers() + ", heads=" + config.heads() + ", dropout=" + config.dropout()
                + (config.attentionDropout() > 0f ? ", attentionDropout=" + config.attentionDropout() : "") + ")";
    }
}
