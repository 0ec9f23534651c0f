package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

import org.adjoint.Tensor;
import org.adjoint.conformance.programs.ProgramGenerator.Draft;

/**
 * The steps of {@link ProgramGenerator} that rearrange values: {@code permute},
 * {@code transpose(a, b)}, {@code narrow}, a piece of {@code split}, {@code cat} and
 * {@code stack} of two values, {@code indexSelect} with repeats, and {@code maskedFill} with a
 * constant random mask. Axes are drawn negative about a third of the time. Their parameters
 * live in the step's fields: the permutation in {@code shape}; the two axes of a transpose, the
 * start and length of a narrow, the size and piece of a split, and the indices of a selection in
 * {@code geometry}; the mask's shape in {@code shape}, its seed in {@code seed} and the fill
 * value in {@code constant}.
 */
final class StructureSteps {

    private StructureSteps() {
    }

    /** {@code axis} or, a third of the time, the same axis counted from the end. */
    private static int signed(RandomGenerator random, int axis, int rank) {
        return random.nextInt(3) == 0 ? axis - rank : axis;
    }

    static Step permute(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 2);
        if (a < 0) {
            return null;
        }
        int rank = draft.rank(a);
        int[] axes = new int[rank];
        for (int i = 0; i < rank; i++) {
            axes[i] = i;
        }
        for (int i = rank - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = axes[i];
            axes[i] = axes[j];
            axes[j] = t;
        }
        for (int i = 0; i < rank; i++) {
            axes[i] = signed(random, axes[i], rank);
        }
        return Step.of(Kind.PERMUTE, a).withShape(axes);
    }

    static Step transpose(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 2);
        if (a < 0) {
            return null;
        }
        int rank = draft.rank(a);
        int first = random.nextInt(rank);
        int second = (first + 1 + random.nextInt(rank - 1)) % rank;
        return Step.of(Kind.TRANSPOSE_AXES, a).withGeometry(signed(random, first, rank), signed(random, second, rank));
    }

    /** An axis of value {@code v} of length at least 2, or -1. */
    private static int longAxis(RandomGenerator random, Draft draft, int v) {
        int[] shape = draft.shapes.get(v);
        List<Integer> axes = new ArrayList<>();
        for (int axis = 0; axis < shape.length; axis++) {
            if (shape[axis] >= 2) {
                axes.add(axis);
            }
        }
        return axes.isEmpty() ? -1 : axes.get(random.nextInt(axes.size()));
    }

    private static boolean hasLongAxis(Draft draft, int v) {
        return Arrays.stream(draft.shapes.get(v)).anyMatch(d -> d >= 2);
    }

    static Step narrow(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> hasLongAxis(draft, v));
        if (a < 0) {
            return null;
        }
        int axis = longAxis(random, draft, a);
        int size = draft.shapes.get(a)[axis];
        int length = 1 + random.nextInt(size - 1);
        int start = random.nextInt(size - length + 1);
        return Step.of(Kind.NARROW, a).withAxis(signed(random, axis, draft.rank(a))).withGeometry(start, length);
    }

    static Step split(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> hasLongAxis(draft, v));
        if (a < 0) {
            return null;
        }
        int axis = longAxis(random, draft, a);
        int length = draft.shapes.get(a)[axis];
        int size = 1 + random.nextInt(length - 1);
        int pieces = (length + size - 1) / size;
        // The last piece, shorter when the size does not divide the axis, half the time.
        int piece = random.nextBoolean() ? pieces - 1 : random.nextInt(pieces);
        return Step.of(Kind.SPLIT, a).withAxis(signed(random, axis, draft.rank(a))).withGeometry(size, piece);
    }

    /** A piece of a split, rejected like an engine call when the step does not fit the value (as a shrunk one may not). */
    static Tensor piece(Tensor a, Step step) {
        List<Tensor> pieces = a.split(step.geometry()[0], step.axis());
        int piece = step.geometry()[1];
        if (piece >= pieces.size()) {
            throw new IllegalArgumentException("split step: piece " + piece + " of " + pieces.size());
        }
        return pieces.get(piece);
    }

    static Step cat(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 1);
        if (a < 0) {
            return null;
        }
        int[] shape = draft.shapes.get(a);
        int axis = random.nextInt(shape.length);
        int b = draft.partner(random, a, v -> {
            int[] other = draft.shapes.get(v);
            if (other.length != shape.length) {
                return false;
            }
            for (int d = 0; d < shape.length; d++) {
                if (d != axis && other[d] != shape[d]) {
                    return false;
                }
            }
            return ShapeRules.size(shape) + ShapeRules.size(other) <= ProgramGenerator.MAX_VALUE_ELEMENTS;
        });
        return b < 0 ? null : Step.of(Kind.CAT, a, b).withAxis(signed(random, axis, shape.length));
    }

    static Step stack(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> 2 * ShapeRules.size(draft.shapes.get(v)) <= ProgramGenerator.MAX_VALUE_ELEMENTS);
        if (a < 0) {
            return null;
        }
        int[] shape = draft.shapes.get(a);
        int b = draft.partner(random, a, v -> Arrays.equals(draft.shapes.get(v), shape));
        int rank = shape.length + 1;
        return Step.of(Kind.STACK, a, b).withAxis(signed(random, random.nextInt(rank), rank));
    }

    static Step indexSelect(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> draft.rank(v) >= 1 && ShapeRules.size(draft.shapes.get(v)) > 0);
        if (a < 0) {
            return null;
        }
        int[] shape = draft.shapes.get(a);
        int axis = random.nextInt(shape.length);
        long rest = ShapeRules.size(shape) / shape[axis];
        int count = 1 + random.nextInt(4);
        if (rest * count > ProgramGenerator.MAX_VALUE_ELEMENTS) {
            return null;
        }
        int[] indices = new int[count];
        for (int i = 0; i < count; i++) {
            indices[i] = random.nextInt(shape[axis]);
        }
        return Step.of(Kind.INDEX_SELECT, a).withAxis(signed(random, axis, shape.length)).withGeometry(indices);
    }

    static Step maskedFill(RandomGenerator random, Draft draft) {
        int a = draft.pick(random, v -> true);
        int[] shape = draft.shapes.get(a);
        // A mask of the value's trailing axes, some of them broadcast.
        int[] mask = Arrays.copyOfRange(shape, random.nextInt(shape.length + 1), shape.length);
        for (int i = 0; i < mask.length; i++) {
            if (random.nextInt(4) == 0) {
                mask[i] = 1;
            }
        }
        return Step.of(Kind.MASKED_FILL, a).withShape(mask).withSeed(random.nextInt(1000))
                .withConstant(ProgramGenerator.round2(random.nextDouble() * 4 - 2));
    }

    /** The mask of a {@code maskedFill} step: about half of its elements non-zero. */
    static Tensor mask(Step step) {
        return Tensor.rand(step.seed(), step.shape()).sub(0.5f).relu();
    }

    /** The mask as {@link JavaPrinter} prints it. */
    static String maskJava(Step step) {
        StringBuilder dims = new StringBuilder();
        for (int d : step.shape()) {
            dims.append(", ").append(d);
        }
        return "Tensor.rand(" + step.seed() + "L" + dims + ").sub(0.5f).relu()";
    }
}
