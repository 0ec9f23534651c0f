package org.adjoint.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.cuda.internal.CudnnLibrary;
import org.adjoint.cuda.internal.CudnnShape;
import org.adjoint.cuda.internal.ForeignCudnn;

/** The cuDNN modes of {@link FakeCudaChild}, whose output {@link FakeCudnnTest} reads. */
final class FakeCudnnPrograms {
    private FakeCudnnPrograms() {
    }

    /** One small grouped, strided, dilated convolution in each direction, twice: are the bits the same? */
    static void convolutions(CudaBackend cuda) {
        System.out.println("convolution: " + cuda.convolutionPath());
        ConvGeometry geometry = new ConvGeometry(4, 9, 8, 3, 2, 2, 2, 2);
        int images = 5;
        int outputs = 6;
        int groups = 2;
        float[] x = ramp(images * (int) geometry.imageSize(), 0.37f);
        float[] w = ramp(outputs * (int) (geometry.columnRows() / groups), 0.11f);
        float[] dy = ramp(images * outputs * (int) geometry.columnCols(), 0.23f);
        try {
            boolean repeatable = true;
            StringBuilder bits = new StringBuilder();
            for (int direction = 0; direction < 3; direction++) {
                float[] first = convolve(cuda, direction, geometry, images, outputs, groups, x, w, dy);
                float[] again = convolve(cuda, direction, geometry, images, outputs, groups, x, w, dy);
                repeatable &= Arrays.equals(first, again);
                bits.append(' ').append(Arrays.hashCode(again));
            }
            System.out.println("repeatable: " + repeatable);
            System.out.println("fallbacks: " + cuda.cudnnFallbacks());
            System.out.println("result bits:" + bits);
        } catch (IllegalStateException e) {
            System.out.println("error: " + e.getMessage());
        }
    }

    /**
     * The forward pass of one shape, then again while 32 MiB of the 64 MiB fake device are
     * held: the algorithm that ran first has no room for its workspace the second time.
     */
    static void settledAlgorithm(CudaBackend cuda) {
        ConvGeometry geometry = new ConvGeometry(4, 9, 8, 3, 2, 2, 2, 2);
        float[] x = ramp(5 * (int) geometry.imageSize(), 0.37f);
        float[] w = ramp(6 * (int) (geometry.columnRows() / 2), 0.11f);
        float[] dy = ramp(5 * 6 * (int) geometry.columnCols(), 0.23f);
        convolve(cuda, 0, geometry, 5, 6, 2, x, w, dy);
        System.out.println("first call done");
        Buffer held = cuda.allocate(8 << 20);
        convolve(cuda, 0, geometry, 5, 6, 2, x, w, dy);
        System.out.println("fallbacks: " + cuda.cudnnFallbacks());
        cuda.release(held);
    }

    /** Values over several binades, so that adding them in another order shows in the bits. */
    private static float[] ramp(int n, float step) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (Math.sin(i * step) * Math.pow(10, i % 5 - 2));
        }
        return values;
    }

    private static float[] convolve(CudaBackend cuda, int direction, ConvGeometry geometry, int images, int outputs,
                                    int groups, float[] x, float[] w, float[] dy) {
        Buffer result = cuda.allocate(direction == 0 ? dy.length : direction == 1 ? x.length : w.length);
        switch (direction) {
            case 0 -> cuda.conv2d(cuda.upload(x), cuda.upload(w), geometry, images, outputs, groups, result);
            case 1 -> cuda.conv2dInputGrad(cuda.upload(dy), cuda.upload(w), geometry, images, outputs, groups, result);
            default -> cuda.conv2dWeightGrad(cuda.upload(x), cuda.upload(dy), geometry, images, outputs, groups, result);
        }
        return cuda.download(result);
    }

    /**
     * Forward and input gradient over 3 shapes twice (cached: 3 descriptors each, and one
     * convolution descriptor per direction), then the forward pass over 80 more: only the
     * newest {@link ForeignCudnn#CACHE_CAPACITY} shapes keep descriptors. The count is the
     * fake library's own.
     */
    @SuppressWarnings("restricted") // the fake library's counter; the child runs with native access granted
    static void descriptorCache(CudaBackend cuda) throws Throwable {
        MethodHandle live = Linker.nativeLinker().downcallHandle(
                SymbolLookup.libraryLookup("libcudnn.so.9", Arena.global()).find("fakeCudnnLiveDescriptors").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        for (int round = 0; round < 2; round++) {
            for (int images = 1; images <= 3; images++) {
                ConvGeometry geometry = new ConvGeometry(2, 5, 5, 3, 3, 1, 1, 1);
                float[] x = new float[images * 50];
                float[] dy = new float[images * 3 * 25];
                convolve(cuda, 0, geometry, images, 3, 1, x, new float[54], dy);
                convolve(cuda, 1, geometry, images, 3, 1, x, new float[54], dy);
            }
        }
        System.out.println("after 3 shapes, twice: " + (long) live.invokeExact() + " live descriptors");
        for (int images = 1; images <= 80; images++) {
            ConvGeometry geometry = new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1);
            convolve(cuda, 0, geometry, images, 1, 1, new float[images * 16], new float[4], new float[images * 9]);
        }
        System.out.println("after 80 shapes: " + (long) live.invokeExact() + " live descriptors");
        heldShapes();
    }

    /** On a handle of its own (the fake takes the stream 0x20): a held shape survives a full cache. */
    @SuppressWarnings("try") // the explicit close inside try-with-resources is the double close under test
    private static void heldShapes() {
        CudnnShape.Direction forward = CudnnShape.Direction.FORWARD;
        ForeignCudnn closed;
        try (ForeignCudnn cudnn = ForeignCudnn.open(CudnnLibrary.load(13, null), 0x20, false)) {
            CudnnShape held = CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), 1, 1, 1);
            ForeignCudnn.Call call = cudnn.prepare(forward, held);
            for (int images = 2; images <= ForeignCudnn.CACHE_CAPACITY + 1; images++) {
                cudnn.prepare(forward, CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), images, 1, 1)).close();
            }
            // The held shape is the least recently used: the count says whether it was destroyed.
            int whileOpen = cudnn.cachedShapes();
            call.close();
            cudnn.prepare(forward, CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), 100, 1, 1)).close();
            System.out.println("while a call is open: " + whileOpen + " shapes; after: " + cudnn.cachedShapes()
                    + " shapes");
            // Closed here and again by try-with-resources: the second close must not destroy the handle twice.
            cudnn.close();
            closed = cudnn;
        }
        try {
            closed.prepare(forward, CudnnShape.of(new ConvGeometry(1, 4, 4, 2, 2, 1, 0, 1), 1, 1, 1));
            System.out.println("after close: prepared");
        } catch (IllegalStateException e) {
            System.out.println("after close: " + e.getMessage());
        }
    }
}
