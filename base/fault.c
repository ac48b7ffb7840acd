#include "base/fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <string.h>

static long fail_from = -1; /* -1: no injection */
static const char *fail_path;
static atomic_long writes;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    const char *s = getenv("LPNAS_FAULT_WRITE");
    char *end;
    long n = s && *s ? strtol(s, &end, 10) : -1;
    fail_from = s && *s && !*end && n >= 1 ? n : -1;
    fail_path = getenv("LPNAS_FAULT_PATH");
    if (fail_path && !*fail_path)
        fail_path = NULL;
}

void lpnas_fault_reset(void)
{
    pthread_once(&once, read_env);
    read_env();
    atomic_store(&writes, 0);
}

bool lpnas_fault_write(const char *path)
{
    pthread_once(&once, read_env);
    if (fail_path && path && strstr(path, fail_path)) {
        errno = ENOSPC;
        return true;
    }
    if (fail_from < 0)
        return false;
    if (atomic_fetch_add(&writes, 1) + 1 < fail_from)
        return false;
    errno = ENOSPC;
    return true;
}

size_t lpnas_fwrite(const void *p, size_t n, FILE *f, const char *path)
{
    if (lpnas_fault_write(path))
        return 0;
    return fwrite(p, 1, n, f);
}
