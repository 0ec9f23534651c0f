package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Strided;
import org.adjoint.kernels.cuda.CudaKernelSource;
import org.adjoint.nn.Activation;
import org.junit.jupiter.api.Test;

/** What the backend assumes of the kernel source, checked without a GPU. */
class CudaKernelsTest {

    @Test
    void everyKernelLaunchedIsDefined() {
        assertTrue(CudaKernelSource.kernelNames().containsAll(CudaKernels.USED),
                "missing: " + CudaKernels.USED.stream().filter(n -> !CudaKernelSource.kernelNames().contains(n)).toList());
        for (String name : CudaKernels.USED) {
            assertTrue(CudaKernelSource.source().contains("extern \"C\" __global__ void " + name + "("), name);
        }
    }

    @Test
    void compiledForTheDevicesOwnArchitecture() {
        assertEquals(List.of("--gpu-architecture=compute_90"), CudaKernels.compileOptions(9, 0));
        assertEquals(List.of("--gpu-architecture=compute_86"), CudaKernels.compileOptions(8, 6));
        assertEquals(List.of("--gpu-architecture=compute_120"), CudaKernels.compileOptions(12, 0));
        assertEquals(List.of("--gpu-architecture=sm_90"), CudaKernels.cubinOptions(9, 0));
        assertEquals(List.of("--gpu-architecture=sm_86"), CudaKernels.cubinOptions(8, 6));
        assertEquals(List.of("--gpu-architecture=sm_120"), CudaKernels.cubinOptions(12, 0));
    }

    @Test
    void everyBackendEnumHasAKernelOrdinalOfTheSameName() {
        for (UnaryOp op : UnaryOp.values()) {
            assertEquals(op.name(), ElementWise.Unary.valueOf(op.name()).name());
        }
        for (BinaryOp op : BinaryOp.values()) {
            assertEquals(op.name(), Strided.Binary.valueOf(op.name()).name());
        }
        for (Activation activation : Activation.values()) {
            assertEquals(activation.name(), Fused.Activation.valueOf(activation.name()).name());
        }
    }

    @Test
    void oneBlockSizeEverywhere() {
        assertEquals(256, LaunchGrid.THREADS);
    }
}
