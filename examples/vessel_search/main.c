/* vessel_search: a deployment-aligned architecture search for a vessel
 * segmenter on the Myriad X: candidates are judged after fine-tuning in the
 * device's numbers (or, with --mode posthoc, by FP32 accuracy as
 * conventional NAS does) under a latency budget from the device model. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lpnas.h"
#include "lpnas/plot.h"
#include "heldout.h"

#ifdef LPNAS_WITH_MPI
static const char mpi_note[] = "this build has MPI";
#else
static const char mpi_note[] = "not in this build: make MPI=1";
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vessel_search [options]\n"
            "\n"
            "Searches encoder-decoder vessel segmenters that fit a latency budget on the device and keep\n"
            "their accuracy in its arithmetic. Defaults: synthetic tiles, the myriadx policy, the built-in\n"
            "Myriad X latency model, aging evolution, all cores; about 10 minutes on 2 cores.\n"
            "\n"
            "  --data DIR            PNG folder with images/ and masks/ (e.g. ../shared/data/sen2ships);\n"
            "                        without --val, 20 %% of it validates, split by scene when DIR/manifest.csv\n"
            "                        names one (column source_image or port)\n"
            "  --val DIR             the tiles candidates are selected on (then all of --data trains)\n"
            "  --test DIR            held-out tiles: the final Pareto front and the best candidate are judged\n"
            "                        on them (FP32, post-hoc, aligned), never used for any choice\n"
            "  --tiles N             synthetic tiles when no --data (default 600)\n"
            "  --policy NAME         fp32, ieee-fp16, myriadx (default), myriadx-fp16acc, int8, int8-pow2, w4a8\n"
            "  --lut FILE            latency LUT instead of the device's built-in model\n"
            "  --device NAME         myriadx (default: binary16, calibrated model) or imx8mp (i.MX 8M Plus\n"
            "                        NPU: integer policies, weights w8/w4, UNCALIBRATED model; default\n"
            "                        policy int8): selects the latency model and the allowed weight formats\n"
            "  --mixed-precision     search a weight format per encoder stage among the device's formats\n"
            "  --max-weight-bytes N  model size budget in bytes (weights at their formats; default: none)\n"
            "  --budget-ms X         latency budget incl. 2 ms per-inference overhead (default 6)\n"
            );
    fprintf(f,
            "  --max-params N        parameter budget (default 120000)\n"
            "  --strategy NAME       random, evolution (default), nsga2\n"
            "  --mode NAME           aligned (default: fine-tune in the policy, judge aligned mIoU) or\n"
            "                        posthoc (judge FP32 mIoU: conventional NAS)\n"
            "  --population N        evolution/NSGA-II population (default 8)\n"
            "  --evaluations N       candidates to train (default 20)\n"
            "  --warmup-steps N      FP32 steps per candidate (default 120)\n"
            "  --finetune-steps N    steps in the policy per candidate (default 40)\n"
            "  --train-batch N       tiles per training step (default 16)\n"
            "  --search-batch N      candidates asked at a time (default 4); the rows depend on it, never on\n"
            "                        --workers or the number of ranks; use >= all workers of all ranks\n"
            "  --workers N           threads (default: all cores)\n"
            "  --seed N              (default 1)\n"
            "  --out DIR             results.csv, pareto.csv, best.lpm, best.onnx, pareto.png, pareto-size.png,\n"
            "                        masks.png, report.md,\n"
            "                        search.state (default out/search)\n"
            "  --resume              continue the search saved in --out (with the same options)\n"
            "  --overwrite           start a new search over the one saved in --out\n"
            "  --input-norm MODE     device (default): sensor values converted by the policy's host\n"
            "                        conversion, then normalized as a device stage; none: raw sensor values\n"
            "  --raw-inputs          the same as --input-norm none\n"
            "  --max-stages N        narrow the search space: at most N stages (default: the full space, 4)\n"
            "  --max-width N         narrow the search space: stage widths up to N (default: the full space, 64)\n"
            "  --prune / --no-prune  median pruner: stop a candidate whose FP32 validation mIoU at a\n"
            "                        checkpoint is below the median of earlier ones (default on)\n"
            "  --prune-warmup N      first checkpoint, in warm-up steps (default 40; then every 20)\n"
            "  --prune-startup N     finished candidates before any pruning (default 5)\n"
            "  --async               hand out candidates as workers free up (no batch barrier): faster on\n"
            "                        many ranks, but the rows then depend on timing (docs/distributed.md)\n"
            "  --help                this text\n"
            "\n"
            "Many machines: mpirun -np N vessel_search ... runs one search on N ranks (%s);\n"
            "rank 0 writes --out, the other ranks get the data by MPI and evaluate (--workers threads\n"
            "each). See docs/distributed.md.\n"
            "\n"
            "Ctrl-C stops after saving; --resume continues. Exit: 0 done, 1 error, 2 bad options,\n"
            "3 interrupted (resumable), 4 stopped before the budget (too many infeasible or duplicate\n"
            "proposals; the reason is printed), 5 an output file could not be written (named; resumable).\n",
            mpi_note);
}

/* Read in the handler: a lock-free atomic pointer (a plain one may be torn
 * or cached), and a sig_atomic_t flag the output writing checks. */
static _Atomic(lpnas_search *) running;
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    lpnas_search *s = atomic_load(&running);
    if (s)
        lpnas_search_request_stop(s);
}

static int tty;
static void progress(void *user, const lpnas_search_progress *p)
{
    (void)user;
    char eta[32] = "?";
    if (isfinite(p->eta_seconds))
        snprintf(eta, sizeof eta, "%.0fm%02.0fs", floor(p->eta_seconds / 60), fmod(p->eta_seconds, 60));
    /* per rank: trained so far + evaluating now */
    char ranks[512] = "";
    for (int k = 0, n = 0; p->ranks > 1 && k < p->ranks && n < (int)sizeof ranks - 40; k++)
        n += snprintf(ranks + n, sizeof ranks - (size_t)n, "%s%d:%d+%d", k ? " " : "  ranks ", k, p->rank_evaluated[k],
                      p->rank_busy[k]);
    fprintf(stderr, "%strained %d/%d  infeasible %d  duplicates %d  failed %d  best %.4f  %.1f/min  ETA %s%s%s",
            tty ? "\r" : "", p->evaluated, p->budget, p->infeasible, p->duplicates, p->failed,
            isfinite(p->best) ? p->best : 0.0, p->per_minute, eta, ranks, tty ? "   " : "\n");
}

static int parse_num(const char *s, double lo, double hi, double *v)
{
    char *e;
    errno = 0;
    double x = strtod(s, &e);
    if (errno || *e || e == s || !(x >= lo && x <= hi))
        return -1;
    *v = x;
    return 0;
}

/* An integer option: a number in range with no fraction ("2.5" is refused). */
static int parse_int(const char *s, double lo, double hi, double *v)
{
    return parse_num(s, lo, hi, v) || *v != floor(*v) ? -1 : 0;
}

static double q_of(const lpnas_search_row *r, bool aligned)
{
    (void)aligned;
    return r->quality; /* aligned, post-hoc (no fine-tuning steps) or FP32: as the search ranks */
}

/* report.md: for the best feasible candidates, where their latency goes
 * (share per op kind under the search's latency model), so a reader can
 * judge how much the ranking leans on the parts of the model least sure. */
static void write_latency_shares(FILE *f, const lpnas_search_options *o, const lpnas_search_row *rows, size_t n,
                                 int h, int w, bool aligned)
{
    enum { TOP = 5 };
    size_t best[TOP];
    int nb = 0;
    for (; nb < TOP; nb++) { /* the TOP best by quality, picked one at a time */
        size_t pick = n;
        for (size_t i = 0; i < n; i++) {
            bool taken = false;
            for (int b = 0; b < nb; b++)
                taken = taken || best[b] == i;
            if (!taken && rows[i].status == 1 && !isnan(q_of(&rows[i], aligned)) &&
                (pick == n || q_of(&rows[i], aligned) > q_of(&rows[pick], aligned)))
                pick = i;
        }
        if (pick == n)
            break;
        best[nb] = pick;
    }
    fprintf(f, "## Latency by op kind (best %d feasible candidates)\n\nLatency source: %s.\n\n| id | ms |", nb,
            lpnas_latency_source(o->latency));
    for (int k = 0; k < LPNAS_LATKIND_COUNT_; k++)
        fprintf(f, " %s |", lpnas_latency_kind_name((lpnas_latency_kind)k));
    fprintf(f, "\n|---|---|");
    for (int k = 0; k < LPNAS_LATKIND_COUNT_; k++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    for (int b = 0; b < nb; b++) {
        const lpnas_search_row *r = &rows[best[b]];
        char arch[384];
        snprintf(arch, sizeof arch, "%s", r->arch);
        char *bar = strchr(arch, '|');
        if (bar)
            *bar = 0; /* the identity is "architecture|training hyper-parameters" */
        lpnas_arch a;
        lpnas_layer_list l;
        double kinds[LPNAS_LATKIND_COUNT_], total;
        if (lpnas_arch_parse(arch, &a) || lpnas_arch_layers(&a, h, w, &l))
            continue;
        if (!lpnas_latency_breakdown(o->latency, &l, kinds, &total) && total > 0) {
            fprintf(f, "| %ld | %.3f |", r->id, total);
            for (int k = 0; k < LPNAS_LATKIND_COUNT_; k++)
                fprintf(f, kinds[k] > 0 ? " %.0f %% |" : " |", 100 * kinds[k] / total);
            fprintf(f, "\n");
        }
        lpnas_layer_list_free(&l);
    }
    fprintf(f, "\n");
}

/* An output that could not be written: said on stderr, counted. */
static int missing(const char *out, const char *name, const char *why)
{
    fprintf(stderr, "vessel_search: %s/%s was not written: %s\n", out, name, why);
    return 1;
}

static int export_onnx(lpnas_net *best, const char *policy_name, const char *lpm_path, const char *out)
{
    char path[4200], prov[4300];
    lpnas_onnx_options eo;
    lpnas_onnx_options_default(&eo);
    if (lpnas_policy_get(policy_name, &eo.policy))
        eo.policy = NULL;
    snprintf(prov, sizeof prov, "vessel_search winner, from %s", lpm_path);
    eo.provenance = prov;
    snprintf(path, sizeof path, "%s/best.onnx", out);
    return lpnas_model_export_onnx(best, &eo, path) ? missing(out, "best.onnx", lpnas_last_error()) : 0;
}

/* Writes the pictures and the report, prints the summary. Returns the
 * number of outputs it could not write, or -1 when Ctrl-C came first. */
static int write_outputs(const char *out, const lpnas_search_options *o, lpnas_search *s, const lpnas_dataset *d,
                         const int *va, int nv, double seconds)
{
    lpnas_search_row *rows;
    size_t n;
    int bad = 0;
    if (lpnas_search_rows(s, &rows, &n))
        return missing(out, "report.md", lpnas_last_error());
    bool aligned = o->mode == LPNAS_MODE_ALIGNED;
    char path[4200];
    /* pareto.png */
    lpnas_plot_point *pts = calloc(n + 1, sizeof *pts);
    int np = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].status == 2)
            pts[np++] = (lpnas_plot_point){rows[i].latency_ms, 0, LPNAS_PLOT_INFEASIBLE};
        else if (rows[i].status == 1)
            pts[np++] = (lpnas_plot_point){rows[i].latency_ms, q_of(&rows[i], aligned),
                                           rows[i].on_front ? LPNAS_PLOT_FRONT : LPNAS_PLOT_FEASIBLE};
    }
    double ymin = 1;
    for (int i = 0; i < np; i++)
        if (pts[i].kind != LPNAS_PLOT_INFEASIBLE)
            ymin = fmin(ymin, pts[i].y);
    for (int i = 0; i < np; i++) /* infeasible ones were never trained: drawn on the bottom edge */
        if (pts[i].kind == LPNAS_PLOT_INFEASIBLE)
            pts[i].y = ymin;
    char budget[64];
    snprintf(budget, sizeof budget, "budget %.2f ms", o->budget_ms);
    snprintf(path, sizeof path, "%s/pareto.png", out);
    if (lpnas_plot_scatter_png(path, pts, np, aligned ? "vessel search: latency vs aligned miou" : "vessel search: latency vs fp32 miou",
                               "latency on the device (ms)", aligned ? "aligned miou" : "fp32 miou", o->budget_ms, budget))
        bad += missing(out, "pareto.png", lpnas_last_error());
    /* pareto-size.png, the second panel: model size vs the same mIoU (front marks the 2-D front above) */
    for (int i = 0, j = 0; i < (int)n; i++)
        if (rows[i].status == 1 || rows[i].status == 2)
            pts[j++].x = (double)rows[i].weight_bytes / 1000.0;
    snprintf(budget, sizeof budget, "budget %.1f kB", (double)o->max_weight_bytes / 1000.0);
    snprintf(path, sizeof path, "%s/pareto-size.png", out);
    if (lpnas_plot_scatter_png(path, pts, np, "vessel search: model size vs miou", "weights on the device (kB)",
                               aligned ? "aligned miou" : "fp32 miou",
                               o->max_weight_bytes > 0 ? (double)o->max_weight_bytes / 1000.0 : NAN, budget))
        bad += missing(out, "pareto-size.png", lpnas_last_error());
    free(pts);
    if (interrupted) {
        free(rows);
        return -1;
    }
    /* masks.png: validation tiles with truth, post-hoc and aligned predictions of the best */
    lpnas_net *best = NULL, *warm = NULL;
    snprintf(path, sizeof path, "%s/best.lpm", out);
    char best_policy[64] = "fp32";
    if (lpnas_model_load(path, 1, &best, best_policy, sizeof best_policy) || calibrate_loaded(best, o))
        bad += missing(out, "best.lpm", lpnas_last_error());
    else /* best.onnx beside best.lpm: the winner for ONNX Runtime / OpenVINO (docs/deploy.md) */
        bad += export_onnx(best, best_policy, path, out);
    snprintf(path, sizeof path, "%s/best.fp32.lpm", out);
    if (lpnas_model_load(path, 1, &warm, NULL, 0) || calibrate_loaded(warm, o))
        bad += missing(out, "best.fp32.lpm", lpnas_last_error());
    if (best && warm) {
        enum { ROWS = 6 };
        int rowsn = nv < ROWS ? nv : ROWS, h = lpnas_dataset_height(d), w = lpnas_dataset_width(d);
        const float *imgs[ROWS];
        const uint8_t *masks[ROWS * 3];
        uint8_t *pred = malloc((size_t)ROWS * 2 * h * w);
        for (int r = 0; r < rowsn; r++) {
            imgs[r] = lpnas_dataset_image(d, va[r]);
            masks[r * 3] = lpnas_dataset_mask(d, va[r]);
            lpnas_predict(warm, imgs[r], o->policy, pred + (size_t)(2 * r) * h * w);
            lpnas_predict(best, imgs[r], o->policy, pred + (size_t)(2 * r + 1) * h * w);
            masks[r * 3 + 1] = pred + (size_t)(2 * r) * h * w;
            masks[r * 3 + 2] = pred + (size_t)(2 * r + 1) * h * w;
        }
        float maxv = 0;
        for (int r = 0; r < rowsn; r++)
            for (size_t k = 0; k < (size_t)lpnas_dataset_channels(d) * h * w; k++)
                maxv = fmaxf(maxv, imgs[r][k]);
        snprintf(path, sizeof path, "%s/masks.png", out);
        if (lpnas_write_overlay_grid_png(path, imgs, masks, rowsn, 3, lpnas_dataset_channels(d), h, w,
                                         maxv > 0 ? maxv : 255, 3))
            bad += missing(out, "masks.png", lpnas_last_error());
        free(pred);
    } else {
        bad += missing(out, "masks.png", "it shows the best models, which are missing");
    }
    lpnas_net_free(best);
    lpnas_net_free(warm);
    /* report.md */
    lpnas_search_summary sum;
    lpnas_search_summarize(s, &sum);
    snprintf(path, sizeof path, "%s/report.md", out);
    FILE *f = interrupted ? NULL : fopen(path, "w");
    if (!f && !interrupted)
        bad += missing(out, "report.md", strerror(errno));
    if (f) {
        double gap = 0;
        int ng = 0;
        for (size_t i = 0; i < n; i++)
            if (rows[i].status == 1 && !isnan(rows[i].miou_aligned))
                gap += rows[i].miou_aligned - rows[i].miou_posthoc, ng++;
        fprintf(f, "# Vessel search report\n\n## Settings\n\n| setting | value |\n|---|---|\n");
        fprintf(f, "| data | %d tiles of %dx%d, %d channels |\n", lpnas_dataset_count(d), lpnas_dataset_width(d),
                lpnas_dataset_height(d), lpnas_dataset_channels(d));
        fprintf(f, "| policy | %s |\n| mode | %s |\n| latency budget | %.2f ms |\n| parameter budget | %lld |\n",
                lpnas_policy_name(o->policy), aligned ? "aligned" : "posthoc", o->budget_ms, o->max_params);
        fprintf(f, "| strategy | %s |\n| evaluations | %d |\n| steps per candidate | %d FP32 + %d in the policy |\n",
                o->strategy == LPNAS_SEARCH_RANDOM ? "random" : o->strategy == LPNAS_SEARCH_NSGA2 ? "nsga2" : "evolution",
                o->evaluations, o->warmup_steps, o->finetune_steps);
        fprintf(f, "| seed | %llu |\n| workers | %d |\n| time | %.1f min |\n", (unsigned long long)o->seed, o->workers,
                seconds / 60);
        fprintf(f, "| latency source | %s |\n\n", lpnas_latency_source(o->latency));
        fprintf(f, "## Best feasible candidate\n\n| | |\n|---|---|\n| architecture | `%s` |\n", sum.arch);
        fprintf(f, "| parameters | %lld |\n| latency | %.3f ms |\n| mIoU FP32 | %.4f |\n| mIoU post-hoc (%s) | %.4f |\n",
                sum.params, sum.latency_ms, sum.miou_fp32, lpnas_policy_name(o->policy), sum.miou_posthoc);
        fprintf(f, "| mIoU aligned (%s) | %.4f |\n| vessel IoU | %.4f |\n\n", lpnas_policy_name(o->policy),
                sum.miou_aligned, sum.vessel_iou);
        write_latency_shares(f, o, rows, n, lpnas_dataset_height(d), lpnas_dataset_width(d), aligned);
        fprintf(f, "## Over all candidates\n\ntrained %d (pruned %d), infeasible %d, duplicates %d, failed %d.\n",
                sum.evaluated, sum.pruned, sum.infeasible, sum.duplicates, sum.failed);
        if (ng)
            fprintf(f, "Mean aligned minus post-hoc mIoU over %d fine-tuned candidates: %+.4f.\n", ng, gap / ng);
        fprintf(f, "\nFiles: results.csv, pareto.csv, best.lpm (aligned weights), best.onnx (the same network as ONNX: "
                   "docs/deploy.md), best.fp32.lpm (warm-up weights), "
                   "pareto.png, masks.png (rows: image, truth, post-hoc, aligned), search.state.\n");
        bool werr = ferror(f) != 0;
        if (fclose(f) != 0 || werr)
            bad += missing(out, "report.md", strerror(errno));
    }
    if (interrupted) {
        free(rows);
        return -1;
    }
    fprintf(stderr, "\n");
    printf("best architecture   %s\n", sum.arch);
    printf("parameters          %lld\n", sum.params);
    printf("latency             %.3f ms (budget %.2f ms)\n", sum.latency_ms, o->budget_ms);
    printf("mIoU FP32           %.4f\n", sum.miou_fp32);
    printf("mIoU post-hoc       %.4f  (%s)\n", sum.miou_posthoc, lpnas_policy_name(o->policy));
    printf("mIoU aligned        %.4f  (%s)\n", sum.miou_aligned, lpnas_policy_name(o->policy));
    printf("candidates          trained %d, infeasible %d, duplicates %d, failed %d, pruned %d\n", sum.evaluated,
           sum.infeasible, sum.duplicates, sum.failed, sum.pruned);
    printf("files               %s/{results.csv,pareto.csv,best.lpm,best.onnx,pareto.png,masks.png,report.md}%s\n", out,
           bad ? " (some missing: see above)" : "");
    free(rows);
    return bad;
}

/* A rank other than 0: the data, the split and the work come from rank 0;
 * nothing is written here but a scratch folder under $TMPDIR. */
static int run_other_rank(lpnas_search_options *o, lpnas_transport *t)
{
    lpnas_search *s = NULL;
    int rc = 1;
    if (lpnas_search_create(o, &s)) {
        fprintf(stderr, "vessel_search rank %d (%s): %s\n", t->rank, t->host, lpnas_last_error());
        goto done;
    }
    atomic_store(&running, s);
    if (interrupted) /* the handler is installed in main, before this rank existed */
        lpnas_search_request_stop(s);
    lpnas_status st = lpnas_search_run(s);
    atomic_store(&running, NULL);
    if (st && st != LPNAS_ERR_INTERRUPTED)
        fprintf(stderr, "vessel_search rank %d (%s): %s\n", t->rank, t->host, lpnas_last_error());
    rc = st == LPNAS_OK ? 0 : st == LPNAS_ERR_INTERRUPTED ? 3 : 1;
done:
    lpnas_search_free(s);
    lpnas_transport_free(t);
    return rc;
}

int main(int argc, char **argv)
{
    lpnas_search_options o;
    lpnas_search_options_default(&o);
    /* the default budget: docs/search.md gives the measured share of
     * proposals over it with the Myriad X model of docs/latency.md */
    o.budget_ms = 6.0, o.max_params = 120000, o.population = 8, o.evaluations = 20;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    o.workers = nproc > 0 && nproc < 64 ? (int)nproc : 1;
    const char *device = "myriadx";
    bool mixed = false;
    const char *data = NULL, *lut = NULL, *policy = NULL, *out = "out/search", *valdir = NULL, *testdir = NULL;
    double tiles = 600, v;
    int max_width = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
#define NUMK(name, lo, hi, dst, parse, kind)                                                                \
    else if (!strcmp(a, name) && has)                                                                       \
    {                                                                                                       \
        if (parse(argv[++i], lo, hi, &v)) {                                                                 \
            fprintf(stderr, "vessel_search: %s '%s': expected %s in [%g, %g]\n", name, argv[i], kind,         \
                    (double)(lo), (double)(hi));                                                            \
            return 2;                                                                                       \
        }                                                                                                   \
        dst;                                                                                                \
    }
#define NUM(name, lo, hi, dst) NUMK(name, lo, hi, dst, parse_num, "a number")
#define INT(name, lo, hi, dst) NUMK(name, lo, hi, dst, parse_int, "a whole number")
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--data") && has) data = argv[++i];
        else if (!strcmp(a, "--lut") && has) lut = argv[++i];
        else if (!strcmp(a, "--policy") && has) policy = argv[++i];
        else if (!strcmp(a, "--device") && has) device = argv[++i];
        else if (!strcmp(a, "--mixed-precision")) mixed = true;
        else if (!strcmp(a, "--out") && has) out = argv[++i];
        else if (!strcmp(a, "--resume")) o.resume = true;
        else if (!strcmp(a, "--overwrite")) o.overwrite = true;
        else if (!strcmp(a, "--raw-inputs")) o.raw_inputs = true;
        else if (!strcmp(a, "--val") && has) valdir = argv[++i];
        else if (!strcmp(a, "--test") && has) testdir = argv[++i];
        else if (!strcmp(a, "--input-norm") && has) {
            const char *m = argv[++i];
            if (strcmp(m, "device") && strcmp(m, "none")) {
                fprintf(stderr, "vessel_search: --input-norm '%s': expected device or none\n", m);
                return 2;
            }
            o.raw_inputs = !strcmp(m, "none");
        }
        else if (!strcmp(a, "--prune")) o.prune = true;
        else if (!strcmp(a, "--no-prune")) o.prune = false;
        else if (!strcmp(a, "--async")) o.async = true;
        else if (!strcmp(a, "--strategy") && has) {
            const char *sname = argv[++i];
            if (!strcmp(sname, "random")) o.strategy = LPNAS_SEARCH_RANDOM;
            else if (!strcmp(sname, "evolution")) o.strategy = LPNAS_SEARCH_EVOLUTION;
            else if (!strcmp(sname, "nsga2")) o.strategy = LPNAS_SEARCH_NSGA2;
            else {
                fprintf(stderr, "vessel_search: --strategy '%s': expected random, evolution or nsga2\n", sname);
                return 2;
            }
        } else if (!strcmp(a, "--mode") && has) {
            const char *m = argv[++i];
            if (!strcmp(m, "aligned")) o.mode = LPNAS_MODE_ALIGNED;
            else if (!strcmp(m, "posthoc")) o.mode = LPNAS_MODE_POSTHOC;
            else {
                fprintf(stderr, "vessel_search: --mode '%s': expected aligned or posthoc\n", m);
                return 2;
            }
        }
        INT("--tiles", 8, 1000000, tiles = v)
        NUM("--budget-ms", 0.001, 1e6, o.budget_ms = v)
        INT("--max-params", 1, 1e9, o.max_params = (long long)v)
        INT("--population", 2, 4096, o.population = (int)v)
        INT("--evaluations", 1, 1000000, o.evaluations = (int)v)
        INT("--warmup-steps", 1, 1e7, o.warmup_steps = (int)v)
        INT("--finetune-steps", 0, 1e7, o.finetune_steps = (int)v)
        INT("--workers", 1, 256, o.workers = (int)v)
        INT("--train-batch", 1, 1024, o.batch = (int)v)
        INT("--search-batch", 1, 1024, o.search_batch = (int)v)
        INT("--seed", 0, 1e15, o.seed = (uint64_t)v)
        INT("--prune-warmup", 1, 1e7, o.prune_warmup = (int)v)
        INT("--prune-startup", 1, 1e6, o.prune_startup = (int)v)
        INT("--max-stages", 1, 6, o.space.max_stages = (int)v; if (o.space.min_stages > (int)v) o.space.min_stages = (int)v)
        INT("--max-width", 8, 1024, max_width = (int)v)
        INT("--max-weight-bytes", 1, 1e12, o.max_weight_bytes = (long long)v)
        else {
            fprintf(stderr, "vessel_search: unknown or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
#undef NUM
#undef INT
#undef NUMK
    }
    lpnas_device dev;
    if (lpnas_device_parse(device, &dev)) {
        fprintf(stderr, "vessel_search: --device: %s\n", lpnas_last_error());
        return 2;
    }
    if (!policy)
        policy = lpnas_device_default_policy(dev);
    if (lpnas_policy_get(policy, &o.policy)) {
        fprintf(stderr, "vessel_search: --policy: %s\n", lpnas_last_error());
        return 2;
    }
    if (!lpnas_device_accepts_policy(dev, o.policy)) {
        fprintf(stderr, "vessel_search: --policy '%s': not a number format of --device %s (%s)\n", policy, device,
                dev == LPNAS_DEVICE_IMX8MP ? "an integer NPU: int8, int8-pow2, w4a8 or fp32" : "binary16 policies or fp32");
        return 2;
    }
    if (mixed) {
        o.space.n_wfmts = lpnas_device_wfmts(dev, o.space.wfmts);
        if (o.space.n_wfmts < 2) {
            fprintf(stderr, "vessel_search: --mixed-precision: --device %s runs one weight format (%s); nothing to choose\n",
                    device, lpnas_wfmt_name(o.space.wfmts[0]));
            return 2;
        }
    }
    if (o.sample > o.population)
        o.sample = o.population;
    if (max_width) { /* keep the allowed widths up to N */
        int k = 0;
        for (int j = 0; j < o.space.n_widths; j++)
            if (o.space.widths[j] <= max_width)
                o.space.widths[k++] = o.space.widths[j];
        if (!k) {
            fprintf(stderr, "vessel_search: --max-width %d: below the smallest width %d\n", max_width,
                    o.space.widths[0]);
            return 2;
        }
        o.space.n_widths = k;
    }
    tty = isatty(2);
    lpnas_transport *t = NULL;
    int rank = 0;
#ifdef LPNAS_WITH_MPI
    /* MPI only when started by a launcher (mpirun, srun): a plain run stays
     * a one-process search and needs no MPI runtime */
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") || getenv("PMI_SIZE")) {
        if (lpnas_transport_mpi_create(&argc, &argv, &t)) {
            fprintf(stderr, "vessel_search: %s\n", lpnas_last_error());
            return 1;
        }
        rank = t->rank;
        o.transport = t;
    }
#endif
    /* from here on Ctrl-C (or SIGTERM) is an orderly stop, whatever is running */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (t && t->size > 1 && (valdir || testdir)) { /* the other ranks receive only the training data */
        if (rank == 0)
            fprintf(stderr, "vessel_search: --val and --test are not supported under mpirun yet; run them in one process\n");
        return 2;
    }
    if (rank > 0)
        return run_other_rank(&o, t);
    lpnas_dataset *d = NULL, *dv = NULL, *dt = NULL;
    lpnas_latency_model *m = NULL;
    int *tr = NULL, *va = NULL, nt, nv, rc = 1;
    if (data ? lpnas_dataset_load_png_dir(data, &d) : 0) {
        fprintf(stderr, "vessel_search: --data: %s\n", lpnas_last_error());
        return 1;
    }
    if (!data) {
        lpnas_synth_options so;
        lpnas_synth_options_default(&so);
        so.count = (int)tiles;
        so.seed = o.seed;
        if (lpnas_dataset_synthetic(&so, &d)) {
            fprintf(stderr, "vessel_search: %s\n", lpnas_last_error());
            return 1;
        }
    }
    lpnas_search *s = NULL;
    if (lut ? lpnas_lut_load(lut, &m) : lpnas_device_latency_model(dev, &m)) {
        fprintf(stderr, "vessel_search: %s%s\n", lut ? "--lut: " : "", lpnas_last_error());
        goto done;
    }
    char how[600] = "validation from --val";
    if (valdir) {
        if (lpnas_dataset_load_png_dir(valdir, &dv)) {
            fprintf(stderr, "vessel_search: --val: %s\n", lpnas_last_error());
            goto done;
        }
        nt = lpnas_dataset_count(d), nv = lpnas_dataset_count(dv);
        tr = malloc((size_t)nt * sizeof *tr), va = malloc((size_t)nv * sizeof *va);
        for (int i = 0; i < nt; i++)
            tr[i] = i;
        for (int i = 0; i < nv; i++)
            va[i] = i;
    } else if (lpnas_dataset_split_scenes(d, data, 0.2, o.seed, &tr, &nt, &va, &nv, how, sizeof how)) {
        fprintf(stderr, "vessel_search: %s\n", lpnas_last_error());
        goto done;
    }
    if (testdir && lpnas_dataset_load_png_dir(testdir, &dt)) {
        fprintf(stderr, "vessel_search: --test: %s\n", lpnas_last_error());
        goto done;
    }
    o.data = d, o.train = tr, o.val = va, o.ntrain = nt, o.nval = nv, o.latency = m, o.out_dir = out;
    o.val_data = dv;
    o.progress = progress;
    if (lpnas_search_create(&o, &s)) {
        fprintf(stderr, "vessel_search: %s\n", lpnas_last_error());
        goto done;
    }
    fprintf(stderr, "vessel_search: %d training and %d validation tiles, policy %s, mode %s, budget %.2f ms, %d workers%s%s -> %s\n",
            nt, nv, policy, o.mode == LPNAS_MODE_ALIGNED ? "aligned" : "posthoc", o.budget_ms, o.workers,
            t && t->size > 1 ? " on each of the ranks" : "", o.async ? ", async" : "", out);
    if (t && t->size > 1)
        fprintf(stderr, "vessel_search: %d ranks; rank 0 on %s\n", t->size, t->host);
    fprintf(stderr, "vessel_search: latency source: %s\n", lpnas_latency_source(m));
    print_header(&o, d, dv ? dv : d, tr, nt, va, nv, dt, how);
    atomic_store(&running, s);
    if (interrupted) /* Ctrl-C came while the data was being prepared */
        lpnas_search_request_stop(s);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lpnas_status st = lpnas_search_run(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    atomic_store(&running, NULL);
    if (st == LPNAS_ERR_INTERRUPTED) {
        fprintf(stderr, "\nvessel_search: interrupted; finished candidates are saved. Continue with --resume --out %s\n",
                out);
        rc = 3;
        goto done;
    }
    /* stopped short: still a result worth writing, but not a finished search */
    bool short_stop = st == LPNAS_ERR_STOPPED;
    char why[1024] = "";
    if (st && !short_stop) {
        fprintf(stderr, "\nvessel_search: %s\n", lpnas_last_error());
        rc = st == LPNAS_ERR_INFEASIBLE ? 4 : 1;
        goto done;
    }
    if (short_stop)
        snprintf(why, sizeof why, "%s", lpnas_last_error());
    int bad = write_outputs(out, &o, s, dv ? dv : d, va, nv, (double)(t1.tv_sec - t0.tv_sec));
    if (bad == 0 && dt)
        judge_on_test(out, &o, s, dt);
    if (bad < 0) {
        fprintf(stderr, "\nvessel_search: interrupted while writing the outputs; --resume --out %s writes them again\n",
                out);
        rc = 3;
    } else if (bad > 0) {
        fprintf(stderr, "vessel_search: %d output(s) missing (named above); the search itself is saved: fix the cause "
                        "(e.g. free disk space) and run again with --resume --out %s\n",
                bad, out);
        rc = 5;
    } else if (short_stop) {
        fprintf(stderr, "vessel_search: %s\n", why);
        rc = 4;
    } else {
        rc = 0;
    }
done:
    lpnas_search_free(s);
    lpnas_latency_model_free(m);
    lpnas_dataset_free(d);
    lpnas_dataset_free(dv);
    lpnas_dataset_free(dt);
    free(tr), free(va);
    lpnas_transport_free(t);
    return rc;
}
