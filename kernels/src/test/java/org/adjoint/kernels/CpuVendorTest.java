package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU's vendor as {@code /proc/cpuinfo} names it, and the choice that follows it: C written ahead of the 12-row tile. */
class CpuVendorTest {

    @Test
    void theFirstVendorLineIsTheVendor() {
        assertEquals("AuthenticAMD", CpuVendor.parse(Stream.of("processor\t: 0", "vendor_id\t: AuthenticAMD",
                "cpu family\t: 26", "processor\t: 1", "vendor_id\t: GenuineIntel")));
        assertEquals("GenuineIntel", CpuVendor.parse(Stream.of("vendor_id: GenuineIntel  ")));
        assertEquals("", CpuVendor.parse(Stream.of("processor\t: 0", "CPU implementer\t: 0x41")));
        assertEquals("", CpuVendor.parse(Stream.of("vendor_id without a colon")));
    }

    @Test
    void aMissingFileIsAnUnknownVendor(@TempDir Path dir) throws IOException {
        assertEquals("", CpuVendor.read(dir.resolve("no-such-cpuinfo")));
        Path file = dir.resolve("cpuinfo");
        Files.writeString(file, "processor\t: 0\nvendor_id\t: AuthenticAMD\n");
        assertEquals("AuthenticAMD", CpuVendor.read(file));
    }

    @Test
    void cIsWrittenAheadEverywhereButOnAmdUnlessThePropertySays() {
        assertFalse(VectorMicroKernel12.writesAhead(null, "AuthenticAMD"));
        assertTrue(VectorMicroKernel12.writesAhead(null, "GenuineIntel"));
        assertTrue(VectorMicroKernel12.writesAhead(null, ""));
        assertTrue(VectorMicroKernel12.writesAhead(" TRUE ", "AuthenticAMD"));
        assertFalse(VectorMicroKernel12.writesAhead("false", "GenuineIntel"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorMicroKernel12.writesAhead("yes", "GenuineIntel"));
        assertTrue(e.getMessage().contains(VectorMicroKernel12.WRITE_AHEAD_PROPERTY) && e.getMessage().contains("yes"),
                e.getMessage());
        assertTrue(VectorMicroKernel12.WRITING_AHEAD.prewritesC());
        assertEquals(VectorMicroKernel12.writesAhead(System.getProperty(VectorMicroKernel12.WRITE_AHEAD_PROPERTY),
                CpuVendor.ID), VectorMicroKernel12.INSTANCE.prewritesC());
    }
}
