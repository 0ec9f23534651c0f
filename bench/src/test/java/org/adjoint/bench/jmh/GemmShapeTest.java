package org.adjoint.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GemmShapeTest {

    @Test
    void squareSizeIsUntransposedNByNByN() {
        assertEquals(new GemmShape(false, false, 512, 512, 512), GemmShape.parse("512"));
    }

    @Test
    void longFormReadsOperationThenMKN() {
        assertEquals(new GemmShape(false, false, 256, 784, 1024), GemmShape.parse("nn:256x784x1024"));
        assertEquals(new GemmShape(true, false, 784, 256, 1024), GemmShape.parse("tn:784x256x1024"));
        assertEquals(new GemmShape(false, true, 256, 1024, 784), GemmShape.parse("NT:256x1024x784"));
    }

    @Test
    void toStringRoundTrips() {
        for (String shape : new String[] {"nn:256x1024x10", "tn:1024x256x10", "nt:256x10x1024", "tt:3x5x7"}) {
            assertEquals(shape, GemmShape.parse(shape).toString());
        }
    }

    @Test
    void leadingDimensionsAreThoseOfContiguousStorage() {
        GemmShape tn = GemmShape.parse("tn:784x256x1024");
        assertEquals(784, tn.lda());
        assertEquals(1024, tn.ldb());
        GemmShape nt = GemmShape.parse("nt:256x1024x784");
        assertEquals(1024, nt.lda());
        assertEquals(1024, nt.ldb());
    }

    @Test
    void flopsCountAMultiplyAddAsTwo() {
        assertEquals(2.0 * 256 * 784 * 1024, GemmShape.parse("nn:256x784x1024").flops());
    }

    @Test
    void everyDefaultShapeOfTheBenchmarkParses() throws NoSuchFieldException {
        String[] shapes = GemmBench.class.getField("shape")
                .getAnnotation(org.openjdk.jmh.annotations.Param.class).value();
        assertEquals(13, shapes.length);
        for (String shape : shapes) {
            GemmShape.parse(shape);
        }
    }

    @Test
    void malformedShapesAreRejectedWithTheText() {
        for (String bad : new String[] {"", "nn:1x2", "xn:1x2x3", "nn:0x2x3", "12x12"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmShape.parse(bad));
            assertTrue(e.getMessage().startsWith("GEMM shape"), e.getMessage());
        }
    }
}
