package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

/** A backend whose own settings are wrong says so, rather than looking absent. */
class BackendLoadingTest {

    /** Chooses a backend and prints its name, or the failure's message. */
    public static final class Choose {
        private Choose() {
        }

        /**
         * Entry point of the child JVM.
         *
         * @param args none
         */
        public static void main(String[] args) {
            try {
                System.out.println("chosen: " + Backends.current().name());
            } catch (IllegalStateException e) {
                System.out.println("failed: " + e.getMessage());
            }
        }
    }

    @Test
    void aBadCpuSettingIsNamedNotTakenForAMissingArtifact() {
        ChildJvm.Result result = ChildJvm.run(List.of("-Dadjoint.cpu.poolBytes=1g"), Choose.class);
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("failed: no Adjoint backend could be loaded; providers that could not be "
                + "loaded: "), result.output());
        assertTrue(result.output().contains("caused by java.lang.IllegalArgumentException: -Dadjoint.cpu.poolBytes "
                + "must be a number of bytes (0 for no pool), got '1g'"), result.output());
        ChildJvm.Result negative = ChildJvm.run(List.of("-Dadjoint.cpu.poolBytes=-1"), Choose.class);
        assertTrue(negative.output().contains("-Dadjoint.cpu.poolBytes must be at least 0 (0 for no pool), got -1"),
                negative.output());
        assertTrue(ChildJvm.run(List.of(), Choose.class).output().contains("chosen: cpu"));
    }
}
