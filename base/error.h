/* Internal: setting the thread-local error text. */
#ifndef LPNAS_BASE_ERROR_H
#define LPNAS_BASE_ERROR_H

#include "lpnas/core.h"

#if defined(__GNUC__)
#define LPNAS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LPNAS_PRINTF(a, b)
#endif

/* Records a formatted message for lpnas_last_error() and returns `s`, so
 * that callers can write `return lpnas_fail(LPNAS_ERR_ARG, "...", ...);`. */
lpnas_status lpnas_fail(lpnas_status s, const char *fmt, ...) LPNAS_PRINTF(2, 3);

/* Prefixes the current message with more context ("model.lpm: " + old). */
void lpnas_error_prefix(const char *fmt, ...) LPNAS_PRINTF(1, 2);

#endif
