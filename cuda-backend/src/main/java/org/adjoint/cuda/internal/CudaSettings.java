package org.adjoint.cuda.internal;

import java.util.Locale;

/**
 * The {@code -Dadjoint.cuda.*} settings the device reads when it opens, parsed strictly: a
 * value that is none of the accepted ones names the setting and itself (the device is then
 * unavailable with that reason, said at WARNING when another backend is chosen), where
 * {@code Integer.getInteger} and {@code Boolean.getBoolean} took a typo for the default.
 * A bare {@code -D} means the default, as for every Adjoint setting.
 */
public final class CudaSettings {

    /** System property: ordinal of the device to use (default 0). */
    public static final String DEVICE_PROPERTY = "adjoint.cuda.device";
    /** System property: {@code true} lets cuBLAS round float32 products' inputs to TF32 (off by default). */
    public static final String TF32_PROPERTY = "adjoint.cuda.tf32";
    /**
     * System property: {@code false} takes device memory with {@code cuMemAlloc} even where the
     * driver has stream-ordered pools ({@code cuMemAllocAsync}, the default there).
     */
    public static final String POOL_PROPERTY = "adjoint.cuda.memoryPool";

    private CudaSettings() {
    }

    /**
     * The ordinal {@code -Dadjoint.cuda.device} names.
     *
     * @return the ordinal, 0 when the property is not set
     * @throws IllegalArgumentException naming the property and its value when it is not a
     *                                  whole number (Integer.getInteger took "cuda:1" for 0, another GPU)
     */
    public static int deviceOrdinal() {
        String value = System.getProperty(DEVICE_PROPERTY);
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cuda: -D" + DEVICE_PROPERTY + "=" + value
                    + " is not a device ordinal (0, 1, ...)", e);
        }
    }

    /**
     * A true/false setting: {@code true} or {@code false} in any case, or unset for the default.
     *
     * @param property the property
     * @param fallback its value when unset
     * @return the value
     * @throws IllegalArgumentException naming the property and its value for anything else
     *                                  (Boolean.getBoolean read "1", "yes" and a bare -D as false)
     */
    static boolean flag(String property, boolean fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            return fallback; // unset, or a bare -D: the default, as for every other setting
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("cuda: -D" + property + "=" + value + " is neither true nor false");
        };
    }
}
