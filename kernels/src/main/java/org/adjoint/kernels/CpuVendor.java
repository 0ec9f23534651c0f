package org.adjoint.kernels;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The CPU's vendor as Linux names it ({@code vendor_id} in {@code /proc/cpuinfo}), for the few
 * choices of the kernels that measured differently on the two vendors' cores. Empty where it
 * cannot be read (another system, or the file hidden): the choices then keep their defaults,
 * as they keep assumed cache sizes where {@code /sys} says nothing ({@link GemmBlocking}).
 */
final class CpuVendor {

    /** AMD's {@code vendor_id}. */
    static final String AMD = "AuthenticAMD";

    /** This machine's {@code vendor_id}, or the empty string. */
    static final String ID = read(Path.of("/proc/cpuinfo"));

    private CpuVendor() {
    }

    /**
     * The first {@code vendor_id} of a {@code /proc/cpuinfo}.
     *
     * @param cpuinfo the file
     * @return its value, or the empty string where the file or the field is missing or unreadable
     */
    static String read(Path cpuinfo) {
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return parse(lines);
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return ""; // unknown: the defaults hold
        }
    }

    /**
     * The value of the first {@code vendor_id} line ({@code vendor_id	: AuthenticAMD}).
     *
     * @param lines the lines of a {@code /proc/cpuinfo}
     * @return the value, trimmed, or the empty string when no line has it
     */
    static String parse(Stream<String> lines) {
        return lines.filter(line -> line.startsWith("vendor_id") && line.indexOf(':') >= 0)
                .map(line -> line.substring(line.indexOf(':') + 1).trim()).findFirst().orElse("");
    }
}
