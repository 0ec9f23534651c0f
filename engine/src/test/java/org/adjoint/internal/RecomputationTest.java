package org.adjoint.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

class RecomputationTest {

    @Test
    void scopesNestAndRestoreWhatTheyFound() throws InterruptedException {
        assertFalse(Recomputation.active());
        // Closed by hand inside its try, to check that the try's own close then changes nothing.
        Recomputation.Scope outer = Recomputation.enter();
        try {
            assertTrue(Recomputation.active());
            try (var _ = Recomputation.enter()) {
                assertTrue(Recomputation.active());
            }
            assertTrue(Recomputation.active(), "closing the inner scope keeps the outer one");
            AtomicBoolean elsewhere = new AtomicBoolean(true);
            Thread other = new Thread(() -> elsewhere.set(Recomputation.active()));
            other.start();
            other.join();
            assertFalse(elsewhere.get(), "another thread is not re-running");
            outer.close();
            assertFalse(Recomputation.active());
        } finally {
            outer.close();
        }
        assertFalse(Recomputation.active(), "closing twice changes nothing");
    }
}
