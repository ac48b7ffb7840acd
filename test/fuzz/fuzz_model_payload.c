/* Model files from the inside: the input is the payload (architecture,
 * policy, normalization, tile size, parameter and statistic arrays); the
 * harness compresses it and writes a valid header and CRC around it, so
 * the fuzzer reaches the field checks behind the checksum that the plain
 * model harness rarely gets past. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lpnas.h"
#include "test/fuzz/fuzz.h"

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

int lpnas_fuzz_model_payload(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    uLongf clen = compressBound((uLong)size);
    unsigned char *file = malloc(24 + clen);
    if (!file)
        return 0;
    if (compress2(file + 24, &clen, data, (uLong)size, 1) != Z_OK) {
        free(file);
        return 0;
    }
    memcpy(file, "LPNASMDL", 8);
    le32(file + 8, 1), le32(file + 12, (uint32_t)size), le32(file + 16, (uint32_t)clen);
    le32(file + 20, (uint32_t)crc32(0L, data, (uInt)size));
    const char *path = lpnas_fuzz_file("payload.lpm", file, 24 + clen);
    free(file);
    lpnas_net *net;
    if (path && lpnas_model_load(path, 2, &net, NULL, 0) == LPNAS_OK)
        lpnas_net_free(net);
    return 0;
}
LPNAS_FUZZ_ENTRY(lpnas_fuzz_model_payload)
