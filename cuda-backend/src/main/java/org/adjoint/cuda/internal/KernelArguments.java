package org.adjoint.cuda.internal;

import java.util.ArrayList;
import java.util.List;

import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * A kernel's parameter list as the driver takes it: an array of pointers, each to one
 * argument's bytes in host memory (the driver copies them at launch). A device pointer
 * argument is a pointer to its 8-byte address.
 */
final class KernelArguments {
    private final List<Pointer> values = new ArrayList<>(8);

    /** A device pointer: its address as a 64-bit value. */
    KernelArguments address(long address) {
        return i64(address);
    }

    KernelArguments i32(int value) {
        values.add(Pointer.to(new int[] {value}));
        return this;
    }

    KernelArguments i64(long value) {
        values.add(Pointer.to(new long[] {value}));
        return this;
    }

    KernelArguments f32(float value) {
        values.add(Pointer.to(new float[] {value}));
        return this;
    }

    KernelArguments struct(byte[] bytes) {
        values.add(Pointer.to(bytes));
        return this;
    }

    Pointer pointer() {
        return Pointer.to(values.toArray(NativePointerObject[]::new));
    }
}
