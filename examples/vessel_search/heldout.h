/* vessel_search: the run's header and the held-out judgement (heldout.c). */
#ifndef VESSEL_SEARCH_HELDOUT_H
#define VESSEL_SEARCH_HELDOUT_H

#include "lpnas.h"

/* stderr: data (value ranges, input normalization, how it split), search space (and any narrowing), test set. */
void print_header(const lpnas_search_options *o, const lpnas_dataset *d, const lpnas_dataset *dv, const int *tr,
                  int nt, const int *va, int nv, const lpnas_dataset *dt, const char *how);
/* After the search: the front's and the best candidate's models on the held-out tiles dt (FP32,
 * post-hoc, aligned); adds columns to pareto.csv, a section to report.md, lines to stdout. */
void judge_on_test(const char *out, const lpnas_search_options *o, lpnas_search *s, const lpnas_dataset *dt);
/* Under an integer policy, a loaded model keeps the calibration its file carries (format 2); else calibrates a loaded
 * network as the search did (the first 64 training tiles); 0 or a status. */
lpnas_status calibrate_loaded(lpnas_net *net, const lpnas_search_options *o);

#endif
