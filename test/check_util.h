/* Shared test helpers: one main per suite, long-mode switch, hex printing. */
#ifndef LPNAS_CHECK_UTIL_H
#define LPNAS_CHECK_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* True when LPNAS_TEST_LONG=1 (make test-long): exhaustive sweeps. */
bool lpnas_test_long(void);

/* Runs the suite, prints Check's summary, exits non-zero on failure. */
int lpnas_test_run(Suite *s);

/* A tcase with a generous timeout (Check's default of 4 s is too short for
 * sweeps, and ASan makes everything slower). */
TCase *lpnas_tcase(const char *name);

/* A fresh, empty temporary directory for file tests; caller frees the path
 * and may remove the directory with lpnas_test_rmdir. */
char *lpnas_test_tmpdir(void);
void lpnas_test_rmdir(const char *path);

/* For hot loops: Check's ck_assert* records every passing assertion with a
 * write(2) to its result channel, which makes sweeps of millions of cases
 * spend most of their time in the kernel. This only calls into Check on
 * failure. */
#define LPNAS_REQUIRE(cond, ...)          \
    do {                                  \
        if (!(cond))                      \
            ck_abort_msg(__VA_ARGS__);    \
    } while (0)

/* Example programs, run as a user runs them from the repository root:
 * `$BUILD/bin/<program> <args>`. */
typedef struct {
    const char *args;
    int status;
} lpnas_program_case;

/* Runs the program with stderr discarded; returns its exit status and
 * copies its last stdout line into `last`. */
int lpnas_test_program_last_line(const char *program, const char *args, char *last, size_t size);
/* Runs each case (output discarded) and asserts its exit status. */
void lpnas_test_program_statuses(const char *program, const lpnas_program_case *cases, size_t n);

#define LPNAS_TEST_MAIN(make_suite) \
    int main(void) { return lpnas_test_run(make_suite()); }

#endif
