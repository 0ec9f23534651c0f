package org.adjoint.conformance;

import static org.adjoint.conformance.ConvActivationConformance.assertBits;
import static org.adjoint.conformance.ConvActivationConformance.cotangent;
import static org.adjoint.conformance.ConvActivationConformance.leaf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Layer;
import org.adjoint.nn.MaxPool2d;
import org.adjoint.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A {@link Conv2d} with a ReLU followed by a {@link MaxPool2d}, which a {@link Sequential} runs
 * as one primitive when the pooling windows do not overlap, against the two layers applied one
 * after the other, bit for bit: the pooled values, the three gradients from a backward pass
 * (the backend's one pass over the pooled values) and from a recorded one, the forward-mode
 * tangent. Shapes that take every path of a backend: the CNN's two layers (pooled inside the
 * direct convolution on AVX-512), odd sizes that the pooling floors, one image, one output
 * channel of several images, windows of 3 and windows with gaps between them, pooling with
 * padding, a strided and a grouped convolution, no bias, and overlapping windows, which stay
 * two primitives. Then checkpointing, the memory it saves, and the errors.
 */
public abstract class ConvMaxPoolConformance extends BackendConformance {

    /** A convolution {@code [images, channels, height, width]} to {@code outputs}, then a pooling. */
    record Case(int images, int channels, int height, int width, int outputs, int kernel, int stride, int padding,
                int groups, boolean bias, int poolKernel, int poolStride, int poolPadding) {

        @Override
        public String toString() {
            return images + "x" + channels + "x" + height + "x" + width + "->" + outputs + " k" + kernel + " s" + stride
                    + " p" + padding + " g" + groups + (bias ? "" : " no bias") + " pool " + poolKernel + "/"
                    + poolStride + "/" + poolPadding;
        }
    }

    static List<Case> cases() {
        return List.of(
                new Case(2, 1, 28, 28, 32, 3, 1, 1, 1, true, 2, 2, 0),
                new Case(3, 32, 14, 14, 64, 3, 1, 1, 1, true, 2, 2, 0),
                new Case(2, 3, 7, 9, 5, 3, 1, 1, 1, true, 2, 2, 0),
                new Case(2, 9, 7, 5, 16, 3, 1, 1, 1, false, 2, 2, 0),
                new Case(4, 2, 5, 6, 1, 1, 1, 0, 1, true, 2, 2, 0),
                new Case(1, 3, 8, 8, 6, 3, 1, 1, 1, true, 2, 2, 0),
                new Case(2, 4, 9, 9, 6, 3, 1, 1, 1, true, 3, 3, 0),
                new Case(2, 4, 10, 10, 6, 3, 1, 1, 1, true, 2, 3, 0),
                new Case(2, 4, 7, 7, 6, 3, 1, 1, 1, true, 2, 2, 1),
                new Case(2, 4, 9, 8, 6, 3, 2, 1, 1, true, 2, 2, 0),
                new Case(2, 4, 6, 7, 8, 3, 1, 1, 2, true, 2, 2, 0),
                new Case(2, 3, 9, 9, 5, 3, 1, 1, 1, true, 3, 2, 1));
    }

    /** The case's input, weight and (if any) bias, fresh leaves from {@code seed}. */
    private static List<Tensor> inputs(Case c, long seed) {
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(leaf(Tensor.randn(seed, c.images(), c.channels(), c.height(), c.width())));
        float scale = (float) (1 / Math.sqrt((double) c.channels() / c.groups() * c.kernel() * c.kernel()));
        inputs.add(leaf(Tensor.randn(seed + 1, c.outputs(), c.channels() / c.groups(), c.kernel(), c.kernel())
                .mul(scale)));
        if (c.bias()) {
            inputs.add(leaf(Tensor.randn(seed + 2, c.outputs()).mul(0.5f)));
        }
        return inputs;
    }

    private static List<Layer> layers(Case c, List<Tensor> args) {
        return List.of(new Conv2d(args.get(1), args.size() > 2 ? args.get(2) : null, c.stride(), c.padding(), 1,
                c.groups(), Activation.RELU), new MaxPool2d(c.poolKernel(), c.poolStride(), c.poolPadding()));
    }

    private static Tensor fused(Case c, List<Tensor> args) {
        return new Sequential(layers(c, args)).apply(args.get(0));
    }

    private static Tensor unfused(Case c, List<Tensor> args) {
        Tensor h = args.get(0);
        for (Layer layer : layers(c, args)) {
            h = layer.apply(h);
        }
        return h;
    }

    private static final String[] NAMES = {"input gradient", "weight gradient", "bias gradient"};

    @ParameterizedTest
    @MethodSource("cases")
    void thePairAsOneGivesTheBitsOfTheLayerThenThePooling(Case c) {
        long seed = 5000;
        List<Tensor> a = inputs(c, seed);
        List<Tensor> b = inputs(c, seed);
        Tensor expected = unfused(c, b);
        Tensor actual = fused(c, a);
        assertBits(expected, actual, c + " values");
        Tensor u = cotangent(expected, seed + 5);
        expected.backward(u);
        actual.backward(u);
        for (int i = 0; i < a.size(); i++) {
            assertBits(b.get(i).grad(), a.get(i).grad(), c + " " + NAMES[i]);
        }
        // Recorded: the rules written with differentiable operations give the same bits.
        Function<List<Tensor>, Tensor> pulled = args -> fused(c, args).mul(u).sum();
        List<Tensor> recorded = Autodiff.grad(pulled, a.stream().map(Tensor::detach).toList());
        for (int i = 0; i < a.size(); i++) {
            assertBits(b.get(i).grad(), recorded.get(i), c + " recorded " + NAMES[i]);
        }
        // Nothing recorded (inference): the values alone.
        List<Tensor> constants = a.stream().map(Tensor::detach).toList();
        assertBits(expected, fused(c, constants), c + " values without a tape");
    }

    @Test
    void onlyTheOperandsThatNeedAGradientGetOne() {
        Case c = cases().get(2);
        List<Tensor> a = inputs(c, 40);
        List<Tensor> b = inputs(c, 40);
        Tensor x = a.get(0).detach();
        Tensor bx = b.get(0).detach();
        Tensor u = cotangent(unfused(c, List.of(bx, b.get(1), b.get(2))), 45);
        fused(c, List.of(x, a.get(1), a.get(2))).backward(u);
        unfused(c, List.of(bx, b.get(1), b.get(2))).backward(u);
        assertEquals(null, x.grad());
        assertBits(b.get(1).grad(), a.get(1).grad(), "weight gradient alone");
        assertBits(b.get(2).grad(), a.get(2).grad(), "bias gradient alone");
        Tensor input = leaf(a.get(0));
        fused(c, List.of(input, a.get(1).detach(), a.get(2).detach())).backward(u);
        Tensor expected = leaf(b.get(0));
        unfused(c, List.of(expected, b.get(1).detach(), b.get(2).detach())).backward(u);
        assertBits(expected.grad(), input.grad(), "input gradient alone");
    }

    @Test
    void forwardModeAndTheAdjointIdentityHold() {
        long seed = 6000;
        for (Case c : List.of(cases().get(2), cases().get(4), cases().get(6), cases().get(8))) {
            List<Tensor> point = inputs(c, seed).stream().map(Tensor::detach).toList();
            List<Tensor> tangents = point.stream().map(t -> Tensor.randn(7, t.shape())).toList();
            assertBits(Autodiff.jvp(args -> unfused(c, args), point, tangents).tangent(),
                    Autodiff.jvp(args -> fused(c, args), point, tangents).tangent(), c + " forward mode");
            // <J v, u> = <v, Jᵀ u>, both sides analytic (central differences would cross the kinks).
            Tensor jv = Autodiff.jvp(args -> fused(c, args), point, tangents).tangent();
            Tensor u = Tensor.randn(seed + 3, jv.shape());
            List<Tensor> pulled = Autodiff.grad(args -> fused(c, args).mul(u).sum(), point);
            double left = dot(jv, u);
            double right = 0;
            for (int i = 0; i < point.size(); i++) {
                right += dot(tangents.get(i), pulled.get(i));
            }
            assertEquals(left, right, 1e-4 * (Math.abs(left) + 1), c + " adjoint identity");
            seed += 10;
        }
    }

    private static double dot(Tensor a, Tensor b) {
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += (double) x[i] * y[i];
        }
        return sum;
    }

    @Test
    void aChainOfPairsRunsUnderEveryPolicyWithTheGradientsOfTheLayersOneByOne() {
        Tensor x = Tensor.randn(7000, 3, 2, 16, 16);
        List<Tensor> plain = chainGradients(x, null, false);
        for (CheckpointPolicy policy : List.of(CheckpointPolicy.none(), CheckpointPolicy.sqrt(),
                CheckpointPolicy.binomial(1))) {
            List<Tensor> checkpointed = chainGradients(x, policy, true);
            for (int i = 0; i < plain.size(); i++) {
                assertBits(plain.get(i), checkpointed.get(i), "parameter " + i + " under " + policy);
            }
        }
        assertEquals(plain.size(), chainGradients(x, null, true).size());
    }

    private static Sequential chain() {
        return new Sequential(new Conv2d(2, 6, 3, 1, Activation.RELU, 7001), new MaxPool2d(2),
                new Conv2d(6, 8, 3, 1, Activation.RELU, 7002), new MaxPool2d(2),
                new Conv2d(8, 4, 3, 1, Activation.TANH, 7003));
    }

    /** The parameters' gradients of {@link #chain()}, its layers applied one by one or the chain run (under a policy). */
    private static List<Tensor> chainGradients(Tensor x, CheckpointPolicy policy, boolean asChain) {
        Sequential chain = chain();
        Tensor y;
        if (!asChain) {
            y = x;
            for (Layer layer : chain.layers()) {
                y = layer.apply(y);
            }
        } else {
            y = policy == null ? chain.apply(x) : chain.apply(x, policy);
        }
        y.mul(cotangent(y, 7004)).sum().backward();
        return chain.parameters().stream().map(Tensor::grad).toList();
    }

    @Test
    void theChainKeepsItsLayersAndNamesAndSavesLessThanThePairWould() {
        Sequential chain = chain();
        assertEquals(5, chain.layers().size());
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"),
                List.copyOf(chain.namedParameters().keySet()));
        Tensor x = Tensor.randn(7100, 2, 2, 16, 16).requiresGrad(true);
        CheckpointMeter fused = new CheckpointMeter();
        chain.apply(x, CheckpointPolicy.none(), fused);
        // The same layers with the pooling hidden from the chain, which then cannot fuse it.
        List<Layer> hidden = new ArrayList<>();
        for (Layer layer : chain.layers()) {
            hidden.add(layer instanceof MaxPool2d pool ? new Layer() {
                @Override
                public Tensor apply(Tensor h) {
                    return pool.apply(h);
                }

                @Override
                public List<Tensor> parameters() {
                    return List.of();
                }
            } : layer);
        }
        CheckpointMeter pair = new CheckpointMeter();
        new Sequential(hidden).apply(x, CheckpointPolicy.none(), pair);
        assertTrue(fused.peakSavedBytes() < pair.peakSavedBytes(),
                fused.peakSavedBytes() + " bytes saved fused, " + pair.peakSavedBytes() + " as a pair");
    }

    @Test
    void badArgumentsAreRejectedAsTheLayersRejectThem() {
        Sequential channels = new Sequential(new Conv2d(Tensor.zeros(2, 4, 3, 3), Tensor.zeros(2), 1, 0, 1, 1,
                Activation.RELU), new MaxPool2d(2));
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                () -> channels.apply(Tensor.zeros(1, 3, 5, 5)));
        assertTrue(c.getMessage().startsWith("conv2d: input has 3 channels but the weight expects 4"), c.getMessage());
        Sequential window = new Sequential(new Conv2d(Tensor.zeros(2, 4, 3, 3), Tensor.zeros(2), 1, 0, 1, 1,
                Activation.RELU), new MaxPool2d(4));
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                () -> window.apply(Tensor.zeros(1, 4, 5, 5)));
        assertTrue(w.getMessage().startsWith("maxPool2d: the window 4x4 is larger than the padded input 3x3"),
                w.getMessage());
    }
}
