/* liblpnas core: version, status codes, error text. */
#ifndef LPNAS_CORE_H
#define LPNAS_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LPNAS_VERSION_MAJOR 0
#define LPNAS_VERSION_MINOR 1
#define LPNAS_VERSION_PATCH 0
#define LPNAS_VERSION_STRING "0.1.0"

/* Every fallible function returns one of these. Append-only: values are
 * written to files and exit codes. */
typedef enum {
    LPNAS_OK = 0,
    LPNAS_ERR_ARG = 1,        /* an argument is out of range or inconsistent */
    LPNAS_ERR_NOMEM = 2,      /* an allocation failed */
    LPNAS_ERR_IO = 3,         /* a file could not be opened, read or written */
    LPNAS_ERR_FORMAT = 4,     /* a file or string is malformed (magic, version, syntax) */
    LPNAS_ERR_CORRUPT = 5,    /* checksum mismatch or truncated data */
    LPNAS_ERR_UNSUPPORTED = 6,/* valid input this build or model cannot handle */
    LPNAS_ERR_NUMERIC = 7,    /* NaN/inf where a finite value is required; divergence */
    LPNAS_ERR_NOT_FOUND = 8,  /* a named thing (preset, policy, key) does not exist */
    LPNAS_ERR_INFEASIBLE = 9, /* no candidate satisfies the constraints */
    LPNAS_ERR_INTERRUPTED = 10,/* stopped on request (SIGINT); state was saved */
    LPNAS_ERR_STOPPED = 11    /* a search ended before its budget (too many rejections or duplicates) */
} lpnas_status;

/* Short fixed description of a status ("invalid argument"). Never NULL. */
const char *lpnas_strerror(lpnas_status s);

/* The message of the last error set on this thread, with context (file,
 * line, field, value). Empty string if none. Valid until the next failing
 * call on the same thread. */
const char *lpnas_last_error(void);

/* Forget the last error of this thread. */
void lpnas_clear_error(void);

/* "0.1.0" */
const char *lpnas_version(void);

#ifdef __cplusplus
}
#endif
#endif
