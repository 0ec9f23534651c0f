package org.adjoint.cuda.internal;

import java.util.Locale;

/** What {@value #PROPERTY} asks for. */
public enum CudnnUse {
    /** {@code false}: the im2col path, even where cuDNN loads. */
    OFF,
    /** {@code true}, the default: cuDNN where it loads, passes its checks and takes the call; else im2col. */
    ON,
    /**
     * {@code require}: cuDNN for every convolution; its absence, a failed check, or any call
     * that would fall back to the im2col path throws {@link IllegalStateException}.
     */
    REQUIRE;

    /** System property: {@code true} (the default), {@code false} or {@code require}. */
    public static final String PROPERTY = "adjoint.cuda.cudnn";

    /**
     * The property's value.
     *
     * @return {@link #ON} when the property is not set
     * @throws IllegalArgumentException naming the value when it is none of the three
     */
    public static CudnnUse fromProperty() {
        String value = System.getProperty(PROPERTY, "true").strip();
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "" -> ON;
            case "false" -> OFF;
            case "require" -> REQUIRE;
            default -> throw new IllegalArgumentException("cuda: -D" + PROPERTY + "=" + value
                    + " is none of true, false, require");
        };
    }
}
