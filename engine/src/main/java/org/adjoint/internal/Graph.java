package org.adjoint.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Anomaly;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;

/**
 * Records nodes during the forward pass and runs the reverse pass over them.
 *
 * <p>The tape is confined to a thread: nothing here is synchronised, and a graph is recorded
 * and reversed by one thread at a time. Separate graphs on separate threads (two models
 * trained concurrently) share nothing and need no coordination. Handing a tensor with
 * history to another thread is allowed between passes (with the usual happens-before edge,
 * such as an executor's); during a backward pass the nodes it reverses are marked, and
 * another thread that reaches them fails instead of racing.
 */
public final class Graph {

    /** Up to this many pending cotangents, recycling scans them instead of building a set. */
    private static final int FEW_PENDING = 8;

    private Graph() {
    }

    /**
     * Whether an operation on these inputs must be recorded: grad mode is on and at least one
     * input requires a gradient. Primitives ask before saving any state.
     *
     * @param inputs the operation's inputs
     * @return true when the result will have a node
     */
    public static boolean recording(Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Makes {@code node} the producer of {@code output}, with one edge per input.
     *
     * <p>Refuses an input whose graph another thread is reversing right now. In
     * {@link Anomaly} mode, also notes where the operation was created and checks its output
     * (and inputs that no recorded operation produced) for NaN and infinities.
     *
     * @param node   a fresh node holding its saved state
     * @param output the primitive's result
     * @param inputs the primitive's inputs, in the order its {@code vjp} indexes them
     * @return {@code output}, now requiring a gradient
     * @throws IllegalStateException when another thread is reversing an input's graph
     * @throws org.adjoint.autodiff.AnomalyException in anomaly mode, at a NaN or an infinity
     */
    public static Tensor record(Node node, Tensor output, Tensor... inputs) {
        Object[] edges = new Object[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor in = inputs[i];
            if (in.requiresGrad()) {
                Node p = TensorImpl.of(in).producer();
                if (p != null) {
                    checkNotReversedElsewhere(node, i, in, p);
                    edges[i] = p;
                } else {
                    edges[i] = in;
                }
            }
        }
        if (Anomaly.isEnabled()) {
            Anomalies.Origin origin = Anomalies.capture(inputs);
            node.origin(origin);
            if (!Anomalies.inRecordedRules()) {
                Anomalies.checkForward(node.name(), output, inputs, origin);
            }
        }
        node.connect(edges, TensorImpl.of(output).shape());
        node.recorded(inputs);
        TensorImpl.of(output).attach(node);
        return output;
    }

    private static void checkNotReversedElsewhere(Node node, int index, Tensor input, Node producer) {
        Thread owner = producer.reversedBy();
        Thread self = Thread.currentThread();
        if (owner != null && owner != self) {
            throw new IllegalStateException(node.name() + ": input " + index + " " + Shapes.str(TensorImpl.of(input).shape())
                    + " was computed by '" + producer.name() + "', whose graph thread '" + owner.getName()
                    + "' is reversing right now; thread '" + self.getName() + "' cannot record an operation on it "
                    + "until that backward pass returns (a graph belongs to one thread at a time)");
        }
    }

    /**
     * Reverse pass from several roots with their seeds: accumulates into the {@code grad} of
     * every reachable leaf.
     *
     * <p>Nodes run in reverse topological order, found iteratively so that a chain of any
     * length cannot overflow the stack. A node runs once all its consumers have delivered
     * their cotangents, which are summed first. Unless {@code retainGraph}, each node's saved
     * state is released right after its rules ran.
     *
     * <p>Memory: every buffer allocated during the pass is recorded, and after each node the
     * ones that no pending cotangent and no gradient uses are handed back to their backend
     * ({@link org.adjoint.backend.Backend#release}), so a steady-state training step reuses
     * the same buffers. A leaf's existing gradient is accumulated into in place, as PyTorch
     * does; each leaf's gradient has a buffer of its own.
     *
     * <p>When {@code createGraph}, the rules run with recording on, so the gradients have
     * history and can be differentiated again; nothing is recycled then, since the recorded
     * nodes hold on to intermediate results.
     *
     * <p>Threads: for the duration of the pass, every node it will reverse is marked with the
     * current thread. A backward pass from another thread that reaches a marked node, or an
     * operation recorded on another thread on a marked node's output, fails with an
     * {@link IllegalStateException} naming both threads. In {@link Anomaly} mode every
     * gradient a rule produces is checked for NaN and infinities.
     *
     * @param roots       tensors to differentiate
     * @param seeds       cotangent of each root, of its shape
     * @param retainGraph keep saved state for another backward pass
     * @param createGraph record the backward computation
     */
    public static void backward(List<Tensor> roots, List<Tensor> seeds, boolean retainGraph, boolean createGraph) {
        List<Compute.Allocation> allocations = createGraph || Forward.active() ? null : new ArrayList<>();
        Set<Buffer> gradBuffers = Collections.newSetFromMap(new IdentityHashMap<>());
        run(roots, seeds, retainGraph, createGraph, new LeafAccumulator(createGraph, allocations, gradBuffers),
                allocations, gradBuffers);
    }

    /**
     * The gradients of {@code roots} (with their seeds) with respect to {@code inputs}, which
     * may be leaves or intermediate results, returned instead of accumulated: no leaf's
     * {@code grad} changes, and the pass stops at the inputs. With {@code createGraph} the
     * gradients have history (and the graph is kept for the outer pass that will need it).
     *
     * @param roots       tensors to differentiate
     * @param seeds       cotangent of each root
     * @param inputs      tensors to differentiate with respect to
     * @param retainGraph keep saved state for another pass
     * @param createGraph record the backward computation
     * @return one gradient per input, {@code null} where no path leads to it
     */
    public static List<Tensor> gradients(List<Tensor> roots, List<Tensor> seeds, List<Tensor> inputs,
                                         boolean retainGraph, boolean createGraph) {
        GradientCapture capture = new GradientCapture(inputs);
        run(roots, seeds, retainGraph || createGraph, createGraph, capture, null, Set.of());
        return capture.results();
    }

    private static void run(List<Tensor> roots, List<Tensor> seeds, boolean retainGraph, boolean createGraph,
                            GradientSink accumulator, List<Compute.Allocation> allocations, Set<Buffer> gradBuffers) {
        List<Node> claimed = new ArrayList<>();
        boolean anomaly = Anomaly.isEnabled();
        boolean recordedRules = anomaly && createGraph;
        if (recordedRules) {
            Anomalies.recordingRules(+1);
        }
        try {
            reverse(roots, seeds, retainGraph, createGraph, accumulator, allocations, gradBuffers, claimed, anomaly);
        } finally {
            if (recordedRules) {
                Anomalies.recordingRules(-1);
            }
            for (Node node : claimed) {
                node.unclaim();
            }
        }
    }

    private static void reverse(List<Tensor> roots, List<Tensor> seeds, boolean retainGraph, boolean createGraph,
                                GradientSink accumulator, List<Compute.Allocation> allocations, Set<Buffer> gradBuffers,
                                List<Node> claimed, boolean anomaly) {
        Map<Node, Integer> pendingConsumers = countConsumers(roots, accumulator, claimed, createGraph);
        Map<Node, Tensor> cotangents = new IdentityHashMap<>();
        // Slices' cotangents waiting to be summed in one pass (SliceSum), by the sliced tensor's
        // producer, while every cotangent that producer has received so far is such a slice's.
        Map<Node, Slices> slices = new IdentityHashMap<>();
        boolean sumSlices = !createGraph && !anomaly && !Forward.active();
        ArrayDeque<Node> ready = new ArrayDeque<>();
        List<Compute.Allocation> outer = Compute.track(allocations);
        Node reversing = null;
        try (var _ = createGraph ? GradMode.enableGrad() : GradMode.noGrad()) {
            for (int i = 0; i < roots.size(); i++) {
                Tensor root = roots.get(i);
                Tensor seed = seeds.get(i);
                Node node = TensorImpl.of(root).producer();
                if (node == null || accumulator.stopsAt(node) && isOutputOf(root, accumulator)) {
                    accumulator.leaf(root, seed, seed);
                } else {
                    cotangents.merge(node, seed, Tensor::add);
                }
            }
            for (Tensor root : roots) {
                Node node = TensorImpl.of(root).producer();
                if (node != null && pendingConsumers.get(node) == 0 && !ready.contains(node)) {
                    ready.add(node);
                }
            }
            while (!ready.isEmpty()) {
                Node node = ready.pop();
                reversing = node;
                Slices waiting = slices.remove(node);
                Tensor cotangent = waiting != null ? waiting.sum() : cotangents.remove(node);
                if (accumulator.stopsAt(node)) {
                    accumulator.stopped(node, cotangent);
                    continue;
                }
                for (int i = 0; i < node.inputs(); i++) {
                    if (!node.needsGrad(i)) {
                        continue;
                    }
                    Node producer = node.inputProducer(i);
                    Node.Region region = sumSlices && producer != null && cotangent != null
                            && !cotangents.containsKey(producer) ? node.pullbackRegion(i) : null;
                    Tensor inputCotangent = cotangent == null || region != null ? null
                            : anomaly ? checkedPullback(node, i, cotangent) : node.pullback(i, cotangent);
                    if (producer != null) {
                        if (region != null) {
                            int[] shape = node.edgeShape(i);
                            slices.computeIfAbsent(producer, p -> new Slices(shape))
                                    .add(new SliceSum.Part(region, cotangent));
                        } else if (inputCotangent != null) {
                            Slices earlier = slices.remove(producer);
                            if (earlier != null) {
                                cotangents.put(producer, earlier.sum());
                            }
                            cotangents.merge(producer, inputCotangent, Tensor::add);
                        }
                        if (pendingConsumers.merge(producer, -1, Integer::sum) == 0) {
                            ready.push(producer);
                        }
                    } else if (inputCotangent != null) {
                        accumulator.leaf(node.leaf(i), inputCotangent, cotangent);
                    }
                }
                node.pullbackDone();
                reversing = null;
                if (!retainGraph) {
                    node.release();
                }
                if (allocations != null) {
                    recycle(allocations, pending(cotangents, slices), gradBuffers);
                }
            }
        } catch (RuntimeException | Error e) {
            // A node that failed between its inputs' VJPs keeps nothing of this pass (what its
            // rules shared, cotangents computed for inputs it had not handed out): a retry with
            // the same cotangent recomputes them from the values as they are then.
            if (reversing != null) {
                reversing.pullbackFailed();
            }
            // What reached leaves before the failure is added, as when contributions are added
            // as they arrive; a failure of that too is reported with the first.
            try {
                accumulator.finish();
            } catch (RuntimeException | Error second) {
                e.addSuppressed(second);
            }
            throw e;
        } finally {
            Compute.track(outer);
        }
        accumulator.finish();
        if (allocations != null) {
            recycle(allocations, List.of(), gradBuffers);
        }
    }

    /** The cotangents still pending: those summed so far and the slices' waiting to be. */
    private static Collection<Tensor> pending(Map<Node, Tensor> cotangents, Map<Node, Slices> slices) {
        if (slices.isEmpty()) {
            return cotangents.values();
        }
        List<Tensor> all = new ArrayList<>(cotangents.values());
        for (Slices waiting : slices.values()) {
            for (SliceSum.Part part : waiting.parts) {
                all.add(part.cotangent());
            }
        }
        return all;
    }

    /** The slices' cotangents one producer has received, in order, and the shape of its output. */
    private static final class Slices {
        private final int[] shape;
        private final List<SliceSum.Part> parts = new ArrayList<>(3);

        Slices(int[] shape) {
            this.shape = shape;
        }

        void add(SliceSum.Part part) {
            parts.add(part);
        }

        Tensor sum() {
            return SliceSum.sum(shape, parts);
        }
    }

    private static Tensor checkedPullback(Node node, int input, Tensor cotangent) {
        Tensor grad;
        try {
            grad = node.pullback(input, cotangent);
        } catch (RuntimeException e) {
            Anomalies.note(e, node);
            throw e;
        }
        if (grad != null) {
            Anomalies.checkGradient(node, input, grad);
        }
        return grad;
    }

    /**
     * Hands back every recorded buffer that neither a pending cotangent nor a gradient uses. It
     * runs after every node, so it allocates nothing when few cotangents are pending (the usual
     * case: a scan beats a set); with many it builds one identity set.
     */
    private static void recycle(List<Compute.Allocation> allocations, Collection<Tensor> pending, Set<Buffer> gradBuffers) {
        if (allocations.isEmpty()) {
            return;
        }
        Set<Buffer> alive = null;
        if (pending.size() > FEW_PENDING) {
            alive = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Tensor t : pending) {
                alive.add(TensorImpl.of(t).storage());
            }
        }
        for (int i = allocations.size() - 1; i >= 0; i--) {
            Compute.Allocation allocation = allocations.get(i);
            Buffer buffer = allocation.buffer();
            boolean used = alive != null ? alive.contains(buffer) : holds(pending, buffer);
            if (!used && !gradBuffers.contains(buffer)) {
                allocation.backend().release(buffer);
                int last = allocations.size() - 1;
                allocations.set(i, allocations.get(last));
                allocations.remove(last);
            }
        }
    }

    private static boolean holds(Collection<Tensor> pending, Buffer buffer) {
        for (Tensor t : pending) {
            if (TensorImpl.of(t).storage() == buffer) {
                return true;
            }
        }
        return false;
    }

    private static boolean isOutputOf(Tensor root, GradientSink sink) {
        return sink instanceof GradientCapture capture && capture.isInput(root);
    }

    /**
     * Counts, for every node reachable from the roots, how many reachable nodes consume its
     * output; refuses up front when any of them was released or refuses this pass
     * ({@link Node#checkReversible}), so that a failing second backward pass changes no
     * gradient. Marks every node it will reverse with this thread, adding those it marked to
     * {@code claimed}, and refuses one that another thread's pass holds.
     */
    private static Map<Node, Integer> countConsumers(List<Tensor> roots, GradientSink sink, List<Node> claimed,
                                                    boolean createGraph) {
        Thread self = Thread.currentThread();
        Map<Node, Integer> counts = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        IllegalStateException freed = null;
        for (Tensor root : roots) {
            Node node = TensorImpl.of(root).producer();
            if (node != null && counts.putIfAbsent(node, 0) == null) {
                stack.push(node);
            }
        }
        while (!stack.isEmpty()) {
            Node node = stack.pop();
            if (sink.stopsAt(node)) {
                continue;
            }
            // A pass on this same thread may already hold the node (a rule that runs a backward
            // pass of its own): it is the same tape, used in order.
            Thread owner = node.claim(self);
            if (owner == null) {
                claimed.add(node);
            } else if (owner != self) {
                throw new IllegalStateException("backward: the graph through '" + node.name() + "' is being reversed "
                        + "by thread '" + owner.getName() + "' right now; thread '" + self.getName() + "' cannot run "
                        + "another backward pass through it until that one returns (a graph belongs to one thread "
                        + "at a time)");
            }
            node.checkReversible(createGraph);
            if (sink instanceof GradientCapture capture) {
                node.checkCaptured(capture::isInput, capture::stopsAt);
            }
            if (node.isReleased() && freed == null) {
                // Not thrown yet: a node further down that refuses says more (retainGraph would not help it).
                freed = new IllegalStateException("backward: the graph through '" + node.name()
                        + "' was already freed by an earlier backward(); run the forward pass again, "
                        + "or pass retainGraph = true to the first backward to keep it");
            }
            for (int i = 0; i < node.inputs(); i++) {
                Node producer = node.inputProducer(i);
                if (producer != null) {
                    Integer previous = counts.put(producer, counts.getOrDefault(producer, 0) + 1);
                    if (previous == null) {
                        stack.push(producer);
                    }
                }
            }
        }
        if (freed != null) {
            throw freed;
        }
        return counts;
    }

    /**
     * The seed of {@code backward()} without one: 1 for a one-element root.
     *
     * @param root the tensor being differentiated
     * @return a tensor of ones of the root's shape
     * @throws IllegalStateException when the root has more than one element
     */
    public static Tensor unitSeed(Tensor root) {
        if (root.size() != 1) {
            throw new IllegalStateException("backward: tensor of shape " + Shapes.str(root.shape()) + " has "
                    + root.size() + " elements; backward() without a seed needs exactly one (call backward(seed))");
        }
        return Compute.full(TensorImpl.of(root).backend(), 1f, root.shape());
    }

    /**
     * Checks that a root can be differentiated and that its seed has its shape.
     *
     * @param root the tensor being differentiated
     * @param seed its cotangent
     * @throws IllegalStateException when the root does not require a gradient
     * @throws IllegalArgumentException when the seed's shape differs
     */
    public static void checkRoot(Tensor root, Tensor seed) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: tensor of shape " + Shapes.str(root.shape())
                    + " does not require a gradient (no input was marked with requiresGrad(true), "
                    + "or it was computed in a no-grad scope)");
        }
        if (!Arrays.equals(root.shape(), seed.shape())) {
            throw new IllegalArgumentException("backward: seed of shape " + Shapes.str(seed.shape())
                    + " does not match the output's shape " + Shapes.str(root.shape()));
        }
    }

    /**
     * Every tensor saved by the recorded nodes that {@code output} depends on, back to the
     * leaves: what keeping {@code output}'s graph costs in memory.
     *
     * @param output a tensor with history
     * @return the saved tensors (a tensor saved twice appears twice)
     */
    public static List<Tensor> savedBy(Tensor output) {
        List<Tensor> saved = new ArrayList<>();
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Node> stack = new ArrayDeque<>();
        Node root = TensorImpl.of(output).producer();
        if (root != null) {
            stack.push(root);
            seen.add(root);
        }
        while (!stack.isEmpty()) {
            Node node = stack.pop();
            saved.addAll(node.saved());
            for (int i = 0; i < node.inputs(); i++) {
                Node producer = node.inputProducer(i);
                if (producer != null && seen.add(producer)) {
                    stack.push(producer);
                }
            }
        }
        return saved;
    }
}
