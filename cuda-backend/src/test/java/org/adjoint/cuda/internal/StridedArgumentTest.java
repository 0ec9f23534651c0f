package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import org.adjoint.kernels.cuda.CudaKernelSource;
import org.junit.jupiter.api.Test;

class StridedArgumentTest {

    @Test
    void theLayoutIsTheKernelsStruct() {
        assertEquals(CudaKernelSource.STRIDED_BYTES, StridedArgument.BYTES);
        assertEquals(CudaKernelSource.STRIDED_SHAPE_OFFSET, StridedArgument.SHAPE_OFFSET);
        assertEquals(CudaKernelSource.STRIDED_A_OFFSET, StridedArgument.A_OFFSET);
        assertEquals(CudaKernelSource.STRIDED_B_OFFSET, StridedArgument.B_OFFSET);
        assertEquals(CudaKernelSource.MAX_RANK, StridedArgument.MAX_RANK);
        assertEquals(200, StridedArgument.BYTES);
        assertEquals(8, StridedArgument.SHAPE_OFFSET);
        assertEquals(72, StridedArgument.A_OFFSET);
        assertEquals(136, StridedArgument.B_OFFSET);
    }

    @Test
    void encodesRankShapeAndStridesLittleEndianAtTheirOffsets() {
        // [2, 3, 4] with a transposed left operand and a broadcast right one: nothing merges.
        StridedArgument strided = StridedArgument.of(new int[] {2, 3, 4}, new int[] {1, 8, 2}, new int[] {0, 1, 0});
        byte[] bytes = strided.encode();
        assertEquals(200, bytes.length);
        ByteBuffer view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3, view.getInt(0));
        assertEquals(0, view.getInt(4), "padding");
        assertArrayEquals(new long[] {2, 3, 4, 0, 0, 0, 0, 0}, longs(view, 8));
        assertArrayEquals(new long[] {1, 8, 2, 0, 0, 0, 0, 0}, longs(view, 72));
        assertArrayEquals(new long[] {0, 1, 0, 0, 0, 0, 0, 0}, longs(view, 136));
        // Little-endian byte by byte: shape[0] = 2 is the byte 2 followed by seven zeros.
        assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 0, 0, 0}, Arrays.copyOfRange(bytes, 8, 16));
        assertArrayEquals(new byte[] {3, 0, 0, 0}, Arrays.copyOfRange(bytes, 0, 4));
    }

    @Test
    void largeValuesKeepAllEightBytes() {
        int big = 0x7fff_fff0;
        StridedArgument strided = StridedArgument.of(new int[] {3, big}, new int[] {big, 1}, new int[] {1, 0});
        ByteBuffer view = ByteBuffer.wrap(strided.encode()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3L * big, strided.count());
        assertEquals(big, view.getLong(16));
        assertEquals(big, view.getLong(72));
    }

    @Test
    void contiguousAxesMergeAndLengthOneAxesDisappear() {
        StridedArgument contiguous = StridedArgument.of(new int[] {2, 3, 4}, new int[] {12, 4, 1}, new int[] {12, 4, 1});
        assertArrayEquals(new long[] {24}, contiguous.shape());
        assertArrayEquals(new long[] {1}, contiguous.a());
        assertArrayEquals(new long[] {1}, contiguous.b());

        // Row bias: [5, 1, 7] + [7] broadcast; the length-1 axis goes, rows stay apart from the broadcast.
        StridedArgument bias = StridedArgument.of(new int[] {5, 1, 7}, new int[] {7, 7, 1}, new int[] {0, 0, 1});
        assertArrayEquals(new long[] {5, 7}, bias.shape());
        assertArrayEquals(new long[] {7, 1}, bias.a());
        assertArrayEquals(new long[] {0, 1}, bias.b());

        StridedArgument scalar = StridedArgument.of(new int[] {}, new int[] {}, new int[] {});
        assertEquals(1, scalar.rank());
        assertEquals(1, scalar.count());
        assertArrayEquals(new long[] {1}, scalar.shape());

        StridedArgument empty = StridedArgument.of(new int[] {3, 0, 2}, new int[] {0, 2, 1}, null);
        assertEquals(0, empty.count());
    }

    @Test
    void keptCountIsSumToOutputSize() {
        // [2, 3, 4] summed over axis 1 into [2, 4]: output strides 4, 0, 1.
        assertEquals(8, StridedArgument.of(new int[] {2, 3, 4}, new int[] {4, 0, 1}, null).keptCount());
        assertEquals(1, StridedArgument.of(new int[] {2, 3}, new int[] {0, 0}, null).keptCount());
        assertEquals(6, StridedArgument.of(new int[] {2, 3}, new int[] {3, 1}, null).keptCount());
        assertEquals(1, StridedArgument.of(new int[] {}, new int[] {}, null).keptCount());
    }

    @Test
    void simplifyingNeverChangesWhichElementsAreAddressed() {
        Random random = new Random(3);
        for (int trial = 0; trial < 500; trial++) {
            int rank = random.nextInt(7);
            int[] shape = new int[rank];
            for (int axis = 0; axis < rank; axis++) {
                shape[axis] = 1 + random.nextInt(4);
            }
            int[] a = randomStrides(random, shape);
            int[] b = randomStrides(random, shape);
            StridedArgument strided = StridedArgument.of(shape, a, b);
            long[] expectedA = offsets(toLong(shape), toLong(a));
            long[] expectedB = offsets(toLong(shape), toLong(b));
            String label = Arrays.toString(shape) + " " + Arrays.toString(a) + " " + Arrays.toString(b) + " -> " + strided;
            assertArrayEquals(expectedA, offsets(strided.shape(), strided.a()), label);
            assertArrayEquals(expectedB, offsets(strided.shape(), strided.b()), label);
            assertTrue(strided.rank() <= Math.max(1, rank), label);
        }
    }

    @Test
    void tooManyAxesAfterMergingIsAClearError() {
        int[] shape = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        int[] transposed = {1, 2, 4, 8, 16, 32, 64, 128, 256};
        var error = assertThrows(IllegalArgumentException.class, () -> StridedArgument.of(shape, transposed, null));
        assertTrue(error.getMessage().startsWith("cuda backend: strided kernels take at most 8 axes, and shape"
                + " [2, 2, 2, 2, 2, 2, 2, 2, 2] with strides [1, 2, 4, 8, 16, 32, 64, 128, 256] still has 9"),
                error.getMessage());
        int[] contiguous = {256, 128, 64, 32, 16, 8, 4, 2, 1};
        assertEquals(1, StridedArgument.of(shape, contiguous, null).rank(), "nine contiguous axes are one");
    }

    /** Random strides: contiguous, broadcast (0), or a permutation-like jump, mixed per axis. */
    private static int[] randomStrides(Random random, int[] shape) {
        int[] strides = new int[shape.length];
        int contiguous = 1;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            strides[axis] = switch (random.nextInt(3)) {
                case 0 -> contiguous;
                case 1 -> 0;
                default -> 1 + random.nextInt(20);
            };
            contiguous *= shape[axis];
        }
        return strides;
    }

    private static long[] offsets(long[] shape, long[] strides) {
        long count = 1;
        for (long length : shape) {
            count *= length;
        }
        long[] offsets = new long[(int) count];
        for (int index = 0; index < count; index++) {
            long rest = index;
            long offset = 0;
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                offset += rest % shape[axis] * strides[axis];
                rest /= shape[axis];
            }
            offsets[index] = offset;
        }
        return offsets;
    }

    private static long[] toLong(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    private static long[] longs(ByteBuffer view, int offset) {
        long[] values = new long[8];
        for (int i = 0; i < 8; i++) {
            values[i] = view.getLong(offset + 8 * i);
        }
        return values;
    }
}
