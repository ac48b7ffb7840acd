/* Training loop, optimizers, fine-tuning with loss scaling, evaluation. */
#include "lpnas/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/rng.h"
#include "kernels/loss.h"
#include "kernels/metrics.h"

void lpnas_train_options_default(lpnas_train_options *o)
{
    memset(o, 0, sizeof *o);
    o->optimizer = LPNAS_OPT_ADAM;
    o->lr = 3e-3;
    o->momentum = 0.9;
    o->weight_decay = 1e-4;
    o->schedule = LPNAS_SCHED_COSINE;
    o->steps = 300;
    o->batch = 16;
    o->seed = 1;
    o->augment = true;
    o->pos_weight = 10;
    o->dice_weight = 1;
    lpnas_scaler_options_default(&o->scaler);
    o->progress_every = 10;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static lpnas_status check(const lpnas_net *net, const lpnas_dataset *d, const int *idx, int n,
                          const lpnas_train_options *o)
{
    const lpnas_arch *a = lpnas_net_arch(net);
    if (lpnas_dataset_channels(d) != a->in_channels)
        return lpnas_fail(LPNAS_ERR_ARG, "train: data has %d channels, the architecture takes %d",
                          lpnas_dataset_channels(d), a->in_channels);
    if (!idx || n < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "train: no tiles");
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= lpnas_dataset_count(d))
            return lpnas_fail(LPNAS_ERR_ARG, "train: tile index %d out of range", idx[i]);
    if (o->steps < 0 || o->steps > 100000000)
        return lpnas_fail(LPNAS_ERR_ARG, "train: steps %d (need 0..1e8)", o->steps);
    if (!(o->lr > 0 && o->lr < 10) || !(o->momentum >= 0 && o->momentum < 1) ||
        !(o->weight_decay >= 0 && o->weight_decay < 1))
        return lpnas_fail(LPNAS_ERR_ARG, "train: lr %g (0..10), momentum %g [0..1), weight decay %g [0..1)", o->lr,
                          o->momentum, o->weight_decay);
    if (!(o->pos_weight > 0 && o->pos_weight < 1e4) || !(o->dice_weight >= 0 && o->dice_weight < 1e4))
        return lpnas_fail(LPNAS_ERR_ARG, "train: pos_weight %g, dice_weight %g out of range", (double)o->pos_weight,
                          (double)o->dice_weight);
    return LPNAS_OK;
}

/* Copies tile t into slot b of the batch, transformed by one of the 8
 * symmetries of the square (k quarter turns, then an optional flip). */
static void put_tile(const lpnas_dataset *d, int t, int xf, float *img, uint8_t *msk)
{
    int C = lpnas_dataset_channels(d), H = lpnas_dataset_height(d), W = lpnas_dataset_width(d);
    const float *src = lpnas_dataset_image(d, t);
    const uint8_t *m = lpnas_dataset_mask(d, t);
    if (H != W)
        xf &= 4 | 2; /* non-square: only flips and the half turn */
    int rot = xf & 3, flip = (xf >> 2) & 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int sx = flip ? W - 1 - x : x, sy = y, tx;
            for (int k = 0; k < rot; k++) /* a quarter turn: (x, y) <- (y, W-1-x) on a square */
                tx = sx, sx = sy, sy = W - 1 - tx;
            size_t o = (size_t)y * W + x, s = (size_t)sy * W + sx;
            msk[o] = m[s];
            for (int c = 0; c < C; c++)
                img[(size_t)c * H * W + o] = src[(size_t)c * H * W + s];
        }
}

lpnas_status lpnas_train(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n, const lpnas_train_options *opt,
                         lpnas_train_result *res)
{
    lpnas_train_options o;
    if (opt)
        o = *opt;
    else
        lpnas_train_options_default(&o);
    memset(res, 0, sizeof *res);
    lpnas_status st = check(net, d, idx, n, &o);
    if (st)
        return st;
    int nb, nh, nw;
    lpnas_net_size(net, &nb, &nh, &nw);
    if (o.batch < 1 || o.batch > nb)
        return lpnas_fail(LPNAS_ERR_ARG, "train: batch %d (the net was planned for 1..%d)", o.batch, nb);
    if (nh != lpnas_dataset_height(d) || nw != lpnas_dataset_width(d))
        return lpnas_fail(LPNAS_ERR_ARG, "train: tiles are %dx%d, the net was planned for %dx%d",
                          lpnas_dataset_width(d), lpnas_dataset_height(d), nw, nh);
    bool device = !lpnas_policy_is_fp32(o.policy);
    lpnas_scaler sc;
    if (device && (st = lpnas_scaler_init(&sc, &o.scaler)))
        return st;
    double t0 = now_s(), b1 = 0.9, b2 = 0.999, b1t = 1, b2t = 1;
    int B = o.batch, C = lpnas_dataset_channels(d), H = lpnas_dataset_height(d), W = lpnas_dataset_width(d);
    size_t px = (size_t)H * W, np = lpnas_net_param_count(net);
    float *img = malloc((size_t)B * C * px * 4), *dl = malloc((size_t)B * px * 4), *scr = malloc((size_t)B * px * 4);
    uint8_t *msk = malloc((size_t)B * px);
    float *m1 = calloc(np, 4), *m2 = calloc(np, 4);
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!img || !dl || !scr || !msk || !m1 || !m2 || !perm) {
        st = lpnas_fail(LPNAS_ERR_NOMEM, "train: out of memory");
        goto done;
    }
    lpnas_rng r;
    lpnas_rng_derive(&r, o.seed, 0x7a1, 0);
    for (int i = 0; i < n; i++)
        perm[i] = idx[i];
    int pos = n;
    lpnas_loss_params lp = {o.pos_weight, 1.0f, o.dice_weight, 1.0f};
    float *P = lpnas_net_params(net), *G = lpnas_net_grads(net);
    for (int step = 0; step < o.steps; step++) {
        for (int b = 0; b < B; b++) {
            if (pos == n) { /* a new epoch: reshuffle */
                for (int i = n - 1; i > 0; i--) {
                    int j = (int)lpnas_rng_below(&r, (uint64_t)i + 1), t = perm[i];
                    perm[i] = perm[j], perm[j] = t;
                }
                pos = 0;
            }
            int xf = o.augment ? (int)lpnas_rng_below(&r, 8) : 0;
            put_tile(d, perm[pos++], xf, img + (size_t)b * C * px, msk + (size_t)b * px);
        }
        const float *logits;
        if ((st = o.fold_bn && !device ? lpnas_net_forward_deployed(net, img, B, NULL, &logits)
                                       : lpnas_net_forward(net, img, B, true, o.policy, &logits)))
            goto done;
        double loss = lpnas_loss_combined(dl, logits, msk, (size_t)B * px, &lp, scr);
        if (!isfinite(loss)) {
            st = lpnas_fail(LPNAS_ERR_NUMERIC, "train: loss is %g at step %d (diverged%s)", loss, step + 1,
                            device ? " or the device forward overflowed" : "");
            goto done;
        }
        float scale = device ? sc.scale : 1.0f;
        if (device)
            for (size_t k = 0; k < (size_t)B * px; k++)
                dl[k] *= scale;
        lpnas_net_zero_grad(net);
        if ((st = lpnas_net_backward(net, dl, o.policy)))
            goto done;
        bool bad = lpnas_any_nonfinite(G, np);
        if (device) {
            if (!lpnas_scaler_update(&sc, bad)) {
                res->skipped_steps++;
                goto progress;
            }
            float inv = 1.0f / scale;
            for (size_t k = 0; k < np; k++)
                G[k] *= inv;
        } else if (bad) {
            st = lpnas_fail(LPNAS_ERR_NUMERIC, "train: inf/NaN gradients at step %d", step + 1);
            goto done;
        }
        double lr = o.lr;
        if (o.schedule == LPNAS_SCHED_COSINE && o.steps > 1)
            lr = o.lr * 0.5 * (1 + cos(M_PI * step / (double)(o.steps - 1)));
        if (o.optimizer == LPNAS_OPT_SGD) {
            for (size_t k = 0; k < np; k++) {
                float g = G[k] + (float)o.weight_decay * P[k];
                m1[k] = (float)o.momentum * m1[k] + g;
                P[k] -= (float)lr * m1[k];
            }
        } else {
            b1t *= b1, b2t *= b2;
            float c1 = (float)(1 / (1 - b1t)), c2 = (float)(1 / (1 - b2t)), flr = (float)lr;
            for (size_t k = 0; k < np; k++) {
                m1[k] = 0.9f * m1[k] + 0.1f * G[k];
                m2[k] = 0.999f * m2[k] + 0.001f * G[k] * G[k];
                P[k] -= flr * (m1[k] * c1 / (sqrtf(m2[k] * c2) + 1e-8f) + (float)o.weight_decay * P[k]);
            }
        }
        lpnas_net_params_changed(net); /* the cached fold is stale */
        res->final_loss = loss;
    progress:
        res->steps = step + 1;
        if (o.progress && ((step + 1) % (o.progress_every > 0 ? o.progress_every : 10) == 0 || step + 1 == o.steps)) {
            double el = now_s() - t0;
            lpnas_train_progress pr = {step + 1, o.steps, loss, device ? sc.scale : 1.0, res->skipped_steps,
                                       el > 0 ? (step + 1) * (double)B / el : 0};
            o.progress(o.user, &pr);
        }
    }
done:
    res->seconds = now_s() - t0;
    res->final_scale = device ? sc.scale : 1.0;
    free(img), free(dl), free(scr), free(msk), free(m1), free(m2), free(perm);
    return st;
}

lpnas_status lpnas_evaluate(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n, const lpnas_policy *policy,
                            lpnas_eval_result *out)
{
    if (!idx || n < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "evaluate: no tiles");
    if (lpnas_dataset_channels(d) != lpnas_net_arch(net)->in_channels)
        return lpnas_fail(LPNAS_ERR_ARG, "evaluate: data has %d channels, the architecture takes %d",
                          lpnas_dataset_channels(d), lpnas_net_arch(net)->in_channels);
    int C = lpnas_dataset_channels(d);
    size_t px = (size_t)lpnas_dataset_height(d) * lpnas_dataset_width(d);
    int B, nh, nw;
    lpnas_net_size(net, &B, &nh, &nw);
    if (nh != lpnas_dataset_height(d) || nw != lpnas_dataset_width(d))
        return lpnas_fail(LPNAS_ERR_ARG, "evaluate: tiles are %dx%d, the net was planned for %dx%d",
                          lpnas_dataset_width(d), lpnas_dataset_height(d), nw, nh);
    float *img = malloc((size_t)B * C * px * 4);
    uint8_t *msk = malloc((size_t)B * px);
    if (!img || !msk) {
        free(img), free(msk);
        return lpnas_fail(LPNAS_ERR_NOMEM, "evaluate: out of memory");
    }
    lpnas_confusion cf;
    lpnas_confusion_reset(&cf);
    lpnas_status st = LPNAS_OK;
    for (int i = 0; i < n && !st; i += B) {
        int b = n - i < B ? n - i : B;
        for (int k = 0; k < b; k++) {
            if (idx[i + k] < 0 || idx[i + k] >= lpnas_dataset_count(d)) {
                st = lpnas_fail(LPNAS_ERR_ARG, "evaluate: tile index %d out of range", idx[i + k]);
                break;
            }
            memcpy(img + (size_t)k * C * px, lpnas_dataset_image(d, idx[i + k]), (size_t)C * px * 4);
            memcpy(msk + (size_t)k * px, lpnas_dataset_mask(d, idx[i + k]), px);
        }
        const float *logits;
        if (!st && !(st = lpnas_net_infer(net, img, b, policy, &logits)))
            lpnas_confusion_add_logits(&cf, logits, msk, (size_t)b * px);
    }
    free(img), free(msk);
    if (st)
        return st;
    out->miou = lpnas_miou(&cf);
    out->vessel_iou = lpnas_iou_vessel(&cf);
    out->background_iou = lpnas_iou_background(&cf);
    return LPNAS_OK;
}

lpnas_status lpnas_predict(lpnas_net *net, const float *image, const lpnas_policy *policy, uint8_t *mask)
{
    const float *logits;
    lpnas_status st = lpnas_net_infer(net, image, 1, policy, &logits);
    if (st)
        return st;
    int b, h, w;
    lpnas_net_size(net, &b, &h, &w);
    for (size_t k = 0; k < (size_t)h * w; k++)
        mask[k] = logits[k] > 0;
    return LPNAS_OK;
}
