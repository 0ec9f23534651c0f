package org.adjoint.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.io.SafeTensors;

/**
 * The PyTorch references the conformance suites compare with: safetensors files on the test
 * class path, written by the generator scripts beside them ({@code reference/*.py}). Each
 * read creates its tensors on the current backend.
 */
final class ReferenceFiles {

    private ReferenceFiles() {
    }

    /**
     * Reads a reference file with its metadata.
     *
     * @param resource the resource, relative to this package (for example
     *                 {@code reference/conv2d_reference.safetensors}) or absolute
     * @return the tensors and the metadata
     */
    static SafeTensors.Contents read(String resource) {
        try (InputStream in = ReferenceFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + resource + " is missing");
            }
            Path copy = Files.createTempFile("adjoint-reference", ".safetensors");
            try {
                Files.write(copy, in.readAllBytes());
                return SafeTensors.read(copy);
            } finally {
                Files.delete(copy);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads the tensors of a reference file.
     *
     * @param resource as for {@link #read}
     * @return the tensors by name
     */
    static Map<String, Tensor> load(String resource) {
        return read(resource).tensors();
    }
}
