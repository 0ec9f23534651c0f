/*
 * A stand-in for libcuda.so.1 on machines without a GPU: "device" memory is host memory, work
 * runs at once, and cuLaunchKernel runs plain C versions of the kernels of adjoint.cu, with
 * the same parameter lists. It lets FakeDriverTest check, on the CPU, everything the CUDA
 * backend does through JCuda: the calls it makes, how it lays out kernel parameters (the
 * Strided struct included), its launch shapes, transfers through pinned staging, and the
 * caching allocator over cuMemAlloc. The kernels' own arithmetic is checked elsewhere
 * (kernels module); these versions only need the same meaning.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
enum { OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, INVALID_CONTEXT = 201, NO_BINARY_FOR_GPU = 209, NOT_FOUND = 500 };
enum { SMS = 2, THREADS = 256 };

static long long live_bytes;

/*
 * With FAKE_CUDA_COUNTS set, the calls that queue work on the stream are counted by kind (each
 * kernel by its name) and printed to standard error at exit, most first: the host-side cost of
 * a step on a real device grows with them. Matrix products are counted by the fake cuBLAS.
 */
enum { MAX_COUNTED = 64 };
static const char* counted_names[MAX_COUNTED];
static long long counts[MAX_COUNTED];
static int counted;

static void print_counts(void) {
    long long total = 0;
    for (int i = 0; i < counted; i++) total += counts[i];
    fprintf(stderr, "fake CUDA calls: %lld in all\n", total);
    for (int printed = 0; printed < counted; printed++) {
        int most = -1;
        for (int i = 0; i < counted; i++) {
            if (counts[i] >= 0 && (most < 0 || counts[i] > counts[most])) most = i;
        }
        fprintf(stderr, "  %10lld %s\n", counts[most], counted_names[most]);
        counts[most] = -1;
    }
}

static void count(const char* name) {
    static int enabled = -1;
    if (enabled < 0) {
        enabled = getenv("FAKE_CUDA_COUNTS") != NULL;
        if (enabled) atexit(print_counts);
    }
    if (!enabled) return;
    for (int i = 0; i < counted; i++) {
        if (strcmp(counted_names[i], name) == 0) {
            counts[i]++;
            return;
        }
    }
    if (counted < MAX_COUNTED) {
        counted_names[counted] = name;
        counts[counted++] = 1;
    }
}

/*
 * With FAKE_CUDA_SKIP_WORK set, launches are checked and counted but their kernels do not run
 * (the fake cuBLAS skips its products alike): what a step then takes is the host's own share,
 * the time to queue its work, without the fake's slow loops. The numbers it computes are junk.
 */
static int skip_work(void) {
    static int skip = -1;
    if (skip < 0) skip = getenv("FAKE_CUDA_SKIP_WORK") != NULL;
    return skip;
}

static long long capacity(void) {
    const char* value = getenv("FAKE_CUDA_CAPACITY");
    return value ? atoll(value) : (1LL << 40);
}

CUresult cuInit(unsigned int flags) { (void) flags; return OK; }
CUresult cuDriverGetVersion(int* version) { *version = 13000; return OK; }
CUresult cuDeviceGetCount(int* count) { *count = 1; return OK; }
CUresult cuDeviceGet(int* device, int ordinal) { *device = ordinal; return ordinal == 0 ? OK : INVALID_VALUE; }
CUresult cuDeviceGetName(char* name, int length, int device) {
    (void) device;
    strncpy(name, "Fake GPU", (size_t) length);
    return OK;
}
CUresult cuDeviceGetAttribute(int* value, int attribute, int device) {
    (void) device;
    /* 115: memory pools (cuMemAllocAsync), supported unless FAKE_CUDA_NO_MEMORY_POOLS is set */
    *value = attribute == 75 ? 9 : attribute == 76 ? 0 : attribute == 16 ? SMS
           : attribute == 115 ? getenv("FAKE_CUDA_NO_MEMORY_POOLS") == NULL : 0;
    return OK;
}

/* As in the real driver, the current context belongs to the calling thread: every thread that
   touches memory, streams, events, modules or launches must make it current first. */
static __thread void* current_context;
#define NEEDS_CONTEXT() do { if (current_context != (void*) 0x10) return INVALID_CONTEXT; } while (0)

/* $FAKE_CUDA_FAIL names a call that fails as if the device were out of memory:
   cuStreamCreate, or cuMemAllocHost:N for the Nth pinned allocation. */
static int fails(const char* call) {
    const char* failing = getenv("FAKE_CUDA_FAIL");
    return failing != NULL && strcmp(failing, call) == 0;
}

CUresult cuDevicePrimaryCtxRetain(void** context, int device) { (void) device; *context = (void*) 0x10; return OK; }
/* The releases of a device that failed to open; counted, so that a test sees each made once. */
CUresult cuDevicePrimaryCtxRelease_v2(int device) { count("cuDevicePrimaryCtxRelease"); return device == 0 ? OK : INVALID_VALUE; }
CUresult cuDevicePrimaryCtxRelease(int device) { return cuDevicePrimaryCtxRelease_v2(device); }
CUresult cuStreamDestroy_v2(void* stream) { count("cuStreamDestroy"); return stream == (void*) 0x20 ? OK : INVALID_VALUE; }
CUresult cuStreamDestroy(void* stream) { return cuStreamDestroy_v2(stream); }
CUresult cuEventDestroy_v2(void* event) { count("cuEventDestroy"); free(event); return OK; }
CUresult cuEventDestroy(void* event) { return cuEventDestroy_v2(event); }
CUresult cuMemFreeHost(void* pointer) { count("cuMemFreeHost"); free(pointer); return OK; }
CUresult cuCtxSetCurrent(void* context) {
    current_context = context;
    return context == (void*) 0x10 ? OK : INVALID_VALUE;
}
CUresult cuStreamCreate(void** stream, unsigned int flags) {
    NEEDS_CONTEXT();
    if (fails("cuStreamCreate")) {
        return OUT_OF_MEMORY;
    }
    *stream = (void*) 0x20;
    return flags == 1 ? OK : INVALID_VALUE;
}
CUresult cuStreamSynchronize(void* stream) { NEEDS_CONTEXT(); return stream == (void*) 0x20 ? OK : INVALID_VALUE; }
CUresult cuEventCreate(void** event, unsigned int flags) { (void) flags; NEEDS_CONTEXT(); *event = malloc(1); return OK; }
CUresult cuEventRecord(void* event, void* stream) {
    (void) event;
    NEEDS_CONTEXT();
    return stream == (void*) 0x20 ? OK : INVALID_VALUE;
}
CUresult cuEventSynchronize(void* event) { (void) event; NEEDS_CONTEXT(); count("cuEventSynchronize"); return OK; }

CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
    NEEDS_CONTEXT();
    if (live_bytes + (long long) bytes > capacity()) {
        return OUT_OF_MEMORY;
    }
    long long* block = malloc(bytes + 16);
    block[0] = (long long) bytes;
    block[1] = 0x61646a6f696e74LL; /* "adjoint": fake_cudnn.c checks its operands' blocks by it */
    live_bytes += (long long) bytes;
    *pointer = (CUdeviceptr) (block + 2);
    return OK;
}
CUresult cuMemFree_v2(CUdeviceptr pointer) {
    NEEDS_CONTEXT();
    long long* block = (long long*) pointer - 2;
    live_bytes -= block[0];
    block[1] = 0;
    free(block);
    return OK;
}
/* Stream-ordered allocation: work here runs at once, so stream order is call order. Used only
   where device attribute 115 says pools are supported, as the real driver would refuse it. */
CUresult cuMemAllocAsync(CUdeviceptr* pointer, size_t bytes, void* stream) {
    count("cuMemAllocAsync");
    if (getenv("FAKE_CUDA_NO_MEMORY_POOLS") != NULL || stream != (void*) 0x20) {
        return INVALID_VALUE;
    }
    return cuMemAlloc_v2(pointer, bytes);
}
CUresult cuMemFreeAsync(CUdeviceptr pointer, void* stream) {
    if (getenv("FAKE_CUDA_NO_MEMORY_POOLS") != NULL || stream != (void*) 0x20) {
        return INVALID_VALUE;
    }
    return cuMemFree_v2(pointer);
}
CUresult cuMemAllocHost_v2(void** pointer, size_t bytes) {
    NEEDS_CONTEXT();
    static int calls;
    char call[32];
    snprintf(call, sizeof call, "cuMemAllocHost:%d", ++calls);
    if (fails(call)) {
        return OUT_OF_MEMORY;
    }
    *pointer = aligned_alloc(64, bytes);
    return OK;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* stream) {
    NEEDS_CONTEXT();
    count("cuMemcpyHtoDAsync");
    memcpy((void*) dst, src, bytes);
    return stream == (void*) 0x20 ? OK : INVALID_VALUE;
}
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* stream) {
    NEEDS_CONTEXT();
    count("cuMemcpyDtoHAsync");
    memcpy(dst, (const void*) src, bytes);
    return stream == (void*) 0x20 ? OK : INVALID_VALUE;
}
CUresult cuMemsetD32Async(CUdeviceptr pointer, unsigned int value, size_t words_count, void* stream) {
    NEEDS_CONTEXT();
    count("cuMemsetD32Async");
    unsigned int* words = (unsigned int*) pointer;
    for (size_t i = 0; i < words_count; i++) {
        words[i] = value;
    }
    return stream == (void*) 0x20 ? OK : INVALID_VALUE;
}

/* The fake NVRTC's PTX text, or its CUBIN (ELF magic, a NUL, a tag), refused when
   $FAKE_CUDA_REJECT_CUBIN is set as a driver that knows no such architecture would. */
CUresult cuModuleLoadData(void** module, const void* image) {
    NEEDS_CONTEXT();
    if (memcmp(image, "\177ELF\0fake CUBIN", 15) == 0) {
        if (getenv("FAKE_CUDA_REJECT_CUBIN")) {
            return NO_BINARY_FOR_GPU;
        }
        *module = (void*) 0x30;
        return OK;
    }
    *module = (void*) 0x30;
    return strncmp((const char*) image, "// fake PTX", 11) == 0 ? OK : INVALID_VALUE;
}
/* $FAKE_CUDA_NO_FUNCTION names a kernel the loaded module lacks, as a stale image would. */
CUresult cuModuleGetFunction(void** function, void* module, const char* name) {
    NEEDS_CONTEXT();
    if (module != (void*) 0x30) {
        return INVALID_VALUE;
    }
    const char* lacking = getenv("FAKE_CUDA_NO_FUNCTION");
    if (lacking != NULL && strcmp(lacking, name) == 0) {
        return NOT_FOUND;
    }
    *function = strdup(name);
    return OK;
}
CUresult cuModuleUnload(void* module) {
    NEEDS_CONTEXT();
    count("cuModuleUnload");
    return module == (void*) 0x30 ? OK : INVALID_VALUE;
}

/* ---- the kernels, as plain loops ---- */

typedef struct {
    int rank;
    long long shape[8];
    long long a[8];
    long long b[8];
} Strided;

_Static_assert(sizeof(Strided) == 200, "Strided is 200 bytes");

static void offsets(const Strided* s, long long index, long long* a, long long* b) {
    *a = 0;
    *b = 0;
    for (int axis = s->rank - 1; axis >= 0; axis--) {
        long long coordinate = index % s->shape[axis];
        index /= s->shape[axis];
        *a += coordinate * s->a[axis];
        *b += coordinate * s->b[axis];
    }
}

static float binary_op(int op, float x, float y) {
    return op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : op == 3 ? x / y : NAN;
}

/* The numerically stable form, as the real kernel and the CPU compute it. */
static float sigmoid(float x) {
    if (x >= 0) {
        return 1.0f / (1.0f + expf(-x));
    }
    float e = expf(x);
    return e / (1.0f + e);
}

/* Exact GELU x·Φ(x) and its derivative Φ(x) + x·φ(x), from C's erfc in double (the real kernel has its own formula). */
static float gelu(float x, int grad) {
    double v = x;
    double cdf = 0.5 * erfc(-v / sqrt(2.0));
    if (grad) {
        return (float) (cdf + v * exp(-0.5 * v * v) / sqrt(2.0 * 3.14159265358979323846));
    }
    return (float) (v * cdf);
}

static float unary_op(int op, float p, float x) {
    switch (op) {
        case 0: return -x;
        case 1: return expf(x);
        case 2: return logf(x);
        case 3: return sqrtf(x);
        case 4: return tanhf(x);
        case 5: return sigmoid(x);
        case 6: return x > 0 ? x : 0.0f;
        case 7: return x > 0 ? 1.0f : 0.0f;
        case 8: return p == 2.0f ? x * x : p == -1.0f ? 1.0f / x : powf(x, p);
        case 9: return gelu(x, 0);
        case 10: return gelu(x, 1);
        default: return NAN;
    }
}

static float activate(int act, float v) {
    return act == 0 ? v : act == 1 ? (v > 0 ? v : 0.0f) : act == 2 ? tanhf(v) : act == 3 ? sigmoid(v) : NAN;
}

static float activation_grad_op(int act, float y, float cotangent) {
    return act == 0 ? cotangent : act == 1 ? (y > 0 ? cotangent : 0.0f)
            : act == 2 ? cotangent * (1.0f - y * y) : act == 3 ? cotangent * (y * (1.0f - y)) : NAN;
}

/* The whole number in [0, length) that a float index holds, else -1 (a NaN result, as the real kernels give). */
static long long fake_index(float value, int length) {
    if (!(value >= 0 && value < length)) {
        return -1;
    }
    long long index = (long long) value;
    return (float) index == value ? index : -1;
}

#define ARG(type, i) (*(type*) params[i])

/* adjoint.cu's struct AttentionLayout: where each attention operand's rows lie. */
typedef struct {
    long long outer, head, row;
} AttentionRows;
typedef struct {
    long long heads;
    AttentionRows q, k, v, out, dOut, dq, dk, dv;
} AttentionLayout;

/* Where row r of batch item b of an attention operand starts (L is the launch's layout). */
#define ROW(operand, b, r) ((b) / L.heads * L.operand.outer + (b) % L.heads * L.operand.head + (r) * L.operand.row)

static void fake_adam(float* p, const float* g, float* m, float* v, long long i, float beta1, float beta2, float root2,
                      float epsilon, float step, float decay, float shrink) {
    float param = p[i];
    if (shrink != 1.0f) param *= shrink;
    float d = g[i];
    if (decay != 0.0f) d = param * decay + 1.0f * d;
    float mi = m[i] * beta1 + (1.0f - beta1) * d;
    float vi = v[i] * beta2 + (1.0f - beta2) * (d * d);
    float denominator = sqrtf(vi) / root2 + epsilon;
    p[i] = param + step * (mi / denominator);
    m[i] = mi;
    v[i] = vi;
}

/*
 * The multi-tensor kernels' table (adjoint.cu): 6 long longs an entry, the element count, the
 * first chunk, then up to four pointers. The fake walks the entries in order; the chunks only
 * matter to squares_many, whose partial sums are per chunk.
 */
enum { TABLE_WIDTH = 6 };

static CUresult run_many(const char* name, void** params) {
    const long long* table = ARG(const long long*, 0);
    int entries = ARG(int, 1);
    long long chunks = ARG(long long, 2), chunk = ARG(long long, 3);
    long long counted = 0;
    for (int k = 0; k < entries; k++) {
        const long long* e = table + (long long) k * TABLE_WIDTH;
        long long n = e[0];
        if (n <= 0 || e[1] != counted) return INVALID_VALUE;
        counted += (n + chunk - 1) / chunk;
        float* x = (float*) e[2];
        if (strcmp(name, "fill_many") == 0) {
            for (long long i = 0; i < n; i++) x[i] = ARG(float, 4);
        } else if (strcmp(name, "axpy_many") == 0) {
            float* y = (float*) e[3];
            for (long long i = 0; i < n; i++) y[i] += ARG(float, 4) * x[i];
        } else if (strcmp(name, "adam_many") == 0) {
            for (long long i = 0; i < n; i++) {
                fake_adam(x, (const float*) e[3], (float*) e[4], (float*) e[5], i, ARG(float, 4), ARG(float, 5),
                          ARG(float, 6), ARG(float, 7), ARG(float, 8), ARG(float, 9), ARG(float, 10));
            }
        } else if (strcmp(name, "squares_many") == 0) {
            double* partials = ARG(double*, 4);
            for (long long start = 0; start < n; start += chunk) {
                double sum = 0;
                for (long long i = start; i < n && i < start + chunk; i++) sum += (double) x[i] * x[i];
                partials[e[1] + start / chunk] = sum;
            }
        } else if (strcmp(name, "clip_many") == 0) {
            float norm = ARG(const float*, 4)[0];
            float coefficient = (float) ((double) ARG(float, 5) / ((double) norm + 1e-6));
            if (coefficient < 1.0f || coefficient != coefficient) {
                for (long long i = 0; i < n; i++) x[i] *= coefficient;
            }
        } else {
            return NOT_FOUND;
        }
    }
    return counted == chunks ? OK : INVALID_VALUE;
}

/* The attention kernels, which take 64 threads for each lane of a row (1, 2 or 4 lanes). */
static int is_attention(const char* name) {
    return strncmp(name, "attention_forward_", 18) == 0 || strncmp(name, "attention_backward_query_", 25) == 0
        || strncmp(name, "attention_backward_key_", 23) == 0;
}

static CUresult run(const char* name, unsigned int grid, unsigned int block, void** params) {
    if (is_attention(name)) {
        const char* width = strrchr(name, '_') + 1;
        unsigned int lanes = strcmp(width, "32") == 0 ? 1 : strcmp(width, "64") == 0 ? 2 : strcmp(width, "128") == 0 ? 4 : 0;
        if (lanes == 0 || block != 64 * lanes) {
            return INVALID_VALUE;
        }
    } else if (block != THREADS) {
        return INVALID_VALUE;
    }
    if (strcmp(name, "nll") == 0) {
        if (grid != 1) {
            return INVALID_VALUE;
        }
        const float* logp = ARG(const float*, 0);
        const float* labels = ARG(const float*, 1);
        int rows = ARG(int, 2), cols = ARG(int, 3);
        float* out = ARG(float*, 4);
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            sum += logp[(long long) r * cols + (int) labels[r]];
        }
        out[0] = rows == 0 ? NAN : (float) (-sum / rows);
        return OK;
    }
    if (grid > 32 * SMS) {
        return INVALID_VALUE; /* grid-stride launches are capped at 32 blocks per SM */
    }
    if (strcmp(name, "dropout_mask") == 0) {
        long long key = ARG(long long, 0);
        float p = ARG(float, 1);
        float* mask = ARG(float*, 2);
        long long n = ARG(long long, 3);
        float keep = 1.0f / (1.0f - p);
        for (long long i = 0; i < n; i++) {
            unsigned long long z = (unsigned long long) key + (unsigned long long) (i + 1) * 0x9E3779B97F4A7C15ULL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            z = z ^ (z >> 31);
            mask[i] = (float) (z >> 40) * 0x1.0p-24f < p ? 0.0f : keep;
        }
    } else if (strcmp(name, "layer_norm") == 0) {
        /* Normalization.layerNorm's order: the device sums over a block instead. */
        const float* x = ARG(const float*, 0);
        const float* weight = ARG(const float*, 1);
        const float* bias = ARG(const float*, 2);
        int rows = ARG(int, 3);
        int size = ARG(int, 4);
        float eps = ARG(float, 5);
        float* out = ARG(float*, 6);
        float* mean = ARG(float*, 7);
        float* rstd = ARG(float*, 8);
        for (long long r = 0; r < rows; r++) {
            const float* in = x + r * size;
            double sum = 0, squares = 0;
            for (int i = 0; i < size; i++) sum += in[i];
            double m = sum / size;
            for (int i = 0; i < size; i++) squares += (in[i] - m) * (in[i] - m);
            double sd = 1.0 / sqrt(squares / size + (double) eps);
            mean[r] = (float) m;
            rstd[r] = (float) sd;
            for (int i = 0; i < size; i++) {
                float v = (float) ((in[i] - m) * sd);
                if (weight) v *= weight[i];
                if (bias) v += bias[i];
                out[r * size + i] = v;
            }
        }
    } else if (strcmp(name, "layer_norm_grad") == 0) {
        const float* x = ARG(const float*, 0);
        const float* weight = ARG(const float*, 1);
        const float* mean = ARG(const float*, 2);
        const float* rstd = ARG(const float*, 3);
        const float* dy = ARG(const float*, 4);
        int rows = ARG(int, 5);
        int size = ARG(int, 6);
        float* dx = ARG(float*, 7);
        for (long long r = 0; r < rows; r++) {
            long long base = r * size;
            float m = mean[r], sd = rstd[r];
            double sumG = 0, sumGx = 0;
            for (int i = 0; i < size; i++) {
                float g = weight ? dy[base + i] * weight[i] : dy[base + i];
                float normalized = (x[base + i] - m) * sd;
                sumG += g;
                sumGx += g * normalized;
            }
            float meanG = (float) (sumG / size), meanGx = (float) (sumGx / size);
            for (int i = 0; i < size; i++) {
                float g = weight ? dy[base + i] * weight[i] : dy[base + i];
                float normalized = (x[base + i] - m) * sd;
                dx[base + i] = (g - meanG - normalized * meanGx) * sd;
            }
        }
    } else if (strcmp(name, "layer_norm_grad_weight") == 0) {
        const float* x = ARG(const float*, 0);
        const float* mean = ARG(const float*, 1);
        const float* rstd = ARG(const float*, 2);
        const float* dy = ARG(const float*, 3);
        int rows = ARG(int, 4);
        int size = ARG(int, 5);
        int rowsPerPart = ARG(int, 6);
        float* out = ARG(float*, 7);
        long long parts = ((long long) rows + rowsPerPart - 1) / rowsPerPart;
        for (long long part = 0; part < parts; part++) {
            long long first = part * rowsPerPart;
            long long end = first + rowsPerPart < rows ? first + rowsPerPart : rows;
            for (int i = 0; i < size; i++) {
                float sum = 0.0f;
                for (long long r = first; r < end; r++) {
                    long long at = r * size + i;
                    sum += dy[at] * ((x[at] - mean[r]) * rstd[r]);
                }
                out[part * size + i] = sum;
            }
        }
    } else if (strcmp(name, "adam") == 0) {
        float* p = ARG(float*, 0);
        const float* g = ARG(const float*, 1);
        float* m = ARG(float*, 2);
        float* v = ARG(float*, 3);
        long long n = ARG(long long, 4);
        float beta1 = ARG(float, 5), beta2 = ARG(float, 6), root2 = ARG(float, 7), epsilon = ARG(float, 8);
        float step = ARG(float, 9), decay = ARG(float, 10), shrink = ARG(float, 11);
        for (long long i = 0; i < n; i++) fake_adam(p, g, m, v, i, beta1, beta2, root2, epsilon, step, decay, shrink);
    } else if (strstr(name, "_many") != NULL) {
        return run_many(name, params);
    } else if (strcmp(name, "norm_from_squares") == 0) {
        const double* partials = ARG(const double*, 0);
        long long count = ARG(long long, 1);
        double sum = 0;
        for (long long i = 0; i < count; i++) sum += partials[i];
        ARG(float*, 2)[0] = sqrtf((float) sum);
    } else if (strcmp(name, "axpy") == 0) {
        float alpha = ARG(float, 0);
        const float* x = ARG(const float*, 1);
        float* y = ARG(float*, 2);
        long long n = ARG(long long, 3);
        for (long long i = 0; i < n; i++) y[i] += alpha * x[i];
    } else if (strcmp(name, "unary") == 0) {
        int op = ARG(int, 0);
        float p = ARG(float, 1);
        const float* x = ARG(const float*, 2);
        float* out = ARG(float*, 3);
        long long n = ARG(long long, 4);
        for (long long i = 0; i < n; i++) out[i] = unary_op(op, p, x[i]);
    } else if (strcmp(name, "unary_times") == 0) {
        int op = ARG(int, 0);
        float p = ARG(float, 1);
        const float* x = ARG(const float*, 2);
        const float* grad = ARG(const float*, 3);
        float* out = ARG(float*, 4);
        long long n = ARG(long long, 5);
        for (long long i = 0; i < n; i++) out[i] = grad[i] * unary_op(op, p, x[i]);
    } else if (strcmp(name, "binary") == 0) {
        int op = ARG(int, 0);
        const float* lhs = ARG(const float*, 1);
        const float* rhs = ARG(const float*, 2);
        float* out = ARG(float*, 3);
        Strided s = ARG(Strided, 4);
        long long n = ARG(long long, 5);
        for (long long i = 0; i < n; i++) {
            long long a, b;
            offsets(&s, i, &a, &b);
            out[i] = binary_op(op, lhs[a], rhs[b]);
        }
    } else if (strcmp(name, "copy_strided") == 0) {
        const float* src = ARG(const float*, 0);
        float* out = ARG(float*, 1);
        Strided s = ARG(Strided, 2);
        long long n = ARG(long long, 3);
        for (long long i = 0; i < n; i++) {
            long long a, b;
            offsets(&s, i, &a, &b);
            out[i] = src[a];
        }
    } else if (strcmp(name, "copy_strided_to") == 0) {
        const float* src = ARG(const float*, 0);
        float* out = ARG(float*, 1);
        Strided s = ARG(Strided, 2);
        long long n = ARG(long long, 3);
        for (long long i = 0; i < n; i++) {
            long long a, b;
            offsets(&s, i, &a, &b);
            out[b] = src[a];
        }
    } else if (strcmp(name, "masked_fill") == 0) {
        const float* x = ARG(const float*, 0);
        const float* mask = ARG(const float*, 1);
        float value = ARG(float, 2);
        float* out = ARG(float*, 3);
        Strided s = ARG(Strided, 4);
        long long n = ARG(long long, 5);
        for (long long i = 0; i < n; i++) {
            long long a, b;
            offsets(&s, i, &a, &b);
            out[i] = mask[b] > 0.0f || mask[b] < 0.0f ? value : x[a];
        }
    } else if (strcmp(name, "sum_to") == 0) {
        const float* src = ARG(const float*, 0);
        float* out = ARG(float*, 1);
        Strided s = ARG(Strided, 2);
        long long outCount = ARG(long long, 3);
        long long count = 1;
        for (int axis = 0; axis < s.rank; axis++) count *= s.shape[axis];
        for (long long i = 0; i < outCount; i++) out[i] = 0.0f;
        for (long long i = 0; i < count; i++) {
            long long a, b;
            offsets(&s, i, &a, &b);
            if (a >= outCount) return INVALID_VALUE;
            out[a] += src[i];
        }
    } else if (strcmp(name, "column_sums") == 0) {
        const float* x = ARG(const float*, 0);
        long long rows = ARG(long long, 1), cols = ARG(long long, 2);
        float* out = ARG(float*, 3);
        for (long long c = 0; c < cols; c++) {
            float sum = 0;
            for (long long r = 0; r < rows; r++) sum += x[r * cols + c];
            out[c] = sum;
        }
    } else if (strcmp(name, "sum_to_parts") == 0) {
        /* Output t (row-major over the kept axes) and summed position j (row-major over the
           summed axes) of each source element; position j goes to part j % parts. */
        const float* src = ARG(const float*, 0);
        float* partials = ARG(float*, 1);
        Strided s = ARG(Strided, 2);
        long long outCount = ARG(long long, 3), parts = ARG(long long, 4);
        int partsInner = ARG(int, 5);
        long long count = 1;
        for (int axis = 0; axis < s.rank; axis++) count *= s.shape[axis];
        for (long long u = 0; u < outCount * parts; u++) partials[u] = 0.0f;
        for (long long i = 0; i < count; i++) {
            long long rest = i, t = 0, j = 0, keptScale = 1, summedScale = 1;
            for (int axis = s.rank - 1; axis >= 0; axis--) {
                long long coordinate = rest % s.shape[axis];
                rest /= s.shape[axis];
                if (s.a[axis] != 0) {
                    t += coordinate * keptScale;
                    keptScale *= s.shape[axis];
                } else {
                    j += coordinate * summedScale;
                    summedScale *= s.shape[axis];
                }
            }
            if (t >= outCount) return INVALID_VALUE;
            long long p = j % parts;
            partials[partsInner ? t * parts + p : p * outCount + t] += src[i];
        }
    } else if (strcmp(name, "max_axis") == 0) {
        const float* x = ARG(const float*, 0);
        float* values = ARG(float*, 1);
        float* mask = ARG(float*, 2);
        int outer = ARG(int, 3), length = ARG(int, 4), inner = ARG(int, 5);
        for (long long o = 0; o < outer; o++) {
            for (long long i = 0; i < inner; i++) {
                long long base = o * length * inner + i;
                int best = 0;
                for (int l = 1; l < length; l++) {
                    if (x[base + (long long) l * inner] > x[base + (long long) best * inner]) best = l;
                }
                values[o * inner + i] = x[base + (long long) best * inner];
                if (mask) {
                    for (int l = 0; l < length; l++) mask[base + (long long) l * inner] = l == best ? 1.0f : 0.0f;
                }
            }
        }
    } else if (strcmp(name, "softmax") == 0) {
        const float* x = ARG(const float*, 0);
        float* out = ARG(float*, 1);
        int outer = ARG(int, 2), length = ARG(int, 3), inner = ARG(int, 4), logarithm = ARG(int, 5);
        for (long long o = 0; o < outer; o++) {
            for (long long i = 0; i < inner; i++) {
                long long base = o * length * inner + i;
                float top = x[base];
                for (int l = 1; l < length; l++) top = fmaxf(top, x[base + (long long) l * inner]);
                double sum = 0;
                for (int l = 0; l < length; l++) sum += exp((double) (x[base + (long long) l * inner] - top));
                for (int l = 0; l < length; l++) {
                    double shifted = (double) (x[base + (long long) l * inner] - top);
                    out[base + (long long) l * inner] = (float) (logarithm ? shifted - log(sum) : exp(shifted) / sum);
                }
            }
        }
    } else if (strcmp(name, "gather") == 0) {
        const float* src = ARG(const float*, 0);
        int outer = ARG(int, 1), length = ARG(int, 2), inner = ARG(int, 3);
        const float* indices = ARG(const float*, 4);
        int count = ARG(int, 5);
        float* out = ARG(float*, 6);
        for (long long o = 0; o < outer; o++) {
            for (long long j = 0; j < count; j++) {
                for (long long i = 0; i < inner; i++) {
                    long long at = (o * count + j) * inner + i;
                    long long index = fake_index(indices[at], length);
                    out[at] = index < 0 ? NAN : src[(o * length + index) * inner + i];
                }
            }
        }
    } else if (strcmp(name, "scatter_add") == 0) {
        const float* values = ARG(const float*, 0);
        int outer = ARG(int, 1), count = ARG(int, 2), inner = ARG(int, 3);
        const float* indices = ARG(const float*, 4);
        float* out = ARG(float*, 5);
        int length = ARG(int, 6);
        for (long long o = 0; o < outer; o++) {
            for (long long j = 0; j < count; j++) {
                for (long long i = 0; i < inner; i++) {
                    long long at = (o * count + j) * inner + i;
                    long long index = fake_index(indices[at], length);
                    if (index < 0) {
                        for (long long l = 0; l < length; l++) out[(o * length + l) * inner + i] = NAN;
                    } else {
                        out[(o * length + index) * inner + i] += values[at];
                    }
                }
            }
        }
    } else if (strcmp(name, "scatter_add_parts") == 0) {
        /* Each part's chunk of entries, in order, into its own zeroed slice of partials. */
        const float* values = ARG(const float*, 0);
        int outer = ARG(int, 1), count = ARG(int, 2), inner = ARG(int, 3);
        const float* indices = ARG(const float*, 4);
        float* partials = ARG(float*, 5);
        int length = ARG(int, 6), parts = ARG(int, 7);
        if (parts < 1) return INVALID_VALUE;
        long long chunk = ((long long) count + parts - 1) / parts;
        for (long long p = 0; p < parts; p++) {
            for (long long o = 0; o < outer; o++) {
                float* slice = partials + (p * outer + o) * length * inner;
                for (long long e = 0; e < (long long) length * inner; e++) slice[e] = -0.0f;
                for (long long j = p * chunk; j < count && j < (p + 1) * chunk; j++) {
                    for (long long i = 0; i < inner; i++) {
                        long long at = (o * count + j) * inner + i;
                        long long index = fake_index(indices[at], length);
                        if (index < 0) {
                            for (long long l = 0; l < length; l++) slice[l * inner + i] = NAN;
                        } else {
                            slice[index * inner + i] += values[at];
                        }
                    }
                }
            }
        }
    } else if (strcmp(name, "scatter_add_combine") == 0) {
        const float* partials = ARG(const float*, 0);
        int parts = ARG(int, 1);
        long long n = ARG(long long, 2);
        float* out = ARG(float*, 3);
        for (long long e = 0; e < n; e++) {
            float sum = partials[e];
            for (long long p = 1; p < parts; p++) sum += partials[p * n + e];
            out[e] += sum;
        }
    } else if (strcmp(name, "im2col") == 0 || strcmp(name, "col2im") == 0) {
        /* The columns' element order, one naive loop for both; col2im zeroes, then adds in that order. */
        int unfold = strcmp(name, "im2col") == 0;
        const float* src = ARG(const float*, 0);
        int channels = ARG(int, 1), height = ARG(int, 2), width = ARG(int, 3), kh = ARG(int, 4), kw = ARG(int, 5);
        int stride = ARG(int, 6), padding = ARG(int, 7), dilation = ARG(int, 8), images = ARG(int, 9);
        float pad = unfold ? ARG(float, 10) : 0.0f;
        float* out = unfold ? ARG(float*, 11) : ARG(float*, 10);
        long long outH = (height + 2 * padding - dilation * (kh - 1) - 1) / stride + 1;
        long long outW = (width + 2 * padding - dilation * (kw - 1) - 1) / stride + 1;
        if (!unfold) {
            for (long long e = 0; e < (long long) images * channels * height * width; e++) out[e] = 0.0f;
        }
        long long at = 0;
        for (long long plane = 0; plane < (long long) images * channels; plane++) {
            for (int ki = 0; ki < kh; ki++) {
                for (int kj = 0; kj < kw; kj++) {
                    for (long long oh = 0; oh < outH; oh++) {
                        for (long long ow = 0; ow < outW; ow++, at++) {
                            long long h = oh * stride - padding + (long long) ki * dilation;
                            long long w = ow * stride - padding + (long long) kj * dilation;
                            int inside = h >= 0 && h < height && w >= 0 && w < width;
                            long long element = (plane * height + h) * width + w;
                            if (unfold) {
                                out[at] = inside ? src[element] : pad;
                            } else if (inside) {
                                out[element] += src[at];
                            }
                        }
                    }
                }
            }
        }
    } else if (strcmp(name, "bias_activation") == 0) {
        int act = ARG(int, 0);
        float* y = ARG(float*, 1);
        const float* bias = ARG(const float*, 2);
        int rows = ARG(int, 3), cols = ARG(int, 4);
        for (long long i = 0; i < (long long) rows * cols; i++) y[i] = activate(act, bias ? y[i] + bias[i % cols] : y[i]);
    } else if (strcmp(name, "activation_grad") == 0) {
        int act = ARG(int, 0);
        const float* y = ARG(const float*, 1);
        const float* cotangent = ARG(const float*, 2);
        float* out = ARG(float*, 3);
        long long n = ARG(long long, 4);
        for (long long i = 0; i < n; i++) out[i] = activation_grad_op(act, y[i], cotangent[i]);
    } else if (strcmp(name, "cross_entropy_grad") == 0) {
        const float* logp = ARG(const float*, 0);
        const float* labels = ARG(const float*, 1);
        int rows = ARG(int, 2), cols = ARG(int, 3);
        float scale = ARG(float, 4);
        const float* cotangent = ARG(const float*, 5);
        float* out = ARG(float*, 6);
        if (cotangent != NULL) scale = cotangent[0] / (float) rows;
        for (long long r = 0; r < rows; r++) {
            for (long long c = 0; c < cols; c++) {
                float v = scale * expf(logp[r * cols + c]);
                out[r * cols + c] = c == (int) labels[r] ? v - scale : v;
            }
        }
    } else if (is_attention(name)) {
        /* Naive attention in double: scores, softmax, products; the three kernels' parameter lists
           (each in its three widths: _32, _64, _128). */
        int forward = strncmp(name, "attention_forward_", 18) == 0;
        int queryGrad = strncmp(name, "attention_backward_query_", 25) == 0;
        const float* q = ARG(const float*, 0);
        const float* k = ARG(const float*, 1);
        const float* v = ARG(const float*, 2);
        int first = forward ? 5 : 8;
        int batch = ARG(int, first), t = ARG(int, first + 1), s = ARG(int, first + 2), d = ARG(int, first + 3);
        int dv = ARG(int, first + 4), causal = ARG(int, first + 5);
        /* The kernel's width (its name's suffix) must hold the widest row. */
        if ((d > dv ? d : dv) > atoi(strrchr(name, '_') + 1)) return INVALID_VALUE;
        float scale = ARG(float, first + 6);
        AttentionLayout L = ARG(AttentionLayout, first + 7);
        if (L.heads < 1) return INVALID_VALUE;
        const float* lse = forward ? NULL : ARG(const float*, queryGrad ? 4 : 3);
        const float* dOut = forward ? NULL : ARG(const float*, queryGrad ? 5 : 4);
        if (queryGrad) {
            const float* out = ARG(const float*, 3);
            float* dq = ARG(float*, 6);
            float* rowDot = ARG(float*, 7);
            for (long long b = 0; b < batch; b++) {
                for (long long i = 0; i < t; i++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dq[ROW(dq, b, i) + c] = 0.0f;
                    for (int c = 0; c < dv; c++) dot += (double) dOut[ROW(dOut, b, i) + c] * out[ROW(out, b, i) + c];
                    rowDot[b * t + i] = (float) dot;
                }
            }
        } else if (!forward) {
            float* dk = ARG(float*, 6);
            float* dvOut = ARG(float*, 7);
            for (long long b = 0; b < batch; b++) {
                for (long long j = 0; j < s; j++) {
                    for (int c = 0; c < d; c++) dk[ROW(dk, b, j) + c] = 0.0f;
                    for (int c = 0; c < dv; c++) dvOut[ROW(dv, b, j) + c] = 0.0f;
                }
            }
        }
        for (long long b = 0; b < batch; b++) {
            for (long long i = 0; i < t; i++) {
                long long n = causal && i + 1 < s ? i + 1 : s;
                double top = -1e300, sum = 0;
                for (long long j = 0; j < n; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += (double) q[ROW(q, b, i) + c] * k[ROW(k, b, j) + c];
                    if (dot * scale > top) top = dot * scale;
                }
                for (long long j = 0; j < n; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += (double) q[ROW(q, b, i) + c] * k[ROW(k, b, j) + c];
                    sum += exp(dot * scale - top);
                }
                double logSum = forward ? top + log(sum) : (double) lse[b * t + i];
                double rowD = 0;
                if (!forward) {
                    const float* rowDots = queryGrad ? ARG(const float*, 7) : ARG(const float*, 5);
                    rowD = rowDots[b * t + i];
                }
                for (long long j = 0; j < n; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += (double) q[ROW(q, b, i) + c] * k[ROW(k, b, j) + c];
                    double p = exp(dot * scale - logSum);
                    if (forward) {
                        float* out = ARG(float*, 3);
                        if (j == 0) for (int c = 0; c < dv; c++) out[ROW(out, b, i) + c] = 0.0f;
                        for (int c = 0; c < dv; c++) out[ROW(out, b, i) + c] += (float) (p * v[ROW(v, b, j) + c]);
                        continue;
                    }
                    double dp = 0;
                    for (int c = 0; c < dv; c++) dp += (double) dOut[ROW(dOut, b, i) + c] * v[ROW(v, b, j) + c];
                    double ds = p * (dp - rowD) * scale;
                    if (queryGrad) {
                        float* dq = ARG(float*, 6);
                        for (int c = 0; c < d; c++) dq[ROW(dq, b, i) + c] += (float) (ds * k[ROW(k, b, j) + c]);
                    } else {
                        float* dk = ARG(float*, 6);
                        float* dvOut = ARG(float*, 7);
                        for (int c = 0; c < d; c++) dk[ROW(dk, b, j) + c] += (float) (ds * q[ROW(q, b, i) + c]);
                        for (int c = 0; c < dv; c++) {
                            dvOut[ROW(dv, b, j) + c] += (float) (p * dOut[ROW(dOut, b, i) + c]);
                        }
                    }
                }
                if (forward) {
                    float* lseOut = ARG(float*, 4);
                    lseOut[b * t + i] = (float) logSum;
                }
            }
        }
    } else {
        return NOT_FOUND;
    }
    return OK;
}

CUresult cuLaunchKernel(void* function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                        unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedBytes,
                        void* stream, void** params, void** extra) {
    NEEDS_CONTEXT();
    if (gridY != 1 || gridZ != 1 || blockY != 1 || blockZ != 1 || sharedBytes != 0 || extra != NULL
            || stream != (void*) 0x20 || gridX == 0) {
        return INVALID_VALUE;
    }
    count((const char*) function);
    return skip_work() ? OK : run((const char*) function, gridX, blockX, params);
}
