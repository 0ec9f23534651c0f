package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;

/** The README's Java example prints what the README says it prints. */
class ReadmeExampleTest {

    @Test
    void readmeExample() {
        Backends.use("cpu");
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor x = Tensor.of(new float[] {1, 1});
        Tensor target = Tensor.of(new float[] {1, 2});

        Tensor loss = w.matmul(x).sub(target).pow(2).sum();
        loss.backward();

        assertEquals("29.0", String.valueOf(loss.item()));
        assertEquals("Tensor[2, 2] [[4.0, 4.0], [10.0, 10.0]]", String.valueOf(w.grad()));
    }
}
