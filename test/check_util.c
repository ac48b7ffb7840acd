#include "test/check_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
