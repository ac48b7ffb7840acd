/* The block-wise precision table and the search over it
 * (include/lpnas/blockwise.h). */
#include "lpnas/blockwise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lpnas/qnet.h"
#include "lpnas/train.h"
#include "nas/search_internal.h"

/* A copy of `src` whose arch has the given stage formats, same weights,
 * BN statistics and normalization (the parameter layout does not depend on
 * the formats). */
static lpnas_status copy_with(lpnas_net *src, const lpnas_arch *a, lpnas_net **out)
{
    int batch, h, w;
    lpnas_net_size(src, &batch, &h, &w);
    lpnas_net_options no;
    lpnas_net_options_default(&no);
    no.batch = batch, no.h = h, no.w = w;
    lpnas_status st = lpnas_net_create(a, &no, out);
    if (st)
        return st;
    size_t nb, nb2;
    float *b = lpnas_net_buffers(src, &nb), *b2 = lpnas_net_buffers(*out, &nb2);
    memcpy(lpnas_net_params(*out), lpnas_net_params(src), lpnas_net_param_count(src) * sizeof(float));
    memcpy(b2, b, (nb < nb2 ? nb : nb2) * sizeof(float));
    lpnas_net_params_changed(*out);
    float mean[16], std[16];
    lpnas_net_get_normalization(src, mean, std);
    return lpnas_net_set_normalization(*out, mean, std);
}

lpnas_status lpnas_blockwise_measure(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n,
                                     const lpnas_policy *policy, const lpnas_wfmt *fmt, int nfmt,
                                     lpnas_blockwise_table *out)
{
    if (!net || !d || !idx || n < 1 || !fmt || nfmt < 1 || nfmt > LPNAS_WFMT_COUNT || !out)
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: need a network, tiles and 1..%d formats (got %d)",
                          LPNAS_WFMT_COUNT, nfmt);
    lpnas_arch a = *lpnas_net_arch(net);
    memset(out, 0, sizeof *out);
    out->stages = a.stages, out->nfmt = nfmt;
    for (int j = 0; j < nfmt; j++) {
        if ((unsigned)fmt[j] >= LPNAS_WFMT_COUNT || fmt[j] == LPNAS_WFMT_DEFAULT)
            return lpnas_fail(LPNAS_ERR_ARG, "blockwise: format %d: need f16, w8 or w4", (int)fmt[j]);
        out->fmt[j] = fmt[j];
    }
    for (int i = 0; i < a.stages; i++)
        a.stage[i].wfmt = LPNAS_WFMT_DEFAULT;
    lpnas_eval_result e;
    lpnas_net *c;
    lpnas_status st = copy_with(net, &a, &c);
    if (!st)
        st = lpnas_search_calibrate(c, d, idx, n, policy);
    if (!st)
        st = lpnas_evaluate(c, d, idx, n, policy, &e);
    lpnas_net_free(c);
    if (st)
        return st;
    out->base = e.miou;
    for (int i = 0; i < a.stages; i++)
        for (int j = 0; j < nfmt; j++) {
            lpnas_arch b = a;
            b.stage[i].wfmt = fmt[j];
            if ((st = copy_with(net, &b, &c)))
                return st;
            if (!(st = lpnas_net_round_stage_weights(c, NULL)) && !(st = lpnas_search_calibrate(c, d, idx, n, policy)))
                st = lpnas_evaluate(c, d, idx, n, policy, &e);
            lpnas_net_free(c);
            if (st)
                return st;
            out->miou[i][j] = e.miou;
        }
    return LPNAS_OK;
}

lpnas_status lpnas_blockwise_choose(const lpnas_blockwise_table *t, const lpnas_arch *a, int default_bits,
                                    long long max_bytes, int *choice, double *pred, long long *bytes)
{
    if (!t || !a || a->stages != t->stages || t->nfmt < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "blockwise: the table has %d stages, the architecture %d",
                          t ? t->stages : 0, a ? a->stages : 0);
    long long combos = 1;
    for (int i = 0; i < t->stages; i++)
        combos *= t->nfmt; /* at most 4^6 = 4096 */
    double best = -INFINITY;
    long long best_bytes = 0;
    int cur[LPNAS_ARCH_MAX_STAGES];
    for (long long k = 0; k < combos; k++) {
        lpnas_arch b = *a;
        long long r = k;
        double p = t->base;
        for (int i = 0; i < t->stages; i++) {
            cur[i] = (int)(r % t->nfmt), r /= t->nfmt;
            b.stage[i].wfmt = t->fmt[cur[i]];
            p += t->miou[i][cur[i]] - t->base; /* the additivity assumption */
        }
        long long wb;
        lpnas_status st = lpnas_arch_weight_bytes(&b, default_bits, &wb);
        if (st)
            return st;
        if (max_bytes > 0 && wb > max_bytes)
            continue;
        if (p > best || (p == best && wb < best_bytes)) { /* ties: the smaller model */
            best = p, best_bytes = wb;
            memcpy(choice, cur, (size_t)t->stages * sizeof *choice);
        }
    }
    if (best == -INFINITY)
        return lpnas_fail(LPNAS_ERR_INFEASIBLE, "blockwise: no precision assignment fits %lld weight bytes", max_bytes);
    *pred = best, *bytes = best_bytes;
    return LPNAS_OK;
}
