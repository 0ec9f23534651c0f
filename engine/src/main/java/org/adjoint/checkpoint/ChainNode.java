package org.adjoint.checkpoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Graph;
import org.adjoint.internal.Recomputation;
import org.adjoint.internal.SideEffects;
import org.adjoint.nn.Layer;
import org.adjoint.nn.RandomState;

/**
 * A checkpointed chain on the outer tape, and the executor of its {@link Schedule}. The
 * forward pass runs the schedule up to its first reverse; the first VJP runs the rest.
 *
 * <p>Memory is handed back the moment the schedule drops it: a state that is neither current
 * nor stored, a tape once reversed, a cotangent once consumed, and the temporaries of an
 * untaped layer call all return to the backend's pool, so the next recomputation reuses them.
 */
final class ChainNode extends RecomputingNode {

    /** One layer's recorded forward: its input as a fresh leaf, its output with history. */
    private record Tape(Tensor input, Tensor output, List<Compute.Allocation> allocations) {
    }

    private final List<Layer> layers;
    private final Set<Buffer> parameterBuffers = Collections.newSetFromMap(new IdentityHashMap<>());
    private final CheckpointMeter meter;
    private final long budget;
    private final Map<Integer, Tensor> slots = new HashMap<>();
    private final Map<Integer, Tape> tapes = new HashMap<>();
    private final Map<Buffer, Compute.Allocation> owned = new IdentityHashMap<>();
    private final long[] randomBefore;
    private final boolean[] ran;
    private Schedule schedule;
    private Tensor input;
    /**
     * The first state that needs a gradient (0: the chain input, i: layer i's output); the
     * states before it are a batch of data and what layers without parameters made of it.
     */
    private int firstStateNeedingGrad;
    private Tensor current;
    private Buffer chainOutput;

    private ChainNode(List<Layer> layers, CheckpointMeter meter, long budget) {
        this.layers = layers;
        this.meter = meter;
        this.budget = budget;
        this.randomBefore = new long[layers.size() + 1];
        this.ran = new boolean[layers.size() + 1];
    }

    static Tensor apply(List<Layer> layers, List<Tensor> parameters, Tensor x, CheckpointPolicy policy,
                        CheckpointMeter meter) {
        if (layers.isEmpty()) {
            return x; // an empty chain is the identity, as an empty Sequential
        }
        Tensor[] inputs = new Tensor[parameters.size() + 1];
        inputs[0] = x;
        for (int i = 0; i < parameters.size(); i++) {
            inputs[i + 1] = parameters.get(i);
        }
        if (!Graph.recording(inputs)) {
            // Nothing to differentiate: run the layers once, keeping nothing.
            Tensor h = x;
            for (Layer layer : layers) {
                meter.countForwardCall();
                h = layer.apply(h);
            }
            return h;
        }
        refuseTangents("checkpointed chain", inputs);
        long budget = policy instanceof CheckpointPolicy.MemoryBudget b ? b.bytes() : Long.MAX_VALUE;
        ChainNode node = new ChainNode(layers, meter, budget);
        for (Tensor p : parameters) {
            node.parameterBuffers.add(Compute.storage(p));
        }
        node.input = x;
        node.firstStateNeedingGrad = firstStateNeedingGrad(layers, x);
        node.current = x;
        // A refusal (a budget that one tape exceeds, or that a later layer's tape does) leaves
        // the model as the call found it: the side effects of the layers that ran are undone,
        // the random stream set back, and what the chain allocated handed back.
        long randomBefore = RandomState.get();
        try (SideEffects.Log log = SideEffects.begin()) {
            try {
                node.runForward(policy);
            } catch (RuntimeException | Error e) {
                RandomState.set(randomBefore);
                node.abandon(e);
                throw e;
            }
            log.commit();
        }
        Tensor last = node.tapes.get(layers.size()).output();
        node.chainOutput = Compute.storage(last);
        Tensor out = Compute.view(last.detach(), last.shape());
        return Graph.record(node, out, inputs);
    }

    /** The forward part of the schedule: up to its first reverse. */
    private void runForward(CheckpointPolicy policy) {
        // The first layer taped once tells the planner what a slot and a tape cost; the schedule
        // then starts with exactly that call (recorded or not), so no forward call is wasted.
        // Leading layers whose tape saves nothing (a reshape of the input into images, a
        // flatten) say nothing of the cost: the layers after them are probed too, up to the
        // first that saves something, and the schedule's first calls are those probes.
        List<Tape> probes = new ArrayList<>();
        long tapeBytes;
        do {
            int index = probes.size() + 1;
            Tape probe = run(index, current, true);
            probes.add(probe);
            tapes.put(index, probe);
            current = probe.output();
            tapeBytes = bytesOf(List.of(probe));
        } while (tapeBytes == 0 && probes.size() < layers.size());
        long slotBytes = 4L * current.size();
        schedule = Planner.plan(layers.size(), slotBytes, tapeBytes, policy);
        current = input;
        boolean[] consumed = new boolean[probes.size() + 1];
        int backwardStart = schedule.backwardStart();
        for (int i = 0; i < backwardStart; i++) {
            Action action = schedule.actions().get(i);
            boolean probed = action.index() <= probes.size() && !consumed[action.index()]
                    && (action.kind() == Action.Kind.ADVANCE || action.kind() == Action.Kind.RECORD);
            if (probed) {
                // The call the probe made: its tape kept if recorded, else only its output.
                consumed[action.index()] = true;
                Tape probe = probes.get(action.index() - 1);
                Tensor previous = current;
                current = probe.output();
                if (action.kind() == Action.Kind.ADVANCE) {
                    tapes.remove(action.index());
                    dropTapeKeepOutput(probe);
                    dropState(previous);
                }
                measure();
            } else {
                execute(action);
            }
        }
    }

    /** After a refused forward pass: every buffer the chain allocated goes back, each once. */
    private void abandon(Throwable failure) {
        List<Compute.Allocation> allocations = new ArrayList<>(owned.values());
        for (Tape tape : tapes.values()) {
            allocations.addAll(tape.allocations());
        }
        tapes.clear();
        slots.clear();
        owned.clear();
        current = null;
        releaseOnce(allocations, failure);
    }

    private static void releaseOnce(List<Compute.Allocation> allocations, Throwable failure) {
        Set<Buffer> released = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Compute.Allocation allocation : allocations) {
            if (released.add(allocation.buffer())) {
                try {
                    allocation.backend().release(allocation.buffer());
                } catch (RuntimeException | Error e) {
                    failure.addSuppressed(e); // the rest still go back
                }
            }
        }
    }

    @Override
    public String name() {
        return "checkpointed chain";
    }

    @Override
    protected Tensor recompute(Tensor cotangent) {
        // The chain input is a saved tensor like any rule's: recomputed by its producer if it was dropped.
        input = input();
        Tensor flowing = cotangent;
        List<Action> actions = schedule.actions();
        for (int i = schedule.backwardStart(); i < actions.size(); i++) {
            Action action = actions.get(i);
            if (action.kind() == Action.Kind.REVERSE) {
                Tape tape = tapes.remove(action.index());
                // Layers without parameters on an input that needs no gradient have nothing
                // to reverse (nor does a layer that no gradient reaches).
                if (flowing != null && tape.output().requiresGrad()) {
                    tape.output().backward(flowing);
                }
                Tensor next = tape.input().requiresGrad() ? tape.input().grad() : null;
                if (flowing != cotangent && flowing != null) {
                    releaseBuffer(flowing);
                }
                flowing = next;
                // The current state is now the reversed layer's input (the planner's view too).
                current = tape.input();
                releaseTape(tape);
                measure();
            } else {
                execute(action);
            }
        }
        return flowing;
    }

    private void execute(Action action) {
        int index = action.index();
        switch (action.kind()) {
            case ADVANCE -> {
                Tape step = run(index, current, false);
                Tensor previous = current;
                current = step.output();
                dropState(previous);
            }
            case RECORD -> {
                Tape tape = run(index, current, true);
                tapes.put(index, tape);
                current = tape.output();
            }
            case STORE -> slots.put(index, current);
            case RESTORE -> {
                Tensor previous = current;
                current = index == 0 ? input : slots.get(index);
                if (previous != current) {
                    dropState(previous);
                }
            }
            case FREE -> {
                Tensor freed = slots.remove(index);
                if (freed != current) {
                    dropState(freed);
                }
            }
            case REVERSE -> throw new IllegalStateException("reverse outside the backward pass");
        }
        measure();
    }

    /** 0 when the chain input requires a gradient, else the first layer with a parameter that requires one. */
    private static int firstStateNeedingGrad(List<Layer> layers, Tensor x) {
        if (x.requiresGrad()) {
            return 0;
        }
        int layer = 0;
        while (layer < layers.size() && layers.get(layer).parameters().stream().noneMatch(Tensor::requiresGrad)) {
            layer++;
        }
        return layer + 1;
    }

    /** Runs layer {@code index} on {@code in}, replaying its random draws on a re-run. */
    private Tape run(int index, Tensor in, boolean record) {
        Layer layer = layers.get(index - 1);
        long outerRandom = RandomState.get();
        boolean replay = ran[index];
        if (replay) {
            RandomState.set(randomBefore[index]);
        } else {
            randomBefore[index] = outerRandom;
            ran[index] = true;
        }
        meter.countForwardCall();
        List<Compute.Allocation> allocations = new ArrayList<>();
        List<Compute.Allocation> outer = Compute.track(allocations);
        // A re-run computes what the first run computed; side effects (running statistics) happened then.
        Recomputation.Scope rerun = replay ? Recomputation.enter() : null;
        try {
            if (record) {
                try (var _ = GradMode.enableGrad()) {
                    // An input that needs no gradient (a batch of data, or what layers without
                    // parameters made of it) is not made a leaf that gets one: the first
                    // convolution's input gradient, or the first linear layer's, would be dropped.
                    Tensor leaf = index - 1 >= firstStateNeedingGrad ? in.detach().requiresGrad(true) : in.detach();
                    return new Tape(leaf, applyOrRelease(layer, leaf, allocations), allocations);
                }
            }
            try (var _ = GradMode.noGrad()) {
                Tensor out = applyOrRelease(layer, in, allocations);
                Buffer kept = Compute.storage(out);
                for (Compute.Allocation allocation : allocations) {
                    if (allocation.buffer() == kept) {
                        owned.put(kept, allocation);
                    } else {
                        allocation.backend().release(allocation.buffer());
                    }
                }
                return new Tape(null, out, List.of());
            }
        } finally {
            Compute.track(outer);
            if (replay) {
                rerun.close();
                RandomState.set(outerRandom);
            }
        }
    }

    /** The layer's output; when it throws, what it allocated so far (which nothing holds) goes back. */
    private static Tensor applyOrRelease(Layer layer, Tensor in, List<Compute.Allocation> allocations) {
        try {
            return layer.apply(in);
        } catch (RuntimeException | Error e) {
            releaseOnce(allocations, e);
            throw e;
        }
    }

    /** The probe's output becomes a plain state; the rest of its tape is released. */
    private void dropTapeKeepOutput(Tape tape) {
        Buffer kept = Compute.storage(tape.output());
        for (Compute.Allocation allocation : tape.allocations()) {
            if (allocation.buffer() == kept) {
                owned.put(kept, allocation);
            } else {
                allocation.backend().release(allocation.buffer());
            }
        }
    }

    private void releaseTape(Tape tape) {
        for (Compute.Allocation allocation : tape.allocations()) {
            Buffer buffer = allocation.buffer();
            if (buffer != chainOutput && !isHeld(buffer)) {
                allocation.backend().release(buffer);
            }
        }
    }

    /** Hands back a state this chain computed, unless something still holds it. */
    private void dropState(Tensor state) {
        if (state == null || state == input) {
            return;
        }
        Buffer buffer = Compute.storage(state);
        if (isHeld(buffer)) {
            return;
        }
        Compute.Allocation allocation = owned.remove(buffer);
        if (allocation != null) {
            allocation.backend().release(buffer);
        }
    }

    private boolean isHeld(Buffer buffer) {
        // The chain's output belongs to the caller, even when a last layer passed its input through.
        if (buffer == chainOutput) {
            return true;
        }
        if (current != null && Compute.storage(current) == buffer) {
            return true;
        }
        for (Tensor slot : slots.values()) {
            if (Compute.storage(slot) == buffer) {
                return true;
            }
        }
        for (Tape tape : tapes.values()) {
            if (Compute.storage(tape.output()) == buffer || Compute.storage(tape.input()) == buffer) {
                return true;
            }
        }
        return false;
    }

    private void releaseBuffer(Tensor cotangent) {
        // Cotangents between layers are the gradients of private leaves: nothing else sees them.
        Compute.backend("checkpointed chain", cotangent).release(Compute.storage(cotangent));
    }

    private long bytesOf(Iterable<Tape> live) {
        Set<Buffer> counted = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = 0;
        for (Tensor slot : slots.values()) {
            if (counted.add(Compute.storage(slot))) {
                bytes += 4L * slot.size();
            }
        }
        for (Tape tape : live) {
            for (Tensor saved : Graph.savedBy(tape.output())) {
                Buffer buffer = Compute.storage(saved);
                if (!parameterBuffers.contains(buffer) && counted.add(buffer)) {
                    bytes += 4L * saved.size();
                }
            }
        }
        return bytes;
    }

    private void measure() {
        long bytes = bytesOf(tapes.values());
        meter.held(bytes);
        if (bytes > budget) {
            throw new IllegalStateException("memoryBudget: the chain held " + bytes + " bytes, more than the budget of "
                    + budget + "; its layers save more than the first one, on which the plan was based");
        }
    }

    @Override
    protected void inputDropped() {
        input = null;
    }

    @Override
    protected void releaseSaved() {
        super.releaseSaved();
        slots.clear();
        tapes.clear();
        owned.clear();
        current = null;
        input = null;
    }
}
