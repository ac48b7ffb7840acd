/* Thread-local error text: the only mutable global state besides CPU
 * feature detection (DESIGN §3). */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LPNAS_ERROR_CAP 1024

static _Thread_local char error_text[LPNAS_ERROR_CAP];

const char *lpnas_strerror(lpnas_status s)
{
    switch (s) {
    case LPNAS_OK: return "success";
    case LPNAS_ERR_ARG: return "invalid argument";
    case LPNAS_ERR_NOMEM: return "out of memory";
    case LPNAS_ERR_IO: return "input/output error";
    case LPNAS_ERR_FORMAT: return "malformed input";
    case LPNAS_ERR_CORRUPT: return "corrupt or truncated data";
    case LPNAS_ERR_UNSUPPORTED: return "unsupported";
    case LPNAS_ERR_NUMERIC: return "numerical failure";
    case LPNAS_ERR_NOT_FOUND: return "not found";
    case LPNAS_ERR_INFEASIBLE: return "infeasible";
    case LPNAS_ERR_INTERRUPTED: return "interrupted";
    case LPNAS_ERR_STOPPED: return "stopped before the budget";
    }
    return "unknown status";
}

const char *lpnas_last_error(void) { return error_text; }

void lpnas_clear_error(void) { error_text[0] = '\0'; }

const char *lpnas_version(void) { return LPNAS_VERSION_STRING; }

lpnas_status lpnas_fail(lpnas_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_text, sizeof error_text, fmt, ap);
    va_end(ap);
    return s;
}

void lpnas_error_prefix(const char *fmt, ...)
{
    char joined[LPNAS_ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, sizeof joined, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t used = (size_t)n < sizeof joined ? (size_t)n : sizeof joined - 1;
    /* Append the old text after the prefix, truncating to the buffer. */
    size_t old_len = strlen(error_text);
    size_t room = sizeof joined - 1 - used;
    size_t take = old_len < room ? old_len : room;
    memcpy(joined + used, error_text, take);
    joined[used + take] = '\0';
    memcpy(error_text, joined, used + take + 1);
}
