package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link Switches}, and the kernels' switches that read through it. */
class SwitchesTest {

    @Test
    void unsetIsOnAndTrueOrFalseAreReadInAnyCaseWithBlanksAround() {
        assertTrue(Switches.on("p", null));
        assertTrue(Switches.on("p", " TRUE "));
        assertTrue(Switches.on("p", "true"));
        assertFalse(Switches.on("p", "False"));
        assertFalse(Switches.on("p", "\tfalse\n"));
    }

    @Test
    void anythingElseIsRefusedNamingThePropertyAndTheValue() {
        for (String bad : new String[] {"", "yes", "0", "flase", "true false"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Switches.on("a.b", bad));
            assertEquals("-Da.b must be true or false, got '" + bad + "'", e.getMessage());
        }
    }

    @Test
    void theKernelsSwitchesNameThemselves() {
        IllegalArgumentException yield = assertThrows(IllegalArgumentException.class,
                () -> CompilerLoad.yieldWanted("maybe"));
        assertTrue(yield.getMessage().contains(CompilerLoad.YIELD_PROPERTY), yield.getMessage());
        assertFalse(CompilerLoad.yieldWanted("false"));
        IllegalArgumentException seed = assertThrows(IllegalArgumentException.class, () -> TileProfile.wanted("off"));
        assertTrue(seed.getMessage().contains(TileProfile.PROPERTY), seed.getMessage());
        assertFalse(TileProfile.wanted("false"));
    }
}
