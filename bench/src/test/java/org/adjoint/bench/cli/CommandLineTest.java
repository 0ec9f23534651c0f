package org.adjoint.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

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
    void everyWriteRunsEvenWhenAnEarlierOneFails() {
        List<String> ran = new ArrayList<>();
        IllegalStateException save = new IllegalStateException("saving failed: disk full");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> CommandLine.writeAll(() -> {
            ran.add("save");
            throw save;
        }, () -> ran.add("plot"), () -> {
            ran.add("third");
            throw new IllegalArgumentException("also failed");
        }));
        assertSame(save, thrown);
        assertEquals(List.of("save", "plot", "third"), ran);
        assertEquals("also failed", thrown.getSuppressed()[0].getMessage());
    }

    @Test
    void aFailureWithoutAMessageIsNamedByItsClass() {
        assertEquals("java.lang.IllegalStateException", CommandLine.describe(new IllegalStateException()));
    }
}
