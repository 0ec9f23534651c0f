/*
 * Adjoint device kernels: the CUDA twins of the CPU kernels in org.adjoint.kernels
 * (ElementWise, Strided, AxisReductions, Indexing, Im2col, Fused, AttentionKernels). The Java class
 * org.adjoint.kernels.cuda.CudaKernelSource loads this text; the CUDA backend compiles it
 * with NVRTC at run time, and the kernels module's tests compile it with `nvcc -ptx`.
 *
 * Self-contained on purpose: NVRTC has no system or CUDA headers to include, so nothing
 * here is #included; macros that only host headers define (NULL, INFINITY, size_t, ...)
 * are not used. Entry points are extern "C" so that their PTX names are not mangled.
 *
 * Conventions
 *   - Pointers are device pointers to float; element counts and strides are long long;
 *     the int enums (op, act) are the ordinals of the Java enums named at each kernel.
 *   - Every kernel is correct for ANY 1-D grid and any block of at most 1024 threads:
 *     work is spread with grid-stride loops, so a small grid only means fewer threads.
 *   - Rounding follows the CPU kernels operation by operation: products that Java rounds
 *     before an addition use __fmul_rn/__fadd_rn, which the compiler never contracts into
 *     an FMA, so the results do not depend on --fmad. Transcendentals (expf, logf, tanhf,
 *     powf) are CUDA's float functions, within a few ulp of Java's double-then-float.
 *     Compile with NVRTC's default options: --use_fast_math would swap in approximate
 *     expf/logf/sqrtf and flush subnormals to zero, which Java keeps.
 *     One exception by design: sum_to_parts (a long sum split across threads) adds in
 *     another order than the CPU, so its sums differ from the CPU's within float rounding.
 *
 * Launch configuration (1-D; 256 threads per block unless a kernel says otherwise)
 *   kernel              work unit (one thread, grid-stride)     blocks
 *   fill                element (n)                              ceil(n / 256)
 *   dropout_mask        element (n)                              ceil(n / 256)
 *   axpy                element (n)                              ceil(n / 256)
 *   adam                element (n)                              ceil(n / 256)
 *   fill_many, axpy_many, adam_many, squares_many, clip_many
 *                       chunk of a table's buffers (a block      chunks (256 threads; the
 *                       each, grid-stride over chunks)           squares depend on that)
 *   norm_from_squares   ONE block, as nll                        exactly 1
 *   unary               element (n)                              ceil(n / 256)
 *   unary_times         element (n)                              ceil(n / 256)
 *   binary              output element (n)                       ceil(n / 256)
 *   copy_strided        output element (n)                       ceil(n / 256)
 *   copy_strided_to     element (n)                              ceil(n / 256)
 *   masked_fill         output element (n)                       ceil(n / 256)
 *   sum_to              output element (outCount); the thread    ceil(outCount / 256)
 *                       sums its whole reduced set itself, so
 *                       the result does not depend on the grid
 *   column_sums         32 columns of a [rows, cols] matrix      ceil(cols / 32)
 *                       (8 lanes of rows per column, their sums
 *                       added in lane order); depends on the
 *                       block size, not the grid
 *   sum_to_parts        (output, part) pair (outCount * parts);  ceil(outCount * parts / 256)
 *                       the split is the host's choice, and
 *                       the result depends on it, not the grid
 *   max_axis            lane (outer * inner)                     ceil(outer * inner / 256)
 *   softmax             lane (outer * inner), except when        ceil(outer * inner / 256)
 *                       inner == 1 && length >= 128
 *                       (ADJOINT_SOFTMAX_ROW_BLOCK_MIN_LENGTH):  or, in that case, outer
 *                       then a whole block shares a row          (one block per row)
 *   gather              output element (outer * count * inner)   ceil(outer * count * inner / 256)
 *   scatter_add         lane (outer * inner); the thread adds    ceil(outer * inner / 256)
 *                       its lane's count values in order, so
 *                       the result does not depend on the grid
 *   scatter_add_parts   (part, lane) pair (parts * outer *      ceil(that / 256)
 *                       inner): its chunk of entries, in order
 *   scatter_add_combine element of out (n)                       ceil(n / 256)
 *   im2col              column element (images * C * kh * kw     ceil(that / 256)
 *                       * outH * outW)
 *   col2im              image element (images * C * H * W); the  ceil(images * C * H * W / 256)
 *                       thread sums the entries that read it in
 *                       column order, so the result does not
 *                       depend on the grid
 *   bias_activation     element (rows * cols)                    ceil(rows * cols / 256)
 *   activation_grad     element (n)                              ceil(n / 256)
 *   nll                 ONE block of 256 threads (any count up   exactly 1 (blocks other
 *                       to 1024 works): deterministic tree sum   than 0 return at once)
 *   cross_entropy_grad  element (rows * cols)                    ceil(rows * cols / 256)
 *   attention_forward_W tile of 64 query rows of one batch       batch * ceil(t / 64), with
 *                       item, L = W / 32 lanes to a row (W = 32,  64 L threads a block (not
 *                       64, 128: the widest row it takes); keys   256)
 *                       staged in shared memory 32 at a time
 *   attention_backward_query_W  as attention_forward_W           batch * ceil(t / 64)
 *   attention_backward_key_W    tile of 64 key rows of one       batch * ceil(s / 64)
 *                       batch item, L lanes to a row; queries
 *                       staged 32 at a time. Each output element
 *                       is summed by one thread in a fixed order.
 *   layer_norm          row (rows), a block per row: the row's   min(rows, cap)
 *                       two sums reduced over the block
 *   layer_norm_grad     row (rows), a block per row              min(rows, cap)
 *   layer_norm_grad_weight  (part, column) pair (parts * size);  ceil(parts * size / 256)
 *                       the thread adds its column over the
 *                       part's rows in order; the split is the
 *                       host's choice (one part: the CPU's bits)
 * The block counts are what makes each thread do about one unit of work; any count from 1
 * up gives the same results (a capped grid is fine). Only nll, the row path of softmax and
 * the layer norm's rows reduce across threads, and they do it in a fixed order that depends
 * on the block size alone, so results are deterministic for a given launch configuration.
 */

/* Largest rank of a Strided index space. */
#define ADJOINT_MAX_RANK 8

/* Softmax rows at least this long (with inner == 1) are shared by a whole block. */
#define ADJOINT_SOFTMAX_ROW_BLOCK_MIN_LENGTH 128

/* Largest block the shared-memory reductions have room for (CUDA's limit). */
#define ADJOINT_MAX_BLOCK 1024

/*
 * The index space of the strided kernels, passed BY VALUE (kernel parameter memory).
 * C layout, 8-byte aligned, 200 bytes, native (little-endian) byte order:
 *
 *   offset   0  int        rank        number of axes used, 0..8
 *   offset   4  (4 bytes of padding, value ignored)
 *   offset   8  long long  shape[8]    axis lengths; entries at index >= rank are ignored
 *   offset  72  long long  a[8]        element strides of the first operand, per axis
 *   offset 136  long long  b[8]        element strides of the second operand, per axis
 *
 * A stride of 0 repeats an element along that axis (broadcasting). The output of binary
 * and copy_strided is contiguous (row-major) over shape; sum_to gives `a` another meaning
 * (see there). Rank 0 is one element.
 */
struct Strided {
    int rank;
    long long shape[ADJOINT_MAX_RANK];
    long long a[ADJOINT_MAX_RANK];
    long long b[ADJOINT_MAX_RANK];
};

static_assert(sizeof(Strided) == 200, "Strided must be 200 bytes: the Java side writes it by hand");
static_assert(alignof(Strided) == 8, "Strided must be 8-byte aligned: the Java side writes it by hand");

/* ------------------------------------------------------------------------------------ */
/* Helpers. __host__ __device__ so that the kernels module's tests can run the kernels  */
/* on the CPU against the Java kernels (the Emulated*Test suites).                       */
/* ------------------------------------------------------------------------------------ */

static __device__ __forceinline__ long long first_index() {
    return (long long) blockIdx.x * blockDim.x + threadIdx.x;
}

static __device__ __forceinline__ long long index_step() {
    return (long long) gridDim.x * blockDim.x;
}

/* Correctly rounded float arithmetic that is never fused, as Java evaluates it. */
static __host__ __device__ __forceinline__ float add_rn(float x, float y) {
#ifdef __CUDA_ARCH__
    return __fadd_rn(x, y);
#else
    return x + y;
#endif
}

static __host__ __device__ __forceinline__ float sub_rn(float x, float y) {
#ifdef __CUDA_ARCH__
    return __fsub_rn(x, y);
#else
    return x - y;
#endif
}

static __host__ __device__ __forceinline__ float mul_rn(float x, float y) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(x, y);
#else
    return x * y;
#endif
}

/* Double products and sums, each rounded on its own: never contracted into a fused multiply-add. */
static __host__ __device__ __forceinline__ double dadd_rn(double x, double y) {
#ifdef __CUDA_ARCH__
    return __dadd_rn(x, y);
#else
    return x + y;
#endif
}

static __host__ __device__ __forceinline__ double dmul_rn(double x, double y) {
#ifdef __CUDA_ARCH__
    return __dmul_rn(x, y);
#else
    return x * y;
#endif
}

static __host__ __device__ __forceinline__ float div_rn(float x, float y) {
#ifdef __CUDA_ARCH__
    return __fdiv_rn(x, y);
#else
    return x / y;
#endif
}

static __host__ __device__ __forceinline__ float quiet_nan() {
#ifdef __CUDA_ARCH__
    return __int_as_float(0x7fc00000);
#else
    return nanf("");
#endif
}

static __host__ __device__ __forceinline__ bool is_nan(float x) {
    return x != x;
}

static __host__ __device__ __forceinline__ bool is_infinite(float x) {
    return x > 3.40282347e38f || x < -3.40282347e38f;
}

/*
 * Java's Math.max(float, float): NaN if either argument is NaN (C's fmaxf returns the
 * other one), and +0 over -0. Adding two zeros gives -0 only when both are -0.
 */
static __host__ __device__ __forceinline__ float java_max(float x, float y) {
    if (is_nan(x)) {
        return x;
    }
    if (is_nan(y)) {
        return y;
    }
    if (x == 0.0f && y == 0.0f) {
        return add_rn(x, y);
    }
    return x >= y ? x : y;
}

/* ElementWise.sigmoid: each branch exponentiates a non-positive number, so nothing overflows. */
static __host__ __device__ __forceinline__ float sigmoid(float x) {
    if (x >= 0.0f) {
        return div_rn(1.0f, add_rn(1.0f, expf(-x)));
    }
    float e = expf(x);
    return div_rn(e, add_rn(1.0f, e));
}

/*
 * ElementWise.pow: exact cases first (x*x, x, 1/x), then (float) Math.pow(x, p). C's powf
 * and Java's Math.pow agree on every special case but two, which are fixed here: Java
 * gives NaN for pow(x, NaN) even when x == 1, and for pow(+-1, +-infinity).
 */
static __host__ __device__ __forceinline__ float java_pow(float x, float p) {
    if (p == 2.0f) {
        return mul_rn(x, x);
    }
    if (p == 1.0f) {
        return x;
    }
    if (p == -1.0f) {
        return div_rn(1.0f, x);
    }
    if (is_nan(p)) {
        return p;
    }
    if ((x == 1.0f || x == -1.0f) && is_infinite(p)) {
        return quiet_nan();
    }
    return powf(x, p);
}

/* ElementWise.Unary ordinals. */
enum UnaryOp {
    UNARY_NEG = 0, UNARY_EXP = 1, UNARY_LOG = 2, UNARY_SQRT = 3, UNARY_TANH = 4,
    UNARY_SIGMOID = 5, UNARY_RELU = 6, UNARY_STEP = 7, UNARY_POW = 8, UNARY_GELU = 9,
    UNARY_GELU_GRAD = 10
};

/*
 * ElementWise.gelu and geluGrad, operation by operation (ElementWise.NORMAL_TAIL and its
 * neighbours hold the same constants): Phi(-a) = e^(-a^2/2) * tau * P(tau) with
 * tau = 1 / (1 + 0.4 a), a = min(|x|, 15); e^(-a^2/2) from a^2 and its exact remainder.
 * fmaf where Java calls Math.fma, the _rn helpers elsewhere; expf is the one difference.
 */
static __host__ __device__ __forceinline__ float gelu_op(float x, bool grad) {
    const float tail[11] = {
        0.15957508981227875f, 0.1596454381942749f, 0.13297130167484283f, 0.09221293032169342f,
        -0.029660237953066826f, 0.12531836330890656f, -0.3818834125995636f, 0.3890836834907532f,
        -0.18037502467632294f, 0.03322402015328407f, -0.00011215779522899538f};
    float a = x < 0.0f ? -x : x;
    a = is_nan(x) ? x : (a < 15.0f ? a : 15.0f);
    float square = mul_rn(a, a);
    float remainder = fmaf(a, a, -square);
    float g = expf(mul_rn(-0.5f, square));
    g = fmaf(g, mul_rn(-0.5f, remainder), g);
    float tau = div_rn(1.0f, fmaf(a, 0.4f, 1.0f));
    float p = tail[10];
    for (int c = 9; c >= 0; c--) {
        p = fmaf(p, tau, tail[c]);
    }
    float t = mul_rn(mul_rn(p, tau), g);
    float cdf = x < 0.0f ? t : sub_rn(1.0f, t);
    if (grad) {
        return add_rn(cdf, mul_rn(x, mul_rn(g, 0.3989422804014327f)));
    }
    return mul_rn(x, cdf);
}

static __host__ __device__ __forceinline__ float unary_op(int op, float p, float x) {
    switch (op) {
        case UNARY_NEG: return -x;
        case UNARY_EXP: return expf(x);
        case UNARY_LOG: return logf(x);
        case UNARY_SQRT: return sqrtf(x);
        case UNARY_TANH: return tanhf(x);
        case UNARY_SIGMOID: return sigmoid(x);
        case UNARY_RELU: return java_max(x, 0.0f);
        case UNARY_STEP: return x > 0.0f ? 1.0f : 0.0f;
        case UNARY_POW: return java_pow(x, p);
        case UNARY_GELU: return gelu_op(x, false);
        case UNARY_GELU_GRAD: return gelu_op(x, true);
        default: return quiet_nan();
    }
}

/* Strided.Binary ordinals. */
enum BinaryOp { BINARY_ADD = 0, BINARY_SUB = 1, BINARY_MUL = 2, BINARY_DIV = 3 };

static __host__ __device__ __forceinline__ float binary_op(int op, float x, float y) {
    switch (op) {
        case BINARY_ADD: return add_rn(x, y);
        case BINARY_SUB: return sub_rn(x, y);
        case BINARY_MUL: return mul_rn(x, y);
        case BINARY_DIV: return div_rn(x, y);
        default: return quiet_nan();
    }
}

/* Fused.Activation ordinals. */
enum ActivationOp { ACTIVATION_IDENTITY = 0, ACTIVATION_RELU = 1, ACTIVATION_TANH = 2, ACTIVATION_SIGMOID = 3 };

static __host__ __device__ __forceinline__ float activation(int act, float v) {
    switch (act) {
        case ACTIVATION_IDENTITY: return v;
        case ACTIVATION_RELU: return java_max(v, 0.0f);
        case ACTIVATION_TANH: return tanhf(v);
        case ACTIVATION_SIGMOID: return sigmoid(v);
        default: return quiet_nan();
    }
}

/* Fused.activationGrad: the derivative written in terms of the output y. */
static __host__ __device__ __forceinline__ float activation_derivative_times(int act, float y, float cotangent) {
    switch (act) {
        case ACTIVATION_IDENTITY: return cotangent;
        case ACTIVATION_RELU: return y > 0.0f ? cotangent : 0.0f;
        case ACTIVATION_TANH: return mul_rn(cotangent, sub_rn(1.0f, mul_rn(y, y)));
        case ACTIVATION_SIGMOID: return mul_rn(cotangent, mul_rn(y, sub_rn(1.0f, y)));
        default: return quiet_nan();
    }
}

/*
 * Quotient and remainder of a non-negative index. 64-bit division is a long software
 * sequence on the GPU, so callers pass `narrow` (uniform across the grid) when every
 * operand is known to fit in 32 bits.
 */
static __host__ __device__ __forceinline__ long long quotient(long long i, long long d, bool narrow, long long* remainder) {
    long long q = narrow ? (long long) ((unsigned int) i / (unsigned int) d) : i / d;
    *remainder = i - q * d;
    return q;
}

/*
 * A Strided index space with its axes stored innermost first, after dropping axes of
 * length 1 and merging each axis into the next inner one wherever both operands step
 * over it exactly (stride == inner stride * inner length), as Strided.collapse does on
 * the CPU. The element order is unchanged; fewer axes mean fewer divisions per element.
 */
struct Layout {
    int rank;
    long long shape[ADJOINT_MAX_RANK];
    long long a[ADJOINT_MAX_RANK];
    long long b[ADJOINT_MAX_RANK];
};

static __host__ __device__ void collapse(const Strided& s, bool useB, Layout* layout) {
    layout->rank = 0;
    int rank = s.rank < ADJOINT_MAX_RANK ? s.rank : ADJOINT_MAX_RANK;
    for (int axis = rank - 1; axis >= 0; axis--) {
        long long length = s.shape[axis];
        long long a = s.a[axis];
        long long b = useB ? s.b[axis] : 0;
        if (length == 1) {
            continue;
        }
        int last = layout->rank - 1;
        if (last >= 0 && a == layout->a[last] * layout->shape[last] && b == layout->b[last] * layout->shape[last]) {
            layout->shape[last] *= length;
            continue;
        }
        layout->shape[last + 1] = length;
        layout->a[last + 1] = a;
        layout->b[last + 1] = b;
        layout->rank = last + 2;
    }
}

/* Element offsets of both operands for row-major output index i. */
static __host__ __device__ __forceinline__ void offsets(const Layout& layout, long long i, bool narrow,
                                                        long long* offsetA, long long* offsetB) {
    long long a = 0;
    long long b = 0;
    for (int k = 0; k < layout.rank - 1; k++) {
        long long coordinate;
        i = quotient(i, layout.shape[k], narrow, &coordinate);
        a += coordinate * layout.a[k];
        b += coordinate * layout.b[k];
    }
    if (layout.rank > 0) {
        a += i * layout.a[layout.rank - 1];
        b += i * layout.b[layout.rank - 1];
    }
    *offsetA = a;
    *offsetB = b;
}

/*
 * Deterministic tree reduction over the block: every thread passes its value and gets the
 * total. The pairing depends only on blockDim.x (any size up to 1024). Every thread of the
 * block must call it, the same number of times.
 */
template <typename T, typename Combine>
static __device__ __forceinline__ T block_reduce(T value, T* scratch, Combine combine) {
    unsigned int t = threadIdx.x;
    scratch[t] = value;
    __syncthreads();
    for (unsigned int size = blockDim.x; size > 1;) {
        unsigned int half = (size + 1) / 2;
        if (t < size - half) {
            scratch[t] = combine(scratch[t], scratch[t + half]);
        }
        __syncthreads();
        size = half;
    }
    T total = scratch[0];
    __syncthreads(); /* everyone has read the total before scratch is reused */
    return total;
}

struct SumDouble {
    __host__ __device__ double operator()(double x, double y) const { return x + y; }
};

struct MaxFloat {
    __host__ __device__ float operator()(float x, float y) const { return java_max(x, y); }
};

/* ------------------------------------------------------------------------------------ */
/* Element-wise kernels.                                                                 */
/* ------------------------------------------------------------------------------------ */

/* y[i] = value for i < n. */
extern "C" __global__ void fill(float* y, float value, long long n) {
    for (long long i = first_index(); i < n; i += index_step()) {
        y[i] = value;
    }
}

/*
 * An inverted-dropout mask, mask[i] for i < n (RandomDraws.dropoutMask, RandomOps.bits): the
 * SplitMix64 finaliser of key + (i + 1) * 0x9E3779B97F4A7C15 in unsigned 64-bit arithmetic
 * (Java's long arithmetic wraps alike, and >>> is the unsigned shift); its top 24 bits, as a
 * float in [0, 1), below p drop the element (0), else it keeps 1 / (1 - p). Exact, so every
 * backend draws the same mask.
 */
extern "C" __global__ void dropout_mask(long long key, float p, float* mask, long long n) {
    const float keep = 1.0f / (1.0f - p);
    for (long long i = first_index(); i < n; i += index_step()) {
        unsigned long long z = (unsigned long long) key + (unsigned long long) (i + 1) * 0x9E3779B97F4A7C15ULL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z = z ^ (z >> 31);
        mask[i] = mul_rn((float) (z >> 40), 5.9604644775390625e-8f) /* 2^-24 */ < p ? 0.0f : keep;
    }
}

/* y[i] += alpha * x[i] for i < n (ElementWise.axpy: product rounded, then the sum). */
extern "C" __global__ void axpy(float alpha, const float* x, float* y, long long n) {
    for (long long i = first_index(); i < n; i += index_step()) {
        y[i] = add_rn(y[i], mul_rn(alpha, x[i]));
    }
}

/*
 * The Adam (or AdamW) update of one parameter in one pass (ElementWise.adam, FusedAdam): each
 * operation rounded as the composed update's kernels round it (binary, axpy, unary's sqrtf),
 * in the same order, so the fused update has the bits of the composition:
 *   p <- p * shrink (when shrink != 1); d <- g, or p * decay + 1 * g (when decay != 0);
 *   m <- m * beta1 + (1 - beta1) * d;  v <- v * beta2 + (1 - beta2) * (d * d);
 *   p <- p + step * (m / (sqrtf(v) / sqrtCorrection2 + epsilon)).
 */
static __device__ __forceinline__ void adam_element(float* p, const float* g, float* m, float* v, long long i,
                                                    float beta1, float beta2, float keep1, float keep2,
                                                    float sqrtCorrection2, float epsilon, float step, float decay,
                                                    float shrink) {
    float param = p[i];
    if (shrink != 1.0f) {
        param = mul_rn(param, shrink);
    }
    float d = g[i];
    if (decay != 0.0f) {
        d = add_rn(mul_rn(param, decay), mul_rn(1.0f, d));
    }
    float mi = add_rn(mul_rn(m[i], beta1), mul_rn(keep1, d));
    float vi = add_rn(mul_rn(v[i], beta2), mul_rn(keep2, mul_rn(d, d)));
    float denominator = add_rn(div_rn(sqrtf(vi), sqrtCorrection2), epsilon);
    p[i] = add_rn(param, mul_rn(step, div_rn(mi, denominator)));
    m[i] = mi;
    v[i] = vi;
}

extern "C" __global__ void adam(float* p, const float* g, float* m, float* v, long long n, float beta1, float beta2,
                                float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
    const float keep1 = sub_rn(1.0f, beta1);
    const float keep2 = sub_rn(1.0f, beta2);
    for (long long i = first_index(); i < n; i += index_step()) {
        adam_element(p, g, m, v, i, beta1, beta2, keep1, keep2, sqrtCorrection2, epsilon, step, decay, shrink);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Multi-tensor kernels: one launch over many buffers (an optimizer's parameters, their   */
/* gradients) instead of one or more per buffer.                                          */
/*                                                                                        */
/* A table in device memory describes the buffers, ADJOINT_TABLE_WIDTH long longs each:    */
/*   [0] n, the element count (> 0)                                                       */
/*   [1] the first chunk of this entry; entries are in chunk order, the first is 0        */
/*   [2..5] up to four device pointers of n floats each (unused ones 0)                   */
/* The buffers are cut into chunks of `chunk` elements, entry after entry (an entry's last */
/* chunk may be short); a block takes a chunk at a time, grid-stride over all `chunks`.    */
/* ------------------------------------------------------------------------------------ */

#define ADJOINT_TABLE_WIDTH 6

/* The entry holding chunk c: the last whose first chunk is <= c. */
static __host__ __device__ __forceinline__ const long long* table_entry(const long long* table, int entries,
                                                                        long long c) {
    int low = 0;
    int high = entries - 1;
    while (low < high) {
        int middle = (low + high + 1) / 2;
        if (table[(long long) middle * ADJOINT_TABLE_WIDTH + 1] <= c) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    return table + (long long) low * ADJOINT_TABLE_WIDTH;
}

/* One past the last element of chunk c, which starts at (c - entry[1]) * chunk. */
static __host__ __device__ __forceinline__ long long chunk_end(const long long* entry, long long c, long long chunk) {
    long long end = (c - entry[1] + 1) * chunk;
    return end < entry[0] ? end : entry[0];
}

static __host__ __device__ __forceinline__ float* table_pointer(const long long* entry, int k) {
    return (float*) entry[2 + k];
}

/* Every element of every entry's first buffer set to value (many fills in one launch). */
extern "C" __global__ void fill_many(const long long* table, int entries, long long chunks, long long chunk,
                                     float value) {
    for (long long c = blockIdx.x; c < chunks; c += gridDim.x) {
        const long long* entry = table_entry(table, entries, c);
        float* y = table_pointer(entry, 0);
        long long end = chunk_end(entry, c, chunk);
        for (long long i = (c - entry[1]) * chunk + threadIdx.x; i < end; i += blockDim.x) {
            y[i] = value;
        }
    }
}

/* axpy over many pairs: entry pointers x, y; y[i] += alpha * x[i], rounded as axpy. */
extern "C" __global__ void axpy_many(const long long* table, int entries, long long chunks, long long chunk,
                                     float alpha) {
    for (long long c = blockIdx.x; c < chunks; c += gridDim.x) {
        const long long* entry = table_entry(table, entries, c);
        const float* x = table_pointer(entry, 0);
        float* y = table_pointer(entry, 1);
        long long end = chunk_end(entry, c, chunk);
        for (long long i = (c - entry[1]) * chunk + threadIdx.x; i < end; i += blockDim.x) {
            y[i] = add_rn(y[i], mul_rn(alpha, x[i]));
        }
    }
}

/*
 * adam over many parameters with the same scalars: entry pointers p, g, m, v; each element
 * has the bits the single-buffer adam gives it.
 */
extern "C" __global__ void adam_many(const long long* table, int entries, long long chunks, long long chunk,
                                     float beta1, float beta2, float sqrtCorrection2, float epsilon, float step,
                                     float decay, float shrink) {
    const float keep1 = sub_rn(1.0f, beta1);
    const float keep2 = sub_rn(1.0f, beta2);
    for (long long c = blockIdx.x; c < chunks; c += gridDim.x) {
        const long long* entry = table_entry(table, entries, c);
        long long end = chunk_end(entry, c, chunk);
        for (long long i = (c - entry[1]) * chunk + threadIdx.x; i < end; i += blockDim.x) {
            adam_element(table_pointer(entry, 0), table_pointer(entry, 1), table_pointer(entry, 2),
                         table_pointer(entry, 3), i, beta1, beta2, keep1, keep2, sqrtCorrection2, epsilon, step,
                         decay, shrink);
        }
    }
}

/*
 * partials[c] = the sum of x * x over chunk c of the entries' first buffers, in double:
 * thread t adds the chunk's elements t, t + blockDim.x, ... in order, then the block's tree.
 * The result depends on the chunk and the block size, never on the grid.
 */
extern "C" __global__ void squares_many(const long long* table, int entries, long long chunks, long long chunk,
                                        double* partials) {
    __shared__ double scratch[ADJOINT_MAX_BLOCK];
    for (long long c = blockIdx.x; c < chunks; c += gridDim.x) {
        const long long* entry = table_entry(table, entries, c);
        const float* x = table_pointer(entry, 0);
        long long end = chunk_end(entry, c, chunk);
        double sum = 0.0;
        for (long long i = (c - entry[1]) * chunk + threadIdx.x; i < end; i += blockDim.x) {
            double value = (double) x[i];
            sum = dadd_rn(sum, dmul_rn(value, value));
        }
        sum = block_reduce(sum, scratch, SumDouble());
        if (threadIdx.x == 0) {
            partials[c] = sum;
        }
    }
}

/*
 * norm[0] = sqrtf((float) total), total the sum of partials[0..count) in double (thread t
 * adds t, t + blockDim.x, ... in order, then the block's tree). Block 0 does it all; others
 * return at once.
 */
extern "C" __global__ void norm_from_squares(const double* partials, long long count, float* norm) {
    __shared__ double scratch[ADJOINT_MAX_BLOCK];
    if (blockIdx.x != 0) {
        return;
    }
    double sum = 0.0;
    for (long long i = threadIdx.x; i < count; i += blockDim.x) {
        sum = dadd_rn(sum, partials[i]);
    }
    sum = block_reduce(sum, scratch, SumDouble());
    if (threadIdx.x == 0) {
        norm[0] = sqrtf((float) sum);
    }
}

/*
 * Clipping to a global norm (GradientClipping): c = (float) (maxNorm / ((double) norm[0] +
 * 1e-6)) in double, and every element of the entries' first buffers times c (rounded as
 * binary's MUL) when c < 1 or c is NaN; otherwise nothing changes.
 */
extern "C" __global__ void clip_many(const long long* table, int entries, long long chunks, long long chunk,
                                     const float* norm, float maxNorm) {
    const float coefficient = (float) ((double) maxNorm / dadd_rn((double) norm[0], 1e-6));
    if (!(coefficient < 1.0f) && !is_nan(coefficient)) {
        return;
    }
    for (long long c = blockIdx.x; c < chunks; c += gridDim.x) {
        const long long* entry = table_entry(table, entries, c);
        float* x = table_pointer(entry, 0);
        long long end = chunk_end(entry, c, chunk);
        for (long long i = (c - entry[1]) * chunk + threadIdx.x; i < end; i += blockDim.x) {
            x[i] = mul_rn(x[i], coefficient);
        }
    }
}

/*
 * out[i] = f(x[i]) for i < n, f = ElementWise.Unary ordinal `op`: NEG 0, EXP 1, LOG 2,
 * SQRT 3, TANH 4, SIGMOID 5, RELU 6, STEP 7, POW 8 (exponent p; ignored by the others).
 * out may be x.
 */
extern "C" __global__ void unary(int op, float p, const float* x, float* out, long long n) {
    for (long long i = first_index(); i < n; i += index_step()) {
        out[i] = unary_op(op, p, x[i]);
    }
}

/*
 * out[i] = grad[i] * f(x[i]) (a pointwise VJP, ArithmeticOps.unaryTimes), with the bits of
 * unary into out followed by binary's MUL: f rounded as unary rounds it, then the product.
 * out may be x, not grad.
 */
extern "C" __global__ void unary_times(int op, float p, const float* x, const float* grad, float* out, long long n) {
    for (long long i = first_index(); i < n; i += index_step()) {
        out[i] = mul_rn(grad[i], unary_op(op, p, x[i]));
    }
}

/*
 * out[i] = lhs[...] op rhs[...] over s.shape (n elements), out contiguous; lhs is
 * addressed by the strides s.a, rhs by s.b. op = Strided.Binary ordinal: ADD 0, SUB 1,
 * MUL 2, DIV 3.
 */
extern "C" __global__ void binary(int op, const float* lhs, const float* rhs, float* out, Strided s, long long n) {
    Layout layout;
    collapse(s, true, &layout);
    bool narrow = n <= 0xffffffffLL;
    for (long long i = first_index(); i < n; i += index_step()) {
        long long left;
        long long right;
        offsets(layout, i, narrow, &left, &right);
        out[i] = binary_op(op, lhs[left], rhs[right]);
    }
}

/* Gathers a strided view: out[i] = src[...] over s.shape (n elements), src addressed by s.a. */
extern "C" __global__ void copy_strided(const float* src, float* out, Strided s, long long n) {
    Layout layout;
    collapse(s, false, &layout);
    bool narrow = n <= 0xffffffffLL;
    for (long long i = first_index(); i < n; i += index_step()) {
        long long from;
        long long unused;
        offsets(layout, i, narrow, &from, &unused);
        out[i] = src[from];
    }
}

/*
 * Copies a strided view into a strided view: element i of s.shape (n elements) goes from
 * src[offset by s.a] to out[offset by s.b]; the rest of out is left as it is.
 */
extern "C" __global__ void copy_strided_to(const float* src, float* out, Strided s, long long n) {
    Layout layout;
    collapse(s, true, &layout);
    bool narrow = n <= 0xffffffffLL;
    for (long long i = first_index(); i < n; i += index_step()) {
        long long from;
        long long to;
        offsets(layout, i, narrow, &from, &to);
        out[to] = src[from];
    }
}

/*
 * out[i] = mask != 0 ? value : x over s.shape (n elements), x addressed by s.a and the mask by
 * s.b; a NaN in the mask counts as zero.
 */
extern "C" __global__ void masked_fill(const float* x, const float* mask, float value, float* out, Strided s,
                                       long long n) {
    Layout layout;
    collapse(s, true, &layout);
    bool narrow = n <= 0xffffffffLL;
    for (long long i = first_index(); i < n; i += index_step()) {
        long long at;
        long long maskAt;
        offsets(layout, i, narrow, &at, &maskAt);
        float m = mask[maskAt];
        out[i] = m > 0.0f || m < 0.0f ? value : x[at];
    }
}

/*
 * Sum in float, from 0, of src[sum(position[k] * stride[k])] over all positions of the
 * given axes (innermost first), in row-major order: the CPU's order. With no axes, the one
 * position is src[0].
 */
static __host__ __device__ float sum_positions(const float* src, int rank, const long long* length,
                                               const long long* stride) {
    if (rank == 0) {
        return add_rn(0.0f, src[0]);
    }
    long long position[ADJOINT_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        position[k] = 0;
    }
    float sum = 0.0f;
    long long offset = 0;
    while (true) {
        for (long long j = 0; j < length[0]; j++) {
            sum = add_rn(sum, src[offset + j * stride[0]]);
        }
        int k = 1;
        for (; k < rank; k++) {
            offset += stride[k];
            if (++position[k] < length[k]) {
                break;
            }
            offset -= stride[k] * length[k];
            position[k] = 0;
        }
        if (k == rank) {
            return sum;
        }
    }
}

/*
 * A sum_to index space taken apart: the source's row-major strides, and the summed axes
 * (those with s.a == 0 and a length above 1), innermost first, merged where they are
 * adjacent in the source.
 */
struct SumLayout {
    int rank;
    long long sourceStride[ADJOINT_MAX_RANK];
    long long sourceCount;
    int summedRank;
    long long summedLength[ADJOINT_MAX_RANK];
    long long summedStride[ADJOINT_MAX_RANK];
    long long summedCount;
};

static __host__ __device__ void sum_layout(const Strided& s, SumLayout* l) {
    l->rank = s.rank < ADJOINT_MAX_RANK ? s.rank : ADJOINT_MAX_RANK;
    l->sourceCount = 1;
    #pragma unroll 1
    for (int axis = l->rank - 1; axis >= 0; axis--) {
        l->sourceStride[axis] = l->sourceCount;
        l->sourceCount *= s.shape[axis];
    }
    l->summedRank = 0;
    l->summedCount = 1;
    #pragma unroll 1
    for (int axis = l->rank - 1; axis >= 0; axis--) {
        if (s.a[axis] != 0 || s.shape[axis] == 1) {
            continue;
        }
        l->summedCount *= s.shape[axis];
        int last = l->summedRank - 1;
        if (last >= 0 && l->sourceStride[axis] == l->summedStride[last] * l->summedLength[last]) {
            l->summedLength[last] *= s.shape[axis];
        } else {
            l->summedLength[last + 1] = s.shape[axis];
            l->summedStride[last + 1] = l->sourceStride[axis];
            l->summedRank = last + 2;
        }
    }
}

/*
 * Output t (row-major over the kept axes, those with s.a != 0, in axis order): the source
 * offset of its first summed position, and where it goes in the output, sum(coordinate * s.a).
 */
static __host__ __device__ void sum_output(const Strided& s, const SumLayout& l, long long t, bool narrow,
                                           long long* base, long long* target) {
    long long rest = t;
    *base = 0;
    *target = 0;
    #pragma unroll 1
    for (int axis = l.rank - 1; axis >= 0; axis--) {
        if (s.a[axis] == 0) {
            continue;
        }
        long long coordinate;
        rest = quotient(rest, s.shape[axis], narrow, &coordinate);
        *base += coordinate * l.sourceStride[axis];
        *target += coordinate * s.a[axis];
    }
}

/*
 * Strided.sumTo. src is contiguous over s.shape; s.a[axis] is the OUTPUT stride of each
 * source axis, 0 on the axes summed away (s.b is ignored). out (outCount elements, the
 * product of the kept axes' lengths) is overwritten.
 *
 * One thread per output element, no atomics: the thread decodes its index row-major over
 * the kept axes (those with s.a != 0, in axis order), writes at sum(coordinate * s.a), and
 * adds its summed positions in row-major order of the summed axes, in float, from 0. That
 * is the order in which the CPU adds into each output element, so the sums are the same.
 * (The axis loops stay rolled: unrolled, they cost 128 registers and most of the occupancy.)
 */
extern "C" __global__ void sum_to(const float* src, float* out, Strided s, long long outCount) {
    SumLayout l;
    sum_layout(s, &l);
    bool narrow = outCount <= 0xffffffffLL;
    for (long long t = first_index(); t < outCount; t += index_step()) {
        long long base;
        long long target;
        sum_output(s, l, t, narrow, &base, &target);
        float sum;
        if (l.sourceCount == 1) {
            sum = src[base]; /* the CPU copies a one-element source: -0 stays -0 */
        } else if (l.summedCount == 0) {
            sum = 0.0f;
        } else {
            sum = sum_positions(src + base, l.summedRank, l.summedLength, l.summedStride);
        }
        out[target] = sum;
    }
}

/*
 * out[c] = sum over r of x[r * cols + c]: the sums of a contiguous [rows, cols] matrix's
 * columns (a bias gradient: a sum_to over the leading axes), in one launch where a split sum
 * takes two. A block takes `width` = min(32, blockDim.x) neighbouring columns at a time
 * (grid-stride over column groups); its threads form lanes = blockDim.x / width rows of
 * width, lane l adding rows l, l + lanes, ... of its column in float, in order, and lane 0
 * then adding the lanes' sums in lane order. The result depends on the block size alone.
 */
extern "C" __global__ void column_sums(const float* x, long long rows, long long cols, float* out) {
    __shared__ float partial[ADJOINT_MAX_BLOCK];
    const unsigned int width = blockDim.x < 32 ? blockDim.x : 32;
    const unsigned int lanes = blockDim.x / width;
    const unsigned int t = threadIdx.x;
    const unsigned int column = t % width;
    const unsigned int lane = t / width;
    const long long groups = (cols + width - 1) / width;
    /* The group loop is uniform over the block, so every thread reaches each barrier. */
    for (long long g = blockIdx.x; g < groups; g += gridDim.x) {
        long long c = g * width + column;
        float sum = 0.0f;
        if (lane < lanes && c < cols) {
            for (long long r = lane; r < rows; r += lanes) {
                sum = add_rn(sum, x[r * cols + c]);
            }
        }
        partial[t] = sum;
        __syncthreads();
        if (lane == 0 && c < cols) {
            float total = partial[column];
            for (unsigned int l = 1; l < lanes; l++) {
                total = add_rn(total, partial[l * width + column]);
            }
            out[c] = total;
        }
        __syncthreads();
    }
}

/*
 * The first pass of a split sum, for when sum_to's one thread per output would leave most of
 * the device idle (few outputs, long sums). Same s as sum_to; each output's summed positions
 * (row-major over the summed axes, numbered j = 0, 1, ...) are dealt to `parts` partial sums,
 * position j to part j % parts, and each part adds its positions in increasing j, in float,
 * from 0. Interleaving keeps neighbouring threads on neighbouring addresses when the summed
 * axis is the source's innermost one.
 *
 * Work unit u in [0, outCount * parts): with partsInner != 0, output t = u / parts and part
 * p = u % parts (partials laid out [outCount][parts]); otherwise p = u / outCount and
 * t = u % outCount (laid out [parts][outCount]), which suits summed axes outside the kept
 * ones. partials[u] is overwritten. A second sum_to (or another split) over the partials,
 * part axis summed, finishes the sum; the result depends on `parts` but not on the grid.
 */
extern "C" __global__ void sum_to_parts(const float* src, float* partials, Strided s, long long outCount,
                                        long long parts, int partsInner) {
    SumLayout l;
    sum_layout(s, &l);
    long long units = outCount * parts;
    bool narrow = units <= 0xffffffffLL && l.summedCount <= 0xffffffffLL;
    for (long long u = first_index(); u < units; u += index_step()) {
        long long t;
        long long p;
        if (partsInner != 0) {
            t = quotient(u, parts, narrow, &p);
        } else {
            p = quotient(u, outCount, narrow, &t);
        }
        long long base;
        long long target;
        sum_output(s, l, t, narrow, &base, &target);
        float sum = 0.0f;
        if (l.summedRank == 1) {
            long long stride = l.summedStride[0];
            #pragma unroll 4
            for (long long j = p; j < l.summedCount; j += parts) {
                sum = add_rn(sum, src[base + j * stride]);
            }
        } else {
            #pragma unroll 1
            for (long long j = p; j < l.summedCount; j += parts) {
                long long rest = j;
                long long offset = base;
                #pragma unroll 1
                for (int k = 0; k < l.summedRank; k++) {
                    long long coordinate;
                    rest = quotient(rest, l.summedLength[k], narrow, &coordinate);
                    offset += coordinate * l.summedStride[k];
                }
                sum = add_rn(sum, src[offset]);
            }
        }
        partials[u] = sum;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Reductions along one axis of x seen as [outer, length, inner].                        */
/* ------------------------------------------------------------------------------------ */

/*
 * AxisReductions.max: one thread per (outer, inner) lane. values[o * inner + i] is the
 * lane's maximum; mask (x's size, or null for none) gets 1 at the lane's FIRST maximal
 * element and 0 at every other element of the lane. NaN wins over numbers: the first NaN
 * of a lane is its maximum and carries the mask. length must be at least 1 (as on the CPU);
 * a lane of length 0 writes nothing.
 */
extern "C" __global__ void max_axis(const float* x, float* values, float* mask, int outer, int length, int inner) {
    if (length <= 0) {
        return;
    }
    long long lanes = (long long) outer * inner;
    bool narrow = lanes <= 0xffffffffLL;
    for (long long lane = first_index(); lane < lanes; lane += index_step()) {
        long long i;
        long long o = quotient(lane, inner, narrow, &i);
        long long base = o * length * inner + i;
        int best = 0;
        float bestValue = x[base];
        for (int l = 1; l < length && !is_nan(bestValue); l++) {
            float v = x[base + (long long) l * inner];
            if (v > bestValue || is_nan(v)) {
                bestValue = v;
                best = l;
            }
        }
        values[lane] = bestValue;
        if (mask != 0) {
            for (int l = 0; l < length; l++) {
                mask[base + (long long) l * inner] = l == best ? 1.0f : 0.0f;
            }
        }
    }
}

/*
 * AxisReductions.softmax along the middle axis: shifted by the lane maximum (Java's
 * Math.max, so a NaN anywhere makes the lane NaN, and a lane of only -inf gives NaN),
 * exponentials summed in double; log-softmax when logarithm != 0, computed as
 * (x - max) - log(sum) rather than as the log of the softmax. out may be x.
 *
 * One thread per lane; rows (inner == 1) of at least ADJOINT_SOFTMAX_ROW_BLOCK_MIN_LENGTH
 * elements are shared by a block instead, one row per block and grid-stride over rows,
 * because one thread walking a long row leaves the GPU idle and its loads uncoalesced.
 */
extern "C" __global__ void softmax(const float* x, float* out, int outer, int length, int inner, int logarithm) {
    __shared__ float maxScratch[ADJOINT_MAX_BLOCK];
    __shared__ double sumScratch[ADJOINT_MAX_BLOCK];
    if (length <= 0) {
        return;
    }
    if (inner == 1 && length >= ADJOINT_SOFTMAX_ROW_BLOCK_MIN_LENGTH) {
        /* The row loop is uniform over the block, so every thread reaches each barrier. */
        for (long long row = blockIdx.x; row < outer; row += gridDim.x) {
            const float* in = x + row * length;
            float* result = out + row * length;
            float laneMax = in[0]; /* max is idempotent: a thread with no elements adds nothing */
            for (int l = (int) threadIdx.x; l < length; l += (int) blockDim.x) {
                laneMax = java_max(laneMax, in[l]);
            }
            laneMax = block_reduce(laneMax, maxScratch, MaxFloat());
            double sum = 0.0;
            for (int l = (int) threadIdx.x; l < length; l += (int) blockDim.x) {
                sum += (double) expf(sub_rn(in[l], laneMax));
            }
            sum = block_reduce(sum, sumScratch, SumDouble());
            if (logarithm != 0) {
                double logSum = log(sum);
                for (int l = (int) threadIdx.x; l < length; l += (int) blockDim.x) {
                    result[l] = (float) ((double) sub_rn(in[l], laneMax) - logSum);
                }
            } else {
                for (int l = (int) threadIdx.x; l < length; l += (int) blockDim.x) {
                    result[l] = (float) ((double) expf(sub_rn(in[l], laneMax)) / sum);
                }
            }
        }
        return;
    }
    long long lanes = (long long) outer * inner;
    bool narrow = lanes <= 0xffffffffLL;
    for (long long lane = first_index(); lane < lanes; lane += index_step()) {
        long long i;
        long long o = quotient(lane, inner, narrow, &i);
        const float* in = x + o * length * inner + i;
        float* result = out + o * length * inner + i;
        float laneMax = in[0];
        for (int l = 1; l < length; l++) {
            laneMax = java_max(laneMax, in[(long long) l * inner]);
        }
        double sum = 0.0;
        for (int l = 0; l < length; l++) {
            sum += (double) expf(sub_rn(in[(long long) l * inner], laneMax));
        }
        if (logarithm != 0) {
            double logSum = log(sum);
            for (int l = 0; l < length; l++) {
                long long at = (long long) l * inner;
                result[at] = (float) ((double) sub_rn(in[at], laneMax) - logSum);
            }
        } else {
            for (int l = 0; l < length; l++) {
                long long at = (long long) l * inner;
                result[at] = (float) ((double) expf(sub_rn(in[at], laneMax)) / sum);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* Layer normalisation over rows of [rows, size] (Normalization).                        */
/* ------------------------------------------------------------------------------------ */

/*
 * Normalization.layerNorm, a block per row: mean and biased variance summed in double (two
 * passes, over the block in a fixed tree), rstd = 1 / sqrt(var + eps) in double, then
 * out = (float) ((x - mean) * rstd) [* weight] [+ bias] in float, as the CPU rounds it; weight
 * and bias may be null. Writes each row's mean and rstd (as floats) for the gradient. The sums'
 * order differs from the CPU's one-by-one order, so mean and rstd can differ in the last bit.
 */
extern "C" __global__ void layer_norm(const float* x, const float* weight, const float* bias, int rows, int size,
                                      float eps, float* out, float* mean, float* rstd) {
    __shared__ double scratch[ADJOINT_MAX_BLOCK];
    /* The row loop is uniform over the block, so every thread reaches each barrier. */
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* in = x + row * size;
        float* result = out + row * size;
        double sum = 0.0;
        for (int i = (int) threadIdx.x; i < size; i += (int) blockDim.x) {
            sum += (double) in[i];
        }
        double m = block_reduce(sum, scratch, SumDouble()) / size;
        double squares = 0.0;
        for (int i = (int) threadIdx.x; i < size; i += (int) blockDim.x) {
            double d = (double) in[i] - m;
            squares = dadd_rn(squares, dmul_rn(d, d));
        }
        double s = 1.0 / sqrt(block_reduce(squares, scratch, SumDouble()) / size + (double) eps);
        if (threadIdx.x == 0) {
            mean[row] = (float) m;
            rstd[row] = (float) s;
        }
        for (int i = (int) threadIdx.x; i < size; i += (int) blockDim.x) {
            float v = (float) (((double) in[i] - m) * s);
            if (weight != 0) {
                v = mul_rn(v, weight[i]);
            }
            if (bias != 0) {
                v = add_rn(v, bias[i]);
            }
            result[i] = v;
        }
    }
}

/*
 * The input gradient of Normalization.layerNormGrad, a block per row: with the saved float
 * mean m and rstd s, x^ = (x - m) * s and g = dy [* weight] in float,
 * dx = (g - mean(g) - x^ * mean(g * x^)) * s, the two means summed in double over the block
 * and rounded to float, as the CPU does (the sums in another order). weight may be null.
 */
extern "C" __global__ void layer_norm_grad(const float* x, const float* weight, const float* mean, const float* rstd,
                                           const float* dy, int rows, int size, float* dx) {
    __shared__ double scratch[ADJOINT_MAX_BLOCK];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* in = x + row * size;
        const float* cotangent = dy + row * size;
        float* result = dx + row * size;
        float m = mean[row];
        float s = rstd[row];
        double sumG = 0.0;
        double sumGx = 0.0;
        for (int i = (int) threadIdx.x; i < size; i += (int) blockDim.x) {
            float g = weight == 0 ? cotangent[i] : mul_rn(cotangent[i], weight[i]);
            sumG += (double) g;
            sumGx += (double) mul_rn(g, mul_rn(sub_rn(in[i], m), s));
        }
        float meanG = (float) (block_reduce(sumG, scratch, SumDouble()) / size);
        float meanGx = (float) (block_reduce(sumGx, scratch, SumDouble()) / size);
        for (int i = (int) threadIdx.x; i < size; i += (int) blockDim.x) {
            float g = weight == 0 ? cotangent[i] : mul_rn(cotangent[i], weight[i]);
            float normalized = mul_rn(sub_rn(in[i], m), s);
            result[i] = mul_rn(sub_rn(sub_rn(g, meanG), mul_rn(normalized, meanGx)), s);
        }
    }
}

/*
 * The weight gradient of Normalization.layerNormGrad: out[part * size + i] = sum over the rows
 * [part * rowsPerPart, (part + 1) * rowsPerPart) of dy * ((x - m) * s), in row order and in
 * float, a thread per (part, column). With one part (rowsPerPart >= rows) out is dweight, with
 * the order and rounding of the scalar Normalization.layerNormGrad, so its bits (the vector
 * provider fuses the multiply-add on its vector columns); with more, out holds partial sums
 * that the host adds over the parts, so that a long batch of rows is not left to a few threads.
 */
extern "C" __global__ void layer_norm_grad_weight(const float* x, const float* mean, const float* rstd,
                                                  const float* dy, int rows, int size, int rowsPerPart, float* out) {
    long long parts = ((long long) rows + rowsPerPart - 1) / rowsPerPart;
    long long n = parts * size;
    for (long long k = first_index(); k < n; k += index_step()) {
        long long part = k / size;
        long long i = k - part * size;
        long long first = part * rowsPerPart;
        long long end = first + rowsPerPart < rows ? first + rowsPerPart : rows;
        float sum = 0.0f;
        for (long long row = first; row < end; row++) {
            long long at = row * size + i;
            sum = add_rn(sum, mul_rn(dy[at], mul_rn(sub_rn(x[at], mean[row]), rstd[row])));
        }
        out[k] = sum;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Gather along the middle axis of [outer, length, inner] and its adjoint (Indexing).    */
/* ------------------------------------------------------------------------------------ */

/*
 * The whole number that a float index holds if it lies in [0, length), else -1: where the CPU
 * (Indexing) throws. Negative numbers, NaN and fractions are out; -0 is index 0, as in Java.
 */
static __host__ __device__ __forceinline__ long long whole_index(float value, int length) {
    if (!(value >= 0.0f && value < 2147483648.0f)) {
        return -1;
    }
    int index = (int) value;
    return (float) index == value && index < length ? index : -1;
}

/*
 * Indexing.gather: out[o, j, i] = src[o, indices[o, j, i], i] for j < count; indices and out
 * are contiguous [outer, count, inner], src is [outer, length, inner]. An index that is not a
 * whole number in [0, length) (where the CPU throws) gives NaN instead of reading out of bounds.
 */
extern "C" __global__ void gather(const float* src, int outer, int length, int inner, const float* indices, int count,
                                  float* out) {
    long long n = (long long) outer * count * inner;
    bool narrow = n <= 0xffffffffLL;
    for (long long t = first_index(); t < n; t += index_step()) {
        long long i;
        long long row = quotient(t, inner, narrow, &i);
        long long unused;
        long long o = quotient(row, count, narrow, &unused);
        long long index = whole_index(indices[t], length);
        out[t] = index < 0 ? quiet_nan() : src[(o * length + index) * inner + i];
    }
}

/*
 * Indexing.scatterAdd: out[o, indices[o, j, i], i] += values[o, j, i]; values and indices are
 * contiguous [outer, count, inner], out is [outer, length, inner], updated in place.
 *
 * One thread per (outer, inner) lane, no atomics: the entries of lane (o, i) only ever add
 * into out[o, :, i], so the thread owns those elements and adds its values in increasing j,
 * each rounded in float, which is the CPU's order: repeated indices sum to the same bits on
 * every run and on the CPU. An index that is not a whole number in [0, length) (where the CPU
 * throws) makes its whole lane out[o, :, i] NaN instead of writing out of bounds.
 */
extern "C" __global__ void scatter_add(const float* values, int outer, int count, int inner, const float* indices,
                                       float* out, int length) {
    long long lanes = (long long) outer * inner;
    bool narrow = lanes <= 0xffffffffLL;
    for (long long lane = first_index(); lane < lanes; lane += index_step()) {
        long long i;
        long long o = quotient(lane, inner, narrow, &i);
        long long from = o * count * inner + i;
        float* target = out + o * length * inner + i;
        bool valid = true;
        for (int j = 0; j < count && valid; j++) {
            long long at = from + (long long) j * inner;
            long long index = whole_index(indices[at], length);
            if (index < 0) {
                valid = false;
            } else {
                target[index * inner] = add_rn(target[index * inner], values[at]);
            }
        }
        if (!valid) {
            for (int l = 0; l < length; l++) {
                target[(long long) l * inner] = quiet_nan();
            }
        }
    }
}

/*
 * scatter_add split along the scattered axis, for launches with few lanes and many entries (an
 * embedding's gradient: one lane per column, every token an entry): part p of `parts` adds the
 * entries [p * chunk, min(count, (p + 1) * chunk)) of each lane, chunk = ceil(count / parts), in
 * order, into its own slice partials[p, o, :, i], which it sets to -0 first (so that an element
 * no entry reaches adds nothing, -0 to -0 included; partials is [parts, outer, length, inner]);
 * scatter_add_combine then adds the parts into out. The same bits on every run for the same
 * parts, but not the CPU's order of additions. An invalid index makes the part's lane NaN, and
 * so out's.
 */
extern "C" __global__ void scatter_add_parts(const float* values, int outer, int count, int inner, const float* indices,
                                             float* partials, int length, int parts) {
    long long lanes = (long long) outer * inner;
    long long work = lanes * parts;
    long long chunk = ((long long) count + parts - 1) / parts;
    for (long long w = first_index(); w < work; w += index_step()) {
        long long p = w / lanes;
        long long lane = w % lanes;
        long long o = lane / inner;
        long long i = lane % inner;
        float* target = partials + (p * outer + o) * length * inner + i;
        for (int l = 0; l < length; l++) {
            target[(long long) l * inner] = -0.0f;
        }
        long long from = o * count * inner + i;
        long long end = (p + 1) * chunk < count ? (p + 1) * chunk : count;
        bool valid = true;
        for (long long j = p * chunk; j < end && valid; j++) {
            long long at = from + j * inner;
            long long index = whole_index(indices[at], length);
            if (index < 0) {
                valid = false;
            } else {
                target[index * inner] = add_rn(target[index * inner], values[at]);
            }
        }
        if (!valid) {
            for (int l = 0; l < length; l++) {
                target[(long long) l * inner] = quiet_nan();
            }
        }
    }
}

/* out[e] += partials[0, e] + partials[1, e] + ... (added in part order) for the n elements of out. */
extern "C" __global__ void scatter_add_combine(const float* partials, int parts, long long n, float* out) {
    for (long long e = first_index(); e < n; e += index_step()) {
        float sum = partials[e];
        for (int p = 1; p < parts; p++) {
            sum = add_rn(sum, partials[p * n + e]);
        }
        out[e] = add_rn(out[e], sum);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Sliding windows over NCHW images and their adjoint (Im2col).                          */
/* ------------------------------------------------------------------------------------ */

/* Output rows (or columns) of a window of `taps` taps over `size` elements padded on both sides. */
static __host__ __device__ __forceinline__ int window_count(int size, int taps, int stride, int padding, int dilation) {
    return (size + 2 * padding - dilation * (taps - 1) - 1) / stride + 1;
}

/*
 * Im2col.im2col: cols, contiguous [images, channels * kh * kw, outH * outW] (rows: channel,
 * tap row, tap column; columns: output row, output column), from `images` contiguous
 * [channels, height, width] images at `in`; a tap on padding reads padValue. The host has
 * checked the geometry (the window fits the padded image).
 */
extern "C" __global__ void im2col(const float* in, int channels, int height, int width, int kh, int kw, int stride,
                                  int padding, int dilation, int images, float padValue, float* cols) {
    int outH = window_count(height, kh, stride, padding, dilation);
    int outW = window_count(width, kw, stride, padding, dilation);
    long long n = (long long) images * channels * kh * kw * outH * outW;
    bool narrow = n <= 0xffffffffLL;
    for (long long t = first_index(); t < n; t += index_step()) {
        long long ow;
        long long rest = quotient(t, outW, narrow, &ow);
        long long oh;
        rest = quotient(rest, outH, narrow, &oh);
        long long kj;
        rest = quotient(rest, kw, narrow, &kj);
        long long ki;
        long long plane = quotient(rest, kh, narrow, &ki);
        long long h = oh * stride - padding + ki * dilation;
        long long w = ow * stride - padding + kj * dilation;
        bool inside = h >= 0 && h < height && w >= 0 && w < width;
        cols[t] = inside ? in[(plane * height + h) * width + w] : padValue;
    }
}

/*
 * Im2col.col2im: overwrites `images` contiguous [channels, height, width] images at `in` with,
 * for each element, the sum of the entries of cols (laid out as im2col writes them) that read
 * it; entries on padding are dropped.
 *
 * One thread per image element, no atomics: the thread visits the taps (ki, kj) in increasing
 * order (at most one output position per tap reads the element) and adds their entries to +0,
 * each rounded in float, which is the CPU's order: the same bits on every run and on the CPU.
 */
extern "C" __global__ void col2im(const float* cols, int channels, int height, int width, int kh, int kw, int stride,
                                  int padding, int dilation, int images, float* in) {
    int outH = window_count(height, kh, stride, padding, dilation);
    int outW = window_count(width, kw, stride, padding, dilation);
    long long n = (long long) images * channels * height * width;
    bool narrow = n <= 0xffffffffLL;
    long long positions = (long long) outH * outW;
    for (long long t = first_index(); t < n; t += index_step()) {
        long long w;
        long long rest = quotient(t, width, narrow, &w);
        long long h;
        long long plane = quotient(rest, height, narrow, &h);
        float sum = 0.0f;
        for (int ki = 0; ki < kh; ki++) {
            long long rowFromTop = h + padding - (long long) ki * dilation;
            if (rowFromTop < 0 || rowFromTop % stride != 0 || rowFromTop / stride >= outH) {
                continue;
            }
            long long oh = rowFromTop / stride;
            for (int kj = 0; kj < kw; kj++) {
                long long columnFromLeft = w + padding - (long long) kj * dilation;
                if (columnFromLeft < 0 || columnFromLeft % stride != 0 || columnFromLeft / stride >= outW) {
                    continue;
                }
                long long ow = columnFromLeft / stride;
                long long row = (plane * kh + ki) * kw + kj;
                sum = add_rn(sum, cols[row * positions + oh * outW + ow]);
            }
        }
        in[t] = sum;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Fusions of a training step (Fused).                                                   */
/* ------------------------------------------------------------------------------------ */

/*
 * y[r, c] = act(y[r, c] + bias[c]) in place over a rows x cols row-major matrix; bias may
 * be null (then y is not touched by an addition, so -0 stays -0). act = Fused.Activation
 * ordinal: IDENTITY 0, RELU 1, TANH 2, SIGMOID 3.
 */
extern "C" __global__ void bias_activation(int act, float* y, const float* bias, int rows, int cols) {
    long long n = (long long) rows * cols;
    bool narrow = n <= 0xffffffffLL;
    for (long long i = first_index(); i < n; i += index_step()) {
        float v = y[i];
        if (bias != 0) {
            long long c;
            quotient(i, cols, narrow, &c);
            v = add_rn(v, bias[c]);
        }
        y[i] = activation(act, v);
    }
}

/*
 * out[i] = cotangent[i] * act'(x) for i < n, the derivative written with the activation's
 * output y: IDENTITY 1, RELU y > 0, TANH 1 - y^2, SIGMOID y (1 - y). out may be cotangent.
 */
extern "C" __global__ void activation_grad(int act, const float* y, const float* cotangent, float* out, long long n) {
    for (long long i = first_index(); i < n; i += index_step()) {
        out[i] = activation_derivative_times(act, y[i], cotangent[i]);
    }
}

/*
 * Fused.meanNegativeLogLikelihood: out[0] = -(1/rows) * sum_r logp[r, (int) labels[r]],
 * summed in double; NaN when rows == 0. A label outside [0, cols) (where the CPU throws)
 * contributes NaN instead of reading out of bounds. The float-to-int conversion truncates
 * and maps NaN to 0, as Java's (int) cast does.
 *
 * Launch exactly one block (256 threads; any size up to 1024): its threads take rows
 * t, t + blockDim.x, ... and combine their partial sums in a fixed tree, so the result is
 * deterministic. Blocks other than block 0 return at once.
 */
extern "C" __global__ void nll(const float* logp, const float* labels, int rows, int cols, float* out) {
    __shared__ double scratch[ADJOINT_MAX_BLOCK];
    if (blockIdx.x != 0) {
        return;
    }
    double sum = 0.0;
    for (int r = (int) threadIdx.x; r < rows; r += (int) blockDim.x) {
        int label = (int) labels[r];
        sum += label >= 0 && label < cols ? (double) logp[(long long) r * cols + label] : (double) quiet_nan();
    }
    sum = block_reduce(sum, scratch, SumDouble());
    if (threadIdx.x == 0) {
        out[0] = rows == 0 ? quiet_nan() : (float) (-sum / rows);
    }
}

/*
 * Fused.crossEntropyGrad: out[r, c] = scale * exp(logp[r, c]), minus scale where
 * c == labels[r] (rounded as the CPU does: the product first). A label that is not a whole
 * number in [0, cols) (where the CPU throws: a fraction, NaN, a negative) makes its row NaN.
 * When cotangent is not null, the scale is cotangent[0] / rows instead (the loss's cotangent
 * where it lies, so that the host need not read it).
 */
extern "C" __global__ void cross_entropy_grad(const float* logp, const float* labels, int rows, int cols, float scale,
                                              const float* cotangent, float* out) {
    if (cotangent != 0) {
        scale = div_rn(cotangent[0], (float) rows);
    }
    long long n = (long long) rows * cols;
    bool narrow = n <= 0xffffffffLL;
    for (long long i = first_index(); i < n; i += index_step()) {
        long long c;
        long long r = quotient(i, cols, narrow, &c);
        long long label = whole_index(labels[r], cols);
        float v = mul_rn(scale, expf(logp[i]));
        if (label < 0) {
            v = quiet_nan();
        } else if (c == label) {
            v = sub_rn(v, scale);
        }
        out[i] = v;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Scaled dot-product attention (AttentionKernels): forward with an online softmax, and  */
/* the backward in two kernels that recompute the probabilities from the log-sum-exp.    */
/* ------------------------------------------------------------------------------------ */

/* Widest query, key or value rows the attention kernels hold (the backend composes wider ones). */
#define ADJOINT_ATTENTION_MAX_DIM 128

/* Keys (forward, backward_query) or queries (backward_key) staged in shared memory at a time. */
#define ADJOINT_ATTENTION_TILE 32

/*
 * Columns of a row that one thread holds in registers. A row of up to 32 L columns is dealt
 * out among L neighbouring lanes, four columns at a time (lane l holds columns 4 (m L + l) to
 * 4 (m L + l) + 3 for m = 0..7), so that every array a thread keeps has a size and indices
 * known to the compiler and stays in registers: the _32, _64 and _128 kernels are L = 1, 2, 4.
 */
#define ADJOINT_ATTENTION_LANE_COLUMNS 32

/* Query rows (forward, backward_query) or key rows (backward_key) of one block: the block has 64 L threads. */
#define ADJOINT_ATTENTION_ROWS_PER_BLOCK 64

/*
 * Where one attention operand's rows lie, passed BY VALUE inside AttentionLayout: row r of
 * batch item b = o * heads + h starts at element o * outer + h * head + r * row of the operand
 * (rows themselves contiguous). A packed [batch, rows, width] operand is heads = 1,
 * outer = rows * width, head = 0, row = width; the heads of a [batch, time, heads, width]
 * tensor read as [batch, heads, time, width] are outer = time * heads * width, head = width,
 * row = heads * width, with no copy.
 */
struct AttentionRows {
    long long outer;
    long long head;
    long long row;
};

/*
 * The layouts of every operand of the attention kernels (those a kernel does not touch are
 * ignored), 200 bytes, 8-byte aligned, native byte order: heads at offset 0, then q, k, v,
 * out, dOut, dq, dk, dv, 24 bytes each from offset 8. lse and rowDot are packed [batch, t].
 */
struct AttentionLayout {
    long long heads;
    AttentionRows q, k, v, out, dOut, dq, dk, dv;
};

static_assert(sizeof(AttentionLayout) == 200, "AttentionLayout must be 200 bytes: the Java side writes it by hand");

static __host__ __device__ __forceinline__ long long row_at(const AttentionRows& rows, long long heads, long long b,
                                                            long long r) {
    return b / heads * rows.outer + b % heads * rows.head + r * rows.row;
}

static __host__ __device__ __forceinline__ float negative_infinity() {
#ifdef __CUDA_ARCH__
    return __int_as_float(0xff800000);
#else
    return -__builtin_inff();
#endif
}

/* The column of a row that element e of lane `lane`'s registers holds (L lanes to a row). */
template <int L>
static __host__ __device__ __forceinline__ int lane_column(int e, int lane) {
    return ((e >> 2) * L + lane) * 4 + (e & 3);
}

/* The sum of one value over the L lanes of a row, the same bits in each (a butterfly of shuffles). */
template <int L>
static __device__ __forceinline__ float row_sum(float partial) {
    unsigned lanes = L == 32 ? 0xffffffffu : ((1u << L) - 1u) << (threadIdx.x % 32u / L * L);
#pragma unroll
    for (int m = 1; m < L; m <<= 1) partial += __shfl_xor_sync(lanes, partial, m, L);
    return partial;
}

/* This lane's columns of a row `width` wide (zeros beyond it). */
template <int L>
static __device__ __forceinline__ void lane_load(float (&x)[ADJOINT_ATTENTION_LANE_COLUMNS], const float* row, int width,
                                                 int lane) {
#pragma unroll
    for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) {
        int c = lane_column<L>(e, lane);
        x[e] = c < width ? row[c] : 0.0f;
    }
}

/* Writes this lane's columns of a row `width` wide. */
template <int L>
static __device__ __forceinline__ void lane_store(const float (&x)[ADJOINT_ATTENTION_LANE_COLUMNS], float* row, int width,
                                                  int lane) {
#pragma unroll
    for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) {
        int c = lane_column<L>(e, lane);
        if (c < width) row[c] = x[e];
    }
}

/*
 * This lane's share of x . y for a row y staged in shared memory (32 L floats, 16-byte aligned):
 * four running sums, one per column of a four-column group, added pairwise at the end, so that
 * the products are four independent chains and not one that waits on every addition.
 */
template <int L>
static __device__ __forceinline__ float lane_dot(const float (&x)[ADJOINT_ATTENTION_LANE_COLUMNS], const float* staged,
                                                 int lane) {
    float dot0 = 0.0f;
    float dot1 = 0.0f;
    float dot2 = 0.0f;
    float dot3 = 0.0f;
#pragma unroll
    for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e += 4) {
        float4 y = *reinterpret_cast<const float4*>(staged + lane_column<L>(e, lane));
        dot0 += x[e] * y.x;
        dot1 += x[e + 1] * y.y;
        dot2 += x[e + 2] * y.z;
        dot3 += x[e + 3] * y.w;
    }
    return (dot0 + dot1) + (dot2 + dot3);
}

/* acc += a y for a row y staged in shared memory. */
template <int L>
static __device__ __forceinline__ void lane_axpy(float (&acc)[ADJOINT_ATTENTION_LANE_COLUMNS], float a, const float* staged,
                                                 int lane) {
#pragma unroll
    for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e += 4) {
        float4 y = *reinterpret_cast<const float4*>(staged + lane_column<L>(e, lane));
        acc[e] += a * y.x;
        acc[e + 1] += a * y.y;
        acc[e + 2] += a * y.z;
        acc[e + 3] += a * y.w;
    }
}

/* Stages rows [first, first + n) of an operand in shared memory, 32 L floats a row (zeros beyond `width`). */
template <int L>
static __device__ __forceinline__ void stage_rows(float* tile, const float* x, const AttentionRows& rows, long long heads,
                                                  long long b, long long first, int n, int width) {
    const int stride = ADJOINT_ATTENTION_LANE_COLUMNS * L;
    for (int e = (int) threadIdx.x; e < n * stride; e += (int) blockDim.x) {
        int c = e % stride;
        tile[e] = c < width ? x[row_at(rows, heads, b, first + e / stride) + c] : 0.0f;
    }
}

/*
 * AttentionKernels.forward: out[b, i] = sum_j p_ij v[b, j] with p_ij = softmax_j(scale * q[b, i] . k[b, j])
 * over the keys j that query i sees (j <= i when causal), and lse[b, i] = log sum_j exp(scale * q.k).
 * q [batch, t, d], k [batch, s, d], v [batch, s, dv], out [batch, t, dv], each where `layout` says
 * (AttentionLayout), lse [batch, t] packed; d and dv at most 32 L, s at least 1.
 *
 * Work unit: a tile of blockDim.x / L queries of one batch item (L lanes per query row, see
 * ADJOINT_ATTENTION_LANE_COLUMNS; tiles grid-stride over blocks). The block stages
 * ADJOINT_ATTENTION_TILE keys and values at a time in shared memory; each row keeps its running
 * maximum, running sum and output accumulator in registers and rescales them when the maximum
 * grows (online softmax), so the t x s scores never exist. Results are compared with the CPU
 * within float rounding, not bit for bit (the CPU adds a key block's terms in another order).
 */
template <int L>
static __device__ __forceinline__ void attention_forward_rows(const float* q, const float* k, const float* v, float* out,
                                                              float* lse, int batch, int t, int s, int d, int dv,
                                                              int causal, float scale, const AttentionLayout& layout) {
    const int stride = ADJOINT_ATTENTION_LANE_COLUMNS * L;
    __shared__ __align__(16) float keys[ADJOINT_ATTENTION_TILE * ADJOINT_ATTENTION_LANE_COLUMNS * L];
    __shared__ __align__(16) float values[ADJOINT_ATTENTION_TILE * ADJOINT_ATTENTION_LANE_COLUMNS * L];
    int lane = (int) (threadIdx.x % L);
    long long rowsPerTile = blockDim.x / L;
    long long tilesPerItem = (t + rowsPerTile - 1) / rowsPerTile;
    long long tiles = (long long) batch * tilesPerItem;
    /* The tile loop and the key loop are uniform over the block, so every thread reaches each barrier. */
    for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        long long b = tile / tilesPerItem;
        long long first = tile % tilesPerItem * rowsPerTile;
        long long i = first + threadIdx.x / L;
        bool active = i < t;
        float query[ADJOINT_ATTENTION_LANE_COLUMNS];
        float acc[ADJOINT_ATTENTION_LANE_COLUMNS];
        float scores[ADJOINT_ATTENTION_TILE];
        float runningMax = negative_infinity();
        float runningSum = 0.0f;
        if (active) lane_load<L>(query, q + row_at(layout.q, layout.heads, b, i), d, lane);
#pragma unroll
        for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) acc[e] = 0.0f;
        long long lastRow = first + rowsPerTile < t ? first + rowsPerTile - 1 : t - 1;
        long long keyEnd = causal && lastRow + 1 < s ? lastRow + 1 : s;
        for (long long j0 = 0; j0 < keyEnd; j0 += ADJOINT_ATTENTION_TILE) {
            int n = (int) (keyEnd - j0 < ADJOINT_ATTENTION_TILE ? keyEnd - j0 : ADJOINT_ATTENTION_TILE);
            __syncthreads();
            stage_rows<L>(keys, k, layout.k, layout.heads, b, j0, n, d);
            stage_rows<L>(values, v, layout.v, layout.heads, b, j0, n, dv);
            __syncthreads();
            int limit = !causal ? n : (i + 1 - j0 < n ? (int) (i + 1 - j0) : n);
            /* The L lanes of a row agree on `active` and `limit`, so they reach each shuffle together. */
            if (!active || limit <= 0) {
                continue;
            }
            float tileMax = negative_infinity();
#pragma unroll
            for (int j = 0; j < ADJOINT_ATTENTION_TILE; j++) {
                if (j < limit) {
                    scores[j] = row_sum<L>(lane_dot<L>(query, keys + j * stride, lane)) * scale;
                    tileMax = java_max(tileMax, scores[j]);
                }
            }
            /* No key of this tile is visible (all scores -inf): skip it, as the CPU skips such a block.
             * Rescaling by exp(-inf - -inf) would make the row NaN for good. */
            if (tileMax == negative_infinity()) {
                continue;
            }
            float newMax = java_max(runningMax, tileMax);
            float rescale = expf(runningMax - newMax);
            runningSum *= rescale;
#pragma unroll
            for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) acc[e] *= rescale;
#pragma unroll
            for (int j = 0; j < ADJOINT_ATTENTION_TILE; j++) {
                if (j < limit) {
                    float p = expf(scores[j] - newMax);
                    runningSum += p;
                    lane_axpy<L>(acc, p, values + j * stride, lane);
                }
            }
            runningMax = newMax;
        }
        if (active) {
#pragma unroll
            for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) acc[e] /= runningSum;
            lane_store<L>(acc, out + row_at(layout.out, layout.heads, b, i), dv, lane);
            if (lane == 0) lse[b * t + i] = runningMax + logf(runningSum);
        }
    }
}

/*
 * The query side of AttentionKernels.backward: dq[b, i] = scale * sum_j ds_ij k[b, j] with
 * p_ij = exp(scale * q.k - lse[b, i]), ds_ij = p_ij * (dOut[b, i] . v[b, j] - rowDot[b, i]), and
 * rowDot[b, i] = dOut[b, i] . out[b, i], which it also writes for attention_backward_key.
 * Same work unit and staging as attention_forward.
 */
template <int L>
static __device__ __forceinline__ void attention_backward_query_rows(const float* q, const float* k, const float* v,
                                                                     const float* out, const float* lse, const float* dOut,
                                                                     float* dq, float* rowDot, int batch, int t, int s,
                                                                     int d, int dv, int causal, float scale,
                                                                     const AttentionLayout& layout) {
    const int stride = ADJOINT_ATTENTION_LANE_COLUMNS * L;
    __shared__ __align__(16) float keys[ADJOINT_ATTENTION_TILE * ADJOINT_ATTENTION_LANE_COLUMNS * L];
    __shared__ __align__(16) float values[ADJOINT_ATTENTION_TILE * ADJOINT_ATTENTION_LANE_COLUMNS * L];
    int lane = (int) (threadIdx.x % L);
    long long rowsPerTile = blockDim.x / L;
    long long tilesPerItem = (t + rowsPerTile - 1) / rowsPerTile;
    long long tiles = (long long) batch * tilesPerItem;
    for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        long long b = tile / tilesPerItem;
        long long first = tile % tilesPerItem * rowsPerTile;
        long long i = first + threadIdx.x / L;
        bool active = i < t;
        float query[ADJOINT_ATTENTION_LANE_COLUMNS];
        float cotangent[ADJOINT_ATTENTION_LANE_COLUMNS];
        float grad[ADJOINT_ATTENTION_LANE_COLUMNS];
        float logSumExp = 0.0f;
        float D = 0.0f;
        if (active) {
            float output[ADJOINT_ATTENTION_LANE_COLUMNS];
            lane_load<L>(query, q + row_at(layout.q, layout.heads, b, i), d, lane);
            lane_load<L>(cotangent, dOut + row_at(layout.dOut, layout.heads, b, i), dv, lane);
            lane_load<L>(output, out + row_at(layout.out, layout.heads, b, i), dv, lane);
#pragma unroll
            for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) D += cotangent[e] * output[e];
            D = row_sum<L>(D);
            if (lane == 0) rowDot[b * t + i] = D;
            logSumExp = lse[b * t + i];
        }
#pragma unroll
        for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) grad[e] = 0.0f;
        long long lastRow = first + rowsPerTile < t ? first + rowsPerTile - 1 : t - 1;
        long long keyEnd = causal && lastRow + 1 < s ? lastRow + 1 : s;
        for (long long j0 = 0; j0 < keyEnd; j0 += ADJOINT_ATTENTION_TILE) {
            int n = (int) (keyEnd - j0 < ADJOINT_ATTENTION_TILE ? keyEnd - j0 : ADJOINT_ATTENTION_TILE);
            __syncthreads();
            stage_rows<L>(keys, k, layout.k, layout.heads, b, j0, n, d);
            stage_rows<L>(values, v, layout.v, layout.heads, b, j0, n, dv);
            __syncthreads();
            int limit = !causal ? n : (i + 1 - j0 < n ? (int) (i + 1 - j0) : n);
            if (!active) {
                continue;
            }
#pragma unroll 2
            for (int j = 0; j < limit; j++) {
                float p = expf(row_sum<L>(lane_dot<L>(query, keys + j * stride, lane)) * scale - logSumExp);
                float dp = row_sum<L>(lane_dot<L>(cotangent, values + j * stride, lane));
                float ds = p * (dp - D) * scale;
                lane_axpy<L>(grad, ds, keys + j * stride, lane);
            }
        }
        if (active) lane_store<L>(grad, dq + row_at(layout.dq, layout.heads, b, i), d, lane);
    }
}

/*
 * The key side of AttentionKernels.backward: dk[b, j] = scale * sum_i ds_ij q[b, i] and
 * dv[b, j] = sum_i p_ij dOut[b, i] over the queries i that see key j (i >= j when causal), with
 * rowDot from attention_backward_query. Work unit: a tile of blockDim.x / L keys of one batch item
 * (L lanes per key row); the block stages ADJOINT_ATTENTION_TILE queries, their cotangents,
 * log-sum-exps and row dots at a time in shared memory.
 */
template <int L>
static __device__ __forceinline__ void attention_backward_key_rows(const float* q, const float* k, const float* v,
                                                                   const float* lse, const float* dOut,
                                                                   const float* rowDot, float* dk, float* dvOut, int batch,
                                                                   int t, int s, int d, int dv, int causal, float scale,
                                                                   const AttentionLayout& layout) {
    const int stride = ADJOINT_ATTENTION_LANE_COLUMNS * L;
    __shared__ __align__(16) float queries[ADJOINT_ATTENTION_TILE * ADJOINT_ATTENTION_LANE_COLUMNS * L];
    __shared__ __align__(16) float cotangents[ADJOINT_ATTENTION_TILE * ADJOINT_ATTENTION_LANE_COLUMNS * L];
    __shared__ float rowLse[ADJOINT_ATTENTION_TILE];
    __shared__ float rowD[ADJOINT_ATTENTION_TILE];
    int lane = (int) (threadIdx.x % L);
    long long keysPerTile = blockDim.x / L;
    long long tilesPerItem = (s + keysPerTile - 1) / keysPerTile;
    long long tiles = (long long) batch * tilesPerItem;
    for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        long long b = tile / tilesPerItem;
        long long first = tile % tilesPerItem * keysPerTile;
        long long j = first + threadIdx.x / L;
        bool active = j < s;
        float key[ADJOINT_ATTENTION_LANE_COLUMNS];
        float value[ADJOINT_ATTENTION_LANE_COLUMNS];
        float gradKey[ADJOINT_ATTENTION_LANE_COLUMNS];
        float gradValue[ADJOINT_ATTENTION_LANE_COLUMNS];
        if (active) {
            lane_load<L>(key, k + row_at(layout.k, layout.heads, b, j), d, lane);
            lane_load<L>(value, v + row_at(layout.v, layout.heads, b, j), dv, lane);
        }
#pragma unroll
        for (int e = 0; e < ADJOINT_ATTENTION_LANE_COLUMNS; e++) {
            gradKey[e] = 0.0f;
            gradValue[e] = 0.0f;
        }
        /* Causal: no query before the tile's first key sees any of its keys. */
        long long queryStart = causal ? first : 0;
        for (long long i0 = queryStart; i0 < t; i0 += ADJOINT_ATTENTION_TILE) {
            int n = (int) (t - i0 < ADJOINT_ATTENTION_TILE ? t - i0 : ADJOINT_ATTENTION_TILE);
            __syncthreads();
            stage_rows<L>(queries, q, layout.q, layout.heads, b, i0, n, d);
            stage_rows<L>(cotangents, dOut, layout.dOut, layout.heads, b, i0, n, dv);
            for (int e = (int) threadIdx.x; e < n; e += (int) blockDim.x) {
                rowLse[e] = lse[b * t + i0 + e];
                rowD[e] = rowDot[b * t + i0 + e];
            }
            __syncthreads();
            if (!active) {
                continue;
            }
#pragma unroll 2
            for (int r = causal && j > i0 ? (int) (j - i0) : 0; r < n; r++) {
                float p = expf(row_sum<L>(lane_dot<L>(key, queries + r * stride, lane)) * scale - rowLse[r]);
                float dp = row_sum<L>(lane_dot<L>(value, cotangents + r * stride, lane));
                float ds = p * (dp - rowD[r]) * scale;
                lane_axpy<L>(gradKey, ds, queries + r * stride, lane);
                lane_axpy<L>(gradValue, p, cotangents + r * stride, lane);
            }
        }
        if (active) {
            lane_store<L>(gradKey, dk + row_at(layout.dk, layout.heads, b, j), d, lane);
            lane_store<L>(gradValue, dvOut + row_at(layout.dv, layout.heads, b, j), dv, lane);
        }
    }
}

/*
 * The attention kernels by widest row: _32 (d, dv <= 32; a thread per row), _64 (two lanes per
 * row) and _128 (four). Launch ADJOINT_ATTENTION_ROWS_PER_BLOCK * L threads a block.
 */
extern "C" __global__ void attention_forward_32(const float* q, const float* k, const float* v, float* out, float* lse,
                                                int batch, int t, int s, int d, int dv, int causal, float scale,
                                                AttentionLayout layout) {
    attention_forward_rows<1>(q, k, v, out, lse, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_forward_64(const float* q, const float* k, const float* v, float* out, float* lse,
                                                int batch, int t, int s, int d, int dv, int causal, float scale,
                                                AttentionLayout layout) {
    attention_forward_rows<2>(q, k, v, out, lse, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_forward_128(const float* q, const float* k, const float* v, float* out, float* lse,
                                                 int batch, int t, int s, int d, int dv, int causal, float scale,
                                                 AttentionLayout layout) {
    attention_forward_rows<4>(q, k, v, out, lse, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_backward_query_32(const float* q, const float* k, const float* v, const float* out,
                                                       const float* lse, const float* dOut, float* dq, float* rowDot,
                                                       int batch, int t, int s, int d, int dv, int causal, float scale,
                                                       AttentionLayout layout) {
    attention_backward_query_rows<1>(q, k, v, out, lse, dOut, dq, rowDot, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_backward_query_64(const float* q, const float* k, const float* v, const float* out,
                                                       const float* lse, const float* dOut, float* dq, float* rowDot,
                                                       int batch, int t, int s, int d, int dv, int causal, float scale,
                                                       AttentionLayout layout) {
    attention_backward_query_rows<2>(q, k, v, out, lse, dOut, dq, rowDot, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_backward_query_128(const float* q, const float* k, const float* v, const float* out,
                                                        const float* lse, const float* dOut, float* dq, float* rowDot,
                                                        int batch, int t, int s, int d, int dv, int causal, float scale,
                                                        AttentionLayout layout) {
    attention_backward_query_rows<4>(q, k, v, out, lse, dOut, dq, rowDot, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_backward_key_32(const float* q, const float* k, const float* v, const float* lse,
                                                     const float* dOut, const float* rowDot, float* dk, float* dvOut,
                                                     int batch, int t, int s, int d, int dv, int causal, float scale,
                                                     AttentionLayout layout) {
    attention_backward_key_rows<1>(q, k, v, lse, dOut, rowDot, dk, dvOut, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_backward_key_64(const float* q, const float* k, const float* v, const float* lse,
                                                     const float* dOut, const float* rowDot, float* dk, float* dvOut,
                                                     int batch, int t, int s, int d, int dv, int causal, float scale,
                                                     AttentionLayout layout) {
    attention_backward_key_rows<2>(q, k, v, lse, dOut, rowDot, dk, dvOut, batch, t, s, d, dv, causal, scale, layout);
}

extern "C" __global__ void attention_backward_key_128(const float* q, const float* k, const float* v, const float* lse,
                                                      const float* dOut, const float* rowDot, float* dk, float* dvOut,
                                                      int batch, int t, int s, int d, int dv, int causal, float scale,
                                                      AttentionLayout layout) {
    attention_backward_key_rows<4>(q, k, v, lse, dOut, rowDot, dk, dvOut, batch, t, s, d, dv, causal, scale, layout);
}
