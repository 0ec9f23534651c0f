package org.adjoint.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;

/**
 * Adds contributions into leaves' gradients: at once, or, on a backend that
 * {@linkplain org.adjoint.backend.UpdateOps#gathersAccumulation gathers accumulation}, in
 * one call per backend when the pass ends (or when the held contributions reach
 * {@link #GATHER_LIMIT} bytes), holding the contributions until then.
 *
 * <p>A leaf's first contribution becomes its gradient when the rule computed it afresh;
 * one passed through unchanged (a residual connection's cotangent) is another reader's too,
 * so the gradient cannot be it. Such a contribution is held, not copied, until the leaf's
 * next one: when that one is fresh, it becomes the gradient with the held one added into
 * it, which costs the addition the copy would have been followed by anyway and no copy (a
 * transformer block's input, read by the residual and the layer norm, gets both). A held
 * contribution that no second one follows is copied when the pass ends.
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
    /** First contributions held instead of copied, by leaf. */
    private final Map<TensorImpl, Tensor> deferred = new IdentityHashMap<>();
    /** The held contributions' buffers that this accumulator put in {@link #gradBuffers}, so that nothing recycles them. */
    private final List<Buffer> held = new ArrayList<>();

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
            TensorImpl impl = TensorImpl.of(existing);
            add(impl.backend(), Compute.buffer(contribution), impl.storage());
            impl.version().increment();
            return;
        }
        TensorImpl target = TensorImpl.of(leaf);
        Tensor first = deferred.get(target);
        // The first contribution becomes the gradient only if the rule computed it afresh in
        // this pass; one passed through unchanged (add, reshape) may also be another input's
        // cotangent, so accumulating into it in place later would write into a tensor that
        // something else still reads: it is held for the next contribution, or copied.
        // A view (a transpose's cotangent) is copied too: optimizers read gradients as flat arrays.
        TensorImpl candidate = TensorImpl.of(contribution);
        Buffer buffer = candidate.storage();
        // Nothing adds into it in place: not a gradient, nor held for one.
        boolean unwritten = candidate.layout().isContiguous() && !gradBuffers.contains(buffer);
        boolean own = unwritten && buffer != TensorImpl.of(incoming).storage() && allocatedHere(buffer);
        if (first != null) {
            // Taken out only once its value is in a gradient: if the addition fails, the pass's end copies it.
            if (own) {
                // first + contribution, as the copy of the first plus this one would have been (the same bits: one
                // rounded addition either way), in this contribution's buffer.
                add(candidate.backend(), TensorImpl.of(first).storage(), buffer);
                adopt(target, contribution.detach());
                deferred.remove(target);
            } else {
                adopt(target, Compute.copy(first));
                deferred.remove(target);
                leaf(leaf, contribution, incoming);
            }
            return;
        }
        if (own) {
            adopt(target, contribution.detach());
        } else if (unwritten && allocations != null) {
            // Held in the grad set, it is neither recycled nor taken as another leaf's gradient while it waits.
            deferred.put(target, contribution);
            gradBuffers.add(buffer);
            held.add(buffer);
        } else {
            adopt(target, Compute.copy(contribution));
        }
    }

    private void adopt(TensorImpl leaf, Tensor grad) {
        gradBuffers.add(TensorImpl.of(grad).storage());
        leaf.setGrad(grad);
    }

    /** {@code target += addend}: at once, or gathered for the end of the pass where the backend asks for that. */
    private void add(Backend backend, Buffer addend, Buffer target) {
        if (allocations != null && backend.gathersAccumulation()) {
            gather(backend, addend, target);
        } else {
            backend.axpy(1f, addend, target);
        }
        gradBuffers.add(target);
    }

    private void gather(Backend backend, Buffer addend, Buffer target) {
        if (gatherer != null && gatherer != backend) {
            addGathered();
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
            addGathered();
        }
    }

    @Override
    public void finish() {
        try {
            copyDeferred();
            addGathered();
        } finally {
            for (Buffer buffer : held) {
                gradBuffers.remove(buffer);
            }
            held.clear();
        }
    }

    /**
     * Copies the held contributions that no second one followed into gradients of their own,
     * allocated outside this pass's record: the pass ends here, and a pass that contains this
     * one (a checkpointed block's, inside the whole model's) must not recycle them.
     */
    private void copyDeferred() {
        if (deferred.isEmpty()) {
            return;
        }
        List<Compute.Allocation> outer = Compute.track(null);
        try {
            for (Map.Entry<TensorImpl, Tensor> entry : deferred.entrySet()) {
                adopt(entry.getKey(), Compute.copy(entry.getValue()));
            }
        } finally {
            deferred.clear();
            Compute.track(outer);
        }
    }

    private void addGathered() {
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
