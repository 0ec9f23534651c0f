package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Functional;
import org.adjoint.nn.MaxPool2d;
import org.adjoint.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Conv2d} with a fused activation (one primitive: the convolution, its bias and the
 * activation) against what it fuses, {@link Functional#conv2d} followed by the activation, bit
 * for bit: the values, and the three gradients from a backward pass (the backend's one-pass
 * {@code g} and bias gradient) and from a recorded one ({@link Autodiff#grad}, differentiable
 * operations). Shapes that take every path of a backend: odd sizes, one image, stride 2,
 * padding 0 to 2, dilation, groups and depthwise, no bias, one output channel, one position,
 * the CNN's two layers. Then the derivatives three ways, second derivatives, a checkpointed
 * chain that recomputes the layer, and the errors.
 */
public abstract class ConvActivationConformance extends BackendConformance {

    /** One convolution: {@code [images, channels, height, width]} to {@code outputs}, a {@code kh × kw} window. */
    record Case(int images, int channels, int height, int width, int outputs, int kh, int kw, int stride, int padding,
                int dilation, int groups, boolean bias) {

        @Override
        public String toString() {
            return images + "x" + channels + "x" + height + "x" + width + "->" + outputs + " k" + kh + "x" + kw + " s"
                    + stride + " p" + padding + " d" + dilation + " g" + groups + (bias ? "" : " no bias");
        }
    }

    static List<Case> cases() {
        return List.of(
                new Case(2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, true),
                new Case(1, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1, true),
                new Case(3, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1, true),
                new Case(2, 4, 9, 8, 6, 3, 3, 2, 1, 1, 1, true),
                new Case(2, 4, 6, 7, 8, 3, 2, 1, 0, 1, 2, true),
                new Case(2, 6, 5, 5, 6, 3, 3, 1, 1, 1, 6, false),
                new Case(1, 3, 5, 5, 1, 3, 3, 1, 1, 1, 1, true),
                new Case(4, 2, 5, 6, 1, 1, 1, 1, 0, 1, 1, true),
                new Case(2, 5, 1, 1, 7, 1, 1, 1, 0, 1, 1, true),
                new Case(2, 8, 6, 6, 12, 3, 3, 1, 2, 2, 1, true),
                new Case(3, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, true),
                new Case(2, 9, 7, 5, 16, 3, 3, 1, 1, 1, 1, false));
    }

    static Tensor leaf(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape()).requiresGrad(true);
    }

    /** The case's input, weight and (if any) bias, fresh leaves from {@code seed}. */
    private static List<Tensor> inputs(Case c, long seed) {
        List<Tensor> inputs = new ArrayList<>();
        inputs.add(leaf(Tensor.randn(seed, c.images(), c.channels(), c.height(), c.width())));
        float scale = (float) (1 / Math.sqrt((double) c.channels() / c.groups() * c.kh() * c.kw()));
        inputs.add(leaf(Tensor.randn(seed + 1, c.outputs(), c.channels() / c.groups(), c.kh(), c.kw()).mul(scale)));
        if (c.bias()) {
            inputs.add(leaf(Tensor.randn(seed + 2, c.outputs()).mul(0.5f)));
        }
        return inputs;
    }

    private static Tensor fused(Case c, Activation activation, List<Tensor> args) {
        return new Conv2d(args.get(1), args.size() > 2 ? args.get(2) : null, c.stride(), c.padding(), c.dilation(),
                c.groups(), activation).apply(args.get(0));
    }

    private static Tensor unfused(Case c, Activation activation, List<Tensor> args) {
        Tensor pre = Functional.conv2d(args.get(0), args.get(1), args.size() > 2 ? args.get(2) : null, c.stride(),
                c.padding(), c.dilation(), c.groups());
        return switch (activation) {
            case IDENTITY -> pre;
            case RELU -> pre.relu();
            case TANH -> pre.tanh();
            case SIGMOID -> pre.sigmoid();
        };
    }

    /** A cotangent of {@code y}'s shape with zeros of both signs, so that −0 products would show. */
    static Tensor cotangent(Tensor y, long seed) {
        float[] u = Tensor.randn(seed, y.shape()).toFloatArray();
        for (int i = 0; i < u.length; i += 7) {
            u[i] = i % 2 == 0 ? 0f : -0f;
        }
        return Tensor.of(u, y.shape());
    }

    /** The same bits, except that any NaN equals any NaN. */
    static void assertBits(Tensor expected, Tensor actual, String label) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, label + ": length");
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToIntBits(e[i]) != Float.floatToIntBits(a[i])) {
                fail(label + ": element " + i + " expected " + e[i] + ", got " + a[i]);
            }
        }
    }

    private static final String[] NAMES = {"input gradient", "weight gradient", "bias gradient"};

    @ParameterizedTest
    @MethodSource("cases")
    void fusedGivesTheBitsOfTheConvolutionFollowedByTheActivation(Case c) {
        long seed = 1000;
        for (Activation activation : Activation.values()) {
            String label = c + " " + activation;
            List<Tensor> a = inputs(c, seed);
            List<Tensor> b = inputs(c, seed);
            Tensor expected = unfused(c, activation, b);
            Tensor actual = fused(c, activation, a);
            assertBits(expected, actual, label + " output");
            Tensor u = cotangent(expected, seed + 5);
            expected.backward(u);
            actual.backward(u);
            for (int i = 0; i < a.size(); i++) {
                assertBits(b.get(i).grad(), a.get(i).grad(), label + " " + NAMES[i]);
            }
            // Recorded: the rules written with differentiable operations give the same bits.
            Function<List<Tensor>, Tensor> pulled = args -> fused(c, activation, args).mul(u).sum();
            List<Tensor> recorded = Autodiff.grad(pulled, a.stream().map(Tensor::detach).toList());
            for (int i = 0; i < a.size(); i++) {
                assertBits(b.get(i).grad(), recorded.get(i), label + " recorded " + NAMES[i]);
            }
            seed += 10;
        }
    }

    @Test
    void onlyTheOperandsThatNeedAGradientGetOne() {
        Case c = cases().get(0);
        for (Activation activation : new Activation[] {Activation.RELU, Activation.TANH}) {
            List<Tensor> a = inputs(c, 40);
            List<Tensor> b = inputs(c, 40);
            Tensor x = a.get(0).detach();
            Tensor bx = b.get(0).detach();
            Tensor u = cotangent(unfused(c, activation, List.of(bx, b.get(1), b.get(2))), 45);
            fused(c, activation, List.of(x, a.get(1), a.get(2))).backward(u);
            unfused(c, activation, List.of(bx, b.get(1), b.get(2))).backward(u);
            assertEquals(null, x.grad());
            assertBits(b.get(1).grad(), a.get(1).grad(), activation + " weight gradient alone");
            assertBits(b.get(2).grad(), a.get(2).grad(), activation + " bias gradient alone");
            Tensor w = a.get(1).detach();
            Tensor bias = a.get(2).detach();
            Tensor input = leaf(a.get(0));
            fused(c, activation, List.of(input, w, bias)).backward(u);
            Tensor expected = leaf(b.get(0));
            unfused(c, activation, List.of(expected, b.get(1).detach(), b.get(2).detach())).backward(u);
            assertBits(expected.grad(), input.grad(), activation + " input gradient alone");
        }
    }

    @Test
    void derivativesPassFiniteDifferencesTheAdjointIdentityAndForwardMode() {
        long seed = 2000;
        for (Case c : List.of(cases().get(0), cases().get(3), cases().get(4), cases().get(5))) {
            for (Activation activation : Activation.values()) {
                Function<List<Tensor>, Tensor> f = args -> fused(c, activation, args);
                // Halved: moving every input at once, central differences of tanh carry a visible h² term.
                List<Tensor> point = inputs(c, seed).stream().map(t -> t.mul(0.5f).detach()).toList();
                String label = c + " " + activation + ": ";
                seed += 10;
                if (activation == Activation.RELU) {
                    // Central differences cross ReLU's kink; its forward mode is checked against the unfused one's.
                    List<Tensor> tangents = point.stream().map(t -> Tensor.randn(7, t.shape())).toList();
                    assertBits(Autodiff.jvp(args -> unfused(c, activation, args), point, tangents).tangent(),
                            Autodiff.jvp(f, point, tangents).tangent(), label + "forward mode");
                    continue;
                }
                passed(label, GradCheck.finiteDifferences(f, point));
                passed(label, GradCheck.adjointIdentity(f, point, seed));
                passed(label, GradCheck.forwardMode(f, point, seed));
            }
        }
    }

    private static void passed(String label, GradCheck.Report report) {
        try {
            report.assertPassed();
        } catch (AssertionError e) {
            throw new AssertionError(label + e.getMessage(), e);
        }
    }

    @Test
    void secondDerivativesGoThroughTheRecordedRules() {
        Case c = cases().get(0);
        long seed = 3000;
        for (Activation activation : new Activation[] {Activation.IDENTITY, Activation.TANH, Activation.SIGMOID}) {
            for (int wrt = 0; wrt < 3; wrt++) {
                int index = wrt;
                Function<List<Tensor>, Tensor> energy = args -> {
                    Tensor y = fused(c, activation, args);
                    return y.mul(y).sum().mul(0.5f);
                };
                Function<List<Tensor>, Tensor> derivative = args -> Autodiff.grad(energy, args).get(index);
                // Small values: central differences of the derivative carry h² times its third derivative.
                List<Tensor> point = inputs(c, seed).stream().map(t -> t.mul(0.25f).detach()).toList();
                GradCheck.finiteDifferences(derivative, point).assertPassed();
                seed += 10;
            }
        }
    }

    @Test
    void aCheckpointedChainRecomputesTheLayerWithTheSameGradients() {
        Tensor x = Tensor.randn(4000, 3, 2, 10, 10);
        List<Tensor> plain = chainGradients(x, null);
        for (CheckpointPolicy policy : List.of(CheckpointPolicy.none(), CheckpointPolicy.sqrt(),
                CheckpointPolicy.binomial(1))) {
            List<Tensor> checkpointed = chainGradients(x, policy);
            for (int i = 0; i < plain.size(); i++) {
                assertBits(plain.get(i), checkpointed.get(i), "parameter " + i + " under " + policy);
            }
        }
    }

    /** The parameters' gradients of a fused chain, run plainly or under {@code policy}. */
    private static List<Tensor> chainGradients(Tensor x, CheckpointPolicy policy) {
        Conv2d first = new Conv2d(2, 6, 3, 1, Activation.RELU, 4001);
        Conv2d second = new Conv2d(6, 5, 3, 1, 1, 1, 1, true, Activation.TANH, 4002);
        Conv2d third = new Conv2d(5, 4, 3, 2, 1, 1, 1, false, Activation.RELU, 4003);
        Sequential chain = new Sequential(first, new MaxPool2d(2), second, third);
        Tensor y = policy == null ? chain.apply(x) : chain.apply(x, policy);
        y.mul(cotangent(y, 4004)).sum().backward();
        return chain.parameters().stream().map(Tensor::grad).toList();
    }

    @Test
    void theModuleNamesItsActivationAndItsParameters() {
        Conv2d layer = new Conv2d(3, 8, 3, 1, Activation.RELU, 7);
        assertEquals("Conv2d(3, 8, kernel 3x3, padding 1, RELU)", layer.toString());
        assertEquals(Activation.RELU, layer.activation());
        assertEquals(List.of("weight", "bias"), List.copyOf(layer.namedParameters().keySet()));
        // The initial parameters do not depend on the activation.
        Conv2d plain = new Conv2d(3, 8, 3, 1, 7);
        assertBits(plain.weight(), layer.weight(), "weight");
        assertBits(plain.bias(), layer.bias(), "bias");
        assertEquals(Activation.IDENTITY, plain.activation());
    }

    @Test
    void badArgumentsAreRejectedWithTheShapes() {
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(Tensor.zeros(2, 4, 3, 3), Tensor.zeros(2), 1, 0, 1, 1, Activation.RELU)
                        .apply(Tensor.zeros(1, 3, 5, 5)));
        assertTrue(channels.getMessage().startsWith("conv2d: input has 3 channels but the weight expects 4"),
                channels.getMessage());
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(Tensor.zeros(2, 4, 3, 3), null, 1, 0, 1, 1, Activation.TANH)
                        .apply(Tensor.zeros(4, 5, 5)));
        assertEquals("conv2d: input must have rank 4 [N, C, H, W], got [4, 5, 5]", rank.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(Tensor.zeros(2, 4, 3, 3), null, 1, 0, 1, 1, null));
        assertTrue(none.getMessage().contains("activation must not be null"), none.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(Tensor.zeros(2, 4, 3, 3), Tensor.zeros(3), 1, 0, 1, 1, Activation.RELU));
        assertTrue(shape.getMessage().startsWith("Conv2d: weight [2, 4, 3, 3] and bias [3]"), shape.getMessage());
    }
}
