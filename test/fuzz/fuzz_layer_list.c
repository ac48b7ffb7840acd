/* Layer lists (CSV text): parse; what parses is estimated by the Myriad X
 * model (every row the parser accepts must be safe to cost). */
#include <stdlib.h>
#include <string.h>

#include "lpnas.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_layer_list(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    lpnas_layer_list l;
    if (lpnas_layer_list_parse(&l, s, "fuzz.csv") == LPNAS_OK) {
        lpnas_latency_model *m;
        double ms;
        if (lpnas_latency_model_myriadx(NULL, &m) == LPNAS_OK) {
            (void)lpnas_latency_estimate(m, &l, NULL, &ms);
            lpnas_latency_model_free(m);
        }
        lpnas_layer_list_free(&l);
    }
    free(s);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_layer_list)
