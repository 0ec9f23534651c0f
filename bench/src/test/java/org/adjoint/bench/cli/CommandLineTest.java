package org.adjoint.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.UncheckedIOException;

import org.junit.jupiter.api.Test;

/** How {@link CommandLine} words a failure for the user. */
class CommandLineTest {

    @Test
    void aFailureIsWordedWithWhatWasSuppressedWhileHandlingIt() {
        UncheckedIOException failure = new UncheckedIOException("saving m.safetensors failed: disk full",
                new java.io.IOException("disk full"));
        failure.addSuppressed(new java.io.IOException("could not delete .m.safetensors.tmp"));
        assertEquals("saving m.safetensors failed: disk full" + System.lineSeparator()
                + "  also: could not delete .m.safetensors.tmp", CommandLine.describe(failure));
    }

    @Test
    void aFailureWithoutAMessageIsNamedByItsClass() {
        assertEquals("java.lang.IllegalStateException", CommandLine.describe(new IllegalStateException()));
    }
}
