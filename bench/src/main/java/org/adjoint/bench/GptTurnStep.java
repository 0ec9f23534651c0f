package org.adjoint.bench;

import java.util.SplittableRandom;
import java.util.function.LongSupplier;

import org.adjoint.Tensor;
import org.adjoint.nn.GPT;
import org.adjoint.nn.RandomState;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.GradientClipping;
import org.adjoint.optim.ParameterGroup;

/**
 * One training iteration of the GPT at {@code ./adjoint lm}'s defaults (4 layers, 4 heads,
 * width 128, context 64, batch 12, AdamW at 1e-3 with decay 0.1 on matrices, clipping at 1),
 * on random tokens of a 65-letter alphabet, for {@link GptTurns}: each of its class loaders
 * loads its own copy of this class, so it runs on that loader's Adjoint. Only the public API
 * ({@code ../shared/API.md}), so it runs on older builds too. {@link #getAsLong} returns the
 * loss's bits, which two builds that compute alike give alike.
 */
public final class GptTurnStep implements LongSupplier {

    private static final int VOCABULARY = 65;
    private static final int BATCH = 12;
    private static final int CONTEXT = 64;

    private final GPT model;
    private final AdamW optimizer;
    private final SplittableRandom tokens = new SplittableRandom(7);

    /** The model and optimizer, from seed 42 as {@code ./adjoint lm} makes them. */
    public GptTurnStep() {
        RandomState.set(42);
        model = new GPT(new GPT.Config(VOCABULARY, CONTEXT, 128, 4, 4, 0f, 0f), 42);
        optimizer = AdamW.grouped(ParameterGroup.byRank(model.parameters(), 0.1f), 1e-3f, 0.9f, 0.99f, 1e-8f);
    }

    /**
     * One iteration on a fresh batch (each target a fixed function of its input token).
     *
     * @return the raw bits of the batch's loss
     */
    @Override
    public long getAsLong() {
        int[] ids = new int[BATCH * CONTEXT];
        int[] targets = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokens.nextInt(VOCABULARY);
            targets[i] = (ids[i] * 7 + 3) % VOCABULARY;
        }
        optimizer.zeroGrad();
        model.train(true);
        Tensor loss = model.loss(ids, targets, BATCH, CONTEXT);
        loss.backward();
        GradientClipping.clipGradNormTensor(optimizer.parameters(), 1f);
        optimizer.step();
        return Float.floatToRawIntBits(loss.item());
    }
}
