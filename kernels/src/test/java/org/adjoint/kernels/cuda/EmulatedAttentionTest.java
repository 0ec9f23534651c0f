package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.adjoint.kernels.KernelProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The attention device kernels ({@code attention_forward_W}, {@code attention_backward_query_W},
 * {@code attention_backward_key_W} for the widest rows W = 32, 64, 128, with one, two or four
 * lanes to a row) on the emulator against the scalar CPU kernels.
 */
class EmulatedAttentionTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    /** Absolute and relative slack for attention: the device adds a tile's terms in another order than the CPU. */
    private static void assertNear(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            assertTrue(Math.abs(expected[k] - actual[k]) <= tolerance * Math.max(1, Math.abs(expected[k])),
                    what + ", element " + k + ": expected " + expected[k] + " but was " + actual[k]);
        }
    }

    @Test
    void attentionKernelsMatchTheCpuKernels() throws IOException {
        KernelProvider cpu = KernelProvider.named("scalar");
        // {batch, t, s, d, dv}: tiles of queries and keys with partial last tiles, one row, more keys than
        // queries, rows that need two lanes (33..64 columns) and four (65..128).
        int[][] shapes = {{1, 1, 1, 1, 1}, {2, 5, 3, 4, 2}, {2, 40, 37, 5, 3}, {1, 3, 70, 8, 8}, {2, 9, 11, 40, 33},
            {1, 6, 35, 100, 70}, {1, 4, 5, 128, 128}};
        long seed = 40;
        for (int[] shape : shapes) {
            int batch = shape[0], t = shape[1], s = shape[2], d = shape[3], dv = shape[4];
            for (int causal = 0; causal < 2; causal++) {
                float[] q = random(batch * t * d, seed++, -2, 2);
                float[] k = random(batch * s * d, seed++, -2, 2);
                float[] v = random(batch * s * dv, seed++, -2, 2);
                float[] dOut = random(batch * t * dv, seed++, -2, 2);
                float scale = (float) (1 / Math.sqrt(d));
                float[] out = new float[batch * t * dv];
                float[] lse = new float[batch * t];
                cpu.attention(q, k, v, batch, t, s, d, dv, causal == 1, scale, out, lse);
                float[] grads = new float[batch * (t * d + s * d + s * dv)];
                cpu.attentionGrad(q, k, v, out, lse, dOut, batch, t, s, d, dv, causal == 1, scale, grads);
                float[] dq = Arrays.copyOfRange(grads, 0, batch * t * d);
                float[] dk = Arrays.copyOfRange(grads, batch * t * d, batch * (t * d + s * d));
                float[] dv2 = Arrays.copyOfRange(grads, batch * (t * d + s * d), grads.length);
                String what = "attention " + Arrays.toString(shape) + (causal == 1 ? " causal" : "");
                for (int lanes : new int[] {1, 2, 4}) {
                    if (Math.max(d, dv) > 32 * lanes) {
                        continue;
                    }
                    String suffix = "_" + 32 * lanes;
                    for (int[] launch : new int[][] {{1, lanes}, {3, 32 * lanes}, {2, 64 * lanes}}) {
                        String where = what + " attention" + suffix + " launch " + Arrays.toString(launch);
                        List<float[]> forward = EMULATOR.launch("attention_forward" + suffix, launch[0], launch[1], q,
                                k, v, new float[out.length], new float[lse.length], batch, t, s, d, dv, causal, scale,
                                packed(t, s, d, dv));
                        assertNear(out, forward.get(3), 1e-5, where + " output");
                        assertNear(lse, forward.get(4), 1e-5, where + " log-sum-exp");
                        List<float[]> query = EMULATOR.launch("attention_backward_query" + suffix, launch[0],
                                launch[1], q, k, v, out, lse, dOut, new float[dq.length], new float[batch * t], batch,
                                t, s, d, dv, causal, scale, packed(t, s, d, dv));
                        assertNear(dq, query.get(6), 1e-5, where + " dq");
                        List<float[]> key = EMULATOR.launch("attention_backward_key" + suffix, launch[0], launch[1],
                                q, k, v, lse, dOut, query.get(7), new float[dk.length], new float[dv2.length], batch, t,
                                s, d, dv, causal, scale, packed(t, s, d, dv));
                        assertNear(dk, key.get(6), 1e-5, where + " dk");
                        assertNear(dv2, key.get(7), 1e-5, where + " dv");
                    }
                }
            }
        }
    }

    @Test
    void aKeyTileWithNoVisibleKeySkipsAsTheCpuSkipsItsBlock() throws IOException {
        // The first 32 keys (one device tile) have -inf in column 0 and every query +1 there, so each of
        // their scores is -inf; the last 8 keys are finite. The CPU skips a block without a visible key;
        // the device rescaled by exp(-inf - -inf) and so made every row NaN.
        int batch = 1, t = 3, s = 40, d = 4, dv = 3;
        float[] q = random(batch * t * d, 71, -2, 2);
        float[] k = random(batch * s * d, 72, -2, 2);
        float[] v = random(batch * s * dv, 73, -2, 2);
        for (int i = 0; i < t; i++) {
            q[i * d] = 1f;
        }
        for (int j = 0; j < 32; j++) {
            k[j * d] = Float.NEGATIVE_INFINITY;
        }
        float scale = 0.5f;
        float[] out = new float[batch * t * dv];
        float[] lse = new float[batch * t];
        KernelProvider.named("scalar").attention(q, k, v, batch, t, s, d, dv, false, scale, out, lse);
        for (float value : out) {
            assertTrue(Float.isFinite(value), "the CPU's output is finite: " + Arrays.toString(out));
        }
        for (int lanes : new int[] {1, 2, 4}) {
            String suffix = "_" + 32 * lanes;
            List<float[]> forward = EMULATOR.launch("attention_forward" + suffix, 1, 32 * lanes, q, k, v,
                    new float[out.length], new float[lse.length], batch, t, s, d, dv, 0, scale, packed(t, s, d, dv));
            assertNear(out, forward.get(3), 1e-5, "attention_forward" + suffix + " output");
            assertNear(lse, forward.get(4), 1e-5, "attention_forward" + suffix + " log-sum-exp");
        }
    }

    /** Every operand packed {@code [batch, rows, width]}. */
    private static HostEmulator.Bytes packed(int t, int s, int d, int dv) {
        AttentionLayout layout = new AttentionLayout(1).packed(AttentionLayout.Q, t, d).packed(AttentionLayout.K, s, d)
                .packed(AttentionLayout.V, s, dv).packed(AttentionLayout.OUT, t, dv).packed(AttentionLayout.D_OUT, t, dv)
                .packed(AttentionLayout.DQ, t, d).packed(AttentionLayout.DK, s, d).packed(AttentionLayout.DV, s, dv);
        return new HostEmulator.Bytes(layout.encode());
    }

    /** Packed {@code [batch·heads, time, width]} items laid out as a {@code [batch, time, heads, width]} tensor. */
    private static float[] interleave(float[] packed, int batch, int heads, int time, int width) {
        float[] out = new float[packed.length];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int r = 0; r < time; r++) {
                    System.arraycopy(packed, ((b * heads + h) * time + r) * width, out,
                            ((b * time + r) * heads + h) * width, width);
                }
            }
        }
        return out;
    }

    @Test
    void attentionKernelsReadAndWriteHeadsWhereTheyLie() throws IOException {
        int batch = 2, heads = 3, t = 37, d = 5, dv = 4;
        int items = batch * heads;
        float[] q = random(items * t * d, 90, -2, 2);
        float[] k = random(items * t * d, 91, -2, 2);
        float[] v = random(items * t * dv, 92, -2, 2);
        float[] dOut = random(items * t * dv, 93, -2, 2);
        float scale = 0.4f;
        AttentionLayout interleaved = new AttentionLayout(heads);
        for (int[] operand : new int[][] {{AttentionLayout.Q, d}, {AttentionLayout.K, d}, {AttentionLayout.V, dv},
            {AttentionLayout.OUT, dv}, {AttentionLayout.D_OUT, dv}, {AttentionLayout.DQ, d}, {AttentionLayout.DK, d},
            {AttentionLayout.DV, dv}}) {
            int width = operand[1];
            interleaved.operand(operand[0], (long) t * heads * width, width, (long) heads * width);
        }
        HostEmulator.Bytes inPlace = new HostEmulator.Bytes(interleaved.encode());
        HostEmulator.Bytes packed = packed(t, t, d, dv);
        for (int lanes : new int[] {1, 4}) {
            String suffix = "_" + 32 * lanes;
            String forwardKernel = "attention_forward" + suffix;
            String queryKernel = "attention_backward_query" + suffix;
            String keyKernel = "attention_backward_key" + suffix;
            for (int causal = 0; causal < 2; causal++) {
                List<float[]> forward = EMULATOR.launch(forwardKernel, 3, 32 * lanes, q, k, v,
                        new float[items * t * dv], new float[items * t], items, t, t, d, dv, causal, scale, packed);
                float[] nan = new float[items * t * dv];
                Arrays.fill(nan, Float.NaN);
                List<float[]> forwardInPlace = EMULATOR.launch(forwardKernel, 3, 32 * lanes,
                        interleave(q, batch, heads, t, d), interleave(k, batch, heads, t, d),
                        interleave(v, batch, heads, t, dv), nan, new float[items * t], items, t, t, d, dv, causal, scale,
                        inPlace);
                String what = (causal == 1 ? "causal" : "full") + suffix;
                assertBits(interleave(forward.get(3), batch, heads, t, dv), forwardInPlace.get(3), what + " output");
                assertBits(forward.get(4), forwardInPlace.get(4), what + " log-sum-exp");
                float[] out = forward.get(3);
                float[] lse = forward.get(4);
                List<float[]> query = EMULATOR.launch(queryKernel, 2, 64 * lanes, q, k, v, out, lse, dOut,
                        new float[items * t * d], new float[items * t], items, t, t, d, dv, causal, scale, packed);
                List<float[]> queryInPlace = EMULATOR.launch(queryKernel, 2, 64 * lanes,
                        interleave(q, batch, heads, t, d), interleave(k, batch, heads, t, d),
                        interleave(v, batch, heads, t, dv), interleave(out, batch, heads, t, dv), lse,
                        interleave(dOut, batch, heads, t, dv), new float[items * t * d], new float[items * t], items,
                        t, t, d, dv, causal, scale, inPlace);
                assertBits(interleave(query.get(6), batch, heads, t, d), queryInPlace.get(6), what + " dq");
                assertBits(query.get(7), queryInPlace.get(7), what + " row dot products");
                List<float[]> key = EMULATOR.launch(keyKernel, 2, 64 * lanes, q, k, v, lse, dOut, query.get(7),
                        new float[items * t * d], new float[items * t * dv], items, t, t, d, dv, causal, scale, packed);
                List<float[]> keyInPlace = EMULATOR.launch(keyKernel, 2, 64 * lanes,
                        interleave(q, batch, heads, t, d), interleave(k, batch, heads, t, d),
                        interleave(v, batch, heads, t, dv), lse, interleave(dOut, batch, heads, t, dv), query.get(7),
                        new float[items * t * d], new float[items * t * dv], items, t, t, d, dv, causal, scale,
                        inPlace);
                assertBits(interleave(key.get(6), batch, heads, t, d), keyInPlace.get(6), what + " dk");
                assertBits(interleave(key.get(7), batch, heads, t, dv), keyInPlace.get(7), what + " dv");
            }
        }
    }
}
