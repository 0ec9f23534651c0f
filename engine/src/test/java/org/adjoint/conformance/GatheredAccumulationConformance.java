package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;

/**
 * A backward pass that gathers the additions into leaves' existing gradients into one
 * {@code axpy} call at its end ({@link Backend#gathersAccumulation()}) gives the bits of one
 * that adds each contribution as it arrives: the same training, once on a view of the backend
 * that gathers and once on one that does not, with a weight used twice (two contributions in
 * one pass, which must be added in order), gradients accumulated over two passes, and
 * {@code zeroGrad} between steps.
 */
public abstract class GatheredAccumulationConformance extends BackendConformance {

    @Test
    void gatheredAndImmediateAccumulationGiveTheSameBits() {
        AtomicInteger gatheredCalls = new AtomicInteger();
        List<float[]> gathered = train(view(backend(), true, gatheredCalls));
        AtomicInteger unused = new AtomicInteger();
        List<float[]> immediate = train(view(backend(), false, unused));
        assertTrue(gatheredCalls.get() > 0, "the gathering backend got the additions in batches");
        assertEquals(0, unused.get(), "the other added them one by one");
        assertEquals(immediate.size(), gathered.size());
        for (int i = 0; i < immediate.size(); i++) {
            float[] expected = immediate.get(i);
            float[] actual = gathered.get(i);
            assertEquals(expected.length, actual.length);
            for (int j = 0; j < expected.length; j++) {
                assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(actual[j]),
                        "value " + i + " element " + j + ": immediate " + expected[j] + ", gathered " + actual[j]);
            }
        }
    }

    @Test
    void aGradientObtainedBeforeTheGatheredPassSeesItsResult() {
        using(view(backend(), true, new AtomicInteger()), () -> {
            Tensor w = Tensor.randn(3, 5, 4).requiresGrad(true);
            Tensor x = Tensor.randn(4, 6, 5);
            x.matmul(w).sum().backward();
            Tensor kept = w.grad();
            float[] first = kept.toFloatArray();
            x.matmul(w).sum().backward();
            assertSame(kept, w.grad(), "the gradient keeps its tensor");
            float[] twice = kept.toFloatArray();
            for (int j = 0; j < first.length; j++) {
                assertEquals(first[j] + first[j], twice[j], Math.abs(first[j]) * 1e-5f + 1e-6f, "element " + j);
            }
            return null;
        });
    }

    /** The backend as the SPI sees it, saying whether it gathers, counting the gathered calls. */
    private static Backend view(Backend backend, boolean gathers, AtomicInteger gatheredCalls) {
        return spiView(backend, (name, args) -> {
            if (name.equals("gathersAccumulation")) {
                return gathers;
            }
            if (name.equals("axpy") && args.length == 4) {
                gatheredCalls.incrementAndGet();
            }
            return null;
        });
    }

    private static List<float[]> train(Backend backend) {
        return using(backend, () -> {
            // 29 × 23 and a batch of 6: lengths with a vector tail at every width.
            Tensor w = Tensor.randn(11, 29, 23).requiresGrad(true);
            Tensor b = Tensor.randn(12, 23).requiresGrad(true);
            Tensor x = Tensor.randn(13, 6, 29);
            SGD optimizer = new SGD(List.of(w, b), 0.05f);
            List<float[]> values = new ArrayList<>();
            for (int step = 0; step < 3; step++) {
                optimizer.zeroGrad();
                for (int pass = 0; pass < 2; pass++) {
                    // w twice in one pass: two contributions to one gradient.
                    Tensor h = x.matmul(w).add(b).tanh();
                    h.mul(x.matmul(w)).mean().add(b.mul(b).sum()).backward();
                }
                values.add(w.grad().toFloatArray());
                values.add(b.grad().toFloatArray());
                optimizer.step();
            }
            values.add(w.toFloatArray());
            values.add(b.toFloatArray());
            return values;
        });
    }
}
