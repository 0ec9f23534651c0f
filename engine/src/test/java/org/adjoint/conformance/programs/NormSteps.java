package org.adjoint.conformance.programs;

import java.util.Arrays;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

import org.adjoint.Tensor;
import org.adjoint.conformance.programs.ProgramGenerator.Draft;
import org.adjoint.nn.Functional;

/**
 * {@link Kind#LAYER_NORM} in random programs: drawing the step ({@link ProgramGenerator}),
 * computing it ({@link Ops}) and printing it ({@link JavaPrinter}). It normalises a value over
 * its last 1 to 3 axes ({@link Step#axis()} is the count), with a weight and a bias each read
 * from a value of the normalised size (reshaped to the normalised shape), drawn from the
 * step's seed, or absent; {@link Step#constant()} is eps. Rows stay away from zero variance,
 * where the derivative of {@code (var + eps)^(-1/2)} blows up.
 */
final class NormSteps {

    private NormSteps() {
    }

    /** The lengths of the last {@code axes} axes. */
    private static int[] normalized(int[] shape, int axes) {
        return Arrays.copyOfRange(shape, shape.length - axes, shape.length);
    }

    static Step layerNorm(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 1 && ShapeRules.size(draft.shapes.get(v)) >= 2);
        if (a < 0) {
            return null;
        }
        int[] shape = draft.shapes.get(a);
        int axes = 1 + random.nextInt(Math.min(shape.length, 3));
        while (axes < shape.length && ShapeRules.size(normalized(shape, axes)) < 2) {
            axes++;
        }
        long size = ShapeRules.size(normalized(shape, axes));
        if (size < 2) {
            return null;
        }
        float[] epsilons = {1e-5f, 1e-3f, 0.1f};
        float eps = epsilons[random.nextInt(epsilons.length)];
        if (minRowVariance(draft.data.get(a), (int) size) + eps < 1.5 * Watch.POSITIVE_MARGIN) {
            return null;
        }
        int[] parameters = new int[2];
        for (int k = 0; k < 2; k++) {
            int value = draft.partner(random, -1, v -> ShapeRules.size(draft.shapes.get(v)) == size);
            int roll = random.nextInt(10);
            parameters[k] = value >= 0 && roll < 5 ? value : roll < 8 ? Step.CONSTANT : Step.ABSENT;
        }
        return Step.of(Kind.LAYER_NORM, a, parameters[0], parameters[1]).withAxis(axes).withConstant(eps)
                .withSeed(random.nextInt(1000));
    }

    static Tensor layerNorm(Step step, Tensor[] values, Watch watch) {
        int[] op = step.operands();
        Tensor x = values[op[0]];
        int axes = step.axis();
        int[] normalized = normalized(x.shape(), axes);
        Tensor weight = switch (op[1]) {
            case Step.ABSENT -> null;
            case Step.CONSTANT -> Tensor.randn(step.seed() + 2, normalized).mul(0.5f).add(1f);
            default -> values[op[1]].reshape(normalized);
        };
        Tensor bias = switch (op[2]) {
            case Step.ABSENT -> null;
            case Step.CONSTANT -> Tensor.randn(step.seed() + 3, normalized).mul(0.5f);
            default -> values[op[2]].reshape(normalized);
        };
        float eps = step.constant();
        int size = (int) ShapeRules.size(normalized);
        watch.require(() -> minRowVariance(x.toFloatArray(), size) + eps >= Watch.POSITIVE_MARGIN,
                () -> "layer norm of a row whose variance plus eps is below " + Watch.POSITIVE_MARGIN);
        return Functional.layerNorm(x, axes, weight, bias, eps);
    }

    /** The step as Java source, the values named by {@code name}. */
    static String java(Step step, int[][] shapes, IntFunction<String> name) {
        int[] op = step.operands();
        int[] normalized = normalized(shapes[op[0]], step.axis());
        String dims = Arrays.stream(normalized).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        String[] parameters = new String[2];
        for (int k = 0; k < 2; k++) {
            int v = op[k + 1];
            parameters[k] = switch (v) {
                case Step.ABSENT -> "null";
                case Step.CONSTANT -> "Tensor.randn(" + (step.seed() + 2 + k) + "L, " + dims + ").mul(0.5f)"
                        + (k == 0 ? ".add(1f)" : "");
                default -> Arrays.equals(shapes[v], normalized) ? name.apply(v)
                        : name.apply(v) + ".reshape(" + dims + ")";
            };
        }
        return "Functional.layerNorm(" + name.apply(op[0]) + ", " + step.axis() + ", " + parameters[0] + ", "
                + parameters[1] + ", " + step.constant() + "f)";
    }

    /** Smallest biased variance over the rows of {@code size} consecutive elements, in double. */
    static double minRowVariance(float[] v, int size) {
        double least = Double.POSITIVE_INFINITY;
        for (int start = 0; start + size <= v.length; start += size) {
            double sum = 0;
            for (int i = 0; i < size; i++) {
                sum += v[start + i];
            }
            double mean = sum / size;
            double squares = 0;
            for (int i = 0; i < size; i++) {
                double d = v[start + i] - mean;
                squares += d * d;
            }
            least = Math.min(least, squares / size);
        }
        return least;
    }
}
