package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RandomDrawsTest {

    @Test
    void theBitsAreSplitMix64() {
        // SplitMix64 seeded with 0 gives these first two outputs (Vigna's reference generator).
        assertEquals(0xE220A8397B1DCDAFL, RandomDraws.bits(0, 0));
        assertEquals(0x6E789E6AA1B965F4L, RandomDraws.bits(0, 1));
    }

    @Test
    void aMaskSplitAcrossThreadsIsTheMaskDrawnInOrder() {
        int n = 20 * RandomDraws.MIN_PARALLEL + 13;
        long key = 0x5DEECE66DL;
        float p = 0.3f;
        float[] mask = new float[n + 5];
        mask[n] = 42f;
        RandomDraws.dropoutMask(key, p, mask, n);
        float keep = 1f / (1f - p);
        int zeros = 0;
        for (int i = 0; i < n; i++) {
            float expected = (RandomDraws.bits(key, i) >>> 40) * 0x1.0p-24f < p ? 0f : keep;
            assertEquals(expected, mask[i], "element " + i);
            zeros += mask[i] == 0f ? 1 : 0;
        }
        assertEquals(42f, mask[n], "nothing past n is written");
        assertEquals(p, zeros / (double) n, 0.01);
    }

    @Test
    void moreElementsThanTheArrayHoldsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RandomDraws.dropoutMask(1, 0.5f, new float[3], 4));
        assertEquals("dropout mask: 4 elements into an array of 3", e.getMessage());
    }
}
