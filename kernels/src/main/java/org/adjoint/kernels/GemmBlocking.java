package org.adjoint.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The block sizes of {@link PackedGemm} for one register tile, from the data caches of the
 * running CPU, as BLIS and OpenBLAS pick theirs per micro-architecture:
 * <ul>
 *   <li>KC, the steps of k per block, is 512 on every machine: it is part of the order of the
 *       arithmetic (each block of k sums into a fresh accumulator that is then added to C),
 *       so a KC chosen from the cache would make the bits of every product depend on the
 *       machine and on the tile. 512 measured best on Zen 3 and Zen 4 among 256, 384 and 512;
 *       its B sliver ({@code 512 × NR}) is 32 KiB for the 16-column tiles, the L1 data cache
 *       of both, and the micro-kernel streams the A slivers past it from L2.
 *       {@code -Dadjoint.cpu.gemm.kc} changes it, and with it the last bits of results.</li>
 *   <li>MC, the rows of A packed at once: an {@code MC × KC} block fills at most half of L2,
 *       so it stays there while every B sliver of the panel passes it.</li>
 *   <li>NC, the columns of a packed B panel: {@code KC × NC} fills at most the L3 share of
 *       one thread (the whole L3 divided by the threads), up to 2048 columns.</li>
 * </ul>
 * The sizes are read on Linux from {@code /sys/devices/system/cpu/cpu0/cache/index*}; where
 * they cannot be read, 32 KiB L1, 512 KiB L2 and 8 MiB L3 are assumed (a Zen 3 or Skylake
 * core). {@code -Dadjoint.cpu.gemm.kc}, {@code .mc} and {@code .nc} override the results (1 to
 * {@link #MAX_OVERRIDE}).
 *
 * @param kc steps of k per block
 * @param mc rows of A per packed block (a multiple of the tile's rows)
 * @param nc columns of B per packed panel (a multiple of the tile's columns)
 */
record GemmBlocking(int kc, int mc, int nc) {

    /** Steps of k per block, the same everywhere (see the class description). */
    static final int KC = 512;

    /** Bytes of the L1 data cache, L2 and L3 of one core, as read at start-up. */
    static final long[] CACHES = readCaches();

    /**
     * The blocking for an {@code mr × nr} register tile.
     *
     * @param mr rows of the tile
     * @param nr columns of the tile
     * @return the block sizes
     */
    static GemmBlocking forTile(int mr, int nr) {
        return CHOSEN.computeIfAbsent(mr * 65536 + nr, key -> choose(mr, nr));
    }

    private static final ConcurrentHashMap<Integer, GemmBlocking> CHOSEN = new ConcurrentHashMap<>();

    private static GemmBlocking choose(int mr, int nr) {
        return forCaches(mr, nr, CACHES[1], CACHES[2], Parallel.THREADS);
    }

    /**
     * The blocking for an {@code mr × nr} tile on a core with {@code l2} bytes of L2 and an
     * {@code l3}-byte L3 shared by {@code threads} threads (the properties' overrides applied):
     * {@link #forTile} with this machine's caches, and the tests with other machines'.
     */
    static GemmBlocking forCaches(int mr, int nr, long l2, long l3, int threads) {
        int kc = override("kc", KC);
        int mc = override("mc", roundDown(clamp(l2 / 2 / (Float.BYTES * (long) kc), mr, 512), mr));
        long l3Share = Math.max(l2, l3 / Math.max(1, threads));
        int nc = override("nc", roundDown(clamp(l3Share / (Float.BYTES * (long) kc), nr, 2048), nr));
        return new GemmBlocking(kc, Math.max(mr, roundDown(mc, mr)), Math.max(nr, roundDown(nc, nr)));
    }

    /**
     * One line that says what was read and chosen, for logs and benchmark reports.
     *
     * @param mr rows of the tile
     * @param nr columns of the tile
     * @return e.g. {@code tile 4x16, KC 512, MC 128, NC 2048 (L1d 32 KiB, L2 512 KiB, L3 32768 KiB, read from /sys)}
     */
    static String describe(int mr, int nr) {
        GemmBlocking blocking = forTile(mr, nr);
        return String.format(Locale.ROOT, "tile %dx%d, KC %d, MC %d, NC %d (L1d %d KiB, L2 %d KiB, L3 %d KiB%s)",
                mr, nr, blocking.kc, blocking.mc, blocking.nc, CACHES[0] >> 10, CACHES[1] >> 10, CACHES[2] >> 10,
                CACHES[3] == 1 ? ", read from /sys" : ", assumed");
    }

    /**
     * The largest KC, MC or NC a property may set: a packed panel of B is {@code KC × NC}
     * floats a thread, and an A block {@code MC × KC}, so 4096 of each keeps them at 64 MiB.
     */
    static final int MAX_OVERRIDE = 4096;

    static int override(String name, int chosen) {
        String property = "adjoint.cpu.gemm." + name;
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            return chosen;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed >= 1 && parsed <= MAX_OVERRIDE) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below with the value
        }
        throw new IllegalArgumentException("-D" + property + " must be an integer from 1 to " + MAX_OVERRIDE + ", got '" + value
                + "'");
    }

    private static long clamp(long value, long low, long high) {
        return Math.max(low, Math.min(high, value));
    }

    private static int roundDown(long value, int multiple) {
        return (int) Math.max(multiple, value / multiple * multiple);
    }

    /** L1d, L2, L3 in bytes, and 1 when they were read (0 when assumed). */
    private static long[] readCaches() {
        long[] sizes = {32 << 10, 512 << 10, 8 << 20, 0};
        Path root = Path.of("/sys/devices/system/cpu/cpu0/cache");
        boolean found = false;
        for (int index = 0; index < 8; index++) {
            Path dir = root.resolve("index" + index);
            try {
                if (!Files.isDirectory(dir)) {
                    break;
                }
                int level = Integer.parseInt(Files.readString(dir.resolve("level")).trim());
                String type = Files.readString(dir.resolve("type")).trim();
                long size = parseSize(Files.readString(dir.resolve("size")).trim());
                if (size <= 0 || level < 1 || level > 3 || type.equals("Instruction")) {
                    continue;
                }
                sizes[level - 1] = size;
                found = true;
            } catch (IOException | NumberFormatException | SecurityException e) {
                // Keep the assumed size for this level.
            }
        }
        sizes[3] = found ? 1 : 0;
        return sizes;
    }

    private static long parseSize(String text) {
        String upper = text.toUpperCase(Locale.ROOT);
        long unit = 1;
        if (upper.endsWith("K")) {
            unit = 1L << 10;
        } else if (upper.endsWith("M")) {
            unit = 1L << 20;
        } else if (upper.endsWith("G")) {
            unit = 1L << 30;
        }
        String digits = unit == 1 ? upper : upper.substring(0, upper.length() - 1);
        return Long.parseLong(digits.trim()) * unit;
    }
}
