/* Internal: the one place OpenBLAS is called.
 *
 * Threads: the search runs N worker threads that each evaluate whole
 * candidates; each must call sgemm with ONE BLAS thread (otherwise OpenBLAS's
 * own pool oversubscribes the cores and, in the pthread build, serializes
 * callers on its buffer lock). lpnas_blas_single_thread() sets
 * openblas_set_num_threads(1) once per process (idempotent, thread-safe:
 * call it before starting workers; the engine and the benches do). With one
 * BLAS thread, concurrent sgemm calls from distinct threads are safe in
 * OpenBLAS >= 0.3.7 (Debian 12 ships 0.3.21): see docs/kernels.md. */
#ifndef LPNAS_KERNELS_BLAS_H
#define LPNAS_KERNELS_BLAS_H

#include <stdbool.h>

void lpnas_blas_single_thread(void);

/* C[M x N] = alpha * op(A) * op(B) + beta * C, row-major.
 * op(A) is M x K (A stored K x M if trans_a), op(B) is K x N. */
void lpnas_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);

#endif
