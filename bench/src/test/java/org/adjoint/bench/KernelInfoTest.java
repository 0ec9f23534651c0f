package org.adjoint.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.adjoint.kernels.KernelProvider;
import org.junit.jupiter.api.Test;

/**
 * KernelInfo reads the kernels' configuration from package-private constants: when one is
 * renamed or becomes a per-CPU choice, these tests fail so that compare.sh's header does not
 * quietly print "unknown".
 */
class KernelInfoTest {

    @Test
    void namesTheProviderThisJvmChose() {
        List<String> lines = KernelInfo.lines();
        assertEquals("provider: " + KernelProvider.lookup().name(), lines.getFirst());
    }

    @Test
    void everyValueIsKnown() {
        for (String line : KernelInfo.lines()) {
            assertFalse(line.contains("unknown"), () -> "KernelInfo cannot read this any more: " + line);
        }
    }

    @Test
    void vectorProviderReportsTileWidthAndBlocking() {
        assumeTrue(KernelProvider.lookup().name().equals("vector"), "the scalar provider has no vector tile");
        String all = String.join("\n", KernelInfo.lines());
        assertTrue(all.matches("(?s).*\nvector bits: (128|256|512) .*"), all);
        assertTrue(all.matches("(?s).*\ntile: \\d+ x \\d+ .*"), all);
        assertTrue(all.matches("(?s).*\nblocking: KC \\d+, MC \\d+, NC \\d+ .*"), all);
        assertTrue(all.matches("(?s).*\nthreads: \\d+ of \\d+ processors.*"), all);
    }
}
