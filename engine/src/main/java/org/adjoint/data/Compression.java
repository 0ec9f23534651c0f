package org.adjoint.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Opens a file for reading, decompressing it when it starts with the gzip magic number. */
final class Compression {

    private Compression() {
    }

    /** The file's bytes, inflated when its first two bytes are 1f 8b, whatever its name says. */
    static InputStream open(Path file) throws IOException {
        // Buffers no larger than the file: a small file costs a few hundred bytes, not 128 KiB.
        int buffer = Math.clamp(Files.size(file), 512, 1 << 16);
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), buffer);
        try {
            raw.mark(2);
            int first = raw.read();
            int second = raw.read();
            raw.reset();
            return first == 0x1f && second == 0x8b ? new GZIPInputStream(raw, buffer) : raw;
        } catch (IOException | RuntimeException e) {
            try {
                raw.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }
}
