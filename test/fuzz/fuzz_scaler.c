/* Loss-scaler state: load from a stream. */
#include <stdio.h>

#include "lpnas.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_scaler(const uint8_t *data, size_t size)
{
    const char *path = lpnas_fuzz_file("in.scaler", data, size);
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    lpnas_scaler s;
    (void)lpnas_scaler_load(&s, f);
    fclose(f);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_scaler)
