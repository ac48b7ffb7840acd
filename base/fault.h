/* Internal: fault injection for the tests of full disks. With the
 * environment variable LPNAS_FAULT_WRITE=N, the Nth checked write of the
 * process (counting from 1) and every later one fail with ENOSPC, as on a
 * disk that filled up; with LPNAS_FAULT_PATH=TEXT, every checked write to a
 * file whose path contains TEXT fails. Unset (the normal case) it costs a
 * pthread_once and a compare.
 * Checked writes (one count each): a journal record, a state snapshot, a
 * results.csv row or header, a pareto.csv file, a model file, a PNG file. */
#ifndef LPNAS_BASE_FAULT_H
#define LPNAS_BASE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* True when this write must fail (errno is then set to ENOSPC). */
bool lpnas_fault_write(const char *path);

/* Reads LPNAS_FAULT_WRITE again and restarts the count (for tests). */
void lpnas_fault_reset(void);

/* fwrite that honours the fault injection: returns n on success, 0 (and
 * errno ENOSPC) on an injected failure. */
size_t lpnas_fwrite(const void *p, size_t n, FILE *f, const char *path);

#endif
