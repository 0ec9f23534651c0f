package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriverLibraryTest {

    @TempDir
    Path temp;

    @Test
    void absentEverywhereIsEmpty() throws IOException {
        Path empty = Files.createDirectory(temp.resolve("empty"));
        assertEquals(Optional.empty(), DriverLibrary.locate(null, List.of(empty), temp.resolve("no-cache")));
    }

    @Test
    void foundInLdLibraryPathFirst() throws IOException {
        Path first = Files.createDirectory(temp.resolve("first"));
        Path second = Files.createDirectory(temp.resolve("second"));
        Files.writeString(first.resolve("libcuda.so.1"), "");
        Files.writeString(second.resolve("libcuda.so.1"), "");
        assertEquals(Optional.of(first.resolve("libcuda.so.1").toString()),
                DriverLibrary.locate(":" + first + "::", List.of(second), temp.resolve("no-cache")));
        assertEquals(Optional.of(second.resolve("libcuda.so.1").toString()),
                DriverLibrary.locate(null, List.of(temp, second), temp.resolve("no-cache")));
    }

    @Test
    void foundInTheLinkerCache() throws IOException {
        Path cache = temp.resolve("ld.so.cache");
        Files.write(cache, "glibc-ld.so.cache1.1\0libc.so.6\0/usr/lib/libcuda.so.1\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(Optional.of("the ld.so cache"), DriverLibrary.locate(null, List.of(), cache));
        Files.write(cache, "glibc-ld.so.cache1.1\0libcuda.so.10\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(Optional.empty(), DriverLibrary.locate(null, List.of(), cache), "another soname is not the driver");
    }

    @Test
    void theReasonNamesTheLibraryAndTheFix() {
        String reason = DriverLibrary.notFoundReason();
        assertTrue(reason.startsWith("no CUDA driver: libcuda.so.1 was not found"), reason);
        assertTrue(reason.contains("install the NVIDIA driver"), reason);
    }
}
