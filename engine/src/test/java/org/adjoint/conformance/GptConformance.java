package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Embedding;
import org.adjoint.nn.GPT;
import org.adjoint.nn.MultiHeadAttention;
import org.adjoint.nn.RandomState;
import org.adjoint.nn.Sampling;
import org.adjoint.nn.TransformerBlock;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.GradientClipping;
import org.adjoint.optim.ParameterGroup;
import org.junit.jupiter.api.Test;

/**
 * The transformer modules: a tiny {@link GPT}'s logits, loss and every gradient against
 * PyTorch 1.13 (see {@code reference/gpt_reference.py}, which builds {@code bench/peers/gpt.py}'s
 * model), the tied embedding's gradient as the sum of its two uses, nanoGPT's parameter names,
 * training steps under every checkpoint policy equal to storing everything to the bit,
 * sampling, and the errors.
 */
public abstract class GptConformance extends BackendConformance {

    private static final String REFERENCE = "/org/adjoint/conformance/reference/gpt_reference.safetensors";
    private static final GPT.Config TINY = new GPT.Config(11, 8, 16, 2, 4, 0f);

    private static Map<String, Tensor> reference() {
        return ReferenceFiles.load(REFERENCE);
    }

    /** PyTorch's linear weights are {@code [out, in]}, ours {@code [in, out]}. */
    private static boolean linearWeight(String name) {
        return name.endsWith("c_attn.weight") || name.endsWith("c_proj.weight") || name.endsWith("c_fc.weight");
    }

    private static Tensor ours(String name, Tensor pytorch) {
        return linearWeight(name) ? Tensor.of(pytorch.transpose().toFloatArray(), pytorch.shape()[1],
                pytorch.shape()[0]) : pytorch;
    }

    private static int[] ints(Tensor t) {
        float[] values = t.toFloatArray();
        int[] ids = new int[values.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) values[i];
        }
        return ids;
    }

    private static GPT loadedTinyModel(Map<String, Tensor> ref) {
        GPT model = new GPT(TINY, 3);
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (String name : model.namedParameters().keySet()) {
            state.put(name, ours(name, ref.get(name)));
        }
        model.loadStateDict(state);
        return model;
    }

    private static void assertNear(String what, Tensor expected, Tensor actual, double tolerance) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= tolerance * (1 + Math.abs(e[i])))) {
                fail(what + ": element " + i + " expected " + e[i] + " but was " + a[i] + " (tolerance " + tolerance + ")");
            }
        }
    }

    @Test
    void parametersCarryNanoGptNames() {
        GPT model = new GPT(TINY, 1);
        List<String> names = new ArrayList<>(model.namedParameters().keySet());
        assertEquals(List.of("transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                "transformer.h.0.ln_1.bias", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias",
                "transformer.h.0.attn.c_proj.weight", "transformer.h.0.attn.c_proj.bias", "transformer.h.0.ln_2.weight",
                "transformer.h.0.ln_2.bias", "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_fc.bias",
                "transformer.h.0.mlp.c_proj.weight", "transformer.h.0.mlp.c_proj.bias"), names.subList(0, 14));
        assertEquals(List.of("transformer.ln_f.weight", "transformer.ln_f.bias"), names.subList(26, 28));
        assertEquals(28, names.size());
        assertArrayEquals(new int[] {16, 48}, model.namedParameters().get("transformer.h.1.attn.c_attn.weight").shape());
        // nanoGPT's baby Shakespeare model: 0.81 M parameters, the tied head counted once.
        assertEquals(809_856, new GPT(new GPT.Config(65, 64, 128, 4, 4, 0f), 1).parameterCount());
    }

    @Test
    void logitsLossAndEveryGradientMatchPyTorch() {
        Map<String, Tensor> ref = reference();
        GPT model = loadedTinyModel(ref);
        int[] ids = ints(ref.get("ids"));
        int[] targets = ints(ref.get("targets"));
        assertNear("logits", ref.get("logits"), model.logits(ids, 3, 6), 1e-4);
        Tensor loss = model.loss(ids, targets, 3, 6);
        assertEquals(ref.get("loss").item(), loss.item(), 1e-5);
        loss.backward();
        for (Map.Entry<String, Tensor> p : model.namedParameters().entrySet()) {
            assertNear("gradient of " + p.getKey(), ours(p.getKey(), ref.get("grad." + p.getKey())), p.getValue().grad(),
                    2e-4);
        }
    }

    @Test
    void theTiedEmbeddingGetsTheSumOfBothGradients() {
        Map<String, Tensor> ref = reference();
        GPT model = loadedTinyModel(ref);
        model.loss(ints(ref.get("ids")), ints(ref.get("targets")), 3, 6).backward();
        Tensor sum = ref.get("grad.wte.lookup").add(ref.get("grad.wte.head"));
        assertNear("lookup + head", sum, model.tokenEmbedding().grad(), 2e-4);
        // Both parts matter: the gradient is neither part alone.
        float[] ours = model.tokenEmbedding().grad().toFloatArray();
        float[] lookup = ref.get("grad.wte.lookup").toFloatArray();
        float[] head = ref.get("grad.wte.head").toFloatArray();
        double offLookup = 0;
        double offHead = 0;
        for (int i = 0; i < ours.length; i++) {
            offLookup = Math.max(offLookup, Math.abs(ours[i] - lookup[i]));
            offHead = Math.max(offHead, Math.abs(ours[i] - head[i]));
        }
        assertTrue(offLookup > 1e-3 && offHead > 1e-3, "lookup " + offLookup + ", head " + offHead);
    }

    /** Three AdamW steps with clipping and dropout; the losses and the final parameters. */
    private static List<float[]> train(CheckpointPolicy policy, CheckpointMeter meter) {
        return train(policy, meter, 0f);
    }

    /** {@link #train(CheckpointPolicy, CheckpointMeter)} with the attention weights dropped too. */
    private static List<float[]> train(CheckpointPolicy policy, CheckpointMeter meter, float attentionDropout) {
        GPT model = new GPT(new GPT.Config(11, 8, 16, 4, 2, 0.1f, attentionDropout), 5);
        AdamW adamw = AdamW.grouped(ParameterGroup.byRank(model.parameters(), 0.1f), 1e-2f);
        RandomState.set(9);
        SplittableRandom random = new SplittableRandom(4);
        List<float[]> out = new ArrayList<>();
        float[] losses = new float[3];
        for (int step = 0; step < 3; step++) {
            int[] ids = random.ints(2 * 8, 0, 11).toArray();
            int[] targets = random.ints(2 * 8, 0, 11).toArray();
            adamw.zeroGrad();
            Tensor loss = model.loss(ids, targets, 2, 8, policy, meter);
            loss.backward();
            GradientClipping.clipGradNorm(adamw.parameters(), 0.5f);
            adamw.step();
            losses[step] = loss.item();
        }
        out.add(losses);
        for (Tensor p : model.parameters()) {
            out.add(p.toFloatArray());
        }
        return out;
    }

    @Test
    void everyCheckpointPolicyTrainsToTheSameBits() {
        CheckpointMeter storeAllMeter = new CheckpointMeter();
        List<float[]> storeAll = train(CheckpointPolicy.none(), storeAllMeter);
        List<float[]> plain = train(null, null);
        for (int i = 0; i < storeAll.size(); i++) {
            assertArrayEquals(storeAll.get(i), plain.get(i), "entry " + i + " without the chain node");
        }
        for (CheckpointPolicy policy : List.of(CheckpointPolicy.sqrt(), CheckpointPolicy.everyK(1),
                CheckpointPolicy.binomial(1), CheckpointPolicy.parse("every:3"))) {
            CheckpointMeter meter = new CheckpointMeter();
            List<float[]> run = train(policy, meter);
            for (int i = 0; i < storeAll.size(); i++) {
                assertArrayEquals(storeAll.get(i), run.get(i), policy + ": entry " + i + " (0: the losses)");
            }
            if (!policy.toString().equals("every:1")) {
                assertTrue(meter.peakSavedBytes() < storeAllMeter.peakSavedBytes(),
                        policy + ": " + meter.peakSavedBytes() + " bytes, store-all " + storeAllMeter.peakSavedBytes());
            }
        }
    }

    @Test
    void attentionDropoutReplaysItsMasksUnderEveryCheckpointPolicy() {
        List<float[]> storeAll = train(CheckpointPolicy.none(), new CheckpointMeter(), 0.2f);
        assertTrue(storeAll.get(0)[0] != train(CheckpointPolicy.none(), new CheckpointMeter(), 0f).get(0)[0],
                "the weights' dropout changes the first loss");
        for (CheckpointPolicy policy : List.of(CheckpointPolicy.sqrt(), CheckpointPolicy.everyK(1))) {
            List<float[]> run = train(policy, new CheckpointMeter(), 0.2f);
            for (int i = 0; i < storeAll.size(); i++) {
                assertArrayEquals(storeAll.get(i), run.get(i), policy + ": entry " + i + " (0: the losses)");
            }
        }
    }

    @Test
    void dropoutKeepsNoMaskForTheBackwardPass() {
        int[] ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5};
        long[] saved = new long[2];
        float[] dropouts = {0f, 0.3f};
        for (int k = 0; k < 2; k++) {
            GPT model = new GPT(new GPT.Config(11, 8, 16, 2, 2, dropouts[k]), 5);
            CheckpointMeter meter = new CheckpointMeter();
            model.loss(ids, ids, 2, 8, CheckpointPolicy.none(), meter).backward();
            saved[k] = meter.peakSavedBytes();
        }
        // The masks are drawn again from their keys: dropout saves nothing beyond what the layers do.
        assertEquals(saved[0], saved[1], "peak saved bytes without and with dropout");
    }

    @Test
    void attentionDropoutDropsTheWeightsInTrainingOnly() {
        int batch = 2;
        int time = 5;
        int width = 8;
        MultiHeadAttention dropping = new MultiHeadAttention(width, 2, 1, 0f, 0.5f, 3);
        MultiHeadAttention plain = new MultiHeadAttention(width, 2, 1, 0f, 3);
        Tensor x = Tensor.randn(11, batch, time, width);
        // Evaluation: the fused attention on both, the same bits.
        dropping.train(false);
        plain.train(false);
        assertArrayEquals(plain.apply(x).toFloatArray(), dropping.apply(x).toFloatArray(), "evaluation");
        dropping.train(true);
        plain.train(true);
        // Training: the composition with the weights dropped, by the same key as a Dropout of 0.5.
        RandomState.set(7);
        Tensor actual = dropping.apply(x);
        RandomState.set(7);
        Map<String, Tensor> p = dropping.namedParameters();
        Tensor qkv = x.reshape(batch * time, width).matmul(p.get("c_attn.weight")).add(p.get("c_attn.bias"))
                .reshape(batch, time, 3 * width);
        Tensor[] heads = new Tensor[3];
        for (int part = 0; part < 3; part++) {
            heads[part] = qkv.narrow(-1, part * width, width).reshape(batch, time, 2, 4).transpose(1, 2);
        }
        float[] future = new float[time * time];
        for (int i = 0; i < time; i++) {
            for (int j = i + 1; j < time; j++) {
                future[i * time + j] = 1f;
            }
        }
        Tensor weights = heads[0].matmul(heads[1].transpose(-2, -1)).mul(0.5f)
                .maskedFill(Tensor.of(future, time, time), Float.NEGATIVE_INFINITY).softmax(-1);
        Tensor y = new org.adjoint.nn.Dropout(0.5f).apply(weights).matmul(heads[2]).transpose(1, 2)
                .reshape(batch * time, width);
        Tensor expected = y.matmul(p.get("c_proj.weight")).add(p.get("c_proj.bias")).reshape(batch, time, width);
        assertNear("training output", expected, actual, 1e-5);
        float[] undropped = plain.apply(x).toFloatArray();
        assertTrue(!java.util.Arrays.equals(undropped, actual.toFloatArray()), "the weights were dropped");
        // The same state draws the same masks; the gradient reaches every parameter.
        RandomState.set(7);
        Tensor again = dropping.apply(x);
        assertArrayEquals(actual.toFloatArray(), again.toFloatArray(), "the same key, the same output");
        again.sum().backward();
        for (Map.Entry<String, Tensor> parameter : p.entrySet()) {
            assertTrue(parameter.getValue().grad() != null, parameter.getKey() + " has a gradient");
        }
        assertEquals("GPT: attention dropout must be in [0, 1), got 1.0", assertThrows(IllegalArgumentException.class,
                () -> new GPT.Config(11, 8, 16, 2, 4, 0f, 1f)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(8, 2, 1, 0f, -0.1f, 3));
    }

    @Test
    void generationIsReproducibleForASeed() {
        GPT model = new GPT(TINY, 2);
        int[] prompt = {1, 2, 3};
        int[] first = model.generate(prompt, 20, 1f, 0, 7);
        assertArrayEquals(first, model.generate(prompt, 20, 1f, 0, 7));
        assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(model.generate(prompt, 20, 1f, 0, 8)));
        assertEquals(20, first.length);
        for (int id : first) {
            assertTrue(id >= 0 && id < 11, "id " + id);
        }
        // Longer than the context: the model sees the last 8 tokens only, and goes on.
        assertEquals(30, model.generate(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 30, 0.8f, 3, 1).length);
    }

    @Test
    void samplingHonoursTemperatureAndTopK() {
        float[] logits = {0f, 3f, 1f, 2.9f};
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < 50; i++) {
            assertEquals(1, Sampling.sample(logits, 1f, 1, random), "top-1 is the argmax");
            int two = Sampling.sample(logits, 5f, 2, random);
            assertTrue(two == 1 || two == 3, "top-2 drew " + two);
        }
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) {
            counts[Sampling.sample(logits, 0.05f, 0, random)]++;
        }
        assertTrue(counts[1] > 3500, "a low temperature is nearly greedy: " + java.util.Arrays.toString(counts));
        assertEquals("Sampling: temperature must be finite and > 0, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> Sampling.sample(logits, 0f, 0, random)).getMessage());
        assertEquals("Sampling: top-k must be >= 0 (0 for all tokens), got -1",
                assertThrows(IllegalArgumentException.class, () -> Sampling.sample(logits, 1f, -1, random)).getMessage());
        // A NaN compares false with every threshold: it must stop the draw, with or without top-k.
        float[] broken = {0f, Float.NaN, 1f};
        assertEquals("Sampling: logit 1 of 3 is NaN",
                assertThrows(IllegalArgumentException.class, () -> Sampling.sample(broken, 1f, 0, random)).getMessage());
        assertEquals("Sampling: logit 1 of 3 is NaN",
                assertThrows(IllegalArgumentException.class, () -> Sampling.sample(broken, 1f, 2, random)).getMessage());
        // Refused before the draw: the generator is where it was.
        SplittableRandom untouched = new SplittableRandom(11);
        assertEquals("Sampling: logit 2 of 3 is Infinity", assertThrows(IllegalArgumentException.class,
                () -> Sampling.sample(new float[] {0f, 1f, Float.POSITIVE_INFINITY}, 1f, 0, untouched)).getMessage());
        float inf = Float.NEGATIVE_INFINITY;
        assertEquals("Sampling: all 2 logits are -Infinity: nothing can be drawn", assertThrows(
                IllegalArgumentException.class, () -> Sampling.sample(new float[] {inf, inf}, 1f, 1, untouched))
                .getMessage());
        assertEquals(new SplittableRandom(11).nextLong(), untouched.nextLong(), "no draw was taken");
        // A k of at least the logits' count means all of them, as nanoGPT's min(top_k, vocabulary).
        assertEquals(Sampling.sample(logits, 1f, 0, new SplittableRandom(5)),
                Sampling.sample(logits, 1f, 9, new SplittableRandom(5)));
    }

    /** Two sequences of three tokens for {@link #droppingModel()}, and the token after each. */
    private static final int[] IDS = {1, 2, 3, 4, 5, 6};
    private static final int[] TARGETS = {2, 3, 4, 5, 6, 7};

    /** A two-block model with dropout 0.5, in training mode. */
    private static GPT droppingModel() {
        GPT model = new GPT(new GPT.Config(11, 8, 16, 2, 4, 0.5f), 3);
        model.train(true);
        return model;
    }

    /** The loss of a first call from random state 9; the stream is then set back to 9. */
    private static float firstLoss(GPT model) {
        RandomState.set(9);
        float loss = model.loss(IDS, TARGETS, 2, 3).item();
        RandomState.set(9);
        return loss;
    }

    @Test
    void aTargetOutOfRangeIsRefusedBeforeAnyDropoutKeyIsDrawn() {
        GPT model = droppingModel();
        int[] ids = IDS;
        int[] targets = TARGETS;
        float expected = firstLoss(model);
        var error = assertThrows(IllegalArgumentException.class,
                () -> model.loss(ids, new int[] {2, 3, 4, 11, 6, 7}, 2, 3));
        assertEquals("GPT: target 11 (position 3) is out of range for a vocabulary of 11", error.getMessage());
        assertEquals(expected, model.loss(ids, targets, 2, 3).item(), "the refused call drew no dropout key");
        assertThrows(IllegalArgumentException.class, () -> model.generate(new int[] {1}, Integer.MAX_VALUE, 1f, 0, 1));
    }

    @Test
    void aRefusedCheckpointPlanLeavesTheRandomStreamWhereItWas() {
        // The embedding dropout draws its key before the blocks' chain refuses the budget.
        GPT model = droppingModel();
        float expected = firstLoss(model);
        assertThrows(IllegalArgumentException.class,
                () -> model.loss(IDS, TARGETS, 2, 3, CheckpointPolicy.memoryBudget(1), null));
        assertEquals(9, RandomState.get(), "the random stream");
        assertEquals(expected, model.loss(IDS, TARGETS, 2, 3, CheckpointPolicy.memoryBudget(1L << 30), null).item(),
                "the retry draws the masks a first call draws");
    }

    @Test
    void badShapesAndIdsAreRejectedClearly() {
        assertEquals("GPT: 3 heads do not divide the width 16 (the head count must divide the width)",
                assertThrows(IllegalArgumentException.class, () -> new GPT.Config(11, 8, 16, 2, 3, 0f)).getMessage());
        assertEquals("MultiHeadAttention: 5 heads do not divide the width 12 (the head count must divide the width)",
                assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(12, 5, 1, 0f, 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TransformerBlock(10, 4, 1, 0f, 1));
        assertEquals("MultiHeadAttention: width, heads and layers must be at least 1, got 8, 2 and 0",
                assertThrows(IllegalArgumentException.class, () -> new TransformerBlock(8, 2, 0, 0f, 1)).getMessage());
        assertEquals("Embedding: the standard deviation must be finite and >= 0, got NaN",
                assertThrows(IllegalArgumentException.class, () -> new Embedding(4, 2, Float.NaN, 1)).getMessage());
        GPT model = new GPT(TINY, 1);
        assertEquals("GPT: a sequence of 9 tokens is longer than the context of 8 positions",
                assertThrows(IllegalArgumentException.class, () -> model.logits(new int[9], 1, 9)).getMessage());
        assertEquals("Embedding: id 11 at position 4 is out of range for a table of 11 entries [0, 11)",
                assertThrows(IllegalArgumentException.class,
                        () -> model.logits(new int[] {0, 1, 2, 3, 11, 5}, 2, 3)).getMessage());
        assertEquals("Embedding: id -1 at position 0 is out of range for a table of 4 entries [0, 4)",
                assertThrows(IllegalArgumentException.class,
                        () -> new Embedding(4, 2, 1f, 1).apply(new int[] {-1})).getMessage());
        // Float ids: a whole number beyond the table is out of range (a cast would have clamped it).
        assertEquals("Embedding: id 3000000000 at position 1 is out of range for a table of 4 entries [0, 4)",
                assertThrows(IllegalArgumentException.class,
                        () -> new Embedding(4, 2, 1f, 1).apply(Tensor.of(new float[] {1f, 3e9f}))).getMessage());
        assertEquals("Embedding: id 1.5 at position 0 is not a whole number", assertThrows(IllegalArgumentException.class,
                () -> new Embedding(4, 2, 1f, 1).apply(Tensor.of(new float[] {1.5f}))).getMessage());
        assertEquals("GPT: id 11 at position 2 is out of range for a vocabulary of 11 [0, 11)",
                assertThrows(IllegalArgumentException.class,
                        () -> model.apply(Tensor.of(new float[] {0, 1, 11, 3}, 2, 2))).getMessage());
        assertEquals("MultiHeadAttention: attentionDropout must be in [0, 1), got 1.5",
                assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(8, 2, 1, 0.1f, 1.5f, 0))
                        .getMessage());
        assertEquals("GPT: 5 ids are not 2 sequences of 3 tokens",
                assertThrows(IllegalArgumentException.class, () -> model.logits(new int[5], 2, 3)).getMessage());
    }

    @Test
    void anEmbeddingLooksUpRowsAndAddsRepeatedGradients() {
        Embedding table = new Embedding(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2).requiresGrad(true));
        Tensor rows = table.apply(new int[] {2, 0, 2, 1}, 2, 2);
        assertTensor(rows, shape(2, 2, 2), 5, 6, 1, 2, 5, 6, 3, 4);
        rows.sum().backward();
        assertTensor(table.weight().grad(), shape(3, 2), 1, 1, 1, 1, 2, 2);
        assertTensor(table.apply(Tensor.of(new float[] {1, 1})), shape(2, 2), 3, 4, 3, 4);
    }
}
