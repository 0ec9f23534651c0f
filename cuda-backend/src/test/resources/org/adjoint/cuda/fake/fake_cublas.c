/* A stand-in for libcublas.so.13 over fake_driver.c's host "device" memory: reference SGEMM. */
#include <stdio.h>
#include <stdlib.h>

typedef int cublasStatus_t;
enum { SUCCESS = 0, INVALID_VALUE = 7 };

static int handles;

cublasStatus_t cublasCreate_v2(void** handle) { *handle = (void*) (long) (0x100 + ++handles); return SUCCESS; }
cublasStatus_t cublasDestroy_v2(void* handle) {
    if (getenv("FAKE_CUDA_COUNTS") != NULL) {
        fprintf(stderr, "fake cuBLAS: cublasDestroy_v2\n"); /* a torn-down device's handle */
    }
    return handle ? SUCCESS : INVALID_VALUE;
}
cublasStatus_t cublasSetStream_v2(void* handle, void* stream) { return handle && stream == (void*) 0x20 ? SUCCESS : INVALID_VALUE; }
cublasStatus_t cublasSetMathMode(void* handle, int mode) {
    const char* tf32 = getenv("FAKE_CUBLAS_EXPECT_MODE");
    return handle && mode == (tf32 ? atoi(tf32) : 0) ? SUCCESS : INVALID_VALUE;
}

static cublasStatus_t gemm(int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda,
                           const float* b, int ldb, const float* beta, float* c, int ldc) {
    if (m < 0 || n < 0 || k < 0 || lda < (transa ? k : m) || lda < 1 || ldb < (transb ? n : k) || ldb < 1
            || ldc < m || ldc < 1 || transa < 0 || transa > 1 || transb < 0 || transb > 1) {
        return INVALID_VALUE;
    }
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            float sum = 0;
            for (int l = 0; l < k; l++) {
                float x = transa ? a[l + (long) i * lda] : a[i + (long) l * lda];
                float y = transb ? b[j + (long) l * ldb] : b[l + (long) j * ldb];
                sum += x * y;
            }
            float* out = &c[i + (long) j * ldc];
            *out = *alpha * sum + (*beta == 0 ? 0 : *beta * *out);
        }
    }
    return SUCCESS;
}

/* With FAKE_CUDA_SKIP_WORK set, products are not computed (see fake_driver.c). */
static int skip_work(void) {
    static int skip = -1;
    if (skip < 0) skip = getenv("FAKE_CUDA_SKIP_WORK") != NULL;
    return skip;
}

/* With FAKE_CUDA_COUNTS set, the products are counted and printed at exit (see fake_driver.c). */
static long long products[2];

static void print_products(void) {
    fprintf(stderr, "fake cuBLAS calls: %lld cublasSgemm_v2, %lld cublasSgemmStridedBatched\n", products[0],
            products[1]);
}

static void count_product(int batched) {
    static int enabled = -1;
    if (enabled < 0) {
        enabled = getenv("FAKE_CUDA_COUNTS") != NULL;
        if (enabled) atexit(print_products);
    }
    products[batched]++;
}

cublasStatus_t cublasSgemm_v2(void* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* a, int lda, const float* b, int ldb, const float* beta, float* c, int ldc) {
    count_product(0);
    if (handle && skip_work()) return SUCCESS;
    return handle ? gemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) : INVALID_VALUE;
}

cublasStatus_t cublasSgemmStridedBatched(void* handle, int transa, int transb, int m, int n, int k, const float* alpha,
                                         const float* a, int lda, long long strideA, const float* b, int ldb,
                                         long long strideB, const float* beta, float* c, int ldc, long long strideC,
                                         int batchCount) {
    count_product(1);
    if (!handle || batchCount < 0) {
        return INVALID_VALUE;
    }
    if (skip_work()) return SUCCESS;
    for (int p = 0; p < batchCount; p++) {
        cublasStatus_t status = gemm(transa, transb, m, n, k, alpha, a + p * strideA, lda, b + p * strideB, ldb, beta,
                                     c + p * strideC, ldc);
        if (status != SUCCESS) {
            return status;
        }
    }
    return SUCCESS;
}
