/* Integer policies in train_segmenter: activation ranges calibrated on the
 * first tiles of the training split (docs/numerics.md "Calibration"). */
#include <stdlib.h>
#include <string.h>

#include "calib.h"

lpnas_status ts_calibrate(lpnas_net *net, const lpnas_dataset *d, const int *tr, int nt, const lpnas_policy *pol,
                          const lpnas_calib_options *co, int tiles)
{
    if (!lpnas_policy_is_integer(pol))
        return LPNAS_OK;
    int n = tiles < nt ? tiles : nt;
    size_t per = (size_t)lpnas_dataset_channels(d) * lpnas_dataset_height(d) * lpnas_dataset_width(d);
    float *x = malloc((size_t)n * per * sizeof *x);
    if (!x)
        return LPNAS_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        memcpy(x + (size_t)i * per, lpnas_dataset_image(d, tr[i]), per * sizeof *x);
    lpnas_status st = lpnas_net_calibrate(net, x, n, pol, co);
    free(x);
    return st;
}
