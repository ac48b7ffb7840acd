#ifndef TS_CALIB_H
#define TS_CALIB_H
#include "lpnas.h"
/* No-op unless pol is an integer policy. */
lpnas_status ts_calibrate(lpnas_net *net, const lpnas_dataset *d, const int *tr, int nt, const lpnas_policy *pol,
                          const lpnas_calib_options *co, int tiles);
#endif
