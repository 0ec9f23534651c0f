package org.adjoint.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapesTest {

    @Test
    void broadcastFollowsNumpy() {
        assertArrayEquals(new int[] {2, 3}, Shapes.broadcast("add", new int[] {2, 3}, new int[] {3}));
        assertArrayEquals(new int[] {2, 3}, Shapes.broadcast("add", new int[] {2, 1}, new int[] {1, 3}));
        assertArrayEquals(new int[] {4, 2, 3}, Shapes.broadcast("add", new int[] {4, 1, 3}, new int[] {2, 1}));
        assertArrayEquals(new int[] {2}, Shapes.broadcast("add", new int[] {}, new int[] {2}));
        assertArrayEquals(new int[] {}, Shapes.broadcast("add", new int[] {}, new int[] {}));
        assertArrayEquals(new int[] {0, 3}, Shapes.broadcast("add", new int[] {0, 1}, new int[] {3}));
        var error = assertThrows(IllegalArgumentException.class,
                () -> Shapes.broadcast("mul", new int[] {2, 3}, new int[] {2}));
        assertEquals("mul: cannot broadcast [2, 3] with [2] (axis 1 of the result: 3 vs 2)", error.getMessage());
    }

    @Test
    void stridesForContiguousAndBroadcastReads() {
        assertArrayEquals(new int[] {12, 4, 1}, Shapes.contiguousStrides(new int[] {2, 3, 4}));
        assertArrayEquals(new int[] {}, Shapes.contiguousStrides(new int[] {}));
        assertArrayEquals(new int[] {0, 1}, Shapes.broadcastStrides(new int[] {3}, new int[] {2, 3}));
        assertArrayEquals(new int[] {1, 0}, Shapes.broadcastStrides(new int[] {2, 1}, new int[] {2, 3}));
        assertArrayEquals(new int[] {0, 0}, Shapes.broadcastStrides(new int[] {}, new int[] {2, 3}));
        assertArrayEquals(new int[] {1, 1}, Shapes.broadcastStrides(new int[] {1, 1}, new int[] {1, 1}));
    }

    @Test
    void broadcastsTo() {
        assertTrue(Shapes.broadcastsTo(new int[] {3}, new int[] {2, 3}));
        assertTrue(Shapes.broadcastsTo(new int[] {}, new int[] {2, 3}));
        assertFalse(Shapes.broadcastsTo(new int[] {2, 3}, new int[] {3}));
        assertFalse(Shapes.broadcastsTo(new int[] {2}, new int[] {2, 3}));
    }

    @Test
    void axesAndSizes() {
        assertEquals(1, Shapes.axis("sum", -1, new int[] {2, 3}));
        assertEquals(0, Shapes.axis("sum", 0, new int[] {2, 3}));
        assertEquals(6, Shapes.outer(new int[] {2, 3, 4}, 2));
        assertEquals(4, Shapes.inner(new int[] {2, 3, 4}, 1));
        assertArrayEquals(new int[] {2, 1, 4}, Shapes.keepDim(new int[] {2, 3, 4}, 1));
        assertArrayEquals(new int[] {2, 4}, Shapes.dropAxis(new int[] {2, 3, 4}, 1));
        assertEquals(1, Shapes.size(new int[] {}));
        assertEquals(0, Shapes.size(new int[] {3, 0}));
        var error = assertThrows(IllegalArgumentException.class, () -> Shapes.checked("Tensor.zeros", new int[] {65536, 65536}));
        assertEquals("Tensor.zeros: shape [65536, 65536] has 4294967296 elements, more than one buffer can hold (2147483639)",
                error.getMessage());
        // (2^31 - 1)^3 wraps round a long to 4611686024869838847; the check must not be fooled by that.
        int most = Integer.MAX_VALUE;
        var beyondLong = assertThrows(IllegalArgumentException.class,
                () -> Shapes.checked("Tensor.randn", new int[] {most, most, most}));
        assertEquals("Tensor.randn: shape [2147483647, 2147483647, 2147483647] has 9903520300447984150353281023 "
                + "elements, more than one buffer can hold (2147483639)", beyondLong.getMessage());
        // A product that wraps round to a small count: 2^32 · 2^32 = 2^64 ≡ 0.
        assertThrows(IllegalArgumentException.class,
                () -> Shapes.checked("Tensor.zeros", new int[] {65536, 65536, 65536, 65536}));
        assertArrayEquals(new int[] {most, most, 0}, Shapes.checked("Tensor.zeros", new int[] {most, most, 0}));
    }
}
