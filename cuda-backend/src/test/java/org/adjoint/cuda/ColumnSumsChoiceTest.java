package org.adjoint.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.adjoint.cuda.internal.StridedArgument;
import org.junit.jupiter.api.Test;

/** Which sums {@link CudaStrided} hands to {@code column_sums}: leading axes summed, trailing ones kept contiguous. */
class ColumnSumsChoiceTest {

    private static boolean chosen(long[] shape, long[] outStrides) {
        return CudaStrided.sumsLeadingAxes(StridedArgument.of(shape, outStrides, null));
    }

    @Test
    void aBiasGradientsShapeIsAColumnSum() {
        assertEquals(true, chosen(new long[] {768, 128}, new long[] {0, 1}));
        assertEquals(true, chosen(new long[] {12, 64, 128}, new long[] {0, 0, 1}));
        assertEquals(true, chosen(new long[] {4, 5, 6}, new long[] {0, 6, 1}));
    }

    @Test
    void otherSumsAreNot() {
        assertEquals(false, chosen(new long[] {768, 128}, new long[] {1, 0}), "the rows' sums");
        assertEquals(false, chosen(new long[] {768, 128}, new long[] {0, 0}), "a full sum");
        assertEquals(false, chosen(new long[] {4, 5, 6}, new long[] {0, 1, 5}), "kept axes transposed");
        assertEquals(false, chosen(new long[] {4, 5, 6}, new long[] {30, 6, 1}), "nothing summed");
        assertEquals(false, chosen(new long[] {4, 5, 6}, new long[] {0, 0, 2}), "kept axis not contiguous");
    }
}
