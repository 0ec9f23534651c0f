package org.adjoint.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;

/**
 * Adds contributions into leaves' gradients: at once, or, on a backend that
 * {@linkplain org.adjoint.backend.UpdateOps#gathersAccumulation gathers accumulation}, in
 * one call per backend when the pass ends (or when the held contributions reach
 * {@link #GATHER_LIMIT} bytes), holding the contributions until then.
 */
final class LeafAccumulator implements GradientSink {
    /** Bytes of contributions held back before they are added anyway. */
    private static final long GATHER_LIMIT = 256L << 20;

    private final boolean createGraph;
    private final List<Compute.Allocation> allocations;
    private final Set<Buffer> gradBuffers;
    private Backend gatherer;
    private Buffer[] addends = new Buffer[16];
    private Buffer[] targets = new Buffer[16];
    /** Whether the gathering put each addend in {@link #gradBuffers} (to keep it), so it takes it out again. */
    private boolean[] kept = new boolean[16];
    private int gathered;
    private long gatheredBytes;

    LeafAccumulator(boolean createGraph, List<Compute.Allocation> allocations, Set<Buffer> gradBuffers) {
        this.createGraph = createGraph;
        this.allocations = allocations;
        this.gradBuffers = gradBuffers;
    }

    @Override
    public void leaf(Tensor leaf, Tensor contribution, Tensor incoming) {
        Tensor existing = leaf.grad();
        if (createGraph) {
            TensorImpl.of(leaf).setGrad(existing == null ? contribution : existing.add(contribution));
            return;
        }
        if (existing != null) {
            // A gradient is always contiguous: it is a fresh result, or a copy made below.
            Buffer target = TensorImpl.of(existing).storage();
            Backend backend = TensorImpl.of(existing).backend();
            Buffer addend = Compute.buffer(contribution);
            if (allocations != null && backend.gathersAccumulation()) {
                gather(backend, addend, target);
            } else {
                backend.axpy(1f, addend, target);
            }
            TensorImpl.of(existing).version().increment();
            gradBuffers.add(target);
            return;
        }
        // The first contribution becomes the gradient only if the rule computed it afresh in
        // this pass; one passed through unchanged (add, reshape) may also be another input's
        // cotangent, and is copied, so that accumulating in place later never writes into a
        // tensor that something else still reads.
        // A view (a transpose's cotangent) is copied too: optimizers read gradients as flat arrays.
        TensorImpl candidate = TensorImpl.of(contribution);
        Buffer buffer = candidate.storage();
        boolean own = candidate.layout().isContiguous() && buffer != TensorImpl.of(incoming).storage()
                && !gradBuffers.contains(buffer) && allocatedHere(buffer);
        Tensor grad = own ? contribution.detach() : Compute.copy(contribution);
        gradBuffers.add(TensorImpl.of(grad).storage());
        TensorImpl.of(leaf).setGrad(grad);
    }

    private void gather(Backend backend, Buffer addend, Buffer target) {
        if (gatherer != null && gatherer != backend) {
            finish();
        }
        gatherer = backend;
        if (gathered == addends.length) {
            addends = Arrays.copyOf(addends, 2 * gathered);
            targets = Arrays.copyOf(targets, 2 * gathered);
            kept = Arrays.copyOf(kept, 2 * gathered);
        }
        addends[gathered] = addend;
        targets[gathered] = target;
        // Held in the grad set, the addend is not recycled until it has been added.
        kept[gathered] = gradBuffers.add(addend);
        gathered++;
        gatheredBytes += addend.size() * Float.BYTES;
        if (gatheredBytes >= GATHER_LIMIT) {
            finish();
        }
    }

    @Override
    public void finish() {
        if (gathered == 0) {
            return;
        }
        try {
            gatherer.axpy(1f, addends, targets, gathered);
        } finally {
            for (int i = 0; i < gathered; i++) {
                if (kept[i]) {
                    gradBuffers.remove(addends[i]);
                }
            }
            Arrays.fill(addends, 0, gathered, null);
            Arrays.fill(targets, 0, gathered, null);
            gathered = 0;
            gatheredBytes = 0;
            gatherer = null;
        }
    }

    private boolean allocatedHere(Buffer buffer) {
        if (allocations == null) {
            // Inside a forward-mode pass nothing is tracked; a copy is always safe.
            return false;
        }
        for (Compute.Allocation allocation : allocations) {
            if (allocation.buffer() == buffer) {
                return true;
            }
        }
        return false;
    }
}
