/* How a search reaches its workers (docs/distributed.md): threads in one
 * process (no transport, or a transport of size 1), or ranks of an MPI job.
 * A transport moves opaque byte messages; the runner's protocol on top of
 * it (a genome in, a row and the models out) is the library's business.
 *
 * Rank 0 runs the strategy and owns the output folder; every other rank
 * only evaluates candidates it is sent. All ranks must run the same build
 * (messages carry records in the machine's own layout). */
#ifndef LPNAS_TRANSPORT_H
#define LPNAS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "lpnas/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lpnas_transport lpnas_transport;

struct lpnas_transport {
    int rank, size;  /* this process, and how many take part (rank 0 leads) */
    char host[64];   /* this process's host name, for progress lines */
    void *impl;
    /* Collective: n bytes of buf on rank 0 reach buf on every rank. */
    lpnas_status (*bcast)(lpnas_transport *t, void *buf, size_t n);
    /* Blocking until buf may be reused. tag >= 0. */
    lpnas_status (*send)(lpnas_transport *t, int dest, int tag, const void *buf, size_t n);
    /* Never blocks: a waiting message from any rank (*got true, *buf
     * malloc'ed, free it) or none (*got false). */
    lpnas_status (*poll)(lpnas_transport *t, int *src, int *tag, void **buf, size_t *n, bool *got);
    void (*destroy)(lpnas_transport *t);
};

/* Frees t (and, for MPI, finalizes). NULL is a no-op. */
void lpnas_transport_free(lpnas_transport *t);

/* MPI ranks (MPI_COMM_WORLD). Only in liblpnas_mpi.a, built by `make MPI=1`
 * (or when mpicc is found); link it with the MPI libraries (mpicc). Calls
 * MPI_Init_thread (funneled: only the calling thread uses MPI) unless MPI
 * is already initialized. */
lpnas_status lpnas_transport_mpi_create(int *argc, char ***argv, lpnas_transport **out);

#ifdef __cplusplus
}
#endif
#endif
