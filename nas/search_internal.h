/* Internal: the search object, shared by search.c and search_dist.c. */
#ifndef LPNAS_NAS_SEARCH_INTERNAL_H
#define LPNAS_NAS_SEARCH_INTERNAL_H

#include <stdatomic.h>

#include "nas/runner.h"
#include "nas/space.h"

struct lpnas_search {
    lpnas_search_options o;
    lpnas_space space;
    float mean[16], std[16];
    lpnas_runner *runner; /* rank 0 (or no transport); NULL on the other ranks */
    char *config;         /* the configuration text, as compared on resume */
    /* the other ranks of a distributed search */
    lpnas_dataset *own_data; /* received from rank 0 */
    int *own_train, *own_val;
    char *scratch;        /* local folder the models are written to before they go to rank 0 */
    char *refusal;        /* why this rank cannot take part (options differ), or NULL */
    atomic_int stop;
};

/* The model files of a candidate evaluated on another rank, there and on rank 0. */
lpnas_status lpnas_search_pack(void *ctx, const lpnas_candidate *c, void **buf, size_t *n);
lpnas_status lpnas_search_unpack(void *ctx, const lpnas_candidate *c, const void *buf, size_t n);
void lpnas_search_problem(lpnas_search *s, lpnas_problem *p);
/* Rank 0: sends the data set, the split and the configuration to the other
 * ranks (or, when rank 0 failed with `failed`, tells them so). */
lpnas_status lpnas_search_share(lpnas_search *s, const lpnas_search_options *o, lpnas_status failed);
lpnas_status lpnas_search_create_worker(const lpnas_search_options *o, lpnas_search **out);
lpnas_status lpnas_search_serve(lpnas_search *s);
void lpnas_search_free_worker(lpnas_search *s);

/* Integer policies: activation ranges from the first 64 of the tiles idx
 * of d (min/max, lpnas_net_calibrate), for the weights the network holds
 * now. No-op for other policies. Shared by the search and the block-wise
 * table (nas/blockwise.c). */
lpnas_status lpnas_search_calibrate(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n,
                                    const lpnas_policy *pol);

#endif
