package org.adjoint;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;

/**
 * Host-side data for {@link Tensor}: tensors made from host arrays, random samples that are
 * the same on every backend, and text.
 */
final class HostData {

    private HostData() {
    }

    /** {@link Tensor#of}: the shape checked against the data, then the upload. */
    static Tensor of(float[] data, int[] shape) {
        int[] dims = shape.length == 0 ? new int[] {data.length} : Shapes.checked("Tensor.of", shape);
        if (Shapes.size(dims) != data.length) {
            throw new IllegalArgumentException("Tensor.of: data has " + data.length + " elements but shape "
                    + Shapes.str(dims) + " needs " + Shapes.size(dims));
        }
        return upload("Tensor.of", data, dims);
    }

    /** {@link Tensor#randn}: drawn on the host, then uploaded. */
    static Tensor randn(long seed, int[] shape) {
        int[] dims = Shapes.checked("Tensor.randn", shape);
        return upload("Tensor.randn", normal("Tensor.randn " + Shapes.str(dims), seed, (int) Shapes.size(dims)), dims);
    }

    /** {@link Tensor#rand}: drawn on the host, then uploaded. */
    static Tensor rand(long seed, int[] shape) {
        int[] dims = Shapes.checked("Tensor.rand", shape);
        return upload("Tensor.rand", uniform("Tensor.rand " + Shapes.str(dims), seed, (int) Shapes.size(dims)), dims);
    }

    /** The upload of host data; a backend that copies it on the heap and runs out fails as one allocation. */
    static Tensor upload(String operation, float[] data, int[] dims) {
        Backend b = Backends.current();
        return HostArrays.allocate(operation + " " + Shapes.str(dims), data.length, Float.BYTES,
                () -> TensorImpl.wrap(b, b.upload(data), dims));
    }

    /** Standard normal samples: {@link SplittableRandom} and the Box–Muller transform. */
    static float[] normal(String operation, long seed, int n) {
        float[] data = HostArrays.floats(operation, n);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double radius = Math.sqrt(-2.0 * Math.log(u1));
            data[i] = (float) (radius * Math.cos(2.0 * Math.PI * u2));
            if (i + 1 < n) {
                data[i + 1] = (float) (radius * Math.sin(2.0 * Math.PI * u2));
            }
        }
        return data;
    }

    /** Uniform samples in [0, 1). */
    static float[] uniform(String operation, long seed, int n) {
        float[] data = HostArrays.floats(operation, n);
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            // 24 random bits: every float in [0, 1) with that spacing, never 1.
            data[i] = (random.nextInt() >>> 8) * 0x1.0p-24f;
        }
        return data;
    }

    /** Shape and values, abbreviated beyond six entries per axis, and where the tensor came from. */
    static String format(int[] shape, float[] data, String producer, boolean requiresGrad) {
        StringBuilder text = new StringBuilder("Tensor").append(Arrays.toString(shape)).append(' ');
        appendAxis(text, shape, data, 0, 0);
        if (producer != null) {
            text.append(" (by ").append(producer).append(')');
        } else if (requiresGrad) {
            text.append(" (requires grad)");
        }
        return text.toString();
    }

    private static void appendAxis(StringBuilder text, int[] shape, float[] data, int axis, int offset) {
        if (axis == shape.length) {
            text.append(data[offset]);
            return;
        }
        int stride = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            stride *= shape[i];
        }
        text.append('[');
        int n = shape[axis];
        for (int i = 0; i < n; i++) {
            if (n > 6 && i == 3) {
                text.append("..., ");
                i = n - 3;
            }
            appendAxis(text, shape, data, axis + 1, offset + i * stride);
            if (i < n - 1) {
                text.append(", ");
            }
        }
        text.append(']');
    }
}
