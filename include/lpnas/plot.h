/* Small PNG plots for reports: a scatter plot with axes, tick labels, a
 * legend-free colour code and an optional vertical budget line; a grouped
 * dot plot of means with +- sd bars. */
#ifndef LPNAS_PLOT_H
#define LPNAS_PLOT_H

#include "lpnas/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LPNAS_PLOT_FEASIBLE, LPNAS_PLOT_INFEASIBLE, LPNAS_PLOT_FRONT } lpnas_plot_kind;

typedef struct {
    double x, y;
    lpnas_plot_kind kind; /* feasible: blue dot; infeasible: grey cross; front: red dot, joined by a line */
} lpnas_plot_point;

/* 800 x 500 RGB PNG. vline: x of a dashed vertical line (NaN for none). */
lpnas_status lpnas_plot_scatter_png(const char *path, const lpnas_plot_point *p, int n, const char *title,
                                    const char *xlabel, const char *ylabel, double vline, const char *vline_label);

/* One series of a grouped plot: mean[g] and sd[g] (sd may be NULL) per group; NaN: not drawn. */
typedef struct {
    const char *name;
    const double *mean, *sd;
} lpnas_plot_series;

/* 800 x 500 RGB PNG: groups side by side (labels may have '\n' for a second
 * line), 1..6 series per group as coloured dots with +- sd bars, a legend. */
lpnas_status lpnas_plot_groups_png(const char *path, const char *const *groups, int ngroups,
                                   const lpnas_plot_series *series, int nseries, const char *title,
                                   const char *ylabel);

#ifdef __cplusplus
}
#endif
#endif
