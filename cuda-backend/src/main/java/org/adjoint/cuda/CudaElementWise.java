package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.function.Consumer;
import java.util.function.Supplier;

import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaKernels;
import org.adjoint.cuda.internal.KernelCodes;

/**
 * The operations of a {@link CudaBackend} over whole contiguous buffers, each one launch of a
 * kernel: bias and activation in place and the activation's gradient, unary functions and the
 * fused derivative times the cotangent, {@code axpy}, one parameter's Adam step, and the
 * negative log-likelihood and cross-entropy gradient by rows. An empty operand launches
 * nothing. Each launch reads its buffers' addresses inside {@code withKernels}, under the
 * device's lock: see {@link CudaDevice}.
 */
final class CudaElementWise {

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaElementWise(Supplier<CudaDevice> device) {
        this.device = device;
    }

    private void launch(Consumer<CudaKernels> work) {
        device.get().withKernels(work);
    }

    void biasActivation(UnaryOp activation, Buffer y, Buffer bias, int rows, int cols) {
        CudaBuffer matrix = cuda(y);
        CudaBuffer offsets = bias == null ? null : cuda(bias);
        if ((long) rows * cols == 0) {
            return;
        }
        launch(kernels -> kernels.biasActivation(KernelCodes.activation(activation), matrix.address(),
                offsets == null ? 0 : offsets.address(), rows, cols));
    }

    void activationGrad(UnaryOp activation, Buffer y, Buffer cotangent, Buffer out) {
        CudaBuffer outputs = cuda(y);
        CudaBuffer incoming = cuda(cotangent);
        CudaBuffer result = cuda(out);
        if (result.size() == 0) {
            return;
        }
        launch(kernels -> kernels.activationGrad(KernelCodes.activation(activation), outputs.address(),
                incoming.address(), result.address(), result.size()));
    }

    void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out) {
        CudaBuffer logp = cuda(logProbabilities);
        CudaBuffer classes = cuda(labels);
        CudaBuffer result = cuda(out);
        launch(kernels -> kernels.negativeLogLikelihood(logp.address(), classes.address(), rows, cols,
                result.address()));
    }

    void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out) {
        crossEntropyGrad(logProbabilities, labels, rows, cols, scale, null, out);
    }

    void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer cotangent, Buffer out) {
        // The kernel reads the scale on the device: the backward pass does not wait for the forward here.
        crossEntropyGrad(logProbabilities, labels, rows, cols, 0f, cuda(cotangent), out);
    }

    /** {@code cotangent}, where not null, holds the loss's cotangent, which scales the result on the device. */
    private void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale,
                                  CudaBuffer cotangent, Buffer out) {
        CudaBuffer logp = cuda(logProbabilities);
        CudaBuffer classes = cuda(labels);
        CudaBuffer result = cuda(out);
        if ((long) rows * cols == 0) {
            return;
        }
        launch(kernels -> kernels.crossEntropyGrad(logp.address(), classes.address(), rows, cols, scale,
                cotangent == null ? 0 : cotangent.address(), result.address()));
    }

    void adam(Buffer param, Buffer grad, Buffer m, Buffer v, float beta1, float beta2, float sqrtCorrection2,
              float epsilon, float step, float decay, float shrink) {
        CudaBuffer p = cuda(param);
        long n = p.size();
        if (n == 0) {
            return;
        }
        CudaBuffer g = cuda(grad);
        CudaBuffer first = cuda(m);
        CudaBuffer second = cuda(v);
        launch(kernels -> kernels.adam(p.address(), g.address(), first.address(), second.address(), n, beta1, beta2,
                sqrtCorrection2, epsilon, step, decay, shrink));
    }

    void axpy(float alpha, Buffer x, Buffer y) {
        CudaBuffer addend = cuda(x);
        CudaBuffer target = cuda(y);
        if (addend.size() == 0) {
            return;
        }
        launch(kernels -> kernels.axpy(alpha, addend.address(), target.address(), addend.size()));
    }

    void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        CudaBuffer input = cuda(x);
        CudaBuffer result = cuda(out);
        if (input.size() == 0) {
            return;
        }
        launch(kernels -> kernels.unary(KernelCodes.unary(op), parameter, input.address(), result.address(),
                input.size()));
    }

    /** One launch where the default takes two: the composition's bits ({@code unary_times}). */
    void unaryTimes(UnaryOp op, float parameter, Buffer x, Buffer grad, Buffer out) {
        CudaBuffer input = cuda(x);
        CudaBuffer factor = cuda(grad);
        CudaBuffer result = cuda(out);
        if (result.size() == 0) {
            return;
        }
        launch(kernels -> kernels.unaryTimes(KernelCodes.unary(op), parameter, input.address(),
                factor.address(), result.address(), result.size()));
    }
}
