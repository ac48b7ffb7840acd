/* Target devices (issue 18): one name selects the latency model and the
 * weight formats a mixed-precision search may give each stage. */
#ifndef LPNAS_DEVICE_H
#define LPNAS_DEVICE_H

#include "lpnas/arch.h"
#include "lpnas/latency.h"
#include "lpnas/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LPNAS_DEVICE_MYRIADX = 0, /* Intel Movidius Myriad X: binary16 only (f16) */
    LPNAS_DEVICE_IMX8MP = 1   /* NXP i.MX 8M Plus NPU: int8 MACs; weights w8 or w4 (unpacked to int8) */
} lpnas_device;

/* "myriadx" | "imx8mp"; LPNAS_ERR_NOT_FOUND listing them otherwise. */
lpnas_status lpnas_device_parse(const char *name, lpnas_device *out);
const char *lpnas_device_name(lpnas_device d);
/* The weight formats the device runs, its own first; returns how many. */
int lpnas_device_wfmts(lpnas_device d, lpnas_wfmt out[LPNAS_WFMT_COUNT]);
/* The policy a search on the device uses unless told otherwise: "myriadx" or "int8". */
const char *lpnas_device_default_policy(lpnas_device d);
/* Whether a policy's numbers exist on the device (integer policies on the
 * integer NPU, binary16 ones on the Myriad X; fp32 anywhere, as a reference). */
bool lpnas_device_accepts_policy(lpnas_device d, const lpnas_policy *p);
/* The built-in latency model of the device. */
lpnas_status lpnas_device_latency_model(lpnas_device d, lpnas_latency_model **out);

#ifdef __cplusplus
}
#endif
#endif
