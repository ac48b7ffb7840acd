#include "test/check_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

bool lpnas_test_long(void)
{
    const char *v = getenv("LPNAS_TEST_LONG");
    return v && strcmp(v, "0") != 0 && v[0] != '\0';
}

int lpnas_test_run(Suite *s)
{
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

TCase *lpnas_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 900);
    return tc;
}

char *lpnas_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/lpnas-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

void lpnas_test_rmdir(const char *path)
{
    char cmd[4200];
    if (!path || !*path || strstr(path, "lpnas-test-") == NULL) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

static const char *build_dir(void)
{
    const char *b = getenv("BUILD");
    return b && *b ? b : "build";
}

int lpnas_test_program_last_line(const char *program, const char *args, char *last, size_t size)
{
    char cmd[2048], line[1024];
    snprintf(cmd, sizeof cmd, "%s/bin/%s %s 2>/dev/null", build_dir(), program, args);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    last[0] = 0;
    while (fgets(line, sizeof line, p))
        snprintf(last, size, "%s", line);
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void lpnas_test_program_statuses(const char *program, const lpnas_program_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "%s/bin/%s %s >/dev/null 2>&1", build_dir(), program, cases[i].args);
        int st = system(cmd);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == cases[i].status, "%s %s: status %d, want %d", program,
                      cases[i].args, WIFEXITED(st) ? WEXITSTATUS(st) : -1, cases[i].status);
    }
}
