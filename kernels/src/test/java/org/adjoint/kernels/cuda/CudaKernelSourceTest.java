package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The CUDA source as text: what NVRTC needs of it, and what the Java side assumes of it. */
class CudaKernelSourceTest {

    private static final Pattern INCLUDE = Pattern.compile("(?m)^\\s*#\\s*include\\b");
    private static final Pattern ENTRY_POINT = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+void\\s+(\\w+)\\s*\\(");
    private static final Pattern GLOBAL = Pattern.compile("__global__");
    /** Names that come from host or standard headers, which NVRTC does not have. */
    private static final Pattern HOST_HEADER_NAME = Pattern.compile(
            "\\b(NULL|INFINITY|NAN|HUGE_VALF?|FLT_MAX|FLT_MIN|size_t|u?int\\d+_t|offsetof|printf|assert)\\b|\\bstd::");

    @Test
    void includesNothingSoThatNvrtcCompilesItAsItIs() {
        Matcher include = INCLUDE.matcher(CudaKernelSource.source());
        assertTrue(!include.find(), () -> "NVRTC has no headers to include, but the source has '"
                + lineAt(CudaKernelSource.source(), include.start()) + "'");
    }

    @Test
    void usesNoNameThatOnlyHostHeadersDefine() {
        String code = withoutComments(CudaKernelSource.source());
        Matcher name = HOST_HEADER_NAME.matcher(code);
        assertTrue(!name.find(), () -> "'" + name.group() + "' is defined by host headers, which NVRTC lacks: '"
                + lineAt(code, name.start()) + "'");
    }

    @Test
    void kernelNamesAreTheExternCEntryPointsInSourceOrder() {
        String code = withoutComments(CudaKernelSource.source());
        List<String> found = new ArrayList<>();
        Matcher entry = ENTRY_POINT.matcher(code);
        while (entry.find()) {
            found.add(entry.group(1));
        }
        assertEquals(CudaKernelSource.kernelNames(), found);
        assertEquals(found.size(), GLOBAL.matcher(code).results().count(),
                "every __global__ function must be extern \"C\", or its PTX name is mangled");
    }

    @Test
    void constantsAgreeWithTheSource() {
        String source = CudaKernelSource.source();
        assertContains(source, "#define ADJOINT_MAX_RANK " + CudaKernelSource.MAX_RANK);
        assertContains(source, "#define ADJOINT_SOFTMAX_ROW_BLOCK_MIN_LENGTH "
                + CudaKernelSource.SOFTMAX_ROW_BLOCK_MIN_LENGTH);
        assertContains(source, "static_assert(sizeof(Strided) == " + CudaKernelSource.STRIDED_BYTES);
        assertEquals(CudaKernelSource.STRIDED_A_OFFSET,
                CudaKernelSource.STRIDED_SHAPE_OFFSET + Long.BYTES * CudaKernelSource.MAX_RANK);
        assertEquals(CudaKernelSource.STRIDED_B_OFFSET,
                CudaKernelSource.STRIDED_A_OFFSET + Long.BYTES * CudaKernelSource.MAX_RANK);
        assertEquals(CudaKernelSource.STRIDED_BYTES,
                CudaKernelSource.STRIDED_B_OFFSET + Long.BYTES * CudaKernelSource.MAX_RANK);
    }

    @Test
    void theSourceIsReadOnceAndTheNamesCannotChange() {
        assertSame(CudaKernelSource.source(), CudaKernelSource.source());
        assertThrows(UnsupportedOperationException.class, () -> CudaKernelSource.kernelNames().add("extra"));
    }

    private static void assertContains(String source, String text) {
        assertTrue(source.contains(text), () -> "the CUDA source should contain '" + text + "'");
    }

    private static String lineAt(String text, int index) {
        int start = text.lastIndexOf('\n', index) + 1;
        int end = text.indexOf('\n', index);
        return text.substring(start, end < 0 ? text.length() : end).strip();
    }

    /** Blanks comments, keeping line breaks so that positions stay on their lines. */
    static String withoutComments(String source) {
        StringBuilder code = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            int end;
            if (source.startsWith("/*", i)) {
                end = source.indexOf("*/", i + 2);
                end = end < 0 ? source.length() : end + 2;
            } else if (source.startsWith("//", i)) {
                end = source.indexOf('\n', i);
                end = end < 0 ? source.length() : end;
            } else {
                if (source.charAt(i) == '"') {
                    // A string literal is copied whole, so that no comment marker inside it counts.
                    end = i + 1;
                    while (end < source.length() && source.charAt(end) != '"') {
                        end += source.charAt(end) == '\\' ? 2 : 1;
                    }
                    end = Math.min(end + 1, source.length());
                } else {
                    end = i + 1;
                }
                code.append(source, i, end);
                i = end;
                continue;
            }
            for (int k = i; k < end; k++) {
                code.append(source.charAt(k) == '\n' ? '\n' : ' ');
            }
            i = end;
        }
        return code.toString();
    }
}
