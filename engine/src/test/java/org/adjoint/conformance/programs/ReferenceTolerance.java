package org.adjoint.conformance.programs;

/**
 * How far a backend's values and gradients may be from a reference backend's, element by
 * element: {@code |actual - reference| <= relative·|reference| + ofLargest·max|reference| +
 * absolute}, the maximum over the tensor compared.
 *
 * <p>The relative term is the rounding each element carries of itself. The absolute term is
 * for elements that cancel to nearly 0 (a sum of terms of either sign, {@code x - x} fed to
 * later steps): they keep the rounding of the terms they came from, which a per-element
 * relative bound cannot see. The programs' inputs and most intermediate values are of order 1,
 * so that rounding is absolute, of order {@code 1e-6}. The term in the tensor's largest
 * magnitude is a coarser stand-in for the same, which makes small elements next to a large one
 * almost unchecked; {@link #PROVIDERS} leaves it out.
 *
 * @param relative  bound per unit of the element's own magnitude
 * @param ofLargest bound per unit of the largest magnitude in the reference tensor
 * @param absolute  bound for every element
 */
public record ReferenceTolerance(double relative, double ofLargest, double absolute) {

    /**
     * The vector kernels against their scalar twin: {@code 1e-4·|reference| + 5e-5}. The
     * providers differ by a few float32 ulps per operation (vector {@code exp}, {@code log},
     * {@code tanh}, lane-wise sums); {@code 1e-4} is about 800 ulps, room for that to grow
     * through 30 operations. Over 60,000 random programs (seeds 1, 100001 and 200001, 20,000
     * each) the largest difference left after the relative term was {@code 1.25e-5}, on a
     * scalar that cancelled to {@code 4.5e-8} from terms of order 1: the floor is four times that.
     */
    public static final ReferenceTolerance PROVIDERS = new ReferenceTolerance(1e-4, 0, 5e-5);

    /**
     * A thousandth of the tensor's largest magnitude plus {@code 1e-4}, the bound every
     * comparison used before {@link #PROVIDERS}: the GPU against the CPU keeps it until a GPU
     * run measures a per-element one (other sum orders, fused multiply-adds in cuBLAS, CUDA's
     * {@code expf}).
     */
    public static final ReferenceTolerance LARGEST = new ReferenceTolerance(0, 1e-3, 1e-4);

    /**
     * The first element outside the bound.
     *
     * @param reference the reference backend's elements
     * @param actual    the backend under test's elements
     * @return what differs, with the numbers and the bound, or {@code null} when every element agrees
     */
    public String firstDisagreement(float[] reference, float[] actual) {
        if (reference.length != actual.length) {
            return reference.length + " elements expected, " + actual.length + " found";
        }
        double floor = ofLargest * Ops.maxAbs(reference) + absolute;
        for (int i = 0; i < reference.length; i++) {
            double allowed = relative * Math.abs(reference[i]) + floor;
            if (!(Math.abs((double) reference[i] - actual[i]) <= allowed)) {
                return "element " + i + ": " + reference[i] + " (reference) vs " + actual[i] + ", allowed difference "
                        + (float) allowed;
            }
        }
        return null;
    }
}
