package org.adjoint.bench.cli;

import static org.adjoint.bench.cli.MainRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

class MainTest {

    @Test
    void unknownOptionIsRejectedByName() {
        MainRun run = run("train", "--epochs", "1", "--bogus", "3");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint train: unknown option '--bogus'"), run.err());
        assertTrue(run.err().contains("usage: adjoint train"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void badValueIsRejectedWithTheOptionAndTheValue() {
        MainRun run = run("train", "--epochs=zero");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().contains("--epochs") && run.err().contains("'zero'"), run.err());
    }

    @Test
    void unknownCommandIsRejectedByName() {
        MainRun run = run("fit");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint: unknown command 'fit'"), run.err());
        assertTrue(run.err().contains("usage: adjoint <command>"), run.err());
    }

    @Test
    void helpGoesToStandardOutput() {
        MainRun run = run("help");

        assertEquals(Main.OK, run.exitCode());
        assertTrue(run.out().contains("train"), run.out());
        assertEquals("", run.err());
    }

    @Test
    void anUnavailableBackendIsAUsageErrorWithItsReason() {
        // Where a GPU, its driver and its libraries are present, cuda is available and there is nothing to refuse.
        assumeTrue(Backends.installed().stream().noneMatch(b -> b.name().equals("cuda") && b.unavailableReason().isEmpty()),
                "the cuda backend is available here");
        MainRun run = run("train", "--backend", "cuda", "--epochs", "1");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint train: backend 'cuda' is unavailable: "), run.err());
        assertEquals("", run.out());
    }
}
