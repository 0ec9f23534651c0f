package org.adjoint.internal;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;

/**
 * The one driver of every {@link Primitive}: it runs the forward computation and is the only
 * place that attaches tangents (with the primitive's JVP), records a node, saves what the
 * primitive declares (through the version check) and, by recording, checks anomalies.
 */
public final class Ops {

    static final Primitive.Residuals DISCARD = new Primitive.Residuals() {
        @Override
        public void keep(Tensor residual) {
        }

        @Override
        public boolean wanted() {
            return false;
        }
    };

    private Ops() {
    }

    /**
     * Applies a primitive.
     *
     * <p>Allocation: nothing beyond what the forward computation allocates when no input
     * requires a gradient or carries a tangent; one node and one entry per saved tensor when
     * recording, as the hand-written primitives did; a few small objects in forward mode.
     *
     * @param primitive  the primitive
     * @param attributes its attributes for this call
     * @param inputs     its inputs
     * @param <A>        the type of its attributes
     * @return the output, recorded when an input requires a gradient in grad mode, and carrying
     *         a tangent when an input carries one in a forward-mode pass
     */
    public static <A> Tensor apply(Primitive<A> primitive, A attributes, Tensor... inputs) {
        boolean record = Graph.recording(inputs);
        boolean tangents = Forward.any(inputs);
        if (!record && !tangents) {
            return primitive.forward(attributes, inputs, DISCARD);
        }
        PrimitiveNode<A> node = record ? new PrimitiveNode<>(primitive, attributes) : null;
        Primals<A> primals = tangents ? new Primals<>(inputs) : null;
        Tensor output = primitive.forward(attributes, inputs, primals != null ? primals : node);
        if (tangents) {
            primals.output = output;
            Tensor[] inputTangents = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                inputTangents[i] = Forward.tangent(inputs[i]);
            }
            Forward.attach(output, primitive.jvp(attributes, primals, inputTangents));
        }
        if (!record) {
            return output;
        }
        if (primals != null) {
            for (Tensor residual : primals.residuals) {
                node.keep(residual);
            }
        }
        Graph.record(node, output, inputs);
        for (int i = 0; i < inputs.length; i++) {
            if (primitive.savesInput(attributes, i, inputs)) {
                node.save(i, inputs[i]);
            }
        }
        if (primitive.savesOutput(attributes)) {
            node.save(PrimitiveNode.OUTPUT, output);
        }
        node.connectInputs(inputs);
        return output;
    }

    /** The values a JVP reads, and the residuals the forward kept, in a forward-mode pass. */
    private static final class Primals<A> implements Primitive.Values, Primitive.Residuals {
        private final Tensor[] inputs;
        private final List<Tensor> residuals = new ArrayList<>(2);
        private Tensor output;

        Primals(Tensor[] inputs) {
            this.inputs = inputs;
        }

        @Override
        public void keep(Tensor residual) {
            residuals.add(residual);
        }

        @Override
        public Tensor input(int index) {
            return Forward.primal(inputs[index]);
        }

        @Override
        public Tensor output() {
            return Forward.primal(output);
        }

        @Override
        public Tensor residual(int index) {
            return residuals.get(index);
        }

        @Override
        public int[] inputShape(int index) {
            return Compute.shape(inputs[index]);
        }
    }
}
