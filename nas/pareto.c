#include "nas/pareto.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

bool lpnas_dominates(const lpnas_point *a, const lpnas_point *b, int n_obj)
{
    bool a_ok = !(a->violation > 0), b_ok = !(b->violation > 0);
    if (a_ok != b_ok) return a_ok;
    if (!a_ok) return a->violation < b->violation;
    bool strictly = false;
    for (int k = 0; k < n_obj; k++) {
        if (a->obj[k] > b->obj[k]) return false;
        if (a->obj[k] < b->obj[k]) strictly = true;
    }
    return strictly;
}

/* Scratch layout: dominated-by counts (n ints), the lists of points each
 * point dominates (n*n ints, row i holds what i dominates), their lengths
 * (n ints), and the current front (n ints). Quadratic memory is fine for
 * populations of a few hundred. */
size_t lpnas_nondominated_sort_scratch(size_t n)
{
    return sizeof(int) * (n * n + 3 * n + 1);
}

int lpnas_nondominated_sort(const lpnas_point *pts, size_t n, int n_obj, int *rank, void *scratch)
{
    if (n == 0) return 0;
    int *count = scratch;          /* how many points dominate i */
    int *dominated = count + n;    /* row i: points i dominates */
    int *ndominated = dominated + n * n;
    int *front = ndominated + n;
    size_t front_len = 0;

    for (size_t i = 0; i < n; i++) {
        count[i] = 0;
        ndominated[i] = 0;
        rank[i] = -1;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (lpnas_dominates(&pts[i], &pts[j], n_obj)) {
                dominated[i * n + (size_t)ndominated[i]++] = (int)j;
                count[j]++;
            } else if (lpnas_dominates(&pts[j], &pts[i], n_obj)) {
                dominated[j * n + (size_t)ndominated[j]++] = (int)i;
                count[i]++;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (count[i] == 0) {
            rank[i] = 0;
            front[front_len++] = (int)i;
        }
    int r = 0;
    /* Peel fronts: the next front is everything whose last dominator was in
     * the current one. Reuse `front` in place: new members are appended
     * behind a moving start index. */
    size_t start = 0;
    while (start < front_len) {
        size_t end = front_len;
        for (size_t f = start; f < end; f++) {
            size_t i = (size_t)front[f];
            for (int d = 0; d < ndominated[i]; d++) {
                size_t j = (size_t)dominated[i * n + (size_t)d];
                if (--count[j] == 0) {
                    rank[j] = r + 1;
                    front[front_len++] = (int)j;
                }
            }
        }
        start = end;
        if (start < front_len) r++;
    }
    return r + 1;
}

/* Insertion sort of `order` by objective k: fronts are small, and a stable,
 * allocation-free sort keeps results identical on every libc. */
static void sort_by_objective(const lpnas_point *pts, const int *members, int *order, size_t count, int k)
{
    for (size_t i = 0; i < count; i++) order[i] = (int)i;
    for (size_t i = 1; i < count; i++) {
        int v = order[i];
        double key = pts[members[v]].obj[k];
        size_t j = i;
        while (j > 0 && pts[members[order[j - 1]]].obj[k] > key) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

void lpnas_crowding_distance(const lpnas_point *pts, const int *members, size_t count, int n_obj,
                             double *dist, int *order)
{
    for (size_t i = 0; i < count; i++) dist[i] = 0.0;
    if (count <= 2) {
        for (size_t i = 0; i < count; i++) dist[i] = INFINITY;
        return;
    }
    for (int k = 0; k < n_obj; k++) {
        sort_by_objective(pts, members, order, count, k);
        double lo = pts[members[order[0]]].obj[k];
        double hi = pts[members[order[count - 1]]].obj[k];
        dist[order[0]] = INFINITY;
        dist[order[count - 1]] = INFINITY;
        if (!(hi > lo)) continue; /* all equal in this objective: it separates nothing */
        for (size_t i = 1; i + 1 < count; i++) {
            double gap = pts[members[order[i + 1]]].obj[k] - pts[members[order[i - 1]]].obj[k];
            dist[order[i]] += gap / (hi - lo);
        }
    }
}
