/* Architecture strings: parse, and when they parse, format and reparse (a
 * round trip must give the same architecture) and size them. */
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_arch(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    lpnas_arch a, b;
    if (lpnas_arch_parse(s, &a) == LPNAS_OK) {
        char text[1024];
        lpnas_arch_format(&a, text, sizeof text);
        if (lpnas_arch_parse(text, &b) != LPNAS_OK || memcmp(&a, &b, sizeof a) != 0)
            abort(); /* a formatted architecture must parse back to itself */
        lpnas_arch_stats st;
        (void)lpnas_arch_stats_compute(&a, 64, 64, &st);
    }
    free(s);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_arch)
