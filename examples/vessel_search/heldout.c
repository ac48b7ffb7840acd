/* vessel_search: the run's header, and the judgement on held-out tiles
 * (--test): never used for any choice, only reported. */
#include "heldout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void print_header(const lpnas_search_options *o, const lpnas_dataset *d, const lpnas_dataset *dv, const int *tr,
                  int nt, const int *va, int nv, const lpnas_dataset *dt, const char *how)
{
    float lo, hi, vlo, vhi;
    lpnas_dataset_value_range(d, tr, nt, &lo, &hi);
    lpnas_dataset_value_range(dv, va, nv, &vlo, &vhi);
    fprintf(stderr, "data: tiles of %dx%d, %d channels; values %g..%g (training), %g..%g (validation); input "
                    "normalization %s; %s\n",
            lpnas_dataset_width(d), lpnas_dataset_height(d), lpnas_dataset_channels(d), (double)lo, (double)hi,
            (double)vlo, (double)vhi, o->raw_inputs ? "none (raw sensor values)" : "device", how);
    lpnas_space_options full;
    lpnas_space_options_default(&full);
    const lpnas_space_options *sp = &o->space;
    bool narrowed = sp->max_stages < full.max_stages || sp->n_widths < full.n_widths;
    fprintf(stderr, "space: %d..%d stages, widths %d..%d, up to %d blocks per stage, %s%s; crossover %.2f%s\n",
            sp->min_stages, sp->max_stages, sp->widths[0], sp->widths[sp->n_widths - 1], sp->max_blocks,
            narrowed ? "narrowed by " : "the full space", narrowed ? "--max-stages/--max-width" : "",
            o->strategy == LPNAS_SEARCH_EVOLUTION ? o->crossover_prob : o->strategy == LPNAS_SEARCH_NSGA2 ? 0.5 : 0,
            o->strategy == LPNAS_SEARCH_RANDOM ? " (random search)" : "");
    if (dt)
        fprintf(stderr, "test: %d held-out tiles (judged after the search, never used for a choice)\n",
                lpnas_dataset_count(dt));
    else
        fprintf(stderr, "test: none (--test DIR judges the final front on held-out tiles)\n");
}

typedef struct {
    long id;
    double fp32, posthoc, aligned;
} judged;

lpnas_status calibrate_loaded(lpnas_net *net, const lpnas_search_options *o)
{
    /* model files of format 2 carry the calibration the search judged the candidate with:
     * keep it rather than measure new ranges */
    if (!lpnas_policy_is_integer(o->policy) || lpnas_net_is_calibrated(net))
        return LPNAS_OK;
    int n = o->ntrain < 64 ? o->ntrain : 64;
    size_t per = (size_t)lpnas_dataset_channels(o->data) * lpnas_dataset_height(o->data) * lpnas_dataset_width(o->data);
    float *x = malloc((size_t)n * per * sizeof *x);
    if (!x)
        return LPNAS_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        memcpy(x + (size_t)i * per, lpnas_dataset_image(o->data, o->train[i]), per * sizeof *x);
    lpnas_status st = lpnas_net_calibrate(net, x, n, o->policy, NULL);
    free(x);
    return st;
}

static double miou_of(const char *path, const lpnas_dataset *dt, const int *all, const lpnas_policy *p,
                      const lpnas_search_options *o)
{
    lpnas_net *net = NULL;
    lpnas_eval_result e;
    double v = NAN;
    if (!lpnas_model_load(path, 16, &net, NULL, 0) && (!p || !calibrate_loaded(net, o)) &&
        !lpnas_evaluate(net, dt, all, lpnas_dataset_count(dt), p, &e))
        v = e.miou;
    else
        fprintf(stderr, "vessel_search: --test: %s: %s\n", path, lpnas_last_error());
    lpnas_net_free(net);
    return v;
}

/* pareto.csv again, with the three test columns (the runner writes it without) */
static void add_test_columns(const char *out, const judged *j, int nj)
{
    char path[4200], tmp[4210], line[4096];
    snprintf(path, sizeof path, "%s/pareto.csv", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *in = fopen(path, "r"), *o = in ? fopen(tmp, "w") : NULL;
    if (!in || !o) {
        if (in)
            fclose(in);
        fprintf(stderr, "vessel_search: cannot rewrite %s\n", path);
        return;
    }
    for (int row = 0; fgets(line, sizeof line, in); row++) {
        line[strcspn(line, "\n")] = 0;
        if (row == 0) {
            fprintf(o, "%s,test_miou_fp32,test_miou_posthoc,test_miou_aligned\n", line);
            continue;
        }
        long id = strtol(line, NULL, 10);
        const judged *m = NULL;
        for (int k = 0; k < nj && !m; k++)
            if (j[k].id == id)
                m = &j[k];
        if (m)
            fprintf(o, "%s,%.4f,%.4f,%.4f\n", line, m->fp32, m->posthoc, m->aligned);
        else
            fprintf(o, "%s,,,\n", line);
    }
    fclose(in);
    if (fclose(o) || rename(tmp, path))
        fprintf(stderr, "vessel_search: cannot rewrite %s\n", path);
}

void judge_on_test(const char *out, const lpnas_search_options *o, lpnas_search *s, const lpnas_dataset *dt)
{
    lpnas_search_row *rows;
    size_t n;
    if (lpnas_search_rows(s, &rows, &n))
        return;
    lpnas_search_summary sum;
    lpnas_search_summarize(s, &sum);
    int nt = lpnas_dataset_count(dt);
    int *all = malloc((size_t)nt * sizeof *all);
    judged *j = calloc(n + 1, sizeof *j);
    int nj = 0;
    for (int i = 0; i < nt; i++)
        all[i] = i;
    bool aligned = o->mode == LPNAS_MODE_ALIGNED && o->finetune_steps > 0;
    /* the candidates of pareto.csv (the search's objectives) and the best */
    char path[4200], line[4096];
    snprintf(path, sizeof path, "%s/pareto.csv", out);
    FILE *pf = fopen(path, "r");
    bool *listed = calloc(n + 1, 1);
    for (int row = 0; pf && fgets(line, sizeof line, pf); row++) {
        long id = strtol(line, NULL, 10);
        if (row > 0 && id >= 0 && (size_t)id < n)
            listed[id] = true;
    }
    if (pf)
        fclose(pf);
    for (size_t i = 0; i < n; i++) {
        if (!listed[i] && rows[i].id != sum.id)
            continue;
        const char *stem = rows[i].id == sum.id ? "best" : "front-";
        char id[32] = "";
        if (rows[i].id != sum.id)
            snprintf(id, sizeof id, "%ld", rows[i].id);
        j[nj].id = rows[i].id;
        snprintf(path, sizeof path, "%s/%s%s.fp32.lpm", out, stem, id);
        j[nj].fp32 = miou_of(path, dt, all, NULL, o);
        j[nj].posthoc = miou_of(path, dt, all, o->policy, o);
        snprintf(path, sizeof path, "%s/%s%s.lpm", out, stem, id);
        j[nj].aligned = aligned ? miou_of(path, dt, all, o->policy, o) : NAN;
        nj++;
    }
    add_test_columns(out, j, nj);
    snprintf(path, sizeof path, "%s/report.md", out);
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "\n## Held-out test tiles (%d, never used for a choice)\n\n", nt);
        fprintf(f, "| id | architecture | latency ms | val mIoU (ranked by) | test FP32 | test post-hoc (%s) | test "
                   "aligned |\n|---|---|---|---|---|---|---|\n",
                lpnas_policy_name(o->policy));
        for (int k = 0; k < nj; k++)
            for (size_t i = 0; i < n; i++)
                if (rows[i].id == j[k].id)
                    fprintf(f, "| %ld%s | `%s` | %.3f | %.4f | %.4f | %.4f | %.4f |\n", j[k].id,
                            j[k].id == sum.id ? " (best)" : "", rows[i].arch, rows[i].latency_ms, rows[i].quality,
                            j[k].fp32, j[k].posthoc, j[k].aligned);
        fclose(f);
    }
    for (int k = 0; k < nj; k++)
        if (j[k].id == sum.id) {
            printf("test mIoU FP32      %.4f\n", j[k].fp32);
            printf("test mIoU post-hoc  %.4f  (%s)\n", j[k].posthoc, lpnas_policy_name(o->policy));
            printf("test mIoU aligned   %.4f  (%s)\n", j[k].aligned, lpnas_policy_name(o->policy));
        }
    free(rows), free(all), free(j), free(listed);
}
