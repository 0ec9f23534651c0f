package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/** {@link TileProfile}: which entries it calls, how, on what, and its switch. */
class TileProfileTest {

    /** Records each call by entry and way, checking the shapes a real tile would index. */
    private static final class Recording implements MicroKernel {
        final Map<String, Integer> calls = new TreeMap<>();
        private final boolean rows;
        private final boolean columns;
        private final boolean edges;

        Recording(boolean rows, boolean columns, boolean edges) {
            this.rows = rows;
            this.columns = columns;
            this.edges = edges;
        }

        @Override
        public int shortRows() {
            return edges ? 1 : 0;
        }

        @Override
        public int narrowColumns() {
            return edges ? 4 : 0;
        }

        @Override
        public int rows() {
            return 3;
        }

        @Override
        public int columns() {
            return 8;
        }

        @Override
        public boolean readsRows() {
            return rows;
        }

        @Override
        public int transposedInPlaceColumns() {
            return columns ? 512 : 0;
        }

        private void record(String entry, int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float[] c,
                            int cOffset, int ldc, boolean add) {
            record(entry, kc, a, aOffset, 1, lda, b, bOffset, c, cOffset, ldc, add);
        }

        private void record(String entry, int kc, float[] a, int aOffset, int rowStride, int lda, float[] b,
                            int bOffset, float[] c, int cOffset, int ldc, boolean add) {
            assertEquals(TileProfile.STEPS, kc, entry);
            assertEquals(0, aOffset + bOffset + cOffset, entry + " starts its arrays at 0");
            assertEquals(kc * rows(), a.length, entry);
            assertEquals(kc * columns(), b.length, entry);
            assertEquals(rows() * columns(), c.length, entry);
            assertEquals(columns(), ldc, entry);
            if (lda >= 0) {
                // The last element the entry reads: row rows()-1, step kc-1, in its layout.
                int last = entry.equals("tileRows") ? (rows() - 1) * lda + kc - 1 : (kc - 1) * lda + rows() - 1;
                assertTrue(last < a.length, entry + " would read past A");
            }
            if (entry.startsWith("tileShort") || entry.equals("tileNarrow")) {
                // Edge tiles take A as a packed sliver: rows one apart, steps rows() apart.
                assertEquals(1, rowStride, entry);
                assertEquals(rows(), lda, entry);
            }
            calls.merge(entry + (add ? " adds" : " writes"), 1, Integer::sum);
        }

        @Override
        public void tile(int kc, float[] a, int aOffset, float[] b, int bOffset, float alpha, float[] c, int cOffset,
                         int ldc, boolean accumulate) {
            record("tile", kc, a, aOffset, -1, b, bOffset, c, cOffset, ldc, accumulate);
        }

        @Override
        public void tileRows(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha, float[] c,
                             int cOffset, int ldc, boolean accumulate) {
            record("tileRows", kc, a, aOffset, lda, b, bOffset, c, cOffset, ldc, accumulate);
        }

        @Override
        public void tileShort(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                              float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
            record("tileShort", kc, a, aOffset, rowStride, stepStride, b, bOffset, c, cOffset, ldc, accumulate);
        }

        @Override
        public void tileShortPair(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b,
                                  int bOffset, float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
            record("tileShortPair", kc, a, aOffset, rowStride, stepStride, b, bOffset, c, cOffset, ldc, accumulate);
        }

        @Override
        public void tileNarrow(int kc, float[] a, int aOffset, int rowStride, int stepStride, float[] b, int bOffset,
                               float alpha, float[] c, int cOffset, int ldc, boolean accumulate) {
            record("tileNarrow", kc, a, aOffset, rowStride, stepStride, b, bOffset, c, cOffset, ldc, accumulate);
        }

        @Override
        public void tileColumns(int kc, float[] a, int aOffset, int lda, float[] b, int bOffset, float alpha,
                                float[] c, int cOffset, int ldc, boolean accumulate) {
            record("tileColumns", kc, a, aOffset, lda, b, bOffset, c, cOffset, ldc, accumulate);
        }
    }

    @Test
    void everyEntryThatReadsAIsCalledBothWaysEquallyOften() {
        Recording tile = new Recording(true, true, true);
        TileProfile.seed(tile, 10);
        Map<String, Integer> expected = new TreeMap<>();
        for (String entry : new String[] {"tile", "tileColumns", "tileRows", "tileShort", "tileShortPair",
            "tileNarrow"}) {
            expected.put(entry + " adds", 5);
            expected.put(entry + " writes", 5);
        }
        assertEquals(expected, tile.calls);
    }

    @Test
    void entriesATileDoesNotHaveAreNotCalled() {
        Recording tile = new Recording(false, false, false);
        TileProfile.seed(tile, 4);
        assertEquals(Map.of("tile adds", 2, "tile writes", 2), tile.calls);
    }

    @Test
    void theVectorTilesTakeTheSeedingWithinTheirArrays() {
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel3.INSTANCE,
            VectorMicroKernel12.INSTANCE}) {
            TileProfile.seed(tile, 4);
        }
    }

    @Test
    void startRunsTheSeedingOnADaemonThreadUnlessSwitchedOff() throws InterruptedException {
        String saved = System.getProperty(TileProfile.PROPERTY);
        try {
            System.clearProperty(TileProfile.PROPERTY);
            Recording tile = new Recording(false, true, false);
            Thread thread = TileProfile.start(tile);
            assertTrue(thread.isDaemon());
            assertEquals("adjoint-tile-profile", thread.getName());
            thread.join(60_000);
            assertFalse(thread.isAlive());
            // Seen after join; an assertion that failed on the thread would have stopped it short.
            int half = TileProfile.CALLS / 2;
            assertEquals(Map.of("tile adds", half, "tile writes", half, "tileColumns adds", half,
                    "tileColumns writes", half), tile.calls);
            System.setProperty(TileProfile.PROPERTY, "false");
            assertNull(TileProfile.start(new Recording(false, true, false)));
        } finally {
            if (saved == null) {
                System.clearProperty(TileProfile.PROPERTY);
            } else {
                System.setProperty(TileProfile.PROPERTY, saved);
            }
        }
    }
}
