package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;
import java.util.random.RandomGenerator;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.conformance.programs.Step.Prefix;
import org.adjoint.nn.Activation;

/**
 * Draws random programs of 1 to {@value #MAX_STEPS} steps over 1 to 3 inputs whose shapes
 * broadcast against each other (or multiply, or feed a layer or a convolution) by construction.
 *
 * <p>Each step is tried on the values computed so far and kept only when its preconditions
 * hold there (see {@link Watch}); a value that grows beyond {@value #RESCALE_ABOVE} in
 * magnitude is followed by a rescaling step ({@code div} by a power of two, or {@code tanh}),
 * because finite differences in float32 lose their digits on large values. Inputs are small
 * (at most {@value #MAX_INPUT_ELEMENTS} elements together): central differences cost two
 * evaluations per input element, and small shapes are where broadcasting's corner cases live.
 */
public final class ProgramGenerator {

    /** Most steps in a program. */
    public static final int MAX_STEPS = 30;

    /** Most elements of all inputs together. */
    static final int MAX_INPUT_ELEMENTS = 48;

    /** Most elements of any value. */
    static final int MAX_VALUE_ELEMENTS = 120;

    /** Most elements of an image input (each costs two evaluations per finite-difference check). */
    static final int MAX_IMAGE_ELEMENTS = 24;

    /** Magnitude beyond which a value is rescaled. */
    static final double RESCALE_ABOVE = 6;

    private static final Map<Kind, Double> WEIGHTS = new EnumMap<>(Kind.class);

    static {
        // Binary, matmul and layer steps weigh most: they combine inputs and exercise broadcasting.
        double[] weights = {
            2, 4, 3, 3, 3, 3, 3, 4, // NEG TANH SIGMOID RELU EXP LOG SQRT POW
            1.5, 1.5, 2, 1.5,       // ADD_SCALAR SUB_SCALAR MUL_SCALAR DIV_SCALAR
            5, 4, 5, 4, 6,          // ADD SUB MUL DIV MATMUL
            3, 3, 1, 1, 3, 3, 3,    // TRANSPOSE RESHAPE SUM MEAN SUM_AXIS MEAN_AXIS MAX_AXIS
            3, 3, 4, 2,             // SOFTMAX LOG_SOFTMAX LINEAR CROSS_ENTROPY
            2, 2,                   // GELU LAYER_NORM
            2, 1.5, 1, 2, 0,        // CONV2D MAX_POOL2D AVG_POOL2D BATCH_NORM CUSTOM
            2, 1.5, 2, 1, 2, 1.5,   // PERMUTE TRANSPOSE_AXES NARROW SPLIT CAT STACK
            2, 2,                   // INDEX_SELECT MASKED_FILL
        };
        // The image operations weigh little: each costs several element-wise steps (im2col and a
        // GEMM; batch norm's dozen operations). At nearly twice these weights the checks took over
        // 40 % longer than without them (one run on a loaded machine, 2026-12-02).
        for (Kind kind : Kind.values()) {
            WEIGHTS.put(kind, weights[kind.ordinal()]);
        }
    }

    private final List<CustomOp> customs;
    private final double customWeight;

    /** A generator over the built-in operations. */
    public ProgramGenerator() {
        this(List.of(), 0);
    }

    /**
     * A generator that also draws custom operations.
     *
     * @param customs      the operations, drawn uniformly when {@link Kind#CUSTOM} is
     * @param customWeight weight of {@link Kind#CUSTOM} (the built-ins weigh 1 to 6 each)
     */
    public ProgramGenerator(List<CustomOp> customs, double customWeight) {
        this.customs = List.copyOf(customs);
        this.customWeight = customs.isEmpty() ? 0 : customWeight;
    }

    /**
     * Draws a program. The same seed gives the same program on the same kernels; kernels that
     * round differently may tip a borderline choice (a rescale, a margin) the other way.
     *
     * @param seed the seed
     * @return a program with every step reaching the output
     * @throws IllegalStateException when the engine rejects a call whose shapes the
     *                               generator's own rules accept
     */
    public Program generate(long seed) {
        RandomGenerator random = new SplittableRandom(seed);
        Draft draft = new Draft(seed, inputs(random));
        // Skewed toward long programs: steps that the output does not reach are pruned afterwards.
        int target = 1 + Math.max(random.nextInt(MAX_STEPS), random.nextInt(MAX_STEPS));
        for (int attempt = 0; draft.steps.size() < target && attempt < 20 * MAX_STEPS; attempt++) {
            Step step = build(pickKind(random), random, draft);
            if (step == null || !draft.tryAppend(step)) {
                continue;
            }
            if (Ops.maxAbs(draft.data.getLast()) > RESCALE_ABOVE && draft.steps.size() < MAX_STEPS) {
                draft.tryAppend(rescale(random, draft));
            }
        }
        if (draft.steps.isEmpty()) {
            draft.tryAppend(Step.of(Kind.TANH, 0));
        }
        return new Program(seed, draft.inputs, draft.steps).pruned();
    }

    private Kind pickKind(RandomGenerator random) {
        double total = customWeight;
        for (double w : WEIGHTS.values()) {
            total += w;
        }
        double x = random.nextDouble() * total;
        for (Kind kind : Kind.values()) {
            x -= kind == Kind.CUSTOM ? customWeight : WEIGHTS.get(kind);
            if (x < 0) {
                return kind;
            }
        }
        return Kind.TANH;
    }

    private Step rescale(RandomGenerator random, Draft draft) {
        int last = draft.values.size() - 1;
        if (random.nextBoolean()) {
            return Step.of(Kind.TANH, last);
        }
        double magnitude = Ops.maxAbs(draft.data.get(last));
        float divisor = (float) Math.pow(2, Math.ceil(Math.log(magnitude / 2) / Math.log(2)));
        return Step.of(Kind.DIV_SCALAR, last).withConstant(divisor);
    }

    // ---- inputs

    private static List<Program.Input> inputs(RandomGenerator random) {
        while (true) {
            List<int[]> shapes = shapes(random);
            if (shapes.stream().mapToLong(ShapeRules::size).sum() > MAX_INPUT_ELEMENTS) {
                continue;
            }
            List<Program.Input> inputs = new ArrayList<>();
            for (int[] shape : shapes) {
                float[] data = new float[(int) ShapeRules.size(shape)];
                for (int i = 0; i < data.length; i++) {
                    data[i] = round2(random.nextGaussian());
                }
                inputs.add(new Program.Input(shape, data));
            }
            return inputs;
        }
    }

    /**
     * Shapes that work together: broadcasting against a base, a matmul pair, a layer's input,
     * weight and bias, or a convolution's.
     */
    private static List<int[]> shapes(RandomGenerator random) {
        int count = 1 + random.nextInt(3);
        List<int[]> shapes = new ArrayList<>();
        int theme = random.nextInt(11);
        if (theme < 5) {
            int[] base = dims(random, random.nextInt(5));
            shapes.add(base);
            while (shapes.size() < count) {
                shapes.add(derive(random, base));
            }
        } else if (theme < 8) {
            int[] batch = dims(random, random.nextInt(3));
            int m = 1 + random.nextInt(4);
            int k = 1 + random.nextInt(4);
            int n = 1 + random.nextInt(4);
            shapes.add(random.nextInt(5) == 0 ? new int[] {k} : concat(batch, m, k));
            shapes.add(random.nextInt(5) == 0 ? new int[] {k} : concat(derive(random, batch), k, n));
            shapes.add(derive(random, concat(batch, m, n)));
        } else if (theme == 10) {
            // An image with the weight and bias of a convolution over it.
            int[] image;
            do {
                image = new int[] {1 + random.nextInt(2), 1 + random.nextInt(3), 2 + random.nextInt(3), 2 + random.nextInt(3)};
            } while (ShapeRules.size(image) > MAX_IMAGE_ELEMENTS);
            int groups = random.nextBoolean() ? 1 : image[1];
            int out = groups * (1 + random.nextInt(Math.max(1, 3 / groups)));
            int kernel = 1 + random.nextInt(Math.min(image[2], 2));
            shapes.add(image);
            shapes.add(new int[] {out, image[1] / groups, kernel, kernel});
            shapes.add(new int[] {out});
        } else {
            int in = 1 + random.nextInt(4);
            int out = 1 + random.nextInt(4);
            shapes.add(in == 1 && random.nextInt(4) == 0 ? new int[0] : concat(dims(random, random.nextInt(3)), in));
            shapes.add(new int[] {in, out});
            shapes.add(new int[] {out});
        }
        return new ArrayList<>(shapes.subList(0, count));
    }

    private static int[] dims(RandomGenerator random, int rank) {
        int[] shape = new int[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = 1 + random.nextInt(random.nextBoolean() ? 3 : 5);
        }
        return shape;
    }

    /** A shape that broadcasts against {@code base}: some leading axes dropped, some axes set to 1. */
    private static int[] derive(RandomGenerator random, int[] base) {
        int drop = random.nextBoolean() ? 0 : random.nextInt(base.length + 1);
        int[] shape = Arrays.copyOfRange(base, drop, base.length);
        for (int i = 0; i < shape.length; i++) {
            if (random.nextInt(10) < 3) {
                shape[i] = 1;
            }
        }
        return shape;
    }

    private static int[] concat(int[] head, int... tail) {
        int[] out = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    static float round2(double x) {
        return Math.round(x * 100) / 100f;
    }

    // ---- steps

    private Step build(Kind kind, RandomGenerator random, Draft draft) {
        return switch (kind) {
            case NEG, TANH, SIGMOID -> unary(kind, draft.pick(random, v -> true));
            case RELU -> unary(kind, draft.pick(random, v -> Ops.minAbs(draft.data.get(v)) >= 2 * Watch.KINK_MARGIN));
            case TRANSPOSE -> unary(kind, draft.pick(random, v -> draft.rank(v) >= 2));
            case SUM, MEAN -> unary(kind, draft.pick(random, v -> draft.rank(v) >= 1));
            case CUSTOM -> {
                int a = draft.pick(random, v -> true);
                yield Step.of(kind, a).withCustom(customs.get(random.nextInt(customs.size())));
            }
            case EXP -> {
                int a = draft.pick(random, v -> true);
                boolean bounded = Ops.max(draft.data.get(a)) <= Watch.EXP_LIMIT - 1;
                yield Step.of(kind, a).withPrefix(bounded && random.nextInt(4) > 0 ? Prefix.NONE : Prefix.TANH);
            }
            case LOG, SQRT -> {
                int a = draft.pick(random, v -> true);
                yield Step.of(kind, a).withPrefix(positivePrefix(random, draft.data.get(a)));
            }
            case POW -> pow(random, draft);
            case ADD_SCALAR, SUB_SCALAR, MUL_SCALAR -> Step.of(kind, draft.pick(random, v -> true))
                    .withConstant(constant(random, 0.25));
            case DIV_SCALAR -> Step.of(kind, draft.pick(random, v -> true)).withConstant(constant(random, 0.5));
            case ADD, SUB, MUL, DIV -> binary(kind, random, draft);
            case MATMUL -> matmul(random, draft);
            case RESHAPE -> {
                int a = draft.pick(random, v -> true);
                yield Step.of(kind, a).withShape(reshapeTarget(random, (int) ShapeRules.size(draft.shapes.get(a))));
            }
            case SUM_AXIS, MEAN_AXIS, SOFTMAX, LOG_SOFTMAX -> {
                int a = draft.pick(random, v -> draft.rank(v) >= 1);
                if (a < 0) {
                    yield null;
                }
                int rank = draft.rank(a);
                yield Step.of(kind, a).withAxis(random.nextInt(2 * rank) - rank).withFlag(random.nextBoolean());
            }
            case MAX_AXIS -> max(random, draft);
            case LINEAR -> linear(random, draft);
            case CROSS_ENTROPY -> {
                int a = draft.pick(random, v -> draft.rank(v) == 2);
                yield a < 0 ? null : Step.of(kind, a).withSeed(random.nextInt(1000));
            }
            case CONV2D -> ImageSteps.conv2d(random, draft);
            case MAX_POOL2D, AVG_POOL2D -> ImageSteps.pool2d(kind, random, draft);
            case BATCH_NORM -> ImageSteps.batchNorm(random, draft);
            case GELU -> unary(kind, draft.pick(random, v -> true));
            case LAYER_NORM -> NormSteps.layerNorm(random, draft);
            case PERMUTE -> StructureSteps.permute(random, draft);
            case TRANSPOSE_AXES -> StructureSteps.transpose(random, draft);
            case NARROW -> StructureSteps.narrow(random, draft);
            case SPLIT -> StructureSteps.split(random, draft);
            case CAT -> StructureSteps.cat(random, draft);
            case STACK -> StructureSteps.stack(random, draft);
            case INDEX_SELECT -> StructureSteps.indexSelect(random, draft);
            case MASKED_FILL -> StructureSteps.maskedFill(random, draft);
        };
    }

    private static Step unary(Kind kind, int operand) {
        return operand < 0 ? null : Step.of(kind, operand);
    }

    /** Nothing when the values are safely positive already, else a transformation that makes them so. */
    private static Prefix positivePrefix(RandomGenerator random, float[] values) {
        double min = Ops.min(values);
        if (min >= 1.5 * Watch.POSITIVE_MARGIN && random.nextInt(4) > 0) {
            return Prefix.NONE;
        }
        // sigmoid(x) stays above the margin for x > -1.3.
        return min > -1.3 && random.nextBoolean() ? Prefix.SIGMOID : Prefix.SQUARE_PLUS_ONE;
    }

    private static Step pow(RandomGenerator random, Draft draft) {
        float[] exponents = {2, 3, -1, -2, 0.5f, 1.5f, -0.5f, 2.5f};
        float e = exponents[random.nextInt(exponents.length)];
        int a = draft.pick(random, v -> true);
        float[] values = draft.data.get(a);
        Prefix prefix;
        if (e != Math.rint(e)) {
            prefix = positivePrefix(random, values);
        } else if (e < 0) {
            prefix = Ops.minAbs(values) >= 1.5 * Watch.POLE_MARGIN ? Prefix.NONE : Prefix.SQUARE_PLUS_ONE;
        } else {
            prefix = Prefix.NONE;
        }
        return Step.of(Kind.POW, a).withConstant(e).withPrefix(prefix);
    }

    /** A constant of magnitude in {@code [least, 2.5]}, two decimals. */
    private static float constant(RandomGenerator random, double least) {
        double magnitude = least + random.nextDouble() * (2.5 - least);
        return round2(random.nextBoolean() ? magnitude : -magnitude);
    }

    private static Step binary(Kind kind, RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> true);
        int[] shape = draft.shapes.get(a);
        int b = draft.partner(random, a, v -> {
            int[] out = ShapeRules.broadcast(shape, draft.shapes.get(v));
            return out != null && ShapeRules.size(out) <= MAX_VALUE_ELEMENTS;
        });
        if (kind != Kind.DIV) {
            return Step.of(kind, a, b);
        }
        float[] divisor = draft.data.get(b);
        Prefix prefix = Ops.minAbs(divisor) >= 1.5 * Watch.POLE_MARGIN && random.nextBoolean() ? Prefix.NONE
                : Prefix.SQUARE_PLUS_ONE;
        return Step.of(kind, a, b).withPrefix(prefix);
    }

    private static Step matmul(RandomGenerator random, Draft draft) {
        // The right operand is any value that fits, as it is or transposed: x·xᵀ is always possible.
        int a = draft.pick(random, v -> draft.rank(v) >= 1);
        if (a < 0) {
            return null;
        }
        int[] shape = draft.shapes.get(a);
        List<Step> options = new ArrayList<>();
        for (int b = 0; b < draft.values.size(); b++) {
            int[] other = draft.shapes.get(b);
            int[] plain = ShapeRules.matmul(shape, other);
            if (plain != null && ShapeRules.size(plain) <= MAX_VALUE_ELEMENTS) {
                options.add(Step.of(Kind.MATMUL, a, b));
            }
            int[] transposed = other.length >= 2 ? ShapeRules.matmul(shape, ShapeRules.transposed(other)) : null;
            if (transposed != null && ShapeRules.size(transposed) <= MAX_VALUE_ELEMENTS) {
                options.add(Step.of(Kind.MATMUL, a, b).withFlag(true));
            }
        }
        return options.isEmpty() ? null : options.get(random.nextInt(options.size()));
    }

    private static int[] reshapeTarget(RandomGenerator random, int size) {
        int rank = size == 1 ? random.nextInt(5) : 1 + random.nextInt(4);
        int[] target = new int[rank];
        Arrays.fill(target, 1);
        int rest = size;
        for (int p = 2; rest > 1; p++) {
            while (rest % p == 0) {
                target[random.nextInt(rank)] *= p;
                rest /= p;
            }
        }
        if (rank > 0 && random.nextBoolean()) {
            target[random.nextInt(rank)] = -1;
        }
        return target;
    }

    private static Step max(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 1);
        if (a < 0) {
            return null;
        }
        int[] shape = draft.shapes.get(a);
        List<Integer> axes = new ArrayList<>();
        for (int axis = 0; axis < shape.length; axis++) {
            if (Ops.maxGap(draft.data.get(a), shape, axis) >= 2 * Watch.KINK_MARGIN) {
                axes.add(axis);
            }
        }
        if (axes.isEmpty()) {
            return null;
        }
        int axis = axes.get(random.nextInt(axes.size()));
        return Step.of(Kind.MAX_AXIS, a).withAxis(random.nextBoolean() ? axis : axis - shape.length)
                .withFlag(random.nextBoolean());
    }

    private static Step linear(RandomGenerator random, Draft draft) {
        int x = draft.pick(random, v -> true);
        int in = Ops.inFeatures(draft.shapes.get(x));
        int weight = draft.partner(random, -1, v -> draft.rank(v) == 2 && draft.shapes.get(v)[0] == in);
        float scale = 0;
        int out;
        if (weight < 0 || random.nextInt(10) < 3) {
            weight = Step.CONSTANT;
            out = 1 + random.nextInt(4);
            scale = round2(1 / Math.sqrt(in));
        } else {
            out = draft.shapes.get(weight)[1];
        }
        int bias = draft.partner(random, -1, v -> Arrays.equals(draft.shapes.get(v), new int[] {out}));
        if (bias < 0 || random.nextInt(10) < 3) {
            bias = random.nextInt(10) < 6 ? Step.CONSTANT : Step.ABSENT;
        }
        Activation activation = Activation.values()[random.nextInt(Activation.values().length)];
        return Step.of(Kind.LINEAR, x, weight, bias).withConstant(scale).withShape(out).withActivation(activation)
                .withSeed(random.nextInt(1000));
    }

    /** The values of a program being drawn, with their shapes and elements at hand. */
    static final class Draft {
        final long seed;
        final List<Program.Input> inputs;
        final List<Step> steps = new ArrayList<>();
        final List<Tensor> values = new ArrayList<>();
        final List<float[]> data = new ArrayList<>();
        final List<int[]> shapes = new ArrayList<>();
        final List<Boolean> used = new ArrayList<>();

        Draft(long seed, List<Program.Input> inputs) {
            this.seed = seed;
            this.inputs = inputs;
            for (Program.Input in : inputs) {
                add(in.tensor());
            }
        }

        private void add(Tensor value) {
            values.add(value);
            data.add(value.toFloatArray());
            shapes.add(value.shape());
            used.add(false);
        }

        int rank(int value) {
            return shapes.get(value).length;
        }

        /** Keeps the step when the engine accepts it and its preconditions hold. */
        boolean tryAppend(Step step) {
            int index = values.size();
            Tensor[] known = values.toArray(new Tensor[index + 1]);
            Watch watch = new Watch();
            Tensor value;
            try (var _ = GradMode.noGrad()) {
                value = Ops.apply(step, index, known, watch);
            } catch (IllegalArgumentException e) {
                int[][] operandShapes = Arrays.stream(step.reads()).mapToObj(shapes::get).toArray(int[][]::new);
                throw new IllegalStateException("program seed " + seed + ": the engine rejected " + step + " on shapes "
                        + Arrays.deepToString(operandShapes) + ", which the generator's shape rules accept: "
                        + e.getMessage(), e);
            }
            if (watch.violation() != null || value.size() > MAX_VALUE_ELEMENTS) {
                return false;
            }
            for (int r : step.reads()) {
                used.set(r, true);
            }
            steps.add(step);
            add(value);
            return true;
        }

        /**
         * An operand: mostly the newest value (so that few steps end up dead and programs are
         * deep), else an unused one (so that every input takes part), else any that qualifies;
         * -1 when none does.
         */
        int pick(RandomGenerator random, IntPredicate ok) {
            return pick(random, ok, 7, 6);
        }

        /** Like {@link #pick(RandomGenerator, IntPredicate)} with the chances (in tenths) of newest and of unused. */
        private int pick(RandomGenerator random, IntPredicate ok, int newestChance, int unusedChance) {
            List<Integer> candidates = new ArrayList<>();
            List<Integer> unused = new ArrayList<>();
            for (int v = 0; v < values.size(); v++) {
                if (ok.test(v)) {
                    candidates.add(v);
                    if (!used.get(v)) {
                        unused.add(v);
                    }
                }
            }
            if (candidates.isEmpty()) {
                return -1;
            }
            int newest = values.size() - 1;
            if (candidates.getLast() == newest && random.nextInt(10) < newestChance) {
                return newest;
            }
            if (!unused.isEmpty() && random.nextInt(10) < unusedChance) {
                return unused.get(random.nextInt(unused.size()));
            }
            return candidates.get(random.nextInt(candidates.size()));
        }

        /**
         * A second operand for {@code first}: another value when one qualifies (mostly one that
         * nothing reads yet, so that it is not dead code), else {@code first} itself.
         */
        int partner(RandomGenerator random, int first, IntPredicate ok) {
            int other = pick(random, v -> v != first && ok.test(v), 3, 9);
            if (other >= 0 && (first < 0 || random.nextInt(10) < 8)) {
                return other;
            }
            return first >= 0 && ok.test(first) ? first : other;
        }
    }
}
