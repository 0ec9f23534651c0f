package org.adjoint.kernels;

import java.util.Locale;

/** The kernels' true/false system properties, read one way: strictly, with an error that names the property. */
final class Switches {

    private Switches() {
    }

    /**
     * Reads a true/false property: unset means {@code true}.
     *
     * @param property the property's name, for the message
     * @param value    its value, or {@code null}
     * @return the setting
     * @throws IllegalArgumentException for anything but {@code true} or {@code false} (any case, blanks around)
     */
    static boolean on(String property, String value) {
        if (value == null) {
            return true;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("-D" + property + " must be true or false, got '" + value
                    + "'");
        };
    }
}
