/* Shared bench helpers: a monotonic clock and the machine line every table
 * starts with. */
#ifndef LPNAS_BENCH_HARNESS_H
#define LPNAS_BENCH_HARNESS_H

#include <stddef.h>

double lpnas_bench_now(void);            /* seconds, monotonic */
/* "machine: <cpu>, <n> cores, <compiler>", the CPU features and kernel path, the load average */
void lpnas_bench_print_machine(void);
/* Median and range of v[0..n) (sorts v). */
void lpnas_bench_median(double *v, int n, double *median, double *lo, double *hi);
/* Keeps the optimizer from deleting a computation whose result is unused. */
void lpnas_bench_sink(const void *p, size_t n);

#endif
