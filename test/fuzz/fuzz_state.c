/* Search state and journal: load as --resume would, with the stored
 * configuration compared against a fixed one (the seed's). The input is
 * u32 state length (little-endian) | search.state bytes | search.journal bytes. */
#include "nas/runner_internal.h"
#include "nas/space.h"
#include "test/fuzz/fuzz.h"

int lpnas_fuzz_state(const uint8_t *data, size_t size)
{
    static lpnas_space space;
    static int ready;
    if (!ready) {
        lpnas_space_options so;
        lpnas_space_options_default(&so);
        so.max_stages = 3;
        if (lpnas_space_init(&space, &so))
            return 0;
        ready = 1;
    }
    if (size < 4)
        return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
    if (n > size - 4)
        n = size - 4;
    if (!lpnas_fuzz_file("search.state", data + 4, n) ||
        !lpnas_fuzz_file("search.journal", data + 4 + n, size - 4 - n))
        return 0;
    lpnas_runner_options o;
    lpnas_runner_options_default(&o);
    o.out_dir = lpnas_fuzz_dir();
    lpnas_problem p = {0};
    p.space = lpnas_space_operators(&space);
    (void)lpnas_runner_check_state(&o, &p);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_state)
