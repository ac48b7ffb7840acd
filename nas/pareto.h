/* Internal: Pareto machinery for multi-objective search (NSGA-II, Deb et al.
 * 2002): constrained domination, fast non-dominated sorting, crowding
 * distance. All objectives are MINIMIZED (callers negate mIoU). */
#ifndef LPNAS_NAS_PARETO_H
#define LPNAS_NAS_PARETO_H

#include <stdbool.h>
#include <stddef.h>

#include "lpnas/core.h"

#define LPNAS_MAX_OBJECTIVES 4

typedef struct {
    double obj[LPNAS_MAX_OBJECTIVES]; /* minimized */
    double violation;                 /* 0 = feasible; > 0 = how far outside the constraints */
} lpnas_point;

/* Constrained domination (Deb 2000): a feasible point beats an infeasible
 * one; of two infeasible points the smaller violation wins; of two feasible
 * points, Pareto domination over the first n_obj objectives. */
bool lpnas_dominates(const lpnas_point *a, const lpnas_point *b, int n_obj);

/* Fast non-dominated sort. rank[i] = 0 for the first front, 1 for the next...
 * Needs scratch of lpnas_nondominated_sort_scratch(n) bytes (no allocation
 * inside). Returns the number of fronts. O(n^2 * n_obj). */
size_t lpnas_nondominated_sort_scratch(size_t n);
int lpnas_nondominated_sort(const lpnas_point *pts, size_t n, int n_obj, int *rank, void *scratch);

/* Crowding distance of the points whose index is in `members` (one front):
 * boundary points get +inf, others the normalized side lengths of the
 * cuboid formed by their neighbours, summed over objectives. `dist` is
 * indexed like `members`. `order` is scratch of `count` ints. */
void lpnas_crowding_distance(const lpnas_point *pts, const int *members, size_t count, int n_obj,
                             double *dist, int *order);

#endif
