/* liblpnas — deployment-aligned low-precision neural architecture search.
 * The one header a user includes. Parts live in include/lpnas/ by topic. */
#ifndef LPNAS_H
#define LPNAS_H

#include "lpnas/core.h"
#include "lpnas/fp16.h"
#include "lpnas/policy.h"
#include "lpnas/quant.h"
#include "lpnas/scaler.h"
#include "lpnas/layers.h"
#include "lpnas/latency.h"
#include "lpnas/arch.h"
#include "lpnas/net.h"
#include "lpnas/qnet.h"
#include "lpnas/data.h"
#include "lpnas/train.h"
#include "lpnas/model.h"
#include "lpnas/onnx.h"
#include "lpnas/search.h"
#include "lpnas/device.h"
#include "lpnas/blockwise.h"
#include "lpnas/plot.h"
#include "lpnas/transport.h"

#endif
