package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The block sizes chosen from the caches keep the shapes the packing relies on. */
class GemmBlockingTest {

    @Test
    void blocksAreWholeTilesAndKcIsTheSameEverywhere() {
        for (int[] tile : new int[][] {{4, 16}, {6, 16}, {6, 8}, {12, 32}}) {
            GemmBlocking blocking = GemmBlocking.forTile(tile[0], tile[1]);
            // KC orders the arithmetic: another value would change the bits of every product.
            assertEquals(GemmBlocking.KC, blocking.kc(), "KC for tile " + tile[0] + "x" + tile[1]);
            assertEquals(0, blocking.mc() % tile[0], "MC " + blocking.mc() + " is whole tiles of " + tile[0] + " rows");
            assertEquals(0, blocking.nc() % tile[1], "NC " + blocking.nc() + " is whole tiles of " + tile[1] + " columns");
            long aBlockBytes = (long) blocking.mc() * blocking.kc() * Float.BYTES;
            assertTrue(blocking.mc() == tile[0] || aBlockBytes <= GemmBlocking.CACHES[1] / 2,
                    "the A block of " + aBlockBytes + " bytes fits in half of L2 (" + GemmBlocking.CACHES[1] + ")");
        }
    }

    @Test
    void theProviderSaysWhatItChose() {
        String description = KernelProvider.named("vector").description();
        assertTrue(description.startsWith("vector: ") && description.contains("KC " + GemmBlocking.KC)
                && description.contains("threads"), description);
        GemmBlocking chosen = GemmBlocking.forTile(VectorMicroKernel.select().rows(), VectorMicroKernel.select().columns());
        assertTrue(description.contains("MC " + chosen.mc() + ", NC " + chosen.nc()), description);
    }

    /** A block size set by property is used as given, within 1 to 4096; anything else is refused by name. */
    @Test
    void overridesAreCheckedAgainstTheirRange() {
        String property = "adjoint.cpu.gemm.test";
        try {
            assertEquals(7, GemmBlocking.override("test", 7), "unset: the chosen value");
            System.setProperty(property, " 256 ");
            assertEquals(256, GemmBlocking.override("test", 7));
            for (String bad : new String[] {"0", "-3", "4097", "1000000000", "many"}) {
                System.setProperty(property, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> GemmBlocking.override("test", 7), bad);
                assertEquals("-Dadjoint.cpu.gemm.test must be an integer from 1 to 4096, got '" + bad + "'",
                        e.getMessage());
            }
        } finally {
            System.clearProperty(property);
        }
    }
}
