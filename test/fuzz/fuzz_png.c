/* PNG image + mask pairs through the data set loader: the input is
 * u32 image length (little-endian) | image bytes | mask bytes. */
#include <stdio.h>
#include <sys/stat.h>

#include "lpnas.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_png(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
    if (n > size - 4)
        n = size - 4;
    char dir[256], sub[300];
    snprintf(dir, sizeof dir, "%s/png", lpnas_fuzz_dir());
    mkdir(dir, 0777);
    snprintf(sub, sizeof sub, "%s/images", dir);
    mkdir(sub, 0777);
    snprintf(sub, sizeof sub, "%s/masks", dir);
    mkdir(sub, 0777);
    if (!lpnas_fuzz_file("png/images/t.png", data + 4, n) || !lpnas_fuzz_file("png/masks/t.png", data + 4 + n, size - 4 - n))
        return 0;
    lpnas_dataset *d;
    if (lpnas_dataset_load_png_dir(dir, &d) == LPNAS_OK)
        lpnas_dataset_free(d);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_png)
