/* align_experiment --summary: the results CSV back as a markdown table
 * (mean +- sd over seeds, paired differences) and a grouped plot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"

#define MAXG 128
#define MAXR 64

typedef struct {
    char data[64], norm[16], arch[64], policy[32];
    int n;
    double v[MAXR][6]; /* fp32, post-hoc, aligned, control fp32, control, control through the fold */
} group;

static void ms(const double *x, int n, double *m, double *s)
{
    double a = 0, q = 0;
    for (int i = 0; i < n; i++)
        a += x[i];
    a /= n;
    for (int i = 0; i < n; i++)
        q += (x[i] - a) * (x[i] - a);
    *m = a, *s = n > 1 ? sqrt(q / (n - 1)) : 0;
}

static void col(const group *g, int k, double *out)
{
    for (int i = 0; i < g->n; i++)
        out[i] = g->v[i][k];
}

static void diff(const group *g, int a, int b, double *out)
{
    for (int i = 0; i < g->n; i++)
        out[i] = g->v[i][a] - g->v[i][b];
}

static const char *short_policy(const char *p)
{
    return !strcmp(p, "myriadx") ? "mx" : !strcmp(p, "myriadx-fp16acc") ? "mx16acc" : !strcmp(p, "ieee-fp16") ? "ieee" : p;
}

int summarize(const char *file, const char *plot);
int summarize(const char *file, const char *plot)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "align_experiment: --summary %s: cannot open\n", file);
        return 1;
    }
    static group G[MAXG];
    int ng = 0, line = 0;
    char buf[1024];
    while (fgets(buf, sizeof buf, f)) {
        line++;
        if (line == 1 && !strncmp(buf, "data,", 5))
            continue;
        char d[64], nm[16], ar[64], po[32], st[64];
        long seed, sk;
        double v[6];
        if (sscanf(buf, "%63[^,],%15[^,],%63[^,],%ld,%31[^,],%lf,%lf,%lf,%lf,%lf,%lf,%ld,%63s", d, nm, ar, &seed, po,
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &sk, st) != 13) {
            fprintf(stderr, "align_experiment: %s:%d: expected 13 fields (see --help)\n", file, line);
            fclose(f);
            return 1;
        }
        int g = 0;
        while (g < ng && (strcmp(G[g].data, d) || strcmp(G[g].norm, nm) || strcmp(G[g].arch, ar) ||
                          strcmp(G[g].policy, po)))
            g++;
        if (g == ng) {
            if (ng == MAXG)
                continue;
            memset(&G[g], 0, sizeof G[g]);
            snprintf(G[g].data, 64, "%s", d), snprintf(G[g].norm, 16, "%s", nm);
            snprintf(G[g].arch, 64, "%s", ar), snprintf(G[g].policy, 32, "%s", po);
            ng++;
        }
        if (G[g].n < MAXR)
            memcpy(G[g].v[G[g].n++], v, sizeof v);
    }
    fclose(f);
    if (!ng) {
        fprintf(stderr, "align_experiment: %s: no rows\n", file);
        return 1;
    }
    printf("| data | input norm | policy | arch | seeds | FP32 | post-hoc | aligned | control | control (fold) | "
           "post-hoc - FP32 | aligned - post-hoc | aligned - control | aligned - control (fold) | recovered |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    double x[MAXR], m[10], s[10];
    for (int g = 0; g < ng; g++) {
        const group *p = &G[g];
        col(p, 0, x), ms(x, p->n, &m[0], &s[0]);
        col(p, 1, x), ms(x, p->n, &m[1], &s[1]);
        col(p, 2, x), ms(x, p->n, &m[2], &s[2]);
        col(p, 4, x), ms(x, p->n, &m[3], &s[3]);
        col(p, 5, x), ms(x, p->n, &m[4], &s[4]);
        diff(p, 1, 0, x), ms(x, p->n, &m[5], &s[5]);
        diff(p, 2, 1, x), ms(x, p->n, &m[6], &s[6]);
        diff(p, 2, 4, x), ms(x, p->n, &m[7], &s[7]);
        diff(p, 2, 5, x), ms(x, p->n, &m[8], &s[8]);
        char rec[64] = "no gap";
        if (-m[5] >= 0.02)
            snprintf(rec, sizeof rec, "%.0f %%", 100 * m[6] / -m[5]);
        printf("| %s | %s | %s | %s | %d |", p->data, p->norm, p->policy, p->arch, p->n);
        for (int k = 0; k < 9; k++)
            printf(" %s%.4f ± %.4f |", k >= 5 && m[k] >= 0 ? "+" : "", m[k], s[k]);
        printf(" %s |\n", rec);
    }
    /* the same at an equal training budget: the conventional pipeline trains
     * the warm-up and the fine-tuning steps in FP32 (the control) and deploys
     * that network; aligned spends the same steps in the policy */
    printf("\nEqual training budget (conventional: warm-up + fine-tuning steps in FP32, the control's network):\n\n"
           "| data | input norm | policy | arch | seeds | FP32 | post-hoc | aligned | post-hoc - FP32 | "
           "aligned - post-hoc | recovered |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int g = 0; g < ng; g++) {
        const group *p = &G[g];
        col(p, 3, x), ms(x, p->n, &m[0], &s[0]);
        col(p, 4, x), ms(x, p->n, &m[1], &s[1]);
        col(p, 2, x), ms(x, p->n, &m[2], &s[2]);
        diff(p, 4, 3, x), ms(x, p->n, &m[3], &s[3]);
        diff(p, 2, 4, x), ms(x, p->n, &m[4], &s[4]);
        char rec[64] = "no gap";
        if (-m[3] >= 0.02)
            snprintf(rec, sizeof rec, "%.0f %%", 100 * m[4] / -m[3]);
        printf("| %s | %s | %s | %s | %d |", p->data, p->norm, p->policy, p->arch, p->n);
        for (int k = 0; k < 5; k++)
            printf(" %s%.4f ± %.4f |", k >= 3 && m[k] >= 0 ? "+" : "", m[k], s[k]);
        printf(" %s |\n", rec);
    }
    if (!plot)
        return 0;
    /* the plot: settings of the first architecture (all of them if one) */
    static char labels[MAXG][96];
    const char *lab[MAXG];
    static double mean[5][MAXG], sd[5][MAXG];
    int n = 0;
    for (int g = 0; g < ng && n < 16; g++) {
        if (strcmp(G[g].arch, G[0].arch))
            continue;
        const char *dt = strstr(G[g].data, "16") ? "16" : strstr(G[g].data, "sen2ships") ? "8" : G[g].data;
        snprintf(labels[n], sizeof labels[n], "%s %s\n%s", dt, !strcmp(G[g].norm, "none") ? "raw" : "dev",
                 short_policy(G[g].policy));
        lab[n] = labels[n];
        int k[5] = {0, 1, 2, 4, 5};
        for (int j = 0; j < 5; j++)
            col(&G[g], k[j], x), ms(x, G[g].n, &mean[j][n], &sd[j][n]);
        n++;
    }
    lpnas_plot_series se[5] = {{"fp32", mean[0], sd[0]},
                               {"post-hoc", mean[1], sd[1]},
                               {"aligned", mean[2], sd[2]},
                               {"control", mean[3], sd[3]},
                               {"control fold", mean[4], sd[4]}};
    char title[160];
    snprintf(title, sizeof title, "%s: miou on held-out ports, mean +- sd over seeds", G[0].arch);
    if (lpnas_plot_groups_png(plot, lab, n, se, 5, title, "miou")) {
        fprintf(stderr, "align_experiment: --plot: %s\n", lpnas_last_error());
        return 1;
    }
    return 0;
}
