package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Strided;
import org.adjoint.kernels.cuda.CudaKernelSource;
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
    void everyKernelButFillIsLaunched() {
        // fill is a 32-bit memset on the device (CudaDevice.fill), not a launch.
        List<String> expected = CudaKernelSource.kernelNames().stream().filter(name -> !name.equals("fill")).toList();
        assertEquals(expected, CudaKernels.USED);
        assertTrue(CudaKernels.USED.containsAll(List.of("gather", "scatter_add")), "the indexing kernels");
        assertTrue(CudaKernels.USED.containsAll(List.of("im2col", "col2im")), "the sliding-window kernels");
    }

    @Test
    void anEmbeddingsGradientIsScatteredInParts() {
        // The larger GPT's token embedding: 16,384 tokens into 65 rows of 384 lanes.
        assertEquals(512, CudaKernels.scatterParts(1, 16_384, 384, 65));
        // Few entries a lane, or lanes that fill the device: one thread a lane, in order.
        assertEquals(1, CudaKernels.scatterParts(1, 63, 384, 65));
        assertEquals(1, CudaKernels.scatterParts(1, 16_384, 600_000, 2));
        // An empty output axis: nothing to split.
        assertEquals(1, CudaKernels.scatterParts(1, 16_384, 384, 0));
        // GPT-2's vocabulary: two parts' partial sums would pass 64 MiB.
        assertEquals(1, CudaKernels.scatterParts(1, 16_384, 768, 50_257));
        // Partials capped at 64 MiB: 16 Mi floats over 384 · 4,096 floats a part.
        assertEquals(10, CudaKernels.scatterParts(1, 16_384, 384, 4_096));
    }

    @Test
    void compiledForTheDevicesOwnArchitecture() {
        assertEquals(List.of("--gpu-architecture=compute_90"), KernelCompiler.compileOptions(9, 0));
        assertEquals(List.of("--gpu-architecture=compute_86"), KernelCompiler.compileOptions(8, 6));
        assertEquals(List.of("--gpu-architecture=compute_120"), KernelCompiler.compileOptions(12, 0));
        assertEquals(List.of("--gpu-architecture=sm_90"), KernelCompiler.cubinOptions(9, 0));
        assertEquals(List.of("--gpu-architecture=sm_86"), KernelCompiler.cubinOptions(8, 6));
        assertEquals(List.of("--gpu-architecture=sm_120"), KernelCompiler.cubinOptions(12, 0));
    }

    @Test
    void everySpiNameMapsToTheKernelOfTheSameName() {
        for (UnaryOp op : UnaryOp.values()) {
            assertEquals(op.name(), ElementWise.Unary.values()[KernelCodes.unary(op)].name());
        }
        for (BinaryOp op : BinaryOp.values()) {
            assertEquals(op.name(), Strided.Binary.values()[KernelCodes.binary(op)].name());
        }
        assertEquals(Fused.Activation.IDENTITY.ordinal(), KernelCodes.activation(null));
        for (UnaryOp op : new UnaryOp[] {UnaryOp.RELU, UnaryOp.TANH, UnaryOp.SIGMOID}) {
            assertEquals(op.name(), Fused.Activation.values()[KernelCodes.activation(op)].name());
        }
        var error = assertThrows(IllegalArgumentException.class, () -> KernelCodes.activation(UnaryOp.EXP));
        assertEquals("linear tail: EXP is not a fused activation (RELU, TANH, SIGMOID, or null for none)",
                error.getMessage());
    }

    @Test
    void oneBlockSizeEverywhere() {
        assertEquals(256, LaunchGrid.THREADS);
    }
}
