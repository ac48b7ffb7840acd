/* Model files (.lpm): load at batch 1 and 2. */
#include "lpnas.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_model(const uint8_t *data, size_t size)
{
    const char *path = lpnas_fuzz_file("in.lpm", data, size);
    lpnas_net *net;
    char policy[64];
    if (path && lpnas_model_load(path, 2, &net, policy, sizeof policy) == LPNAS_OK)
        lpnas_net_free(net);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_model)
