package org.adjoint.optim;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Buffer;

/**
 * What every optimizer here shares: the checked parameters with their flattened shapes, the
 * learning rate a schedule may change, the weight decay, the scratch buffers of
 * {@link InPlace}, and {@link #zeroGrad()}. Subclasses check their own hyper-parameters before
 * calling the constructor, so that each reports its errors in its own words and order.
 */
public abstract sealed class InPlaceOptimizer implements Optimizer permits SGD, AdaptiveMoments {

    final String name;
    /** The operation named in errors, built once: a step must not concatenate strings. */
    final String stepName;
    final List<Tensor> parameters;
    final int[][] flats;
    final float weightDecay;
    final InPlace inPlace = new InPlace();
    /** {@link #zeroGrad()}'s list of gradient buffers, reused so that a warm call allocates nothing. */
    private final List<Buffer> gradBuffers = new ArrayList<>();
    float learningRate;

    InPlaceOptimizer(String name, List<Tensor> parameters, float learningRate, float weightDecay) {
        InPlace.checkWeightDecay(name, weightDecay);
        this.name = name;
        this.stepName = name + ".step";
        this.parameters = InPlace.checkParameters(name, parameters);
        this.flats = new int[this.parameters.size()][];
        for (int i = 0; i < flats.length; i++) {
            flats[i] = InPlace.flat(this.parameters.get(i));
        }
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
    }

    @Override
    public void zeroGrad() {
        InPlace.zeroGrad(parameters, gradBuffers);
    }

    @Override
    public List<Tensor> parameters() {
        return parameters;
    }

    @Override
    public float learningRate() {
        return learningRate;
    }

    @Override
    public InPlaceOptimizer learningRate(float rate) {
        InPlace.checkRate(name, rate);
        learningRate = rate;
        return this;
    }

    /**
     * The weight decay coefficient (through the gradient for {@link SGD} and {@link Adam},
     * straight on the parameter for {@link AdamW}).
     *
     * @return λ, 0 for none
     */
    public float weightDecay() {
        return weightDecay;
    }
}
