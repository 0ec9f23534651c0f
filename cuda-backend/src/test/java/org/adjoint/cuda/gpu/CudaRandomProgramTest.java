package org.adjoint.cuda.gpu;

import java.util.stream.LongStream;
import java.util.stream.Stream;

import org.adjoint.backend.Backend;
import org.adjoint.conformance.RandomProgramConformance;
import org.adjoint.conformance.programs.ReferenceTolerance;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;

/**
 * Random programs on the GPU, each also run on the CPU backend, whose values and gradients
 * the GPU's must match. Fewer programs than the CPU's suite runs by default: every check
 * downloads its results, so a program costs many device round trips, and the CPU's run
 * already covers the generator's reach; {@code -Dadjoint.test.programs=N} asks for more.
 */
@Tag("gpu")
class CudaRandomProgramTest extends RandomProgramConformance {

    /** Programs per GPU run unless {@code adjoint.test.programs} says otherwise. */
    static final int GPU_PROGRAMS = 500;

    private static final CudaBackend CUDA = new CudaBackend();
    private static final Backend CPU = new CpuBackend();

    /** Hides the CPU-sized default of {@link RandomProgramConformance}; the same properties apply. */
    static Stream<Long> seeds() {
        long first = Long.getLong("adjoint.test.seed", 1L);
        return LongStream.range(first, first + Integer.getInteger("adjoint.test.programs", GPU_PROGRAMS)).boxed();
    }

    @Override
    protected Backend backend() {
        return CUDA;
    }

    @Override
    protected Backend referenceBackend() {
        return CPU;
    }

    /** Not yet measured on a GPU: the bound in the tensor's largest magnitude that every comparison used before. */
    @Override
    protected ReferenceTolerance referenceTolerance() {
        return ReferenceTolerance.LARGEST;
    }

    @Override
    protected String description() {
        return "cuda (" + CUDA.deviceName() + ", compared with the cpu backend)";
    }
}
