package org.adjoint.bench.jmh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

class MlpStepBenchTest {

    @Test
    void stepsTrainOnFiniteLossesNearLogOfTheClassCount() {
        Backend previous = Backends.current();
        try {
            MlpStepBench bench = new MlpStepBench();
            bench.provider = "scalar";
            bench.setUp();
            float first = bench.step().item();
            float second = bench.step().item();
            // Random labels over 10 classes: cross-entropy starts near ln 10 ≈ 2.3 and barely moves.
            assertTrue(first > 1f && first < 10f, "first loss " + first);
            assertTrue(second > 1f && second < 10f, "second loss " + second);
            assertTrue(second < first, "SGD should lower the loss on a fixed batch: " + first + " then " + second);
        } finally {
            Backends.use(previous);
        }
    }
}
