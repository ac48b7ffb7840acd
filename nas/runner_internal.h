/* Internal: the runner object shared by runner.c and runner_io.c. */
#ifndef LPNAS_NAS_RUNNER_INTERNAL_H
#define LPNAS_NAS_RUNNER_INTERNAL_H

#include <stdio.h>

#include "nas/runner.h"

struct lpnas_runner {
    lpnas_runner_options opt;
    lpnas_problem problem;
    lpnas_strategy *strategy;
    lpnas_candidate *cand; /* every candidate so far, by id */
    size_t count, capacity;
    size_t rows_written;   /* rows of results.csv written (in id order) */
    uint64_t csv_len;      /* bytes of results.csv those rows end at */
    FILE *csv;
    int rejections;        /* consecutive infeasible proposals */
    int duplicate_run;     /* consecutive duplicate proposals */
    bool batch_told;       /* unused in v1 files; kept for the format */
    atomic_int stop;
};

extern const char lpnas_results_header[];
lpnas_status lpnas_runner_reserve(lpnas_runner *r, size_t n);
size_t lpnas_format_result_row(const lpnas_candidate *c, char *buf, size_t cap);
lpnas_status lpnas_runner_path(const lpnas_runner *r, const char *name, char *buf, size_t cap);
lpnas_status lpnas_runner_append_rows(lpnas_runner *r);
lpnas_status lpnas_runner_open_csv(lpnas_runner *r, bool fresh);
lpnas_status lpnas_runner_save_state(lpnas_runner *r);
lpnas_status lpnas_runner_load_state(lpnas_runner *r);
lpnas_status lpnas_runner_write_pareto(lpnas_runner *r);

#endif
