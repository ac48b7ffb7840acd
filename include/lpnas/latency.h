/* Latency model: layer lists, LUT files, the built-in Myriad X model, the
 * host profiler (DESIGN §6). Owned by nas/ (issue 5). */
#ifndef LPNAS_LATENCY_H
#define LPNAS_LATENCY_H

#include "lpnas/core.h"

#endif
