package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LaunchGridTest {

    @Test
    void gridStrideLaunchesAreCappedPerMultiprocessor() {
        LaunchGrid h100 = new LaunchGrid(132);
        assertEquals(32 * 132, h100.cap());
        assertEquals(1, h100.gridStride(1));
        assertEquals(1, h100.gridStride(256));
        assertEquals(2, h100.gridStride(257));
        assertEquals(32 * 132, h100.gridStride(1L << 40));
        assertEquals(LaunchGrid.MAX_BLOCKS, new LaunchGrid(10_000).cap());
        assertEquals(1, new LaunchGrid(0).cap(), "a device that reports no SMs still gets a block");
    }

    @Test
    void softmaxRowsOfAtLeast128ShareABlock() {
        LaunchGrid grid = new LaunchGrid(4);
        assertEquals(100, grid.softmax(100, 128, 1), "one block per row");
        assertEquals(grid.cap(), grid.softmax(1_000_000, 1000, 1), "rows loop grid-stride past the cap");
        assertEquals(1, grid.softmax(100, 127, 1), "short rows: a thread per lane, 100 lanes");
        assertEquals(4, grid.softmax(10, 1000, 100), "inner > 1: a thread per lane, 1000 lanes");
    }
}
