/* Internal: the search space. A genome is a fixed-length integer vector
 * (layout below); every genome the operators produce maps to a valid
 * architecture (valid by construction), and the canonical architecture
 * string plus the training hyper-parameters is a candidate's identity.
 *
 *   g[0]                 stages, min_stages..max_stages
 *   g[1 + 5i .. 5 + 5i]  stage i: block type, width index, blocks, kernel index, expansion
 *   g[31..35]            down, up, skip, decoder blocks, activation
 *   g[36..38]            learning-rate index, optimizer, schedule
 *   g[39 + i]            stage i: weight-format index into options.wfmts (0 without precision genes) */
#ifndef LPNAS_NAS_SPACE_H
#define LPNAS_NAS_SPACE_H

#include "lpnas/arch.h"
#include "lpnas/search.h"
#include "nas/strategy.h"

#define LPNAS_SPACE_GENES 45

typedef struct {
    lpnas_space_options o;
} lpnas_space;

lpnas_status lpnas_space_init(lpnas_space *s, const lpnas_space_options *o);
lpnas_space_ops lpnas_space_operators(lpnas_space *s);
/* Genome -> architecture and training hyper-parameters. */
void lpnas_space_decode(const lpnas_space *s, const lpnas_genome *g, lpnas_arch *arch, lpnas_hparams *hp);
/* Identity text: "<arch>|lr=0.003,opt=adam,sched=cosine". */
int lpnas_space_identity(const lpnas_space *s, const lpnas_genome *g, char *buf, size_t size);
/* True if every gene is within the space's bounds. */
bool lpnas_space_valid(const lpnas_space *s, const lpnas_genome *g);

#endif
