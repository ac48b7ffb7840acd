/* The vessel-segmentation search: the candidate evaluation pipeline (DESIGN
 * §5) on top of the generic runner.
 *   1. cheap checks: latency (layer list + latency model), parameters, peak
 *      device activation memory against the budgets; over budget: recorded
 *      with its reason, never trained;
 *   2. FP32 warm-up, then FP32 and post-hoc mIoU in the policy;
 *   3. (aligned mode) fine-tuning in the policy with loss scaling, aligned mIoU;
 *   4. objectives: mIoU (aligned, or FP32 in posthoc mode), latency, model
 *      size in bytes (weights at each stage's format, lpnas_arch_weight_bytes);
 *      fitness: mIoU minus a penalty for latency over the budget. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "lpnas/model.h"
#include "nas/prune.h"
#include "lpnas/qnet.h"
#include "lpnas/quant.h"
#include "nas/runner_internal.h"
#include "nas/search_config.h"
#include "nas/search_internal.h"
#include "nas/space.h"


void lpnas_search_options_default(lpnas_search_options *o)
{
    memset(o, 0, sizeof *o);
    lpnas_space_options_default(&o->space);
    lpnas_policy_get("myriadx", &o->policy);
    o->mode = LPNAS_MODE_ALIGNED;
    o->budget_ms = 5;
    o->latency_slack = 0.1;
    o->latency_penalty = 1;
    o->max_params = 200000;
    o->max_peak_bytes = 2500000;
    o->warmup_steps = 120, o->finetune_steps = 40, o->batch = 16;
    o->strategy = LPNAS_SEARCH_EVOLUTION;
    o->population = 16, o->sample = 4;
    o->seed = 1;
    o->evaluations = 20;
    o->workers = 1;
    o->search_batch = 4;
    o->out_dir = "out";
    o->crossover_prob = 0.25;
    o->prune = true;
    o->prune_warmup = 40, o->prune_interval = 20, o->prune_startup = 5;
}

/* Bits of a weight in the policy's own format: the integer format's width,
 * 32 for fp32, 16 for the binary16 policies. */
static int policy_weight_bits(const lpnas_policy *p)
{
    lpnas_int_format f;
    if (lpnas_policy_is_integer(p) && !lpnas_policy_int_format(p, &f))
        return f.weight_bits == 4 || f.weight_bits == 8 ? f.weight_bits : 8;
    return lpnas_policy_is_fp32(p) ? 32 : 16;
}

/* A candidate's model size in bytes (its third objective). */
static double weight_bytes(const lpnas_search *s, const lpnas_genome *g)
{
    lpnas_arch a;
    long long b = 0;
    lpnas_space_decode(&s->space, g, &a, NULL);
    if (lpnas_arch_weight_bytes(&a, policy_weight_bits(s->o.policy), &b))
        return INFINITY; /* cannot happen for a decoded genome */
    return (double)b;
}

/* The latency of a decoded candidate with its per-stage weight bits. */
static lpnas_status candidate_latency(const lpnas_search_options *o, const lpnas_arch *a, const lpnas_layer_list *l,
                                      double *ms)
{
    int *bits = malloc((l->count ? l->count : 1) * sizeof *bits);
    if (!bits)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    lpnas_status e = lpnas_arch_layer_wbits(a, lpnas_dataset_height(o->data), lpnas_dataset_width(o->data), bits,
                                            l->count);
    if (!e)
        e = lpnas_latency_estimate_wbits(o->latency, l, bits, NULL, ms);
    free(bits);
    return e;
}

static lpnas_status precheck(void *ctx, lpnas_candidate *c, bool *feasible)
{
    lpnas_search *s = ctx;
    const lpnas_search_options *o = &s->o;
    lpnas_space_identity(&s->space, &c->genome, c->arch, sizeof c->arch);
    lpnas_arch a;
    lpnas_space_decode(&s->space, &c->genome, &a, NULL);
    int h = lpnas_dataset_height(o->data), w = lpnas_dataset_width(o->data);
    lpnas_arch_stats st;
    lpnas_layer_list l;
    lpnas_status e = lpnas_arch_stats_compute(&a, h, w, &st);
    if (!e)
        e = lpnas_arch_layers(&a, h, w, &l);
    if (!e) {
        e = candidate_latency(o, &a, &l, &c->latency_ms);
        lpnas_layer_list_free(&l);
    }
    if (e) { /* e.g. a LUT without this layer: a clear error, the search stops */
        lpnas_error_prefix("candidate %llu (%s): ", (unsigned long long)c->id, c->arch);
        return e;
    }
    c->params = st.params, c->flops = 2 * st.macs, c->peak_bytes = st.peak_act_bytes_device;
    if (o->prune) { /* on the search thread: the earlier batches are final, this one is still pending */
        const lpnas_candidate *all;
        size_t n = lpnas_runner_candidates(s->runner, &all);
        lpnas_prune_medians(all, n, o->prune_startup, c->prune_median);
    }
    double over_lat = c->latency_ms / o->budget_ms - 1 - o->latency_slack;
    double over_par = (double)c->params / (double)o->max_params - 1;
    double over_mem = (double)c->peak_bytes / (double)o->max_peak_bytes - 1;
    double wb = (double)c->weight_bytes; /* derive ran before the precheck */
    double over_wb = o->max_weight_bytes > 0 ? wb / (double)o->max_weight_bytes - 1 : 0;
    *feasible = over_lat <= 0 && over_par <= 0 && over_mem <= 0 && over_wb <= 0;
    if (!*feasible) {
        snprintf(c->reason, sizeof c->reason, "%s%s%s%s", over_lat > 0 ? "latency over budget; " : "",
                 over_par > 0 ? "too many parameters; " : "", over_mem > 0 ? "activations exceed memory; " : "",
                 over_wb > 0 ? "weights exceed the size budget" : "");
        c->outcome.point.violation = fmax(over_lat, 0) + fmax(over_par, 0) + fmax(over_mem, 0) + fmax(over_wb, 0);
        c->outcome.point.obj[1] = c->latency_ms;
        c->outcome.point.obj[2] = wb;
    }
    return LPNAS_OK;
}

/* What a candidate is ranked by: the device's numbers in aligned mode
 * (aligned mIoU, or post-hoc when no fine-tuning steps), FP32 in posthoc mode. */
static double quality(const lpnas_search_options *o, double fp32, double posthoc, double aligned)
{
    if (o->mode == LPNAS_MODE_POSTHOC)
        return fp32;
    return !isnan(aligned) ? aligned : o->finetune_steps == 0 ? posthoc : fp32;
}

/* The pruner's training hook: FP32 validation mIoU at the checkpoints. */
typedef struct {
    lpnas_search *s;
    lpnas_candidate *c;
    lpnas_net *net;
    int at[LPNAS_PRUNE_POINTS], n;
    int pruned_at; /* step, or 0 */
    lpnas_status err;
} prune_ctx;

static int prune_point(prune_ctx *p, int k, double miou)
{
    p->c->curve[k] = miou;
    double med = p->c->prune_median[k];
    if (!(miou < med)) /* NaN median: too few finished candidates yet */
        return 0;
    p->pruned_at = p->at[k];
    snprintf(p->c->reason, sizeof p->c->reason, "pruned at step %d: FP32 mIoU %.4f below the median %.4f", p->at[k],
             miou, med);
    return 1;
}

static int prune_check(void *user, int step)
{
    prune_ctx *p = user;
    for (int k = 0; k < p->n - 1; k++) /* the last point, the end of training, is measured after it */
        if (p->at[k] == step) {
            const lpnas_search_options *o = &p->s->o;
            lpnas_eval_result e;
            if ((p->err = lpnas_evaluate(p->net, o->val_data ? o->val_data : o->data, o->val, o->nval, NULL, &e)))
                return 1;
            return prune_point(p, k, e.miou);
        }
    return 0;
}

/* nas/search_internal.h */
lpnas_status lpnas_search_calibrate(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n, const lpnas_policy *pol)
{
    if (!lpnas_policy_is_integer(pol))
        return LPNAS_OK;
    n = n < 64 ? n : 64;
    size_t per = (size_t)lpnas_dataset_channels(d) * lpnas_dataset_height(d) * lpnas_dataset_width(d);
    float *x = malloc((size_t)n * per * sizeof *x);
    if (!x)
        return lpnas_fail(LPNAS_ERR_NOMEM, "calibration: out of memory");
    for (int i = 0; i < n; i++)
        memcpy(x + (size_t)i * per, lpnas_dataset_image(d, idx[i]), per * sizeof *x);
    lpnas_status st = lpnas_net_calibrate(net, x, n, pol, NULL);
    free(x);
    return st;
}

static lpnas_status evaluate(void *ctx, lpnas_candidate *c, uint64_t seed, const atomic_int *stop)
{
    lpnas_search *s = ctx;
    const lpnas_search_options *o = &s->o;
    lpnas_arch a;
    lpnas_hparams hp;
    lpnas_space_decode(&s->space, &c->genome, &a, &hp);
    lpnas_net_options no = {o->batch, lpnas_dataset_height(o->data), lpnas_dataset_width(o->data), seed};
    lpnas_net *net;
    lpnas_status st = lpnas_net_create(&a, &no, &net);
    if (st)
        return st;
    lpnas_net_set_normalization(net, s->mean, s->std);
    lpnas_train_options to;
    lpnas_train_options_default(&to);
    /* posthoc mode (conventional NAS) spends the fine-tuning steps as more FP32
     * training, so both modes train every candidate for the same number of steps */
    to.steps = o->warmup_steps + (o->mode == LPNAS_MODE_POSTHOC ? o->finetune_steps : 0);
    to.batch = o->batch, to.seed = seed, to.lr = hp.lr;
    to.optimizer = hp.optimizer, to.schedule = hp.schedule;
    lpnas_train_result tr = {0};
    lpnas_eval_result e32, eph, eal;
    prune_ctx pc = {s, c, net, {0}, 0, 0, LPNAS_OK};
    if (o->prune) {
        pc.n = lpnas_prune_points(o->prune_warmup, o->prune_interval, to.steps, pc.at);
        to.check = prune_check, to.check_user = &pc;
    }
    if ((st = lpnas_train(net, o->data, o->train, o->ntrain, &to, &tr)) || (st = pc.err))
        goto fail;
    if (atomic_load(stop)) {
        lpnas_net_free(net);
        return LPNAS_ERR_INTERRUPTED;
    }
    const lpnas_dataset *vd = o->val_data ? o->val_data : o->data;
    if ((st = lpnas_evaluate(net, vd, o->val, o->nval, NULL, &e32)))
        goto fail;
    if (o->prune && !pc.pruned_at) {
        /* the end of the FP32 phase: pruning there only saves something
         * when a fine-tune follows; otherwise just record the point */
        if (o->mode == LPNAS_MODE_ALIGNED && o->finetune_steps > 0)
            prune_point(&pc, pc.n - 1, e32.miou);
        else
            c->curve[pc.n - 1] = e32.miou;
    }
    if (pc.pruned_at) { /* measured at that step; never fine-tuned, never a best */
        c->miou_fp32 = e32.miou;
        lpnas_net_free(net);
        c->status = LPNAS_CAND_PRUNED;
        return LPNAS_OK;
    }
    /* mixed precision: post-hoc and aligned are judged with each stage's weights
     * in its format (no-op without precision genes) */
    if ((st = lpnas_net_round_stage_weights(net, NULL)) ||
        (st = lpnas_search_calibrate(net, o->data, o->train, o->ntrain, o->policy)) ||
        (st = lpnas_evaluate(net, vd, o->val, o->nval, o->policy, &eph)))
        goto fail;
    c->miou_fp32 = e32.miou, c->miou_posthoc = eph.miou, c->vessel_iou = eph.vessel_iou;
    char fpath[4200];
    snprintf(fpath, sizeof fpath, "%s/cand-%llu.fp32.lpm", o->out_dir, (unsigned long long)c->id);
    if ((st = lpnas_model_save(net, "fp32", fpath))) { /* the warm-up weights, for post-hoc pictures */
        lpnas_net_free(net);
        return st == LPNAS_ERR_IO ? st : lpnas_fail(LPNAS_ERR_IO, "%s", lpnas_last_error()); /* stops the search */
    }
    if (o->mode == LPNAS_MODE_ALIGNED && o->finetune_steps > 0) {
        to.policy = o->policy, to.steps = o->finetune_steps, to.lr = hp.lr / 3, to.seed = seed + 1;
        to.scaler.growth_interval = 50;
        if ((st = lpnas_train(net, o->data, o->train, o->ntrain, &to, &tr)) ||
            (st = lpnas_net_round_stage_weights(net, NULL)) || /* fine-tuned off the grid: back onto it */
            (st = lpnas_evaluate(net, vd, o->val, o->nval, o->policy, &eal)))
            goto fail;
        c->miou_aligned = eal.miou, c->vessel_iou = eal.vessel_iou, c->skipped_steps = tr.skipped_steps;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/cand-%llu.lpm", o->out_dir, (unsigned long long)c->id);
    st = lpnas_model_save(net, lpnas_policy_name(o->policy), path); /* kept for the best */
    lpnas_net_free(net);
    if (st) /* a full disk is not the candidate's failure: the search stops, the candidate runs again on resume */
        return st == LPNAS_ERR_IO ? st : lpnas_fail(LPNAS_ERR_IO, "%s", lpnas_last_error());
    c->status = LPNAS_CAND_OK;
    return LPNAS_OK;
fail:
    lpnas_net_free(net);
    return st; /* recorded as a failure with the message */
}

static void score(void *ctx, lpnas_candidate *c)
{
    lpnas_search *s = ctx;
    const lpnas_search_options *o = &s->o;
    double q = quality(o, c->miou_fp32, c->miou_posthoc, c->miou_aligned);
    double excess = fmax(0, c->latency_ms / o->budget_ms - 1);
    /* pruned: told with the mIoU it had when stopped (below the median, so a poor parent) */
    bool measured = c->status == LPNAS_CAND_OK || c->status == LPNAS_CAND_PRUNED;
    c->outcome.fitness = measured ? q - o->latency_penalty * excess : -INFINITY;
    c->outcome.point.obj[0] = measured ? -q : 0;
    c->outcome.point.obj[1] = c->latency_ms;
    c->outcome.point.obj[2] = weight_bytes(s, &c->genome); /* NSGA-II's third objective: model size */
    c->outcome.point.violation = excess;
}

/* The fields that follow from the genome alone (lpnas_problem.derive). */
static void derive(void *ctx, lpnas_candidate *c)
{
    c->weight_bytes = (int64_t)weight_bytes(ctx, &c->genome);
}

static bool valid_genome(void *ctx, const lpnas_genome *g)
{
    return lpnas_space_valid(&((lpnas_search *)ctx)->space, g);
}

/* best.lpm, best.fp32.lpm and best.id of an earlier search. */
static void remove_best(const char *dir)
{
    const char *names[] = {"best.lpm", "best.fp32.lpm", "best.id"};
    char path[4200];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
}

void lpnas_search_problem(lpnas_search *s, lpnas_problem *p)
{
    lpnas_problem q = {s, lpnas_space_operators(&s->space), precheck, evaluate, score, valid_genome,
                       lpnas_search_pack, lpnas_search_unpack, derive};
    *p = q;
}

static lpnas_status create_leader(const lpnas_search_options *o, lpnas_search **out)
{
    *out = NULL;
    if (!o->data || !o->train || !o->val || o->ntrain < 1 || o->nval < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "search: a data set with training and validation tiles is required");
    if (!o->latency)
        return lpnas_fail(LPNAS_ERR_ARG, "search: a latency model is required");
    if (!(o->budget_ms > 0) || !(o->latency_slack >= 0) || !(o->latency_penalty >= 0) || o->max_params < 1 ||
        o->max_peak_bytes < 1)
        return lpnas_fail(LPNAS_ERR_ARG, "search: budgets must be positive (latency %g ms, parameters %lld)",
                          o->budget_ms, o->max_params);
    if (o->warmup_steps < 1 || o->finetune_steps < 0 || o->batch < 1 || o->batch > 1024)
        return lpnas_fail(LPNAS_ERR_ARG, "search: warm-up steps %d (>= 1), fine-tune steps %d (>= 0), batch %d (1..1024)",
                          o->warmup_steps, o->finetune_steps, o->batch);
    if (o->prune && (o->prune_warmup < 1 || o->prune_interval < 1 || o->prune_startup < 1))
        return lpnas_fail(LPNAS_ERR_ARG, "search: prune warm-up %d, interval %d, startup %d (each >= 1)",
                          o->prune_warmup, o->prune_interval, o->prune_startup);
    if ((unsigned)o->strategy > LPNAS_SEARCH_NSGA2 || (unsigned)o->mode > LPNAS_MODE_POSTHOC)
        return lpnas_fail(LPNAS_ERR_ARG, "search: strategy or mode out of range");
    if (o->val_data && (lpnas_dataset_channels(o->val_data) != lpnas_dataset_channels(o->data) ||
                        lpnas_dataset_height(o->val_data) != lpnas_dataset_height(o->data) ||
                        lpnas_dataset_width(o->val_data) != lpnas_dataset_width(o->data)))
        return lpnas_fail(LPNAS_ERR_ARG, "search: validation tiles are %dx%dx%d, training tiles %dx%dx%d",
                          lpnas_dataset_channels(o->val_data), lpnas_dataset_height(o->val_data),
                          lpnas_dataset_width(o->val_data), lpnas_dataset_channels(o->data),
                          lpnas_dataset_height(o->data), lpnas_dataset_width(o->data));
    if (o->max_weight_bytes < 0)
        return lpnas_fail(LPNAS_ERR_ARG, "search: max weight bytes %lld (need >= 0; 0: no budget)", o->max_weight_bytes);
    if (!(o->crossover_prob >= 0 && o->crossover_prob <= 1))
        return lpnas_fail(LPNAS_ERR_ARG, "search: crossover probability %g (need 0..1)", o->crossover_prob);
    lpnas_status cs = lpnas_search_check_data(o);
    if (cs)
        return cs;
    lpnas_search *s = calloc(1, sizeof *s);
    if (!s)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    s->o = *o;
    lpnas_space_options so = o->space;
    so.in_channels = lpnas_dataset_channels(o->data);
    lpnas_status st = lpnas_space_init(&s->space, &so);
    if (!st)
        st = lpnas_dataset_channel_stats(o->data, o->train, o->ntrain, s->mean, s->std);
    if (!st && o->raw_inputs)
        for (int c = 0; c < 16; c++)
            s->mean[c] = 0, s->std[c] = 1;
    if (st) {
        free(s);
        return st;
    }
    lpnas_runner_options ro;
    lpnas_runner_options_default(&ro);
    lpnas_strategy_options_default(&ro.strategy, (lpnas_strategy_kind)o->strategy);
    ro.strategy.population = o->population;
    ro.strategy.sample = o->sample;
    ro.strategy.seed = o->seed;
    if (o->strategy == LPNAS_SEARCH_EVOLUTION)
        ro.strategy.crossover_prob = o->crossover_prob;
    ro.strategy.n_obj = 3;
    ro.budget = o->evaluations, ro.batch = o->search_batch, ro.workers = o->workers;
    ro.out_dir = o->out_dir, ro.resume = o->resume;
    ro.progress = o->progress, ro.progress_user = o->user;
    ro.overwrite = o->overwrite;
    char *config = lpnas_search_config_text(o);
    if (!config) {
        free(s);
        return lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory");
    }
    ro.config = config;
    ro.transport = o->transport, ro.async = o->async;
    lpnas_problem p;
    lpnas_search_problem(s, &p);
    st = lpnas_runner_create(&ro, &p, &s->runner);
    s->config = config;
    if (!st && o->overwrite)
        remove_best(o->out_dir);
    if (st) {
        free(config);
        free(s);
        return st;
    }
    *out = s;
    return LPNAS_OK;
}

/* On pareto.csv: OK and no OK candidate dominates it in all objectives. */
static bool on_pareto_csv(const lpnas_candidate *c, size_t n, size_t i)
{
    if (c[i].status != LPNAS_CAND_OK)
        return false;
    for (size_t j = 0; j < n; j++)
        if (c[j].status == LPNAS_CAND_OK && lpnas_dominates(&c[j].outcome.point, &c[i].outcome.point, 3))
            return false;
    return true;
}

lpnas_status lpnas_search_create(const lpnas_search_options *o, lpnas_search **out)
{
    bool dist = o->transport && o->transport->size > 1;
    if (dist && o->transport->rank != 0)
        return lpnas_search_create_worker(o, out);
    lpnas_status st = create_leader(o, out);
    if (dist) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lpnas_last_error());
        lpnas_status ss = lpnas_search_share(*out, o, st);
        if (st) /* keep rank 0's own reason */
            return lpnas_fail(st, "%s", msg);
        if (ss) {
            lpnas_search_free(*out);
            *out = NULL;
            return ss;
        }
    }
    return st;
}

/* The best candidate's models become best.lpm and best.fp32.lpm, and
 * best.id records whose they are; those of the rest of pareto.csv become
 * front-ID.lpm and front-ID.fp32.lpm (judged on held-out tiles after the
 * search); the other candidate files go. A best model that is missing is an
 * error, and never leaves the models of another candidate beside a report
 * that names this one. */
static lpnas_status keep_best_model(lpnas_search *s)
{
    long b = lpnas_runner_best(s->runner);
    const lpnas_candidate *c;
    size_t n = lpnas_runner_candidates(s->runner, &c);
    char path[4200], best[4200], idpath[4200], keep[4200];
    snprintf(idpath, sizeof idpath, "%s/best.id", s->o.out_dir);
    long had = -1;
    FILE *f = fopen(idpath, "r");
    if (f) {
        if (fscanf(f, "%ld", &had) != 1)
            had = -1;
        fclose(f);
    }
    lpnas_status st = LPNAS_OK;
    bool moved = false;
    for (int k = 0; k < 2; k++) {
        const char *ext = k ? ".fp32.lpm" : ".lpm";
        snprintf(best, sizeof best, "%s/best%s", s->o.out_dir, ext);
        for (size_t i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/cand-%zu%s", s->o.out_dir, i, ext);
            if ((long)i != b) {
                if (on_pareto_csv(c, n, i)) {
                    snprintf(keep, sizeof keep, "%s/front-%zu%s", s->o.out_dir, i, ext);
                    rename(path, keep);
                } else {
                    remove(path);
                }
            } else if (rename(path, best) == 0) {
                moved = true;
            } else if (had != b) {
                remove(best); /* stale: another candidate's model */
                if (!st)
                    st = lpnas_fail(LPNAS_ERR_IO, "%s: the model of the best candidate %ld (%s) is missing: %s", best, b,
                                    path, strerror(errno));
            }
        }
        if (b < 0)
            remove(best);
    }
    if (b < 0 || st)
        remove(idpath);
    else if (moved || had != b) {
        f = fopen(idpath, "w");
        if (!f || fprintf(f, "%ld\n", b) < 0 || fclose(f) != 0)
            st = lpnas_fail(LPNAS_ERR_IO, "%s: write failed: %s", idpath, strerror(errno));
    }
    return st;
}

lpnas_status lpnas_search_run(lpnas_search *s)
{
    if (!s->runner)
        return lpnas_search_serve(s);
    lpnas_status st = lpnas_runner_run(s->runner);
    if (st == LPNAS_OK || st == LPNAS_ERR_STOPPED) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lpnas_last_error());
        lpnas_status kb = keep_best_model(s);
        if (kb)
            return kb;
        if (st)
            lpnas_fail(st, "%s", msg); /* keep the runner's reason */
    }
    return st;
}

void lpnas_search_request_stop(lpnas_search *s)
{
    atomic_store(&s->stop, 1);
    if (s->runner)
        lpnas_runner_request_stop(s->runner);
}

void lpnas_search_summarize(const lpnas_search *s, lpnas_search_summary *out)
{
    memset(out, 0, sizeof *out);
    out->id = -1;
    if (!s->runner) /* another rank: rank 0 has the results */
        return;
    const lpnas_candidate *c;
    size_t n = lpnas_runner_candidates(s->runner, &c);
    for (size_t i = 0; i < n; i++) {
        out->evaluated += c[i].status == LPNAS_CAND_OK || c[i].status == LPNAS_CAND_FAILED ||
                          c[i].status == LPNAS_CAND_PRUNED;
        out->pruned += c[i].status == LPNAS_CAND_PRUNED;
        out->infeasible += c[i].status == LPNAS_CAND_INFEASIBLE;
        out->duplicates += c[i].status == LPNAS_CAND_DUPLICATE;
        out->failed += c[i].status == LPNAS_CAND_FAILED;
    }
    long b = lpnas_runner_best(s->runner);
    out->id = b;
    if (b >= 0) {
        snprintf(out->arch, sizeof out->arch, "%s", c[b].arch);
        out->latency_ms = c[b].latency_ms, out->miou_fp32 = c[b].miou_fp32, out->miou_posthoc = c[b].miou_posthoc;
        out->miou_aligned = c[b].miou_aligned, out->vessel_iou = c[b].vessel_iou, out->params = c[b].params;
    }
}

void lpnas_search_free(lpnas_search *s)
{
    if (!s)
        return;
    lpnas_runner_free(s->runner);
    lpnas_search_free_worker(s);
    free(s->config);
    free(s);
}

lpnas_status lpnas_search_rows(const lpnas_search *s, lpnas_search_row **rows, size_t *n)
{
    const lpnas_candidate *c = NULL;
    size_t m = s->runner ? lpnas_runner_candidates(s->runner, &c) : 0;
    lpnas_search_row *r = calloc(m + 1, sizeof *r);
    if (!r)
        return lpnas_fail(LPNAS_ERR_NOMEM, "search rows: out of memory");
    for (size_t i = 0; i < m; i++) {
        r[i].id = (long)c[i].id;
        snprintf(r[i].arch, sizeof r[i].arch, "%s", c[i].arch);
        r[i].params = c[i].params;
        r[i].latency_ms = c[i].latency_ms, r[i].miou_fp32 = c[i].miou_fp32, r[i].miou_posthoc = c[i].miou_posthoc;
        r[i].miou_aligned = c[i].miou_aligned, r[i].vessel_iou = c[i].vessel_iou;
        r[i].status = (int)c[i].status;
        r[i].weight_bytes = c[i].weight_bytes > 0 ? (long long)c[i].weight_bytes : 0;
        r[i].quality = quality(&s->o, c[i].miou_fp32, c[i].miou_posthoc, c[i].miou_aligned);
    }
    for (size_t i = 0; i < m; i++) {
        if (r[i].status != LPNAS_CAND_OK)
            continue;
        double qi = r[i].quality;
        bool dominated = false;
        for (size_t j = 0; j < m && !dominated; j++) {
            double qj = r[j].quality;
            dominated = r[j].status == LPNAS_CAND_OK && qj >= qi && r[j].latency_ms <= r[i].latency_ms &&
                        (qj > qi || r[j].latency_ms < r[i].latency_ms);
        }
        r[i].on_front = !dominated;
    }
    *rows = r;
    *n = m;
    return LPNAS_OK;
}
