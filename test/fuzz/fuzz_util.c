/* Temporary files for the harnesses (test/fuzz/fuzz.h). */
#include "test/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *lpnas_fuzz_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/lpnas-fuzz-XXXXXX", stat("/dev/shm", &sb) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir))
            snprintf(dir, sizeof dir, "/tmp");
    }
    return dir;
}

const char *lpnas_fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", lpnas_fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t w = size ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || w != size)
        return NULL;
    return path;
}
