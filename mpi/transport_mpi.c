/* The MPI transport (include/lpnas/transport.h): MPI_COMM_WORLD, byte
 * messages, one thread calling MPI (MPI_THREAD_FUNNELED: the runner's
 * worker threads never touch MPI, the thread that runs the search does).
 * Compiled by mpicc into liblpnas_mpi.a; the library proper stays MPI-free. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lpnas/transport.h"

typedef struct {
    bool we_initialized;
} mpi_impl;

static lpnas_status mpi_error(int rc, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "error %d", rc);
    return lpnas_fail(LPNAS_ERR_IO, "MPI: %s failed: %s", what, text);
}

/* MPI counts are int: large buffers go in chunks of at most 1 GiB. */
static lpnas_status t_bcast(lpnas_transport *t, void *buf, size_t n)
{
    (void)t;
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        int rc = MPI_Bcast((char *)buf + off, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_error(rc, "MPI_Bcast");
    }
    return LPNAS_OK;
}

static lpnas_status t_send(lpnas_transport *t, int dest, int tag, const void *buf, size_t n)
{
    (void)t;
    if (n > (size_t)INT_MAX)
        return lpnas_fail(LPNAS_ERR_ARG, "MPI: message of %zu bytes to rank %d is over the 2 GiB limit", n, dest);
    int rc = MPI_Send(buf, (int)n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? LPNAS_OK : mpi_error(rc, "MPI_Send");
}

static lpnas_status t_poll(lpnas_transport *t, int *src, int *tag, void **buf, size_t *n, bool *got)
{
    (void)t;
    *got = false;
    *buf = NULL;
    *n = 0;
    int flag = 0, count = 0;
    MPI_Status s;
    int rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &s);
    if (rc != MPI_SUCCESS)
        return mpi_error(rc, "MPI_Iprobe");
    if (!flag)
        return LPNAS_OK;
    MPI_Get_count(&s, MPI_BYTE, &count);
    char *b = malloc((size_t)count + 1); /* + 1: never malloc(0) */
    if (!b)
        return lpnas_fail(LPNAS_ERR_NOMEM, "MPI: out of memory for a message of %d bytes from rank %d", count,
                          s.MPI_SOURCE);
    /* the probed message itself: only this thread receives, so nothing can take it first */
    rc = MPI_Recv(b, count, MPI_BYTE, s.MPI_SOURCE, s.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
        free(b);
        return mpi_error(rc, "MPI_Recv");
    }
    *src = s.MPI_SOURCE, *tag = s.MPI_TAG, *buf = b, *n = (size_t)count, *got = true;
    return LPNAS_OK;
}

static void t_destroy(lpnas_transport *t)
{
    mpi_impl *m = t->impl;
    int fin = 0;
    MPI_Finalized(&fin);
    if (m && m->we_initialized && !fin)
        MPI_Finalize();
    free(m);
    free(t);
}

lpnas_status lpnas_transport_mpi_create(int *argc, char ***argv, lpnas_transport **out)
{
    *out = NULL;
    lpnas_transport *t = calloc(1, sizeof *t);
    mpi_impl *m = calloc(1, sizeof *m);
    if (!t || !m) {
        free(t), free(m);
        return lpnas_fail(LPNAS_ERR_NOMEM, "MPI: out of memory");
    }
    int inited = 0, provided = 0, rc;
    MPI_Initialized(&inited);
    if (!inited) {
        rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            free(t), free(m);
            return mpi_error(rc, "MPI_Init_thread");
        }
        m->we_initialized = true;
    } else {
        MPI_Query_thread(&provided);
    }
    if (provided < MPI_THREAD_FUNNELED) {
        if (m->we_initialized)
            MPI_Finalize();
        free(t), free(m);
        return lpnas_fail(LPNAS_ERR_UNSUPPORTED, "MPI: this MPI gives thread level %d; the search needs FUNNELED (%d)",
                          provided, MPI_THREAD_FUNNELED);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &t->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &t->size);
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    if (MPI_Get_processor_name(name, &len) != MPI_SUCCESS)
        snprintf(name, sizeof name, "?");
    snprintf(t->host, sizeof t->host, "%.63s", name);
    t->impl = m;
    t->bcast = t_bcast, t->send = t_send, t->poll = t_poll, t->destroy = t_destroy;
    *out = t;
    return LPNAS_OK;
}
