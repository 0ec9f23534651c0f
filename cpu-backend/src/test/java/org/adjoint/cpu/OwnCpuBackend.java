package org.adjoint.cpu;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives each test a fresh {@link CpuBackend} as the current backend, and puts back the one
 * that was current before. Register it with {@code @RegisterExtension}.
 */
final class OwnCpuBackend implements BeforeEachCallback, AfterEachCallback {

    private Backend previous;
    private CpuBackend backend;

    @Override
    public void beforeEach(ExtensionContext context) {
        previous = Backends.current();
        backend = new CpuBackend();
        Backends.use(backend);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (previous != null) {
            Backends.use(previous);
        }
    }

    /**
     * The test's backend.
     *
     * @return the backend made for the running test
     */
    CpuBackend backend() {
        return backend;
    }
}
