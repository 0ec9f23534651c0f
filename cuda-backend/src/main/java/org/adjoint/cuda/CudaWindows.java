package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.function.Supplier;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;

/**
 * The sliding windows of a {@link CudaBackend}'s convolutions: {@code im2col} (a thread per
 * column element) and {@code col2im} (a thread per image element, adding the entries that read
 * it in tap order, without atomics), after checking that the images and the columns lie inside
 * their buffers. The im2col path of the convolutions is built on these two.
 */
final class CudaWindows {

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaWindows(Supplier<CudaDevice> device) {
        this.device = device;
    }

    void im2col(Buffer input, ConvGeometry geometry, int firstImage, int images, float padValue, Buffer columns) {
        CudaBuffer source = cuda(input);
        CudaBuffer result = cuda(columns);
        long count = checkWindows("im2col", geometry, firstImage, images, source, result);
        if (count == 0) {
            return;
        }
        long first = firstImage * geometry.imageSize() * Float.BYTES;
        ConvGeometry g = geometry;
        device.get().withKernels(kernels -> kernels.im2col(source.address() + first, g.channels(), g.height(),
                g.width(), g.kernelHeight(), g.kernelWidth(), g.stride(), g.padding(), g.dilation(), images, padValue,
                result.address()));
    }

    void col2im(Buffer columns, ConvGeometry geometry, int firstImage, int images, Buffer input) {
        CudaBuffer source = cuda(columns);
        CudaBuffer result = cuda(input);
        checkWindows("col2im", geometry, firstImage, images, result, source);
        if (images * geometry.imageSize() == 0) {
            return;
        }
        long first = firstImage * geometry.imageSize() * Float.BYTES;
        ConvGeometry g = geometry;
        device.get().withKernels(kernels -> kernels.col2im(source.address(), g.channels(), g.height(), g.width(),
                g.kernelHeight(), g.kernelWidth(), g.stride(), g.padding(), g.dilation(), images,
                result.address() + first));
    }

    /** The column elements of the call, after checking that its images and columns lie inside the buffers. */
    private static long checkWindows(String operation, ConvGeometry geometry, int firstImage, int images,
                                     CudaBuffer imageBuffer, CudaBuffer columnBuffer) {
        if (firstImage < 0 || images < 0) {
            throw new IllegalArgumentException("cuda " + operation + ": images [" + firstImage + ", "
                    + ((long) firstImage + images) + ") is not a range of images");
        }
        long end = (firstImage + (long) images) * geometry.imageSize();
        if (images > 0 && end > imageBuffer.size()) {
            throw new IllegalArgumentException("cuda " + operation + ": images [" + firstImage + ", "
                    + (firstImage + images) + ") of " + geometry.imageSize() + " elements do not fit a buffer of "
                    + imageBuffer.size() + " elements");
        }
        long count = images * geometry.columnRows() * geometry.columnCols();
        if (count > columnBuffer.size()) {
            throw new IllegalArgumentException("cuda " + operation + ": " + count + " column elements do not fit a buffer of "
                    + columnBuffer.size() + " elements");
        }
        return count;
    }
}
