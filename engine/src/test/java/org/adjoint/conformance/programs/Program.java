package org.adjoint.conformance.programs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;

/**
 * A straight-line program over the public {@code Tensor} API: inputs with their values, then
 * steps that each read earlier values (inputs first, then step outputs, in one numbering).
 * The last step's value is the output.
 *
 * @param seed   the seed it was generated from, printed so that a failure can be rerun
 * @param inputs the inputs, in order
 * @param steps  the operations, in order; at least one
 */
public record Program(long seed, List<Input> inputs, List<Step> steps) {

    /**
     * An input tensor.
     *
     * @param shape its dimensions (rank 0 allowed)
     * @param data  its elements, row-major
     */
    public record Input(int[] shape, float[] data) {

        /**
         * The input on the current backend.
         *
         * @return a new tensor (rank 0 through {@link Tensor#scalar}, which {@code Tensor.of} cannot make)
         */
        public Tensor tensor() {
            return shape.length == 0 ? Tensor.scalar(data[0]) : Tensor.of(data, shape);
        }

        @Override
        public String toString() {
            return Arrays.toString(shape);
        }
    }

    /**
     * Copies the lists.
     *
     * @param seed   the seed
     * @param inputs the inputs
     * @param steps  the steps
     */
    public Program {
        inputs = List.copyOf(inputs);
        steps = List.copyOf(steps);
    }

    /**
     * The inputs as fresh tensors on the current backend.
     *
     * @return one tensor per input
     */
    public List<Tensor> inputTensors() {
        List<Tensor> list = new ArrayList<>(inputs.size());
        for (Input in : inputs) {
            list.add(in.tensor());
        }
        return list;
    }

    /**
     * Evaluates every value.
     *
     * @param in    the input tensors
     * @param watch where preconditions and kinks are reported
     * @return the inputs followed by every step's value
     */
    public Tensor[] evaluate(List<Tensor> in, Watch watch) {
        Tensor[] values = new Tensor[inputs.size() + steps.size()];
        for (int i = 0; i < inputs.size(); i++) {
            values[i] = in.get(i);
            if (!Arrays.equals(values[i].shape(), inputs.get(i).shape())) {
                // Whoever calls the program (GradCheck, Autodiff) must pass the inputs' shapes on unchanged.
                throw new AssertionError("input " + i + " arrived with shape " + Arrays.toString(values[i].shape())
                        + " instead of " + Arrays.toString(inputs.get(i).shape()));
            }
        }
        for (int s = 0; s < steps.size(); s++) {
            int index = inputs.size() + s;
            values[index] = Ops.apply(steps.get(s), index, values, watch);
        }
        return values;
    }

    /**
     * Evaluates the output.
     *
     * @param in    the input tensors
     * @param watch where preconditions and kinks are reported
     * @return the last step's value
     */
    public Tensor run(List<Tensor> in, Watch watch) {
        Tensor[] values = evaluate(in, watch);
        return values[values.length - 1];
    }

    /**
     * The shape of every value at the program's inputs.
     *
     * @return one shape per value
     * @throws IllegalArgumentException when an operation rejects its operands' shapes
     */
    public int[][] shapes() {
        try (var _ = GradMode.noGrad()) {
            Tensor[] values = evaluate(inputTensors(), new Watch());
            int[][] shapes = new int[values.length][];
            for (int i = 0; i < values.length; i++) {
                shapes[i] = values[i].shape();
            }
            return shapes;
        }
    }

    /**
     * The total element count of the inputs.
     *
     * @return elements, which is the number of finite-difference pairs the program costs
     */
    public int inputElements() {
        int n = 0;
        for (Input in : inputs) {
            n += in.data.length;
        }
        return n;
    }

    /**
     * The same program without the steps and inputs that the output does not depend on.
     *
     * @return a program whose every step and input reaches the output
     */
    public Program pruned() {
        int n = inputs.size() + steps.size();
        boolean[] live = new boolean[n];
        live[n - 1] = true;
        for (int v = n - 1; v >= inputs.size(); v--) {
            if (live[v]) {
                for (int r : steps.get(v - inputs.size()).reads()) {
                    live[r] = true;
                }
            }
        }
        int[] renumber = new int[n];
        List<Input> keptInputs = new ArrayList<>();
        List<Step> keptSteps = new ArrayList<>();
        int next = 0;
        for (int v = 0; v < inputs.size(); v++) {
            if (live[v]) {
                renumber[v] = next++;
                keptInputs.add(inputs.get(v));
            }
        }
        for (int v = inputs.size(); v < n; v++) {
            if (live[v]) {
                renumber[v] = next++;
                Step step = steps.get(v - inputs.size());
                int[] operands = step.operands().clone();
                for (int k = 0; k < operands.length; k++) {
                    if (operands[k] >= 0) {
                        operands[k] = renumber[operands[k]];
                    }
                }
                keptSteps.add(step.withOperands(operands));
            }
        }
        return new Program(seed, keptInputs, keptSteps);
    }

    @Override
    public String toString() {
        return "Program(seed " + seed + ", inputs " + inputs + ", steps " + steps + ")";
    }
}
