package org.adjoint.kernels.cuda;

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
 * The attention device kernels ({@code attention_forward}, {@code attention_backward_query},
 * {@code attention_backward_key}) on the emulator against the scalar CPU kernels.
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
        // {batch, t, s, d, dv}: tiles of queries and keys with partial last tiles, one row, more keys than queries.
        int[][] shapes = {{1, 1, 1, 1, 1}, {2, 5, 3, 4, 2}, {2, 40, 37, 5, 3}, {1, 3, 70, 8, 8}};
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
                for (int[] launch : new int[][] {{1, 1}, {3, 32}, {2, 64}}) {
                    String where = what + " launch " + Arrays.toString(launch);
                    List<float[]> forward = EMULATOR.launch("attention_forward", launch[0], launch[1], q, k, v,
                            new float[out.length], new float[lse.length], batch, t, s, d, dv, causal, scale);
                    assertNear(out, forward.get(3), 1e-5, where + " output");
                    assertNear(lse, forward.get(4), 1e-5, where + " log-sum-exp");
                    List<float[]> query = EMULATOR.launch("attention_backward_query", launch[0], launch[1], q, k, v,
                            out, lse, dOut, new float[dq.length], new float[batch * t], batch, t, s, d, dv, causal,
                            scale);
                    assertNear(dq, query.get(6), 1e-5, where + " dq");
                    List<float[]> key = EMULATOR.launch("attention_backward_key", launch[0], launch[1], q, k, v, lse,
                            dOut, query.get(7), new float[dk.length], new float[dv2.length], batch, t, s, d, dv,
                            causal, scale);
                    assertNear(dk, key.get(6), 1e-5, where + " dk");
                    assertNear(dv2, key.get(7), 1e-5, where + " dv");
                }
            }
        }
    }
}
