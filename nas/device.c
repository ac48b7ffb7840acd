/* Target devices: latency model and allowed weight formats together
 * (include/lpnas/device.h). */
#include "lpnas/device.h"

#include <string.h>

#include "base/error.h"
#include "lpnas/quant.h"

static const char *const NAMES[] = {"myriadx", "imx8mp"};

lpnas_status lpnas_device_parse(const char *name, lpnas_device *out)
{
    for (int i = 0; name && i < 2; i++)
        if (!strcmp(name, NAMES[i])) {
            *out = (lpnas_device)i;
            return LPNAS_OK;
        }
    return lpnas_fail(LPNAS_ERR_NOT_FOUND, "device '%s': unknown; devices: myriadx, imx8mp", name ? name : "(null)");
}

const char *lpnas_device_name(lpnas_device d)
{
    return (unsigned)d < 2 ? NAMES[d] : "?";
}

int lpnas_device_wfmts(lpnas_device d, lpnas_wfmt out[LPNAS_WFMT_COUNT])
{
    if (d == LPNAS_DEVICE_IMX8MP) {
        out[0] = LPNAS_WFMT_W8, out[1] = LPNAS_WFMT_W4;
        return 2;
    }
    out[0] = LPNAS_WFMT_F16; /* the MYRIAD plugin runs binary16 only */
    return 1;
}

const char *lpnas_device_default_policy(lpnas_device d)
{
    return d == LPNAS_DEVICE_IMX8MP ? "int8" : "myriadx";
}

bool lpnas_device_accepts_policy(lpnas_device d, const lpnas_policy *p)
{
    if (lpnas_policy_is_fp32(p))
        return true;
    return lpnas_policy_is_integer(p) == (d == LPNAS_DEVICE_IMX8MP);
}

lpnas_status lpnas_device_latency_model(lpnas_device d, lpnas_latency_model **out)
{
    if (d == LPNAS_DEVICE_IMX8MP)
        return lpnas_latency_model_imx8mp(NULL, out);
    if (d == LPNAS_DEVICE_MYRIADX)
        return lpnas_latency_model_myriadx(NULL, out);
    return lpnas_fail(LPNAS_ERR_ARG, "device %d unknown", (int)d);
}
