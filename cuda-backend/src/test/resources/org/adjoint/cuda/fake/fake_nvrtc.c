/*
 * A stand-in for libnvrtc.so.13: "compiles" by checking the options and the source's entry points.
 * It takes --gpu-architecture=compute_90 (or $FAKE_NVRTC_EXPECT_OPTION) for PTX and the same with
 * sm_ for a CUBIN, unless $FAKE_NVRTC_REJECT_SM is set (an NVRTC that does not know the
 * architecture). Built with -DFAKE_NVRTC_NO_CUBIN it lacks nvrtcGetCUBINSize and nvrtcGetCUBIN;
 * -DFAKE_NVRTC_MAJOR=12 makes nvrtcVersion say 12.
 */
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_NVRTC_MAJOR
#define FAKE_NVRTC_MAJOR 13
#endif

typedef int nvrtcResult;
enum { SUCCESS = 0, INVALID_INPUT = 3, INVALID_PROGRAM = 4, INVALID_OPTION = 5, COMPILATION = 6 };
enum { NONE = 0, PTX_OUTPUT = 1, CUBIN_OUTPUT = 2 };

typedef struct {
    char* source;
    char* log;
    int compiled;
} Program;

static const char PTX[] = "// fake PTX for compute_90\n";

nvrtcResult nvrtcVersion(int* major, int* minor) {
    *major = FAKE_NVRTC_MAJOR;
    *minor = 0;
    return SUCCESS;
}

nvrtcResult nvrtcCreateProgram(Program** program, const char* source, const char* name, int headers,
                               const char* const* headerSources, const char* const* includeNames) {
    (void) headerSources;
    (void) includeNames;
    if (!program || !source || !name || headers != 0) {
        return INVALID_INPUT;
    }
    Program* p = calloc(1, sizeof(Program));
    p->source = strdup(source);
    p->log = strdup("");
    *program = p;
    return SUCCESS;
}

nvrtcResult nvrtcCompileProgram(Program* program, int count, const char* const* options) {
    if (!program) {
        return INVALID_PROGRAM;
    }
    const char* expected = getenv("FAKE_NVRTC_EXPECT_OPTION");
    if (!expected) {
        expected = "--gpu-architecture=compute_90";
    }
    /* The same option for a real architecture: compute_XY becomes sm_XY. */
    char real[256] = "";
    const char* virtual = strstr(expected, "compute_");
    if (virtual && strlen(expected) < sizeof(real) - 1) {
        memcpy(real, expected, (size_t) (virtual - expected));
        strcat(real, "sm_");
        strcat(real, virtual + strlen("compute_"));
    }
    int output = NONE;
    if (count == 1 && strcmp(options[0], expected) == 0) {
        output = PTX_OUTPUT;
    } else if (count == 1 && real[0] && strcmp(options[0], real) == 0) {
        if (getenv("FAKE_NVRTC_REJECT_SM")) {
            free(program->log);
            program->log = strdup("nvrtc: error: invalid value for --gpu-architecture (-arch)");
            return INVALID_OPTION;
        }
        output = CUBIN_OUTPUT;
    }
    if (output == NONE) {
        free(program->log);
        program->log = strdup("fake nvrtc: unexpected options");
        return COMPILATION;
    }
    if (!strstr(program->source, "extern \"C\" __global__ void sum_to(")) {
        free(program->log);
        program->log = strdup("adjoint.cu(1): error: no sum_to");
        return COMPILATION;
    }
    program->compiled = output;
    return SUCCESS;
}

nvrtcResult nvrtcGetPTXSize(Program* program, size_t* size) {
    if (!program || program->compiled != PTX_OUTPUT) return INVALID_PROGRAM;
    *size = sizeof(PTX);
    return SUCCESS;
}

nvrtcResult nvrtcGetPTX(Program* program, char* ptx) {
    if (!program || program->compiled != PTX_OUTPUT) return INVALID_PROGRAM;
    memcpy(ptx, PTX, sizeof(PTX));
    return SUCCESS;
}

#ifndef FAKE_NVRTC_NO_CUBIN
/* An ELF header's magic, then a NUL: the bytes must travel as binary, not as a C string. */
static const unsigned char CUBIN[] = "\177ELF\0fake CUBIN for sm_90";

nvrtcResult nvrtcGetCUBINSize(Program* program, size_t* size) {
    if (!program || program->compiled != CUBIN_OUTPUT) return INVALID_PROGRAM;
    *size = sizeof(CUBIN);
    return SUCCESS;
}

nvrtcResult nvrtcGetCUBIN(Program* program, char* cubin) {
    if (!program || program->compiled != CUBIN_OUTPUT) return INVALID_PROGRAM;
    memcpy(cubin, CUBIN, sizeof(CUBIN));
    return SUCCESS;
}
#endif

nvrtcResult nvrtcGetProgramLogSize(Program* program, size_t* size) {
    if (!program) return INVALID_PROGRAM;
    *size = strlen(program->log) + 1;
    return SUCCESS;
}

nvrtcResult nvrtcGetProgramLog(Program* program, char* log) {
    if (!program) return INVALID_PROGRAM;
    strcpy(log, program->log);
    return SUCCESS;
}

nvrtcResult nvrtcDestroyProgram(Program** program) {
    if (!program || !*program) return INVALID_PROGRAM;
    free((*program)->source);
    free((*program)->log);
    free(*program);
    *program = NULL;
    return SUCCESS;
}
