package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.checkpoint.Checkpoint;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every path that changes a tensor's values in place bumps its version, so that a backward
 * pass through a rule that saved the tensor before the change fails, naming the rule, the
 * shape and both versions, instead of returning a gradient of different values.
 */
public abstract class VersionConformance extends BackendConformance {

    private static void assertModified(String op, String shape, int saved, int now, Executable backward) {
        var error = assertThrows(IllegalStateException.class, backward);
        assertEquals("backward: a tensor of shape " + shape + " that '" + op + "' saved for its gradient was modified "
                + "in place afterwards (version " + saved + " then " + now + "); run backward() before the optimizer "
                + "step", error.getMessage());
    }

    @Test
    void everyOptimizerStepBumpsTheVersionOfWhatItUpdates() {
        List<Function<List<Tensor>, Optimizer>> optimizers = List.of(
                params -> new SGD(params, 0.1f),
                params -> new SGD(params, 0.1f, 0.9f, 0.01f),
                params -> new Adam(params, 0.1f),
                params -> new Adam(params, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f),
                params -> new AdamW(params, 0.1f));
        for (Function<List<Tensor>, Optimizer> create : optimizers) {
            Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
            Optimizer optimizer = create.apply(List.of(w));
            w.sum().backward();
            optimizer.step();                            // version 1
            Tensor loss = w.tanh().sum();                // tanh saves its output, exp would too
            Tensor product = w.matmul(w).sum();          // matmul saves w itself
            optimizer.step();                            // version 2
            assertModified("matmul", "[2, 2]", 1, 2, product::backward);
            loss.backward();                             // the output of tanh is not w: still valid
        }
    }

    @Test
    void loadStateDictBumpsTheVersionOfEveryParameterItFills() {
        Linear layer = new Linear(3, 2, Activation.TANH, 1);
        Linear other = new Linear(3, 2, Activation.TANH, 2);
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 1, 3).requiresGrad(true);
        Tensor loss = layer.apply(x).sum();
        layer.loadStateDict(other.stateDict());
        assertModified("linear", "[3, 2]", 0, 1, loss::backward);
    }

    @Test
    void zeroingAGradientInPlaceBumpsItsVersion() {
        Tensor w = vec(1, 2).requiresGrad(true);
        Tensor q = vec(3, 4).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 0.1f);
        w.mul(3f).sum().backward();
        Tensor penalty = q.mul(w.grad()).sum();         // mul saves the gradient for q's rule
        sgd.zeroGrad();
        assertModified("mul", "[2]", 0, 1, penalty::backward);
    }

    @Test
    void accumulatingIntoAGradientBumpsItsVersion() {
        Tensor w = vec(1, 2).requiresGrad(true);
        Tensor q = vec(3, 4).requiresGrad(true);
        w.mul(3f).sum().backward();
        Tensor penalty = q.mul(w.grad()).sum();
        w.sum().backward();                             // adds into w.grad() in place
        assertModified("mul", "[2]", 0, 1, penalty::backward);
    }

    @Test
    void aDetachedTensorSharesTheVersionOfItsSource() {
        Tensor x = vec(0.5f, -1f).requiresGrad(true);
        Tensor hidden = x.tanh();
        Tensor loss = hidden.mul(hidden).sum();         // mul saves hidden
        Tensor alias = hidden.detach().requiresGrad(true);
        alias.sum().backward();
        new SGD(List.of(alias), 0.1f).step();           // writes into hidden's storage
        assertModified("mul", "[2]", 0, 1, loss::backward);
    }

    @Test
    void aCheckpointedSegmentRefusesParametersChangedBeforeItsRecomputation() {
        Tensor w = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor x = Tensor.of(new float[] {1, -1}, 1, 2).requiresGrad(true);
        Tensor loss = Checkpoint.segment(h -> h.matmul(w).tanh(), x, List.of(w)).sum();
        w.sum().backward();
        new SGD(List.of(w), 0.1f).step();
        assertModified("checkpointed segment", "[2, 2]", 0, 1, loss::backward);
    }

    @Test
    void aCheckpointedChainRefusesParametersChangedBeforeItsRecomputation() {
        Sequential model = new Sequential(new Linear(3, 4, Activation.TANH, 1), new Linear(4, 4, Activation.TANH, 2),
                new Linear(4, 4, Activation.TANH, 3), new Linear(4, 2, Activation.IDENTITY, 4));
        Tensor x = Tensor.randn(7, 5, 3);
        Tensor loss = model.apply(x, CheckpointPolicy.everyK(2)).sum();
        model.apply(x).sum().backward();
        new Adam(model.parameters(), 0.01f).step();
        assertModified("checkpointed chain", "[3, 4]", 0, 1, loss::backward);
    }

    @Test
    void aCustomFunctionsSavedTensorIsNamedByTheFunction() {
        final class Scale extends CustomFunction {
            @Override
            protected Tensor forward(Context ctx, List<Tensor> inputs) {
                ctx.save(inputs.get(1));
                return inputs.get(0).mul(inputs.get(1));
            }

            @Override
            protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
                return input == 0 ? cotangent.mul(ctx.saved(0)) : null;
            }
        }
        Tensor x = vec(1, 2).requiresGrad(true);
        Tensor scale = vec(3, 4).requiresGrad(true);
        Tensor loss = new Scale().apply(x, scale).sum();
        scale.sum().backward();
        new SGD(List.of(scale), 0.1f).step();
        assertModified("Scale", "[2]", 0, 1, loss::backward);
    }
}
