package org.adjoint.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.adjoint.kernels.KernelProvider;
import org.junit.jupiter.api.Test;

/** KernelInfo prints what the kernels chose, for compare.sh's header. */
class KernelInfoTest {

    @Test
    void namesTheProviderThisJvmChoseAndItsConfiguration() {
        List<String> lines = KernelInfo.lines();
        assertEquals("provider: " + KernelProvider.lookup().name(), lines.getFirst());
        assertEquals("chosen: " + KernelProvider.configuration(), lines.get(1));
        assertTrue(lines.getLast().startsWith("set by: "), lines.getLast());
    }

    @Test
    void vectorProviderReportsTileWidthAndBlocking() {
        assumeTrue(KernelProvider.lookup().name().equals("vector"), "the scalar provider has no vector tile");
        String chosen = KernelInfo.lines().get(1);
        assertTrue(chosen.matches("chosen: vector: (128|256|512)-bit, tile \\d+x\\d+, KC \\d+, MC \\d+, NC \\d+ .*\\d+ threads"),
                chosen);
        assertTrue(KernelInfo.lines().get(2).matches("preferred vector bits on this CPU: \\d+"), KernelInfo.lines().get(2));
    }
}
