package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.FusedAdam;
import org.adjoint.optim.Adam;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.Optimizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backend's one-pass Adam update ({@link FusedAdam}) gives the bits of the ten-pass update
 * the optimizer composes on a backend without it: the same training run, once on the backend
 * and once on a proxy that hides everything but {@link Backend}, ends with the same
 * parameters, bit for bit. For backends that implement {@link FusedAdam}.
 */
public abstract class FusedAdamConformance extends BackendConformance {

    @ParameterizedTest
    @ValueSource(strings = {"adam", "adam-coupled-decay", "adamw"})
    void fusedAndComposedUpdatesGiveTheSameBits(String optimizer) {
        Backend fusedBackend = backend();
        Backend composedOnly = spiView(fusedBackend, null);
        assertTrue(fusedBackend instanceof FusedAdam, fusedBackend.name() + " has FusedAdam");
        assertFalse(composedOnly instanceof FusedAdam);
        List<float[]> fused = train(fusedBackend, optimizer);
        List<float[]> composed = train(composedOnly, optimizer);
        for (int i = 0; i < fused.size(); i++) {
            float[] expected = composed.get(i);
            float[] actual = fused.get(i);
            for (int j = 0; j < expected.length; j++) {
                assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(actual[j]),
                        optimizer + ": parameter " + i + " element " + j + ": composed " + expected[j] + ", fused "
                                + actual[j]);
            }
        }
    }

    private static List<float[]> train(Backend backend, String kind) {
        return using(backend, () -> {
            // 37 × 19: a length with a vector tail at every width.
            Tensor w = Tensor.randn(1, 37, 19).requiresGrad(true);
            Tensor b = Tensor.randn(2, 19).requiresGrad(true);
            Tensor x = Tensor.randn(3, 8, 37);
            List<Tensor> parameters = List.of(w, b);
            Optimizer optimizer = switch (kind) {
                case "adam" -> new Adam(parameters, 1e-2f);
                case "adam-coupled-decay" -> new Adam(parameters, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f);
                default -> new AdamW(parameters, 1e-2f);
            };
            for (int step = 0; step < 5; step++) {
                optimizer.zeroGrad();
                x.matmul(w).add(b).tanh().mul(x.matmul(w)).mean().backward();
                optimizer.step();
            }
            List<float[]> values = new ArrayList<>();
            for (Tensor p : parameters) {
                values.add(p.toFloatArray());
            }
            return values;
        });
    }
}
