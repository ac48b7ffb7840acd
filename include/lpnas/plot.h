/* Small PNG plots for reports: a scatter plot with axes, tick labels, a
 * legend-free colour code and an optional vertical budget line. */
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

#ifdef __cplusplus
}
#endif
#endif
