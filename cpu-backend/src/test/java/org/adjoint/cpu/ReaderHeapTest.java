package org.adjoint.cpu;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.adjoint.backend.Backends;
import org.adjoint.backend.OutOfMemoryException;
import org.adjoint.data.Csv;
import org.adjoint.data.Idx;
import org.adjoint.io.FileFuzzer;
import org.adjoint.io.SafeTensors;
import org.adjoint.kernels.KernelProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Valid files too large for a 32 MiB heap, most of them small on disk because they are
 * compressed: each reader fails with an {@link OutOfMemoryException} that names the file
 * and gives the sizes, whether its check saw the array could never fit or the allocation
 * itself ran out of heap, and never with an {@link OutOfMemoryError}.
 */
class ReaderHeapTest {

    @TempDir
    Path directory;

    @Test
    void filesLargerThanTheHeapFailWithTheSizes() throws IOException {
        assumeFalse("scalar".equals(System.getProperty("adjoint.cpu.kernels")), "readers do not use the kernels");
        // 12 M pixels: 12 MB as bytes, 48 MB as float32.
        ByteBuffer header = ByteBuffer.allocate(8).put(new byte[] {0, 0, 0x08, 1}).putInt(12_000_000);
        Path idx = Files.write(directory.resolve("images-idx1-ubyte.gz"),
                FileFuzzer.gzip(FileFuzzer.concat(header.array(), new byte[12_000_000])));
        // 10 M rows of two columns: a feature array and a label array that outgrow the heap together.
        Path csv = Files.write(directory.resolve("rows.csv.gz"), FileFuzzer.gzip("0,1\n".repeat(10_000_000)
                .getBytes(UTF_8)));
        // 12 M half-precision values: 24 MB on disk, 48 MB as float32.
        String json = "{\"w\":{\"dtype\":\"F16\",\"shape\":[12000000],\"data_offsets\":[0,24000000]}}";
        ByteBuffer safetensors = ByteBuffer.allocate(8 + json.length() + 24_000_000).order(ByteOrder.LITTLE_ENDIAN);
        safetensors.putLong(json.length()).put(json.getBytes(UTF_8));
        Path weights = Files.write(directory.resolve("big.safetensors"), safetensors.array());

        ChildJvm.Result result = ChildJvm.run(List.of("-Xmx32m", "-XX:+UseSerialGC"), Child.class,
                idx.toString(), csv.toString(), weights.toString());
        assertEquals(0, result.exitCode(), result.output());
        List<String> lines = result.output().strip().lines().filter(line -> line.startsWith("child ")).toList();
        assertEquals(3, lines.size(), result.output());
        String refused = " as float32: cannot allocate 48000000 bytes = 45.8 MiB on the Java heap: more than the heap's "
                + "maximum; heap in use ";
        assertTrue(lines.get(0).startsWith("child Idx: " + idx + ": shape [12000000]" + refused), lines.get(0));
        assertTrue(lines.get(1).startsWith("child Csv: " + csv + ": line "), lines.get(1));
        assertTrue(lines.get(1).contains(" on the Java heap: "), lines.get(1));
        assertTrue(lines.get(2).startsWith("child SafeTensors: " + weights + ": tensor 'w' (F16 [12000000], "
                + "data_offsets [0, 24000000])" + refused), lines.get(2));
        for (String line : lines) {
            assertTrue(line.contains(" (raise -Xmx"), line);
        }
    }

    /** Reads each file in the small heap and prints what became of it. */
    static final class Child {

        private Child() {
        }

        /**
         * Reads an IDX, a CSV and a safetensors file.
         *
         * @param arguments their paths
         */
        public static void main(String[] arguments) {
            Backends.use(new CpuBackend(KernelProvider.named("scalar")));
            report("Idx", () -> Idx.read(Path.of(arguments[0])));
            report("Csv", () -> Csv.read(Path.of(arguments[1])));
            report("SafeTensors", () -> SafeTensors.read(Path.of(arguments[2])));
        }

        private static void report(String reader, Runnable read) {
            try {
                read.run();
                System.out.println("child " + reader + ": read");
            } catch (OutOfMemoryException e) {
                System.out.println("child " + reader + ": " + e.getMessage());
            }
        }
    }
}
