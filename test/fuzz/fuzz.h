/* libFuzzer harnesses for every parser of outside input (docs/reliability.md).
 * Each harness file defines one `int lpnas_fuzz_NAME(const uint8_t *, size_t)`
 * and LPNAS_FUZZ_ENTRY(lpnas_fuzz_NAME). Built by `make fuzz` with
 * -DLPNAS_FUZZ_MAIN, the entry becomes LLVMFuzzerTestOneInput; in
 * test/test_fuzz.c (make test) every harness replays its corpus in
 * test/fuzz/NAME/ as a regression run. A harness returns 0 for every input:
 * a parser may reject input, but never crash, leak or run out of memory. */
#ifndef LPNAS_TEST_FUZZ_H
#define LPNAS_TEST_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#ifdef LPNAS_FUZZ_MAIN
#define LPNAS_FUZZ_ENTRY(fn) \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fn(data, size); }
#else
#define LPNAS_FUZZ_ENTRY(fn)
#endif

/* A private temporary folder for this process (created once, under
 * /dev/shm when it exists: harnesses write a file per input). */
const char *lpnas_fuzz_dir(void);
/* Writes data to lpnas_fuzz_dir()/name; returns the path (static buffer)
 * or NULL when the write failed. */
const char *lpnas_fuzz_file(const char *name, const uint8_t *data, size_t size);

int lpnas_fuzz_arch(const uint8_t *data, size_t size);
int lpnas_fuzz_layer_list(const uint8_t *data, size_t size);
int lpnas_fuzz_lut(const uint8_t *data, size_t size);
int lpnas_fuzz_model(const uint8_t *data, size_t size);
int lpnas_fuzz_model_payload(const uint8_t *data, size_t size);
int lpnas_fuzz_scaler(const uint8_t *data, size_t size);
int lpnas_fuzz_state(const uint8_t *data, size_t size);
int lpnas_fuzz_png(const uint8_t *data, size_t size);

#endif
