/* Per-stage weight formats in a network (include/lpnas/net.h): the weights of
 * every conv whose stage names a format are replaced by the values the
 * device holds in that format.
 *
 * Integer formats are symmetric per output channel: s = max|w| / (2^(b-1)-1),
 * q = clamp(nearbyint(w / s)), w' = q * s. Doing this on the unfolded conv is
 * the same as doing it on the BN-folded one: BN multiplies output channel oc
 * by one factor a, which scales max|w| and every w of that channel alike, so
 * w*a / (s*a) = w / s and the codes q are unchanged (up to the binary32
 * rounding of the two divisions). f16: binary16 round-to-nearest-even. */
#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "lib/net_internal.h"
#include "lpnas/quant.h"

static void round_int(float *w, int oc, size_t per, int bits)
{
    int32_t qmax = (1 << (bits - 1)) - 1;
    for (int o = 0; o < oc; o++) {
        float *x = w + (size_t)o * per, mx = 0;
        for (size_t i = 0; i < per; i++)
            mx = fmaxf(mx, fabsf(x[i]));
        if (!(mx > 0))
            continue; /* an all-zero channel stays zero */
        float s = mx / (float)qmax;
        for (size_t i = 0; i < per; i++)
            x[i] = (float)lpnas_quantize1(x[i], s, 0, -qmax, qmax) * s;
    }
}

lpnas_status lpnas_net_round_stage_weights(lpnas_net *net, int *layers)
{
    int count = 0;
    for (int i = 0; i < net->g.count; i++) {
        const lpnas_node *n = &net->g.node[i];
        /* encoder stages hold convs only; decoder and head keep the policy's format */
        if (n->kind != LPNAS_NODE_CONV || n->wfmt == LPNAS_WFMT_DEFAULT)
            continue;
        float *w = net->params + net->s[i].w;
        size_t per = (size_t)(n->in_c / n->groups) * n->kernel * n->kernel, total = per * (size_t)n->c;
        if (n->wfmt == LPNAS_WFMT_F16) {
            lpnas_f16 *tmp = malloc(total * sizeof *tmp);
            if (!tmp)
                return lpnas_fail(LPNAS_ERR_NOMEM, "stage weights: out of memory");
            lpnas_f16_from_f32_array(tmp, w, total, LPNAS_RNE);
            lpnas_f16_to_f32_array(w, tmp, total);
            free(tmp);
        } else {
            round_int(w, n->c, per, lpnas_wfmt_bits((lpnas_wfmt)n->wfmt, 8));
        }
        count++;
    }
    if (count)
        lpnas_net_params_changed(net);
    if (layers)
        *layers = count;
    return LPNAS_OK;
}
