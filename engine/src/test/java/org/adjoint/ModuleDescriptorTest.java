package org.adjoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * The engine is a named module that exports its public packages and not its implementation:
 * a user on the module path cannot reach {@code org.adjoint.internal}.
 */
class ModuleDescriptorTest {

    @Test
    void exportsThePublicPackagesAndNotInternal() {
        Module module = Tensor.class.getModule();
        assertTrue(module.isNamed(), "the engine's tests run in its module");
        assertEquals("org.adjoint.engine", module.getName());
        Set<String> exported = new TreeSet<>();
        for (ModuleDescriptor.Exports exports : module.getDescriptor().exports()) {
            assertTrue(exports.targets().isEmpty(), "exported to everyone: " + exports);
            exported.add(exports.source());
        }
        assertEquals(new TreeSet<>(Set.of("org.adjoint", "org.adjoint.autodiff", "org.adjoint.backend",
                "org.adjoint.checkpoint", "org.adjoint.data", "org.adjoint.io", "org.adjoint.nn", "org.adjoint.optim")),
                exported);
        assertTrue(module.getDescriptor().uses().contains("org.adjoint.backend.Backend"), "finds backends with ServiceLoader");
    }
}
