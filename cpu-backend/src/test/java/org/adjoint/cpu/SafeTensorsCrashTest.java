package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.io.SafeTensors;
import org.adjoint.kernels.KernelProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A save cut short after the temporary file holds part of the data: by an interrupt of the
 * saving thread, and by the death of the process. The previous file stays intact either way
 * (the failure after an exception thrown by a tensor's download is in
 * {@code org.adjoint.io.SafeTensorsTest}).
 */
class SafeTensorsCrashTest {

    @TempDir
    Path directory;

    @RegisterExtension
    final OwnCpuBackend backend = new OwnCpuBackend();

    @BeforeEach
    void onceForBothProviders() {
        assumeFalse("scalar".equals(System.getProperty("adjoint.cpu.kernels")),
                "saving does not depend on the kernel provider");
    }

    /** A CPU backend whose downloads run {@code action} first: how a test cuts a save short midway. */
    private static Backend downloadsRunning(Backend cpu, Runnable action) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (self, method, arguments) -> {
                    if (method.getName().equals("download")) {
                        action.run();
                    }
                    try {
                        return method.invoke(cpu, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A megabyte written by the plain backend, then a tensor whose download runs {@code action}. */
    private static Map<String, Tensor> tensorsCutShortBy(Runnable action) {
        Backend cpu = Backends.current();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("written", Tensor.randn(1, 256, 1024));
        Backends.use(downloadsRunning(cpu, action));
        tensors.put("cut", Tensor.randn(2, 64));
        Backends.use(cpu);
        return tensors;
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.sorted().toList();
        }
    }

    @Test
    void anInterruptMidSaveLeavesThePreviousFileAndNoTemporaryFile() throws IOException {
        Path path = directory.resolve("model.safetensors");
        SafeTensors.save(path, Map.of("old", Tensor.of(new float[] {1, 2, 3})));
        byte[] before = Files.readAllBytes(path);

        Map<String, Tensor> tensors = tensorsCutShortBy(() -> Thread.currentThread().interrupt());
        try {
            var error = assertThrows(UncheckedIOException.class, () -> SafeTensors.save(path, tensors));
            assertTrue(error.getMessage().startsWith(path + ": cannot write: "), error.getMessage());
            assertInstanceOf(ClosedByInterruptException.class, error.getCause());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
        assertArrayEquals(before, Files.readAllBytes(path));
        assertEquals(List.of(path), listing());
    }

    @Test
    void aProcessThatDiesMidSaveLeavesThePreviousFileIntact() throws IOException {
        Path path = directory.resolve("model.safetensors");
        SafeTensors.save(path, Map.of("old", Tensor.of(new float[] {1, 2, 3})));
        byte[] before = Files.readAllBytes(path);

        ChildJvm.Result result = ChildJvm.run(List.of("-Xmx256m"), DyingSave.class, path.toString());
        assertEquals(DyingSave.EXIT_CODE, result.exitCode(), result.output());

        assertArrayEquals(before, Files.readAllBytes(path));
        assertArrayEquals(new float[] {1, 2, 3}, SafeTensors.load(path).get("old").toFloatArray());
        // Nothing is left to clean up after a process that died; its temporary file is hidden, and holds part
        // of a megabyte.
        List<Path> leftovers = listing().stream().filter(file -> !file.equals(path)).toList();
        assertEquals(1, leftovers.size(), leftovers::toString);
        String name = leftovers.getFirst().getFileName().toString();
        assertTrue(name.startsWith(".model.safetensors.") && name.endsWith(".tmp"), name);
        assertTrue(Files.size(leftovers.getFirst()) > 1 << 20, "the child died after writing the first tensor");
    }

    /** Saves over the file named by its argument and dies, as a killed process does, halfway through. */
    static final class DyingSave {

        static final int EXIT_CODE = 42;

        private DyingSave() {
        }

        /**
         * Saves, halting the JVM at the download of the second tensor.
         *
         * @param arguments the file to save to
         */
        public static void main(String[] arguments) {
            Backends.use(new CpuBackend(KernelProvider.named("scalar")));
            Map<String, Tensor> tensors = tensorsCutShortBy(() -> Runtime.getRuntime().halt(EXIT_CODE));
            SafeTensors.save(Path.of(arguments[0]), tensors);
            System.out.println("the save finished");
        }
    }
}
