package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

import org.adjoint.conformance.programs.Step.Prefix;
import org.adjoint.nn.Activation;

/**
 * Reduces a failing program to a small one that still fails, greedily: it tries candidates
 * from the largest reduction to the smallest and restarts from the first that still fails,
 * until none does or the budget of checks is spent. Candidates, in order: keep only a prefix
 * of the steps; drop one step (its readers read one of its operands instead); merge two
 * inputs; drop an input axis or shrink it toward 1; remove prefixes, biases and activations,
 * simplify constants; round input values.
 */
public final class Shrinker {

    private final Predicate<Program> stillFails;
    private final int budget;
    private int spent;

    /**
     * A shrinker.
     *
     * @param stillFails whether a candidate fails the same way as the original (invalid
     *                   candidates must answer false)
     * @param budget     most candidates to check
     */
    public Shrinker(Predicate<Program> stillFails, int budget) {
        this.stillFails = stillFails;
        this.budget = budget;
    }

    /**
     * Shrinks a failing program.
     *
     * @param failing the program
     * @return the smallest failing program found ({@code failing} itself when nothing smaller fails)
     */
    public Program shrink(Program failing) {
        Program current = failing;
        boolean progress = true;
        while (progress && spent < budget) {
            progress = false;
            for (Program candidate : candidates(current)) {
                if (spent++ >= budget) {
                    break;
                }
                if (stillFails.test(candidate)) {
                    current = candidate;
                    progress = true;
                    break;
                }
            }
        }
        return current;
    }

    /**
     * Candidates tried.
     *
     * @return how many candidates were checked
     */
    public int spent() {
        return spent;
    }

    static List<Program> candidates(Program p) {
        List<Program> out = new ArrayList<>();
        int inputs = p.inputs().size();
        int steps = p.steps().size();
        for (int keep = 1; keep < steps; keep++) {
            out.add(new Program(p.seed(), p.inputs(), p.steps().subList(0, keep)).pruned());
        }
        for (int s = 0; s < steps - 1; s++) {
            for (int operand : distinct(p.steps().get(s).reads())) {
                out.add(dropStep(p, s, operand));
            }
        }
        for (int j = 0; j < inputs; j++) {
            for (int k = 0; k < inputs; k++) {
                if (k != j) {
                    out.add(replaceValue(p, j, k).pruned());
                }
            }
        }
        for (int j = 0; j < inputs; j++) {
            int[] shape = p.inputs().get(j).shape();
            for (int axis = 0; axis < shape.length; axis++) {
                out.add(withInputShape(p, j, removeAxis(shape, axis), axis));
            }
            for (int axis = 0; axis < shape.length; axis++) {
                if (shape[axis] > 1) {
                    out.add(withInputShape(p, j, resized(shape, axis, 1), -1));
                }
                if (shape[axis] > 2) {
                    out.add(withInputShape(p, j, resized(shape, axis, shape[axis] - 1), -1));
                }
            }
        }
        for (int s = 0; s < steps; s++) {
            for (Step simpler : simplifications(p.steps().get(s))) {
                List<Step> changed = new ArrayList<>(p.steps());
                changed.set(s, simpler);
                out.add(new Program(p.seed(), p.inputs(), changed).pruned());
            }
        }
        for (int j = 0; j < inputs; j++) {
            for (double grid : new double[] {0.1, 0.5, 1}) {
                float[] data = p.inputs().get(j).data();
                float[] rounded = new float[data.length];
                for (int i = 0; i < data.length; i++) {
                    rounded[i] = (float) (Math.round(data[i] / grid) * grid);
                }
                if (!Arrays.equals(rounded, data)) {
                    List<Program.Input> changed = new ArrayList<>(p.inputs());
                    changed.set(j, new Program.Input(p.inputs().get(j).shape(), rounded));
                    out.add(new Program(p.seed(), changed, p.steps()));
                }
            }
        }
        out.removeIf(c -> c.steps().isEmpty());
        return out;
    }

    private static int[] distinct(int[] values) {
        return Arrays.stream(values).distinct().toArray();
    }

    /** Step {@code s} removed; whatever read its value reads {@code operand} instead. */
    private static Program dropStep(Program p, int s, int operand) {
        int inputs = p.inputs().size();
        int removed = inputs + s;
        List<Step> steps = new ArrayList<>();
        for (int t = 0; t < p.steps().size(); t++) {
            if (t == s) {
                continue;
            }
            int[] operands = p.steps().get(t).operands().clone();
            for (int k = 0; k < operands.length; k++) {
                if (operands[k] == removed) {
                    operands[k] = operand;
                } else if (operands[k] > removed) {
                    operands[k]--;
                }
            }
            steps.add(p.steps().get(t).withOperands(operands));
        }
        return new Program(p.seed(), p.inputs(), steps).pruned();
    }

    /** Every read of value {@code from} reads value {@code to} instead. */
    private static Program replaceValue(Program p, int from, int to) {
        List<Step> steps = new ArrayList<>();
        for (Step step : p.steps()) {
            int[] operands = step.operands().clone();
            for (int k = 0; k < operands.length; k++) {
                if (operands[k] == from) {
                    operands[k] = to;
                }
            }
            steps.add(step.withOperands(operands));
        }
        return new Program(p.seed(), p.inputs(), steps);
    }

    /**
     * Input {@code j} cut down to {@code shape}, keeping the elements at the same multi-index
     * (a removed axis reads its index 0).
     */
    private static Program withInputShape(Program p, int j, int[] shape, int removedAxis) {
        Program.Input old = p.inputs().get(j);
        int[] keptAxes = new int[shape.length];
        for (int a = 0; a < shape.length; a++) {
            keptAxes[a] = removedAxis >= 0 && a >= removedAxis ? a + 1 : a;
        }
        int[] oldStrides = strides(old.shape());
        float[] data = new float[(int) ShapeRules.size(shape)];
        int[] index = new int[shape.length];
        for (int e = 0; e < data.length; e++) {
            int offset = 0;
            for (int a = 0; a < shape.length; a++) {
                offset += index[a] * oldStrides[keptAxes[a]];
            }
            data[e] = old.data()[offset];
            for (int a = shape.length - 1; a >= 0; a--) {
                if (++index[a] < shape[a]) {
                    break;
                }
                index[a] = 0;
            }
        }
        List<Program.Input> inputs = new ArrayList<>(p.inputs());
        inputs.set(j, new Program.Input(shape, data));
        return new Program(p.seed(), inputs, p.steps());
    }

    private static int[] strides(int[] shape) {
        int[] strides = new int[shape.length];
        int stride = 1;
        for (int a = shape.length - 1; a >= 0; a--) {
            strides[a] = stride;
            stride *= shape[a];
        }
        return strides;
    }

    private static int[] removeAxis(int[] shape, int axis) {
        int[] out = new int[shape.length - 1];
        for (int a = 0, o = 0; a < shape.length; a++) {
            if (a != axis) {
                out[o++] = shape[a];
            }
        }
        return out;
    }

    private static int[] resized(int[] shape, int axis, int length) {
        int[] out = shape.clone();
        out[axis] = length;
        return out;
    }

    /** Simpler variants of one step's parameters. */
    private static List<Step> simplifications(Step step) {
        List<Step> out = new ArrayList<>();
        if (step.prefix() != Prefix.NONE) {
            out.add(step.withPrefix(Prefix.NONE));
        }
        switch (step.kind()) {
            case ADD_SCALAR, SUB_SCALAR, MUL_SCALAR, DIV_SCALAR -> {
                if (step.constant() != 1f) {
                    out.add(step.withConstant(1f));
                }
                float oneDecimal = Math.round(step.constant() * 10) / 10f;
                if (oneDecimal != step.constant() && oneDecimal != 0f) {
                    out.add(step.withConstant(oneDecimal));
                }
            }
            case POW -> {
                if (step.constant() != 2f) {
                    out.add(step.withConstant(2f));
                }
            }
            case LINEAR -> {
                if (step.operands()[2] != Step.ABSENT) {
                    out.add(step.withOperands(step.operands()[0], step.operands()[1], Step.ABSENT));
                }
                if (step.activation() != Activation.IDENTITY) {
                    out.add(step.withActivation(Activation.IDENTITY));
                }
            }
            case CONV2D -> {
                if (step.operands()[2] != Step.ABSENT) {
                    out.add(step.withOperands(step.operands()[0], step.operands()[1], Step.ABSENT));
                }
                // stride, padding and dilation toward 1, 0 and 1, one at a time
                int[] plain = {0, 0, 0, 1, 0, 1, 0};
                for (int k = 3; k <= 5; k++) {
                    if (step.geometry()[k] != plain[k]) {
                        int[] simpler = step.geometry().clone();
                        simpler[k] = plain[k];
                        out.add(step.withGeometry(simpler));
                    }
                }
            }
            case MAX_POOL2D, AVG_POOL2D -> {
                int[] g = step.geometry();
                if (g[2] != 0) {
                    out.add(step.withGeometry(g[0], g[1], 0));
                }
                if (g[1] != 1) {
                    out.add(step.withGeometry(g[0], 1, g[2]));
                }
            }
            case BATCH_NORM -> {
                for (int k = 1; k <= 2; k++) {
                    if (step.operands()[k] != Step.ABSENT) {
                        int[] operands = step.operands().clone();
                        operands[k] = Step.ABSENT;
                        out.add(step.withOperands(operands));
                    }
                }
            }
            case SUM_AXIS, MEAN_AXIS, MAX_AXIS -> {
                if (step.flag()) {
                    out.add(step.withFlag(false));
                }
            }
            case NARROW -> {
                // start 0 and length 1, so that shrinking the input's axis toward 1 keeps the step valid
                int[] g = step.geometry();
                if (g[0] != 0) {
                    out.add(step.withGeometry(0, g[1]));
                }
                if (g[1] != 1) {
                    out.add(step.withGeometry(g[0], 1));
                }
            }
            case SPLIT -> {
                int[] g = step.geometry();
                if (g[1] != 0) {
                    out.add(step.withGeometry(g[0], 0));
                }
                if (g[0] != 1) {
                    out.add(step.withGeometry(1, g[1]));
                }
            }
            case INDEX_SELECT -> {
                int[] indices = step.geometry();
                if (indices.length > 1) {
                    out.add(step.withGeometry(indices[0]));
                }
                if (Arrays.stream(indices).anyMatch(i -> i != 0)) {
                    out.add(step.withGeometry(new int[indices.length]));
                }
            }
            case MASKED_FILL -> {
                if (step.shape().length > 0) {
                    out.add(step.withShape());
                }
            }
            default -> {
            }
        }
        return out;
    }
}
