#include "bench/harness.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cpu.h"

double lpnas_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lpnas_bench_print_machine(void)
{
    char model[256] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
#if defined(__clang__)
    const char *cc = "clang " __clang_version__;
#elif defined(__GNUC__)
    const char *cc = "gcc " __VERSION__;
#else
    const char *cc = "unknown compiler";
#endif
    printf("machine: %s, %ld cores online, %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), cc);
    const char *cap = getenv("LPNAS_ISA");
    printf("cpu features: %s; kernel path: %s%s%s%s\n", lpnas_cpu_features(), lpnas_isa_name(lpnas_cpu_isa()),
           cap ? " (LPNAS_ISA=" : "", cap ? cap : "", cap ? ")" : "");
    double load[3];
    if (getloadavg(load, 3) == 3)
        printf("load average at start: %.2f (timings are only comparable within this run)\n", load[0]);
}

volatile unsigned char lpnas_bench_sink_byte;

void lpnas_bench_sink(const void *p, size_t n)
{
    volatile unsigned char *sink = &lpnas_bench_sink_byte;
    const unsigned char *b = p;
    if (n)
        *sink ^= b[0] ^ b[n - 1];
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void lpnas_bench_median(double *v, int n, double *median, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    *median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    *lo = v[0], *hi = v[n - 1];
}
