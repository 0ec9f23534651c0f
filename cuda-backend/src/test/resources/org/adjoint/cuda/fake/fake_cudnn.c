/*
 * A stand-in for cuDNN 9's libcudnn.so.9 over fake_driver.c's host "device" memory: the legacy
 * convolution API the CUDA backend binds (ForeignCudnn), with reference loops for the three
 * convolutions (groups, stride, padding, dilation) and descriptors that check their arguments
 * as cuDNN does, and more strictly where that catches a binding that passes an argument in the
 * wrong place: tensors must be packed NCHW float32 (their strides are checked), filters NCHW
 * float32, convolutions cross-correlations in float32, and every call's descriptors must be of
 * the right kinds and fit one another (CUDNN_STATUS_BAD_PARAM otherwise).
 *
 * The algorithm lists mimic cuDNN's heuristics with entries the backend must pass over: one
 * whose workspace is SIZE_MAX (a negative number if read as signed), one that needs a terabyte,
 * one whose listed workspace is 0 but whose workspace query answers 2^63 bytes, one that is not
 * supported, one with tensor-op (TF32) math, and non-deterministic backward algorithms, which
 * here add in an order that changes from call to call, as atomics would. The deterministic
 * entries ask for a workspace, which the fake writes to.
 *
 * Environment: FAKE_CUDNN_TF32 set: cudnnSetConvolutionMathType accepts CUDNN_DEFAULT_MATH and
 * CUDNN_TENSOR_OP_MATH (the backend's TF32 switch is on), else only CUDNN_FMA_MATH.
 * FAKE_CUDNN_FAIL=name: that call returns CUDNN_STATUS_EXECUTION_FAILED (cudnnCreate
 * CUDNN_STATUS_NOT_INITIALIZED); with FAKE_CUDNN_FAIL_AFTER=k, a convolution call only from its
 * (k+1)th call on. FAKE_CUDNN_WRONG=name: that convolution succeeds with its first result
 * element off by one. FAKE_CUDNN_VERSION, FAKE_CUDNN_CUDART: what cudnnGetVersion (90100) and
 * cudnnGetCudartVersion (13000, or -DFAKE_CUDNN_CUDART_DEFAULT) answer. FAKE_CUDNN_BIG_WORKSPACE=bytes: the forward list starts,
 * after the entries to pass over, with algorithm 2 asking for that workspace.
 * FAKE_CUDNN_TRACE set: each convolution call prints its algorithm and workspace to stderr, and
 * each heuristic call its name. FAKE_CUDNN_GARBLE=name: that convolution fills its result with
 * NaN, then returns CUDNN_STATUS_EXECUTION_FAILED (from its (k+1)th call with FAKE_CUDNN_FAIL_AFTER=k),
 * as a kernel that failed half-way would leave it. A heuristic named by FAKE_CUDNN_FAIL returns
 * CUDNN_STATUS_NOT_SUPPORTED (from its (k+1)th call with FAKE_CUDNN_FAIL_AFTER=k).
 * FAKE_CUDNN_SWAP_STRIDE_DILATION set: cudnnSetConvolution2dDescriptor takes the stride for the
 * dilation and the dilation for the stride, as a binding passing them in each other's place would.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int cudnnStatus_t;
enum { SUCCESS = 0, NOT_INITIALIZED = 1001, BAD_PARAM = 2000, NOT_SUPPORTED = 3000, EXECUTION_FAILED = 5000 };
enum { DATA_FLOAT = 0, NCHW = 0, CROSS_CORRELATION = 1 };
enum { DEFAULT_MATH = 0, TENSOR_OP_MATH = 1, FMA_MATH = 3 };
enum { NON_DETERMINISTIC = 0, DETERMINISTIC = 1 };
enum { HANDLE = 0x4a4e, TENSOR = 0x7e50, FILTER = 0xf117, CONVOLUTION = 0xc0a7 };

typedef struct {
    int algo;
    cudnnStatus_t status;
    float time;
    size_t memory;
    int determinism;
    int mathType;
    int reserved[3];
} Perf;

_Static_assert(sizeof(Perf) == 48, "cudnnConvolution*AlgoPerf_t is 48 bytes");

typedef struct { int kind; int set; int n, c, h, w; } Descriptor;
typedef struct { int kind; int set; int pad_h, pad_w, u, v, dil_h, dil_w; int groups; int math; } Convolution;
typedef struct { int kind; void* stream; } Handle;

static long live_descriptors;
static unsigned long calls;
/* Per direction, calls named by FAKE_CUDNN_FAIL or FAKE_CUDNN_GARBLE so far, and heuristic calls. */
static size_t runs[3];
static size_t heuristics[3];

/** For tests: descriptors created and not yet destroyed. */
long fakeCudnnLiveDescriptors(void) { return live_descriptors; }

static int failing(const char* call) {
    const char* name = getenv("FAKE_CUDNN_FAIL");
    return name && strcmp(name, call) == 0;
}

static int named(const char* variable, const char* call) {
    const char* name = getenv(variable);
    return name && strcmp(name, call) == 0;
}

static size_t number(const char* variable, size_t otherwise) {
    const char* value = getenv(variable);
    return value ? (size_t) strtoull(value, NULL, 10) : otherwise;
}

size_t cudnnGetVersion(void) { return number("FAKE_CUDNN_VERSION", 90100); }
/* The CUDA runtime this cuDNN is "built for": CUDA 13's unless compiled for another (fake_libs.sh 12). */
#ifndef FAKE_CUDNN_CUDART_DEFAULT
#define FAKE_CUDNN_CUDART_DEFAULT 13000
#endif
size_t cudnnGetCudartVersion(void) { return number("FAKE_CUDNN_CUDART", FAKE_CUDNN_CUDART_DEFAULT); }

const char* cudnnGetErrorString(cudnnStatus_t status) {
    switch (status) {
        case SUCCESS: return "CUDNN_STATUS_SUCCESS";
        case NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
        case BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
        case NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
        case EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
        default: return "CUDNN_STATUS_UNKNOWN";
    }
}

cudnnStatus_t cudnnCreate(Handle** handle) {
    if (!handle) return BAD_PARAM;
    if (failing("cudnnCreate")) return NOT_INITIALIZED;
    *handle = calloc(1, sizeof(Handle));
    (*handle)->kind = HANDLE;
    return SUCCESS;
}
cudnnStatus_t cudnnDestroy(Handle* handle) {
    if (!handle || handle->kind != HANDLE) return BAD_PARAM;
    handle->kind = 0;
    free(handle);
    return SUCCESS;
}
cudnnStatus_t cudnnSetStream(Handle* handle, void* stream) {
    if (!handle || handle->kind != HANDLE || stream != (void*) 0x20) return BAD_PARAM;
    handle->stream = stream;
    return SUCCESS;
}
static int usable(const Handle* handle) { return handle && handle->kind == HANDLE && handle->stream == (void*) 0x20; }

static cudnnStatus_t create(void** out, size_t size, int kind) {
    if (!out) return BAD_PARAM;
    int* object = calloc(1, size);
    object[0] = kind;
    *out = object;
    live_descriptors++;
    return SUCCESS;
}
static cudnnStatus_t destroy(void* object, int kind) {
    if (!object || *(int*) object != kind) return BAD_PARAM;
    *(int*) object = 0;
    free(object);
    live_descriptors--;
    return SUCCESS;
}

cudnnStatus_t cudnnCreateTensorDescriptor(Descriptor** d) { return create((void**) d, sizeof(Descriptor), TENSOR); }
cudnnStatus_t cudnnDestroyTensorDescriptor(Descriptor* d) { return destroy(d, TENSOR); }
cudnnStatus_t cudnnCreateFilterDescriptor(Descriptor** d) { return create((void**) d, sizeof(Descriptor), FILTER); }
cudnnStatus_t cudnnDestroyFilterDescriptor(Descriptor* d) { return destroy(d, FILTER); }
cudnnStatus_t cudnnCreateConvolutionDescriptor(Convolution** d) {
    cudnnStatus_t status = create((void**) d, sizeof(Convolution), CONVOLUTION);
    if (status == SUCCESS) {
        (*d)->groups = 1;
        (*d)->math = DEFAULT_MATH;
    }
    return status;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(Convolution* d) { return destroy(d, CONVOLUTION); }

/* Packed NCHW only: the strides must be c*h*w, h*w, w, 1. */
cudnnStatus_t cudnnSetTensor4dDescriptorEx(Descriptor* d, int type, int n, int c, int h, int w, int ns, int cs, int hs,
                                           int ws) {
    if (!d || d->kind != TENSOR || type != DATA_FLOAT || n < 1 || c < 1 || h < 1 || w < 1
            || ws != 1 || hs != w || cs != h * w || ns != c * h * w) {
        return BAD_PARAM;
    }
    d->n = n; d->c = c; d->h = h; d->w = w; d->set = 1;
    return SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(Descriptor* d, int type, int format, int k, int c, int h, int w) {
    if (!d || d->kind != FILTER || type != DATA_FLOAT || format != NCHW || k < 1 || c < 1 || h < 1 || w < 1) {
        return BAD_PARAM;
    }
    d->n = k; d->c = c; d->h = h; d->w = w; d->set = 1;
    return SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(Convolution* d, int pad_h, int pad_w, int u, int v, int dil_h, int dil_w,
                                              int mode, int computeType) {
    if (!d || d->kind != CONVOLUTION || pad_h < 0 || pad_w < 0 || u < 1 || v < 1 || dil_h < 1 || dil_w < 1
            || mode != CROSS_CORRELATION || computeType != DATA_FLOAT) {
        return BAD_PARAM;
    }
    if (getenv("FAKE_CUDNN_SWAP_STRIDE_DILATION")) {
        int t = u; u = dil_h; dil_h = t;
        t = v; v = dil_w; dil_w = t;
    }
    d->pad_h = pad_h; d->pad_w = pad_w; d->u = u; d->v = v; d->dil_h = dil_h; d->dil_w = dil_w; d->set = 1;
    return SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(Convolution* d, int groups) {
    if (!d || d->kind != CONVOLUTION || groups < 1) return BAD_PARAM;
    d->groups = groups;
    return SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(Convolution* d, int math) {
    if (!d || d->kind != CONVOLUTION) return BAD_PARAM;
    int ok = getenv("FAKE_CUDNN_TF32") ? math == DEFAULT_MATH || math == TENSOR_OP_MATH : math == FMA_MATH;
    if (!ok) return BAD_PARAM;
    d->math = math;
    return SUCCESS;
}

/* x [n, c, h, w], w [k, c/g, kh, kw], y [n, k, oh, ow]: the descriptors fit one another. */
static int fits(const Descriptor* x, const Descriptor* w, const Convolution* conv, const Descriptor* y) {
    if (!x || !w || !conv || !y || x->kind != TENSOR || w->kind != FILTER || conv->kind != CONVOLUTION
            || y->kind != TENSOR || !x->set || !w->set || !conv->set || !y->set) {
        return 0;
    }
    int g = conv->groups;
    long span_h = (long) conv->dil_h * (w->h - 1) + 1;
    long span_w = (long) conv->dil_w * (w->w - 1) + 1;
    if (x->c != w->c * g || w->n % g != 0 || span_h > x->h + 2L * conv->pad_h || span_w > x->w + 2L * conv->pad_w) {
        return 0;
    }
    long oh = (x->h + 2L * conv->pad_h - span_h) / conv->u + 1;
    long ow = (x->w + 2L * conv->pad_w - span_w) / conv->v + 1;
    return y->n == x->n && y->c == w->n && y->h == oh && y->w == ow;
}

typedef enum { FORWARD, BACKWARD_DATA, BACKWARD_FILTER } Direction;

/* The heuristic's list for a direction (cuDNN's algorithm numbers), in the order it is returned. */
static int algorithms(Direction direction, const Descriptor* x, const Descriptor* w, const Descriptor* y,
                      const Convolution* conv, Perf* out) {
    size_t x_bytes = (size_t) x->n * x->c * x->h * x->w * sizeof(float);
    size_t w_bytes = (size_t) w->n * w->c * w->h * w->w * sizeof(float);
    size_t y_bytes = (size_t) y->n * y->c * y->h * y->w * sizeof(float);
    int n = 0;
    int math = conv->math;
    switch (direction) {
        case FORWARD:
            out[n++] = (Perf) {6, SUCCESS, 0.05f, SIZE_MAX, DETERMINISTIC, math, {0}};
            out[n++] = (Perf) {7, SUCCESS, 0.1f, (size_t) 1 << 40, DETERMINISTIC, math, {0}};
            if (getenv("FAKE_CUDNN_BIG_WORKSPACE")) {
                out[n++] = (Perf) {2, SUCCESS, 0.1f, number("FAKE_CUDNN_BIG_WORKSPACE", 0), DETERMINISTIC, math, {0}};
            }
            out[n++] = (Perf) {5, NOT_SUPPORTED, -1, 0, DETERMINISTIC, math, {0}};
            out[n++] = (Perf) {1, SUCCESS, 0.2f, 0, DETERMINISTIC, TENSOR_OP_MATH, {0}};
            out[n++] = (Perf) {0, SUCCESS, 0.3f, y_bytes, DETERMINISTIC, math, {0}};
            break;
        case BACKWARD_DATA:
            out[n++] = (Perf) {0, SUCCESS, 0.1f, 0, NON_DETERMINISTIC, math, {0}};
            /* Listed with no workspace; its workspace query answers 2^63 bytes. */
            out[n++] = (Perf) {5, SUCCESS, 0.1f, 0, DETERMINISTIC, math, {0}};
            out[n++] = (Perf) {1, SUCCESS, 0.2f, x_bytes, DETERMINISTIC, math, {0}};
            break;
        case BACKWARD_FILTER:
            out[n++] = (Perf) {0, SUCCESS, 0.1f, 0, NON_DETERMINISTIC, math, {0}};
            out[n++] = (Perf) {3, SUCCESS, 0.1f, 0, NON_DETERMINISTIC, math, {0}};
            out[n++] = (Perf) {1, SUCCESS, 0.2f, w_bytes, DETERMINISTIC, math, {0}};
            break;
    }
    return n;
}

static const Perf* find(Direction direction, const Descriptor* x, const Descriptor* w, const Descriptor* y,
                        const Convolution* conv, int algo, Perf* list) {
    int n = algorithms(direction, x, w, y, conv, list);
    for (int i = 0; i < n; i++) {
        if (list[i].algo == algo) {
            return &list[i];
        }
    }
    return NULL;
}

static cudnnStatus_t max_count(const Handle* handle, int* count, int value) {
    if (!usable(handle) || !count) return BAD_PARAM;
    *count = value;
    return SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionForwardAlgorithmMaxCount(Handle* h, int* count) { return max_count(h, count, 8); }
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithmMaxCount(Handle* h, int* count) { return max_count(h, count, 6); }
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(Handle* h, int* count) { return max_count(h, count, 7); }

static cudnnStatus_t heuristic(Direction direction, const Handle* handle, const Descriptor* x, const Descriptor* w,
                               const Convolution* conv, const Descriptor* y, int requested, int* returned, Perf* out) {
    if (!usable(handle) || !fits(x, w, conv, y) || requested < 1 || !returned || !out) return BAD_PARAM;
    static const char* names[] = {"cudnnGetConvolutionForwardAlgorithm_v7", "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                                  "cudnnGetConvolutionBackwardFilterAlgorithm_v7"};
    if (getenv("FAKE_CUDNN_TRACE")) {
        fprintf(stderr, "fake cudnn: %s\n", names[direction]);
        fflush(stderr);
    }
    if (failing(names[direction]) && heuristics[direction]++ >= number("FAKE_CUDNN_FAIL_AFTER", 0)) return NOT_SUPPORTED;
    Perf list[8];
    int n = algorithms(direction, x, w, y, conv, list);
    *returned = n < requested ? n : requested;
    memcpy(out, list, (size_t) *returned * sizeof(Perf));
    return SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(Handle* h, Descriptor* x, Descriptor* w, Convolution* conv,
                                                     Descriptor* y, int requested, int* returned, Perf* out) {
    return heuristic(FORWARD, h, x, w, conv, y, requested, returned, out);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(Handle* h, Descriptor* w, Descriptor* dy, Convolution* conv,
                                                          Descriptor* dx, int requested, int* returned, Perf* out) {
    return heuristic(BACKWARD_DATA, h, dx, w, conv, dy, requested, returned, out);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(Handle* h, Descriptor* x, Descriptor* dy, Convolution* conv,
                                                            Descriptor* dw, int requested, int* returned, Perf* out) {
    return heuristic(BACKWARD_FILTER, h, x, dw, conv, dy, requested, returned, out);
}

static cudnnStatus_t workspace(Direction direction, const Handle* handle, const Descriptor* x, const Descriptor* w,
                               const Convolution* conv, const Descriptor* y, int algo, size_t* bytes) {
    if (!usable(handle) || !fits(x, w, conv, y) || !bytes) return BAD_PARAM;
    Perf list[8];
    const Perf* perf = find(direction, x, w, y, conv, algo, list);
    if (!perf) return BAD_PARAM;
    if (perf->status != SUCCESS) return perf->status;
    *bytes = direction == BACKWARD_DATA && algo == 5 ? (size_t) 1 << 63 : perf->memory;
    return SUCCESS;
}
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(Handle* h, Descriptor* x, Descriptor* w, Convolution* conv,
                                                      Descriptor* y, int algo, size_t* bytes) {
    return workspace(FORWARD, h, x, w, conv, y, algo, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(Handle* h, Descriptor* w, Descriptor* dy, Convolution* conv,
                                                           Descriptor* dx, int algo, size_t* bytes) {
    return workspace(BACKWARD_DATA, h, dx, w, conv, dy, algo, bytes);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(Handle* h, Descriptor* x, Descriptor* dy,
                                                             Convolution* conv, Descriptor* dw, int algo,
                                                             size_t* bytes) {
    return workspace(BACKWARD_FILTER, h, x, dw, conv, dy, algo, bytes);
}

/* Checks a call's arguments; on success *order is 1 when a non-deterministic algorithm adds backwards this time. */
static cudnnStatus_t check_call(Direction direction, const char* name, const Handle* handle, const float* alpha,
                                const float* beta, const Descriptor* x, const Descriptor* w, const Convolution* conv,
                                const Descriptor* y, int algo, void* space, size_t bytes, int* reversed) {
    if (!usable(handle) || !alpha || !beta || !fits(x, w, conv, y)) return BAD_PARAM;
    Perf list[8];
    const Perf* perf = find(direction, x, w, y, conv, algo, list);
    if (!perf) return BAD_PARAM;
    if (perf->status != SUCCESS) return perf->status;
    /* Tensor-core algorithms need a convolution whose math type allows them. */
    if (perf->mathType == TENSOR_OP_MATH && conv->math == FMA_MATH) return NOT_SUPPORTED;
    size_t needed = direction == BACKWARD_DATA && algo == 5 ? (size_t) 1 << 63 : perf->memory;
    if (bytes < needed || (needed > 0 && !space)) return BAD_PARAM;
    if (getenv("FAKE_CUDNN_TRACE")) {
        fprintf(stderr, "fake cudnn: %s algorithm %d, workspace %zu bytes\n", name, algo, bytes);
        fflush(stderr);
    }
    if (failing(name) && runs[direction]++ >= number("FAKE_CUDNN_FAIL_AFTER", 0)) return EXECUTION_FAILED;
    if (named("FAKE_CUDNN_GARBLE", name) && runs[direction]++ >= number("FAKE_CUDNN_FAIL_AFTER", 0)) {
        /* The result's descriptor: y for the forward pass, x (dx) for the input gradient, w (dw) for the weights'. */
        *reversed = -1;
        return SUCCESS;
    }
    if (perf->memory > 0) {
        memset(space, 0x5a, perf->memory);
    }
    *reversed = perf->determinism == NON_DETERMINISTIC && (calls++ & 1);
    return SUCCESS;
}

/* Whether p is the start of a block of fake_driver.c's device memory (whose header holds its
   size and a magic word) of at least the tensor's bytes: a binding that passes its operands in
   the wrong order fails here, before the loops read past a buffer. The backend hands cuDNN the
   starts of its buffers. */
static int holds(const void* p, const Descriptor* d) {
    if (!p) return 0;
    const long long* header = (const long long*) p - 2;
    return header[1] == 0x61646a6f696e74LL && header[0] >= (long long) ((size_t) d->n * d->c * d->h * d->w * sizeof(float));
}

/* Fills a result with NaN and fails, as a kernel that stopped half-way would leave it. */
static cudnnStatus_t garble(float* out, const Descriptor* d) {
    size_t count = (size_t) d->n * d->c * d->h * d->w;
    for (size_t e = 0; e < count; e++) {
        out[e] = NAN;
    }
    return EXECUTION_FAILED;
}

static float scaled(float alpha, float sum, float beta, float old) {
    return alpha * sum + (beta == 0 ? 0 : beta * old);
}

cudnnStatus_t cudnnConvolutionForward(Handle* handle, const float* alpha, Descriptor* xd, const float* x,
                                      Descriptor* wd, const float* w, Convolution* conv, int algo, void* space,
                                      size_t bytes, const float* beta, Descriptor* yd, float* y) {
    int reversed;
    cudnnStatus_t status = check_call(FORWARD, "cudnnConvolutionForward", handle, alpha, beta, xd, wd, conv, yd, algo,
                                      space, bytes, &reversed);
    if (status != SUCCESS) return status;
    if (reversed < 0) return garble(y, yd);
    if (!holds(x, xd) || !holds(w, wd) || !holds(y, yd)) return BAD_PARAM;
    int C = xd->c, H = xd->h, W = xd->w, K = wd->n, G = conv->groups, cg = C / G, kg = K / G;
    int kh = wd->h, kw = wd->w, OH = yd->h, OW = yd->w;
    for (int n = 0; n < xd->n; n++) {
        for (int k = 0; k < K; k++) {
            int g = k / kg;
            for (int oh = 0; oh < OH; oh++) {
                for (int ow = 0; ow < OW; ow++) {
                    float sum = 0;
                    for (int ci = 0; ci < cg; ci++) {
                        int c = g * cg + ci;
                        for (int i = 0; i < kh; i++) {
                            int h = oh * conv->u - conv->pad_h + i * conv->dil_h;
                            for (int j = 0; j < kw; j++) {
                                int col = ow * conv->v - conv->pad_w + j * conv->dil_w;
                                if (h >= 0 && h < H && col >= 0 && col < W) {
                                    sum += x[(((long) n * C + c) * H + h) * W + col]
                                         * w[(((long) k * cg + ci) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                    float* out = &y[(((long) n * K + k) * OH + oh) * OW + ow];
                    *out = scaled(*alpha, sum, *beta, *out);
                }
            }
        }
    }
    if (named("FAKE_CUDNN_WRONG", "cudnnConvolutionForward")) y[0] += 1;
    return SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardData(Handle* handle, const float* alpha, Descriptor* wd, const float* w,
                                           Descriptor* dyd, const float* dy, Convolution* conv, int algo, void* space,
                                           size_t bytes, const float* beta, Descriptor* dxd, float* dx) {
    int reversed;
    cudnnStatus_t status = check_call(BACKWARD_DATA, "cudnnConvolutionBackwardData", handle, alpha, beta, dxd, wd, conv,
                                      dyd, algo, space, bytes, &reversed);
    if (status != SUCCESS) return status;
    if (reversed < 0) return garble(dx, dxd);
    if (!holds(w, wd) || !holds(dy, dyd) || !holds(dx, dxd)) return BAD_PARAM;
    int N = dxd->n, C = dxd->c, H = dxd->h, W = dxd->w, K = wd->n, G = conv->groups, cg = C / G, kg = K / G;
    int kh = wd->h, kw = wd->w, OH = dyd->h, OW = dyd->w;
    size_t count = (size_t) N * C * H * W;
    float* sums = calloc(count, sizeof(float));
    for (int n = 0; n < N; n++) {
        for (int step = 0; step < K; step++) {
            int k = reversed ? K - 1 - step : step;
            int g = k / kg;
            for (int oh = 0; oh < OH; oh++) {
                for (int ow = 0; ow < OW; ow++) {
                    float grad = dy[(((long) n * K + k) * OH + oh) * OW + ow];
                    for (int ci = 0; ci < cg; ci++) {
                        int c = g * cg + ci;
                        for (int i = 0; i < kh; i++) {
                            int h = oh * conv->u - conv->pad_h + i * conv->dil_h;
                            for (int j = 0; j < kw; j++) {
                                int col = ow * conv->v - conv->pad_w + j * conv->dil_w;
                                if (h >= 0 && h < H && col >= 0 && col < W) {
                                    sums[(((long) n * C + c) * H + h) * W + col]
                                            += grad * w[(((long) k * cg + ci) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for (size_t e = 0; e < count; e++) {
        dx[e] = scaled(*alpha, sums[e], *beta, dx[e]);
    }
    free(sums);
    if (named("FAKE_CUDNN_WRONG", "cudnnConvolutionBackwardData")) dx[0] += 1;
    return SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardFilter(Handle* handle, const float* alpha, Descriptor* xd, const float* x,
                                             Descriptor* dyd, const float* dy, Convolution* conv, int algo,
                                             void* space, size_t bytes, const float* beta, Descriptor* dwd,
                                             float* dw) {
    int reversed;
    cudnnStatus_t status = check_call(BACKWARD_FILTER, "cudnnConvolutionBackwardFilter", handle, alpha, beta, xd, dwd,
                                      conv, dyd, algo, space, bytes, &reversed);
    if (status != SUCCESS) return status;
    if (reversed < 0) return garble(dw, dwd);
    if (!holds(x, xd) || !holds(dy, dyd) || !holds(dw, dwd)) return BAD_PARAM;
    int N = xd->n, C = xd->c, H = xd->h, W = xd->w, K = dwd->n, G = conv->groups, cg = C / G, kg = K / G;
    int kh = dwd->h, kw = dwd->w, OH = dyd->h, OW = dyd->w;
    for (int k = 0; k < K; k++) {
        int g = k / kg;
        for (int ci = 0; ci < cg; ci++) {
            int c = g * cg + ci;
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    float sum = 0;
                    for (int step = 0; step < N; step++) {
                        int n = reversed ? N - 1 - step : step;
                        for (int oh = 0; oh < OH; oh++) {
                            int h = oh * conv->u - conv->pad_h + i * conv->dil_h;
                            for (int ow = 0; ow < OW; ow++) {
                                int col = ow * conv->v - conv->pad_w + j * conv->dil_w;
                                if (h >= 0 && h < H && col >= 0 && col < W) {
                                    sum += dy[(((long) n * K + k) * OH + oh) * OW + ow]
                                         * x[(((long) n * C + c) * H + h) * W + col];
                                }
                            }
                        }
                    }
                    float* out = &dw[(((long) k * cg + ci) * kh + i) * kw + j];
                    *out = scaled(*alpha, sum, *beta, *out);
                }
            }
        }
    }
    if (named("FAKE_CUDNN_WRONG", "cudnnConvolutionBackwardFilter")) dw[0] += 1;
    return SUCCESS;
}
