package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The descriptors of one convolution shape and, per direction, the algorithms that qualify for
 * it: cuDNN's heuristic list ({@code cudnnGetConvolution*Algorithm_v7}, a function of the shape
 * and the device, not of timings, so every run of a program lists the same ones), filtered:
 * those that succeeded, are <em>deterministic</em> (bitwise the same result on every call: the
 * checkpoint suites demand gradients equal to the bit between runs, and cuDNN's backward
 * algorithms that add with atomics are not), use no TF32 unless the backend's TF32 switch is
 * on, and need at most {@value #WORKSPACE_LIMIT} bytes of workspace, in the heuristic's order.
 * Workspace sizes are C {@code size_t}s, read as unsigned: a size of 2⁶³ bytes or more is not a
 * negative number here but one more size over the limit.
 *
 * <p>A direction's {@link Plan} is chosen once per shape and kept, a failed choice too (its
 * refusal names the failing call), so that a shape cuDNN cannot take costs no cuDNN calls after
 * its first. Not thread-safe: {@link ForeignCudnn} calls it under the device's lock.
 */
final class CudnnPlans {

    /** Most workspace bytes an algorithm may ask for. */
    static final long WORKSPACE_LIMIT = 1L << 30;
    /** Most algorithms asked of a heuristic (cuDNN lists a handful per direction; this only bounds a wrong count). */
    static final int MAX_ALGORITHMS = 64;

    /** Bytes of one {@code cudnnConvolution*AlgoPerf_t}: algo, status, time, (pad), memory, determinism, mathType, reserved[3], (pad). */
    private static final long PERF_BYTES = 48;
    private static final long PERF_STATUS = 4;
    private static final long PERF_MEMORY = 16;
    private static final long PERF_DETERMINISM = 24;
    private static final long PERF_MATH = 28;

    private CudnnPlans() {
    }

    /** Whether a {@code size_t} read into a {@code long} is more than {@code limit}: unsigned, so 2⁶³ and up are. */
    static boolean exceeds(long size, long limit) {
        return Long.compareUnsigned(size, limit) > 0;
    }

    /**
     * One algorithm that qualifies.
     *
     * @param algorithm      cuDNN's number
     * @param mathType       the math type the heuristic listed it with, set on the descriptor before it runs
     * @param workspaceBytes its workspace
     */
    record Candidate(int algorithm, int mathType, long workspaceBytes) {
    }

    /**
     * One direction's choice: a convolution descriptor ({@code null} when choosing failed), the
     * algorithms that qualify (best first) and, when none does, why; and, once one has run, which
     * one: from then on only that one runs (see {@link #settled()}).
     */
    static final class Plan {
        final MemorySegment convolution;
        final List<Candidate> candidates;
        final String refusal;
        private int settled = -1;

        Plan(MemorySegment convolution, List<Candidate> candidates, String refusal) {
            this.convolution = convolution;
            this.candidates = candidates;
            this.refusal = refusal;
        }

        /**
         * The candidate that ran first for this shape and direction: every later call runs it,
         * whatever memory is free, so that the same shape always takes the same algorithm (in
         * another step, or in a checkpoint's recompute).
         *
         * @return its index, or -1 before any ran
         */
        int settled() {
            return settled;
        }

        void settle(int candidate) {
            if (settled < 0) {
                settled = candidate;
            }
        }
    }

    /** The descriptors of one shape, and a plan per direction once asked for. */
    static final class Descriptors {
        final CudnnShape shape;
        private final CudnnLibrary functions;
        private final MemorySegment handle;
        private final boolean tf32;
        private final MemorySegment x;
        private final MemorySegment w;
        private final MemorySegment y;
        private final Plan[] plans = new Plan[CudnnShape.Direction.values().length];
        /** Open calls on this shape: while more than 0, the cache keeps it. */
        int pins;

        /**
         * Creates and sets the shape's tensor and filter descriptors.
         *
         * @throws CudnnException naming the failing call; the descriptors made before it are destroyed
         */
        Descriptors(CudnnLibrary functions, MemorySegment handle, boolean tf32, CudnnShape s) {
            this.functions = functions;
            this.handle = handle;
            this.tf32 = tf32;
            this.shape = s;
            MemorySegment input = null;
            MemorySegment filter = null;
            MemorySegment output = null;
            String step = "cudnnCreateTensorDescriptor";
            try {
                input = functions.create(functions.createTensor, step);
                step = "cudnnSetTensor4dDescriptorEx";
                setTensor(input, s.images(), s.channels(), s.height(), s.width());
                step = "cudnnCreateFilterDescriptor";
                filter = functions.create(functions.createFilter, step);
                step = "cudnnSetFilter4dDescriptor";
                int status = (int) functions.setFilter.invokeExact(filter, CudnnLibrary.DATA_FLOAT,
                        CudnnLibrary.TENSOR_NCHW, s.outputs(), s.channels() / s.groups(), s.kernelHeight(),
                        s.kernelWidth());
                functions.check(status, step);
                step = "cudnnCreateTensorDescriptor";
                output = functions.create(functions.createTensor, step);
                step = "cudnnSetTensor4dDescriptorEx";
                setTensor(output, s.images(), s.outputs(), s.outHeight(), s.outWidth());
            } catch (RuntimeException | Error e) {
                destroyQuietly(input, filter, output, e);
                throw e;
            } catch (Throwable t) {
                CudnnException e = new CudnnException(step, -1, "cuda: " + step + " failed creating the descriptors"
                        + " of " + s + ": " + t, t);
                destroyQuietly(input, filter, output, e);
                throw e;
            }
            this.x = input;
            this.w = filter;
            this.y = output;
        }

        private void destroyQuietly(MemorySegment input, MemorySegment filter, MemorySegment output, Throwable cause) {
            NativeFailures failures = new NativeFailures();
            if (input != null) {
                failures.run(() -> functions.call(functions.destroyTensor, input, "cudnnDestroyTensorDescriptor"));
            }
            if (filter != null) {
                failures.run(() -> functions.call(functions.destroyFilter, filter, "cudnnDestroyFilterDescriptor"));
            }
            if (output != null) {
                failures.run(() -> functions.call(functions.destroyTensor, output, "cudnnDestroyTensorDescriptor"));
            }
            failures.suppressInto(cause);
        }

        /** A packed NCHW tensor: strides C·H·W, H·W, W, 1. */
        private void setTensor(MemorySegment descriptor, int n, int c, int h, int w) throws Throwable {
            int status = (int) functions.setTensor.invokeExact(descriptor, CudnnLibrary.DATA_FLOAT, n, c, h, w,
                    c * h * w, h * w, w, 1);
            functions.check(status, "cudnnSetTensor4dDescriptorEx");
        }

        /** The descriptors of the call's operands, in the call's order. */
        MemorySegment[] operands(CudnnShape.Direction direction) {
            return switch (direction) {
                case FORWARD -> new MemorySegment[] {x, w, y};
                case BACKWARD_DATA -> new MemorySegment[] {w, y, x};
                case BACKWARD_FILTER -> new MemorySegment[] {x, y, w};
            };
        }

        /**
         * The direction's plan, chosen on the first call and kept, a failed choice too.
         *
         * @param direction which computation
         * @return the plan; without candidates when cuDNN lists none or a cuDNN call failed
         */
        Plan plan(CudnnShape.Direction direction) {
            Plan plan = plans[direction.ordinal()];
            if (plan == null) {
                plan = choose(direction);
                plans[direction.ordinal()] = plan;
            }
            return plan;
        }

        private Plan choose(CudnnShape.Direction direction) {
            MemorySegment convolution = functions.create(functions.createConvolution,
                    "cudnnCreateConvolutionDescriptor");
            try {
                return choose(direction, convolution);
            } catch (CudnnException e) {
                // A fixed reason (NOT_SUPPORTED, a math type the library refuses) would fail the same way on
                // every call: kept as the plan's refusal, so the shape costs no more cuDNN calls.
                destroyConvolution(convolution, e);
                return new Plan(null, List.of(), e.getMessage());
            } catch (RuntimeException | Error e) {
                destroyConvolution(convolution, e);
                throw e;
            } catch (Throwable t) {
                CudnnException e = new CudnnException(direction.heuristic, -1,
                        "cuda: choosing a cuDNN algorithm failed: " + t, t);
                destroyConvolution(convolution, e);
                return new Plan(null, List.of(), e.getMessage());
            }
        }

        private Plan choose(CudnnShape.Direction direction, MemorySegment convolution) throws Throwable {
            CudnnShape s = shape;
            int d = direction.ordinal();
            try (Arena arena = Arena.ofConfined()) {
                int status = (int) functions.setConvolution.invokeExact(convolution, s.padding(), s.padding(),
                        s.stride(), s.stride(), s.dilation(), s.dilation(), CudnnLibrary.CROSS_CORRELATION,
                        CudnnLibrary.DATA_FLOAT);
                functions.check(status, "cudnnSetConvolution2dDescriptor");
                functions.check((int) functions.setGroupCount.invokeExact(convolution, s.groups()),
                        "cudnnSetConvolutionGroupCount");
                int math = tf32 ? CudnnLibrary.DEFAULT_MATH : CudnnLibrary.FMA_MATH;
                functions.check((int) functions.setMathType.invokeExact(convolution, math),
                        "cudnnSetConvolutionMathType");
                MemorySegment count = arena.allocate(JAVA_INT);
                functions.check((int) functions.maxCount[d].invokeExact(handle, count),
                        direction.heuristic.replace("_v7", "MaxCount"));
                int requested = Math.clamp(count.get(JAVA_INT, 0), 1, MAX_ALGORITHMS);
                MemorySegment results = arena.allocate(PERF_BYTES * requested, 8);
                MemorySegment returned = arena.allocate(JAVA_INT);
                MemorySegment[] o = operands(direction);
                // The heuristic's descriptors come in the call's order, the convolution's before the result's.
                status = (int) functions.heuristic[d].invokeExact(handle, o[0], o[1], convolution, o[2], requested,
                        returned, results);
                functions.check(status, direction.heuristic);
                int found = Math.clamp(returned.get(JAVA_INT, 0), 0, requested);
                List<Candidate> candidates = new ArrayList<>();
                List<String> passedOver = new ArrayList<>();
                int failedStatus = 0;
                int nonDeterministic = 0;
                int otherMath = 0;
                MemorySegment bytes = arena.allocate(JAVA_LONG);
                for (int i = 0; i < found; i++) {
                    long at = i * PERF_BYTES;
                    int algorithm = results.get(JAVA_INT, at);
                    int mathType = results.get(JAVA_INT, at + PERF_MATH);
                    long memory = results.get(JAVA_LONG, at + PERF_MEMORY);
                    if (results.get(JAVA_INT, at + PERF_STATUS) != 0) {
                        failedStatus++;
                        continue;
                    }
                    if (results.get(JAVA_INT, at + PERF_DETERMINISM) != CudnnLibrary.DETERMINISTIC) {
                        nonDeterministic++;
                        continue;
                    }
                    if (!(mathType == CudnnLibrary.FMA_MATH || mathType == CudnnLibrary.DEFAULT_MATH
                            || tf32 && mathType == CudnnLibrary.TENSOR_OP_MATH)) {
                        otherMath++;
                        continue;
                    }
                    if (exceeds(memory, WORKSPACE_LIMIT)) {
                        passedOver.add("algorithm " + algorithm + " asks for " + Long.toUnsignedString(memory)
                                + " bytes");
                        continue;
                    }
                    if (tf32) {
                        // The workspace depends on the math type: queried with the one the algorithm runs with.
                        status = (int) functions.setMathType.invokeExact(convolution, mathType);
                        if (status != 0) {
                            passedOver.add("algorithm " + algorithm + ": cudnnSetConvolutionMathType(" + mathType
                                    + ") " + functions.statusName(status));
                            continue;
                        }
                    }
                    status = (int) functions.workspaceSize[d].invokeExact(handle, o[0], o[1], convolution, o[2],
                            algorithm, bytes);
                    if (status != 0) {
                        // The heuristic listed it, but it cannot size it: the next one may do.
                        passedOver.add("algorithm " + algorithm + ": " + direction.workspace + " "
                                + functions.statusName(status));
                        continue;
                    }
                    long workspace = bytes.get(JAVA_LONG, 0);
                    if (exceeds(workspace, WORKSPACE_LIMIT)) {
                        passedOver.add("algorithm " + algorithm + " needs " + Long.toUnsignedString(workspace)
                                + " bytes");
                        continue;
                    }
                    candidates.add(new Candidate(algorithm, mathType, workspace));
                }
                String refusal = null;
                if (candidates.isEmpty()) {
                    List<String> skipped = new ArrayList<>();
                    if (failedStatus > 0) {
                        skipped.add(failedStatus + " with a failed status");
                    }
                    if (nonDeterministic > 0) {
                        skipped.add(nonDeterministic + " not deterministic");
                    }
                    if (otherMath > 0) {
                        skipped.add(otherMath + " with " + (tf32 ? "another" : "a TF32") + " math type");
                    }
                    passedOver.addAll(0, skipped.isEmpty() ? List.of() : List.of("of " + found + " listed, "
                            + String.join(", ", skipped)));
                    refusal = "cuDNN lists no deterministic" + (tf32 ? "" : " non-TF32") + " algorithm within "
                            + WORKSPACE_LIMIT + " bytes of workspace for " + direction.call + " on " + s
                            + (passedOver.isEmpty() ? "" : " (" + String.join("; ", passedOver) + ")");
                }
                return new Plan(convolution, List.copyOf(candidates), refusal);
            }
        }

        private void destroyConvolution(MemorySegment convolution, Throwable cause) {
            try {
                functions.call(functions.destroyConvolution, convolution, "cudnnDestroyConvolutionDescriptor");
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }

        /** Destroys every descriptor of the shape, each tried even when one fails. */
        void close() {
            NativeFailures failures = new NativeFailures();
            for (Plan plan : plans) {
                if (plan != null && plan.convolution != null) {
                    failures.run(() -> functions.call(functions.destroyConvolution, plan.convolution,
                            "cudnnDestroyConvolutionDescriptor"));
                }
            }
            failures.run(() -> functions.call(functions.destroyTensor, x, "cudnnDestroyTensorDescriptor"));
            failures.run(() -> functions.call(functions.destroyFilter, w, "cudnnDestroyFilterDescriptor"));
            failures.run(() -> functions.call(functions.destroyTensor, y, "cudnnDestroyTensorDescriptor"));
            failures.throwFirst();
        }
    }
}
