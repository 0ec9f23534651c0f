package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

import org.adjoint.conformance.programs.ProgramGenerator.Draft;

/**
 * The steps of {@link ProgramGenerator} on images: convolution, max and average pooling, and
 * batch norm, each on a value that is an image or is reshaped to a small one, with geometries
 * where the window fits and data kept off the kinks of their derivatives (ties in a max
 * window, a channel without variance).
 */
final class ImageSteps {

    private ImageSteps() {
    }

    /**
     * The shape an image operation reshapes value {@code a} to: none (an empty array) when it
     * is an image already and mostly keeps it, else one of the small images of its size;
     * {@code null} when there is none.
     */
    private static int[] imageShape(RandomGenerator random, Draft draft, int a) {
        List<int[]> images = ShapeRules.images(ShapeRules.size(draft.shapes.get(a)));
        if (draft.rank(a) == 4 && (images.isEmpty() || random.nextInt(10) < 7)) {
            return new int[0];
        }
        return images.isEmpty() ? null : images.get(random.nextInt(images.size()));
    }

    /** The shape an image operation sees: the reshape target, or the value's own. */
    private static int[] seen(Draft draft, int a, int[] reshape) {
        return reshape.length == 0 ? draft.shapes.get(a) : reshape;
    }

    /** A value that is an image or can be reshaped to one. */
    private static boolean imageLike(Draft draft, int v) {
        return draft.rank(v) == 4 || !ShapeRules.images(ShapeRules.size(draft.shapes.get(v))).isEmpty();
    }

    static Step conv2d(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> imageLike(draft, v));
        if (a < 0) {
            return null;
        }
        int[] reshape = imageShape(random, draft, a);
        if (reshape == null) {
            return null;
        }
        int[] image = seen(draft, a, reshape);
        int channels = image[1];
        // Mostly the filters of a weight-shaped value, so that gradients reach a real weight.
        List<int[]> fromWeights = new ArrayList<>();
        for (int v = 0; v < draft.values.size(); v++) {
            int[] w = draft.shapes.get(v);
            if (w.length == 4 && w[1] >= 1 && channels % w[1] == 0 && w[0] % (channels / w[1]) == 0 && w[2] <= 3
                    && w[3] <= 3) {
                fromWeights.add(new int[] {w[0], w[2], w[3], channels / w[1]});
            }
        }
        for (int attempt = 0; attempt < 10; attempt++) {
            int[] filters;
            if (!fromWeights.isEmpty() && random.nextBoolean()) {
                filters = fromWeights.get(random.nextInt(fromWeights.size()));
            } else {
                int groups = random.nextBoolean() ? 1 : channels;
                int out = groups * (1 + random.nextInt(Math.max(1, 3 / groups)));
                filters = new int[] {out, 1 + random.nextInt(3), 1 + random.nextInt(3), groups};
            }
            int[] geometry = {filters[0], filters[1], filters[2], 1 + random.nextInt(2), random.nextInt(2),
                1 + random.nextInt(2), filters[3]};
            int[] out = ShapeRules.conv2d(image, geometry);
            if (out == null || ShapeRules.size(out) > ProgramGenerator.MAX_VALUE_ELEMENTS) {
                continue;
            }
            int[] weightShape = {geometry[0], channels / geometry[6], geometry[1], geometry[2]};
            long weightSize = ShapeRules.size(weightShape);
            int weight = draft.partner(random, -1, v -> ShapeRules.size(draft.shapes.get(v)) == weightSize);
            float scale = 0;
            if (weight < 0 || random.nextInt(10) < 3) {
                weight = Step.CONSTANT;
                scale = ProgramGenerator.round2(1 / Math.sqrt(weightSize / geometry[0]));
            }
            int bias = draft.partner(random, -1, v -> ShapeRules.size(draft.shapes.get(v)) == geometry[0]);
            if (bias < 0 || random.nextInt(10) < 3) {
                bias = random.nextInt(10) < 6 ? Step.CONSTANT : Step.ABSENT;
            }
            return Step.of(Kind.CONV2D, a, weight, bias).withShape(reshape).withGeometry(geometry).withConstant(scale)
                    .withSeed(random.nextInt(1000));
        }
        return null;
    }

    static Step pool2d(Kind kind, RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> imageLike(draft, v));
        if (a < 0) {
            return null;
        }
        int[] reshape = imageShape(random, draft, a);
        if (reshape == null) {
            return null;
        }
        int[] image = seen(draft, a, reshape);
        for (int attempt = 0; attempt < 10; attempt++) {
            int kernel = 1 + random.nextInt(3);
            int[] geometry = {kernel, 1 + random.nextInt(2), random.nextInt(kernel / 2 + 1)};
            if (ShapeRules.pool2d(image, geometry) == null) {
                continue;
            }
            // A max's derivative jumps where two elements of a window tie: windows stay off ties.
            if (kind == Kind.MAX_POOL2D
                    && Ops.windowGap(draft.data.get(a), image, geometry) < 2 * Watch.KINK_MARGIN) {
                continue;
            }
            return Step.of(kind, a).withShape(reshape).withGeometry(geometry);
        }
        return null;
    }

    static Step batchNorm(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 2 || imageLike(draft, v));
        if (a < 0) {
            return null;
        }
        int[] reshape = draft.rank(a) >= 2 && random.nextInt(10) < 7 ? new int[0] : imageShape(random, draft, a);
        if (reshape == null) {
            if (draft.rank(a) < 2) {
                return null;
            }
            reshape = new int[0];
        }
        int[] shape = seen(draft, a, reshape);
        int channels = shape[1];
        boolean evaluation = random.nextInt(10) < 3;
        float[] epsilons = {1e-5f, 1e-3f, 0.1f};
        float eps = epsilons[random.nextInt(epsilons.length)];
        if (!evaluation && (ShapeRules.size(shape) / channels < 2
                || Ops.minChannelVariance(draft.data.get(a), shape) + eps < 1.5 * Watch.POSITIVE_MARGIN)) {
            return null;
        }
        int[] parameters = new int[2];
        for (int k = 0; k < 2; k++) {
            int value = draft.partner(random, -1, v -> ShapeRules.size(draft.shapes.get(v)) == channels);
            int roll = random.nextInt(10);
            parameters[k] = value >= 0 && roll < 5 ? value : roll < 8 ? Step.CONSTANT : Step.ABSENT;
        }
        return Step.of(Kind.BATCH_NORM, a, parameters[0], parameters[1]).withShape(reshape).withFlag(evaluation)
                .withConstant(eps).withSeed(random.nextInt(1000));
    }
}
