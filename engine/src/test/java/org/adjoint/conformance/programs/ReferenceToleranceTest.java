package org.adjoint.conformance.programs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The provider comparison checks each element against its own size, not the tensor's largest. */
class ReferenceToleranceTest {

    @Test
    void anErrorInASmallElementNextToALargeOneIsCaught() {
        float[] reference = {1000f, 0.01f, -3f};
        float[] offByOnePercent = {1000f, 0.0101f, -3f};
        assertEquals("element 1: 0.01 (reference) vs 0.0101, allowed difference 5.1E-5",
                ReferenceTolerance.PROVIDERS.firstDisagreement(reference, offByOnePercent));
        // The bound in the largest magnitude allows 1.0001 here: a hundred times the element.
        assertNull(ReferenceTolerance.LARGEST.firstDisagreement(reference, offByOnePercent));
    }

    /**
     * A result spanning eight orders of magnitude, perturbed in its smallest element by twice
     * the bound: caught, while rounding-sized noise (up to 8 ulps) on every element passes.
     */
    @Test
    void aPerturbedSmallElementIsCaughtAndRoundingIsNot() {
        float[] x = {400f, -0.02f, 0.5f, 3e-3f};
        float[] result = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            result[i] = x[i] * x[i] + x[i];
        }
        int smallest = 3;
        ReferenceTolerance check = ReferenceTolerance.PROVIDERS;
        float[] perturbed = result.clone();
        double allowed = check.relative() * Math.abs(result[smallest]) + check.absolute();
        perturbed[smallest] += (float) (2 * allowed);
        String found = check.firstDisagreement(result, perturbed);
        assertEquals("element 3", found == null ? null : found.substring(0, found.indexOf(':')), found);

        SplittableRandom random = new SplittableRandom(7);
        float[] rounded = result.clone();
        for (int i = 0; i < rounded.length; i++) {
            for (int ulps = random.nextInt(-8, 9); ulps != 0; ulps -= Integer.signum(ulps)) {
                rounded[i] = ulps > 0 ? Math.nextUp(rounded[i]) : Math.nextDown(rounded[i]);
            }
        }
        assertNull(check.firstDisagreement(result, rounded), () -> Arrays.toString(result) + " vs " + Arrays.toString(rounded));
    }

    @Test
    void aCancelledElementIsJudgedByTheFloor() {
        ReferenceTolerance check = ReferenceTolerance.PROVIDERS;
        assertNull(check.firstDisagreement(new float[] {4.5e-8f}, new float[] {1.25e-5f}), "the largest such difference measured");
        assertEquals("element 0: 0.0 (reference) vs 1.0E-4, allowed difference 5.0E-5",
                check.firstDisagreement(new float[] {0f}, new float[] {1e-4f}));
        assertEquals("2 elements expected, 1 found", check.firstDisagreement(new float[2], new float[1]));
    }
}
