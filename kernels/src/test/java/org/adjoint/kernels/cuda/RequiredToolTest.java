package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** A missing compiler skips a suite, unless {@value RequiredTool#VARIABLE} names it: then it fails. */
class RequiredToolTest {

    @TempDir
    Path empty;

    @Test
    void aMissingToolSkipsWithHowToInstallIt() {
        var skip = assertThrows(TestAbortedException.class,
                () -> RequiredTool.assumeOnPath("gcc", "the fake CUDA driver's libraries", empty.toString(), null));
        assertEquals("Assumption failed: gcc not found on the PATH (" + empty + "), so the fake CUDA driver's libraries"
                + " cannot run: install Debian's gcc (apt-get install -y gcc); skipped", skip.getMessage());
    }

    @Test
    void aMissingToolThatIsRequiredFails() {
        var failure = assertThrows(AssertionFailedError.class,
                () -> RequiredTool.assumeOnPath("nvcc", "the PTX compile", empty.toString(), "gcc, nvcc"));
        assertTrue(failure.getMessage().startsWith("nvcc not found on the PATH (" + empty + "), so the PTX compile cannot"
                + " run: install the CUDA toolkit's nvcc"), failure.getMessage());
        assertTrue(failure.getMessage().endsWith(" (ADJOINT_REQUIRE_TOOLS=gcc, nvcc requires it)"), failure.getMessage());
    }

    @Test
    void aMissingToolThatIsNotRequiredStillSkips() {
        assertThrows(TestAbortedException.class,
                () -> RequiredTool.assumeOnPath("g++", "the kernel emulator", empty.toString(), "gcc,nvcc"));
        assertThrows(TestAbortedException.class, () -> RequiredTool.assumeOnPath("g++", "the kernel emulator", null, ""));
    }

    @Test
    void aToolOnThePathPasses(@TempDir Path bin) throws IOException {
        Files.createFile(bin.resolve("g++"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.createFile(bin.resolve("gcc"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        String path = empty + ":" + bin;
        assertDoesNotThrow(() -> RequiredTool.assumeOnPath("g++", "the kernel emulator", path, "g++"));
        assertThrows(AssertionFailedError.class, () -> RequiredTool.assumeOnPath("gcc", "the fake driver", path, "gcc"),
                "a file that is not executable is not the tool");
    }

    @Test
    void aRequirementNamingAToolNoSuiteUsesIsAnError() {
        var error = assertThrows(IllegalArgumentException.class, () -> RequiredTool.required("gcc,clang,nvc"));
        assertEquals("ADJOINT_REQUIRE_TOOLS=gcc,clang,nvc names [clang, nvc], which no suite uses (known: [g++, gcc, nvcc])",
                error.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> RequiredTool.assumeOnPath("gcc", "the fake driver", System.getenv("PATH"), "gcc,no-such-tool"),
                "checked even where the tool is present");
        assertThrows(IllegalArgumentException.class, () -> RequiredTool.assumeOnPath("no-such-tool", "a suite", null, null));
        assertEquals(Set.of("gcc", "g++", "nvcc"), RequiredTool.required(" gcc ,g++,,nvcc"));
    }

    /** What this run was given (CI gives {@code gcc,g++,nvcc}) must name only tools the suites know. */
    @Test
    void thisRunsRequirementIsWellFormed() {
        assertDoesNotThrow(() -> RequiredTool.required(System.getenv(RequiredTool.VARIABLE)));
    }
}
