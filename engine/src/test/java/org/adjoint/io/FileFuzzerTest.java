package org.adjoint.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The fuzzer's allocation bound catches a reader that allocates what a file claims, and only that. */
class FileFuzzerTest {

    @TempDir
    Path directory;

    @Test
    void aReaderThatAllocatesByAClaimFails() {
        FileFuzzer fuzzer = new FileFuzzer(directory, "claims", 1);
        byte[] tenBytes = new byte[10];
        long allowed = fuzzer.allowedBytes(tenBytes.length);
        assertEquals(FileFuzzer.DATA_BYTES_PER_INPUT_BYTE * 10 + FileFuzzer.FIXED_ALLOWANCE, allowed);
        var failure = assertThrows(AssertionFailedError.class,
                () -> fuzzer.run("claim", tenBytes, file -> new byte[(int) (2 * allowed)]));
        assertTrue(failure.getMessage().contains("more than the " + allowed + " its contents justify"),
                failure.getMessage());
    }

    @Test
    void aReaderThatAllocatesInProportionToTheFilePasses() {
        FileFuzzer fuzzer = new FileFuzzer(directory, "data", 1);
        byte[] data = new byte[100_000];
        float[] read = fuzzer.run("data", data, file -> new float[data.length]);
        assertEquals(data.length, read.length);
        assertEquals(1, fuzzer.cases());
    }
}
