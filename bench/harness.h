/* Shared bench helpers: a monotonic clock and the machine line every table
 * starts with. */
#ifndef LPNAS_BENCH_HARNESS_H
#define LPNAS_BENCH_HARNESS_H

#include <stddef.h>

double lpnas_bench_now(void);            /* seconds, monotonic */
void lpnas_bench_print_machine(void);    /* "machine: <cpu>, <n> cores, <compiler>" */
/* Keeps the optimizer from deleting a computation whose result is unused. */
void lpnas_bench_sink(const void *p, size_t n);

#endif
