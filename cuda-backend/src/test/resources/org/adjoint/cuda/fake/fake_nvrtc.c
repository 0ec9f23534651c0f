/* A stand-in for libnvrtc.so.13: "compiles" by checking the options and the source's entry points. */
#include <stdlib.h>
#include <string.h>

typedef int nvrtcResult;
enum { SUCCESS = 0, INVALID_INPUT = 3, INVALID_PROGRAM = 4, COMPILATION = 6 };

typedef struct {
    char* source;
    char* log;
    int compiled;
} Program;

static const char PTX[] = "// fake PTX for compute_90\n";

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
    if (count != 1 || strcmp(options[0], expected ? expected : "--gpu-architecture=compute_90") != 0) {
        free(program->log);
        program->log = strdup("fake nvrtc: unexpected options");
        return COMPILATION;
    }
    if (!strstr(program->source, "extern \"C\" __global__ void sum_to(")) {
        free(program->log);
        program->log = strdup("adjoint.cu(1): error: no sum_to");
        return COMPILATION;
    }
    program->compiled = 1;
    return SUCCESS;
}

nvrtcResult nvrtcGetPTXSize(Program* program, size_t* size) {
    if (!program || !program->compiled) return INVALID_PROGRAM;
    *size = sizeof(PTX);
    return SUCCESS;
}

nvrtcResult nvrtcGetPTX(Program* program, char* ptx) {
    if (!program || !program->compiled) return INVALID_PROGRAM;
    memcpy(ptx, PTX, sizeof(PTX));
    return SUCCESS;
}

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
