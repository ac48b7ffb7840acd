/* LUT files: load; what loads is saved and loaded again. */
#include <stdlib.h>

#include "lpnas.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_lut(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    const char *path = lpnas_fuzz_file("in.lut", data, size);
    lpnas_latency_model *m, *m2;
    if (path && lpnas_lut_load(path, &m) == LPNAS_OK) {
        const char *out = lpnas_fuzz_file("out.lut", NULL, 0);
        if (out && lpnas_lut_save(m, out) == LPNAS_OK) {
            if (lpnas_lut_load(out, &m2) != LPNAS_OK)
                abort(); /* what we write we must read */
            lpnas_latency_model_free(m2);
        }
        lpnas_latency_model_free(m);
    }
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_lut)
