package org.adjoint.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;

/**
 * The cotangent of a tensor read through several slices ({@code narrow}, {@code split},
 * {@code select}): the sum of each slice's cotangent placed in zeros, computed in one buffer.
 *
 * <p>Pulled back one at a time, each slice's cotangent is padded to the whole tensor and the
 * padded tensors are added in order: a transformer's query, key and value, three slices of one
 * projection, cost three zero-filled copies and two additions of the whole projection. Here,
 * for slices of one axis that do not overlap, each is copied into its range of one buffer (not
 * zeroed where the ranges cover the axis) and the buffer is added to +0 once: every element is
 * then what the padded sum gives it, one slice's value (or +0) plus zeros, which only turns a
 * −0 into +0. Other cases (overlapping ranges, several axes) pad and add in order.
 */
final class SliceSum {

    private static final String NAME = "narrow backward";

    /**
     * One slice's cotangent.
     *
     * @param region    where it goes
     * @param cotangent the slice's cotangent, of the slice's shape
     */
    record Part(Node.Region region, Tensor cotangent) {
    }

    private SliceSum() {
    }

    /**
     * The sum of the parts' cotangents, each placed in zeros, in the order given: the bits of
     * padding each and adding them one after another.
     *
     * @param shape the shape of the sliced tensor
     * @param parts at least one
     * @return a new tensor of {@code shape}
     */
    static Tensor sum(int[] shape, List<Part> parts) {
        Tensor[] operands = new Tensor[parts.size()];
        for (int i = 0; i < operands.length; i++) {
            operands[i] = parts.get(i).cotangent();
        }
        Backend backend = Compute.backend(NAME, operands);
        long size = Shapes.size(shape);
        if (parts.size() == 1) {
            Buffer out = Compute.allocate(backend, size);
            place(backend, shape, parts.get(0), out);
            return Compute.wrap(backend, out, shape.clone());
        }
        int axis = parts.get(0).region().axis();
        List<Part> sorted = new ArrayList<>(parts);
        sorted.sort(Comparator.comparingInt(part -> part.region().start()));
        boolean disjoint = true;
        long covered = 0;
        int end = 0;
        for (Part part : sorted) {
            Node.Region region = part.region();
            disjoint &= region.axis() == axis && region.start() >= end;
            end = region.start() + region.length();
            covered += region.length();
        }
        if (!disjoint) {
            Tensor sum = null;
            for (Part part : parts) {
                Buffer out = Compute.allocate(backend, size);
                place(backend, shape, part, out);
                Tensor padded = Compute.wrap(backend, out, shape.clone());
                sum = sum == null ? padded : sum.add(padded);
            }
            return sum;
        }
        Buffer out = covered == shape[axis] ? Compute.allocateUninitialized(backend, size)
                : Compute.allocate(backend, size);
        for (Part part : parts) {
            place(backend, shape, part, out);
        }
        Tensor placed = Compute.wrap(backend, out, shape.clone());
        return Compute.binary(NAME, BinaryOp.ADD, placed, Compute.full(backend, 0f, new int[0]), shape.clone());
    }

    /** Copies one part into its range of {@code out}, a contiguous buffer of {@code shape}. */
    private static void place(Backend backend, int[] shape, Part part, Buffer out) {
        Node.Region region = part.region();
        Layout into = Layout.contiguous(shape).narrowed(region.axis(), region.start(), region.length(), region.drop());
        Layout from = Compute.layout(part.cotangent());
        backend.copyStrided(Compute.storage(part.cotangent()), from.offset(), from.strides(), out, into.offset(),
                into.strides(), from.shape());
    }
}
