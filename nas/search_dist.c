/* The vessel search on several ranks (docs/distributed.md): rank 0 sends
 * the data set, the split and its configuration once (broadcast: no shared
 * file system needed); the other ranks build the same search around them,
 * refuse to take part when their options differ, and evaluate what rank 0
 * sends, writing the models to a local scratch folder and sending them back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "nas/search_config.h"
#include "nas/search_internal.h"

/* ---- the models of a candidate: "cand-ID.lpm" and "cand-ID.fp32.lpm" ---------
 * packed as, per file: u32 name length | name | u64 size | bytes */

static const char *const model_ext[2] = {".lpm", ".fp32.lpm"};

lpnas_status lpnas_search_pack(void *ctx, const lpnas_candidate *c, void **buf, size_t *n)
{
    lpnas_search *s = ctx;
    *buf = NULL, *n = 0;
    char *out = NULL;
    size_t len = 0;
    for (int k = 0; k < 2; k++) {
        char name[64], path[4200];
        snprintf(name, sizeof name, "cand-%llu%s", (unsigned long long)c->id, model_ext[k]);
        snprintf(path, sizeof path, "%s/%s", s->o.out_dir, name);
        FILE *f = fopen(path, "rb");
        long size = -1;
        if (f && fseek(f, 0, SEEK_END) == 0)
            size = ftell(f);
        if (!f || size < 0 || fseek(f, 0, SEEK_SET) != 0) {
            if (f)
                fclose(f);
            free(out);
            return lpnas_fail(LPNAS_ERR_IO, "%s: cannot read the model to send to rank 0: %s", path, strerror(errno));
        }
        uint32_t nl = (uint32_t)strlen(name);
        uint64_t sz = (uint64_t)size;
        char *grown = realloc(out, len + 4 + nl + 8 + (size_t)sz + 1);
        if (!grown) {
            fclose(f);
            free(out);
            return lpnas_fail(LPNAS_ERR_NOMEM, "%s: out of memory for %llu bytes", path, (unsigned long long)sz);
        }
        out = grown;
        memcpy(out + len, &nl, 4), memcpy(out + len + 4, name, nl), memcpy(out + len + 4 + nl, &sz, 8);
        size_t got = fread(out + len + 12 + nl, 1, (size_t)sz, f);
        fclose(f);
        if (got != (size_t)sz) {
            free(out);
            return lpnas_fail(LPNAS_ERR_IO, "%s: read %zu of %llu bytes", path, got, (unsigned long long)sz);
        }
        len += 12 + nl + (size_t)sz;
        remove(path); /* the scratch folder keeps nothing */
    }
    *buf = out, *n = len;
    return LPNAS_OK;
}

/* Written beside the state: temp file, fsync, rename, so a model that is
 * there is whole before its record says so. */
lpnas_status lpnas_search_unpack(void *ctx, const lpnas_candidate *c, const void *buf, size_t n)
{
    lpnas_search *s = ctx;
    const char *p = buf, *end = p + n;
    char want[2][64];
    for (int k = 0; k < 2; k++)
        snprintf(want[k], sizeof want[k], "cand-%llu%s", (unsigned long long)c->id, model_ext[k]);
    while (p < end) {
        uint32_t nl;
        uint64_t sz;
        if (end - p < 12 || (memcpy(&nl, p, 4), (size_t)(end - p) < 12 + (size_t)nl) ||
            (memcpy(&sz, p + 4 + nl, 8), (uint64_t)(end - p - 12 - nl) < sz) || nl >= 64)
            return lpnas_fail(LPNAS_ERR_CORRUPT, "candidate %llu: the models from another rank are cut short",
                              (unsigned long long)c->id);
        char name[64];
        memcpy(name, p + 4, nl);
        name[nl] = '\0';
        if (strcmp(name, want[0]) && strcmp(name, want[1])) /* never a path of the sender's choosing */
            return lpnas_fail(LPNAS_ERR_FORMAT, "candidate %llu: another rank sent a file named '%s'",
                              (unsigned long long)c->id, name);
        char path[4200], tmp[4300];
        snprintf(path, sizeof path, "%s/%s", s->o.out_dir, name);
        snprintf(tmp, sizeof tmp, "%s.part", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        const char *q = p + 12 + nl;
        size_t left = (size_t)sz;
        while (fd >= 0 && left > 0) {
            ssize_t w = write(fd, q, left);
            if (w <= 0)
                break;
            q += w, left -= (size_t)w;
        }
        if (fd < 0 || left > 0 || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
            int e = errno;
            if (fd >= 0 && left > 0)
                close(fd);
            remove(tmp);
            return lpnas_fail(LPNAS_ERR_IO, "%s: cannot write the model from another rank: %s", path, strerror(e));
        }
        p += 12 + nl + (size_t)sz;
    }
    return LPNAS_OK;
}

/* ---- data, split and configuration from rank 0 ---------------------------------
 * u64 length (0: rank 0 could not start) | u64 config length | config
 * | i32 ntrain | i32 nval | train | val | data set (lpnas_dataset_pack) */

lpnas_status lpnas_search_share(lpnas_search *s, const lpnas_search_options *o, lpnas_status failed)
{
    lpnas_transport *t = o->transport;
    uint64_t total = 0;
    void *data = NULL;
    size_t nd = 0;
    char *msg = NULL;
    lpnas_status st = LPNAS_OK;
    if (!failed && !(st = lpnas_dataset_pack(o->data, &data, &nd))) {
        uint64_t nc = strlen(s->config);
        total = 8 + nc + 8 + 4 * ((uint64_t)o->ntrain + (uint64_t)o->nval) + nd;
        msg = malloc((size_t)total);
        if (!msg) {
            st = lpnas_fail(LPNAS_ERR_NOMEM, "search: out of memory for the %llu bytes sent to the other ranks",
                            (unsigned long long)total);
        } else {
            char *p = msg;
            int32_t nt = o->ntrain, nv = o->nval;
            memcpy(p, &nc, 8), p += 8;
            memcpy(p, s->config, nc), p += nc;
            memcpy(p, &nt, 4), memcpy(p + 4, &nv, 4), p += 8;
            memcpy(p, o->train, 4 * (size_t)nt), p += 4 * (size_t)nt;
            memcpy(p, o->val, 4 * (size_t)nv), p += 4 * (size_t)nv;
            memcpy(p, data, nd);
        }
        free(data);
    }
    if (st)
        total = 0;
    lpnas_status bs = t->bcast(t, &total, sizeof total);
    if (!bs && total)
        bs = t->bcast(t, msg, (size_t)total);
    free(msg);
    return st ? st : bs;
}

/* The first line where the two configurations differ, but for the latency
 * model: only rank 0 estimates latencies. */
static char *config_refusal(const char *leader, const char *mine)
{
    const char *a = leader, *b = mine;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        bool skip = !strncmp(a, "latency_model=", 14) && !strncmp(b, "latency_model=", 14);
        if (!skip && (la != lb || strncmp(a, b, la))) {
            char *r = malloc(1024);
            if (r)
                snprintf(r, 1024, "its options differ from rank 0's: rank 0 has '%.*s', this rank '%.*s' (run every rank "
                                  "with the same command line)",
                         (int)(la < 300 ? la : 300), a, (int)(lb < 300 ? lb : 300), b);
            return r;
        }
        a += la + (a[la] == '\n'), b += lb + (b[lb] == '\n');
    }
    return NULL;
}

lpnas_status lpnas_search_create_worker(const lpnas_search_options *o, lpnas_search **out)
{
    *out = NULL;
    lpnas_transport *t = o->transport;
    uint64_t total = 0;
    lpnas_status st = t->bcast(t, &total, sizeof total);
    if (st)
        return st;
    if (total == 0)
        return lpnas_fail(LPNAS_ERR_ARG, "rank %d: rank 0 could not start the search (its message says why)", t->rank);
    char *msg = malloc((size_t)total);
    lpnas_search *s = calloc(1, sizeof *s);
    if (!msg || !s) {
        free(msg), free(s);
        return lpnas_fail(LPNAS_ERR_NOMEM, "rank %d: out of memory for the %llu bytes from rank 0", t->rank,
                          (unsigned long long)total);
    }
    atomic_init(&s->stop, 0);
    if ((st = t->bcast(t, msg, (size_t)total)))
        goto fail;
    const char *p = msg, *end = msg + total;
    uint64_t nc;
    int32_t nt, nv;
    memcpy(&nc, p, 8), p += 8;
    const char *leader_config = p;
    p += nc;
    memcpy(&nt, p, 4), memcpy(&nv, p + 4, 4), p += 8;
    s->own_train = malloc(4 * (size_t)nt + 1), s->own_val = malloc(4 * (size_t)nv + 1);
    if (!s->own_train || !s->own_val) {
        st = lpnas_fail(LPNAS_ERR_NOMEM, "rank %d: out of memory", t->rank);
        goto fail;
    }
    memcpy(s->own_train, p, 4 * (size_t)nt), p += 4 * (size_t)nt;
    memcpy(s->own_val, p, 4 * (size_t)nv), p += 4 * (size_t)nv;
    if ((st = lpnas_dataset_unpack(p, (size_t)(end - p), &s->own_data)))
        goto fail;
    s->o = *o;
    s->o.data = s->own_data, s->o.train = s->own_train, s->o.val = s->own_val, s->o.ntrain = nt, s->o.nval = nv;
    lpnas_space_options so = o->space;
    so.in_channels = lpnas_dataset_channels(s->own_data);
    if ((st = lpnas_search_check_data(&s->o)) || (st = lpnas_space_init(&s->space, &so)) ||
        (st = lpnas_dataset_channel_stats(s->own_data, s->own_train, nt, s->mean, s->std)))
        goto fail;
    if (o->raw_inputs)
        for (int c = 0; c < 16; c++)
            s->mean[c] = 0, s->std[c] = 1;
    s->config = lpnas_search_config_text(&s->o);
    char *lc = malloc((size_t)nc + 1);
    if (!s->config || !lc) {
        free(lc);
        st = lpnas_fail(LPNAS_ERR_NOMEM, "rank %d: out of memory", t->rank);
        goto fail;
    }
    memcpy(lc, leader_config, (size_t)nc);
    lc[nc] = '\0';
    s->refusal = config_refusal(lc, s->config);
    free(lc);
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/lpnas-rank%d-XXXXXX", tmp && *tmp ? tmp : "/tmp", t->rank);
    if (!mkdtemp(dir)) {
        st = lpnas_fail(LPNAS_ERR_IO, "rank %d: cannot make a scratch folder %s: %s", t->rank, dir, strerror(errno));
        goto fail;
    }
    s->scratch = strdup(dir);
    if (!s->scratch) {
        rmdir(dir);
        st = lpnas_fail(LPNAS_ERR_NOMEM, "rank %d: out of memory", t->rank);
        goto fail;
    }
    s->o.out_dir = s->scratch;
    free(msg);
    *out = s;
    return LPNAS_OK;
fail:
    free(msg);
    lpnas_search_free(s);
    return st;
}

lpnas_status lpnas_search_serve(lpnas_search *s)
{
    lpnas_problem p;
    lpnas_search_problem(s, &p);
    return lpnas_runner_serve(s->o.transport, &p, s->o.workers, s->refusal, &s->stop);
}

void lpnas_search_free_worker(lpnas_search *s)
{
    if (s->scratch) { /* whatever a stopped candidate left */
        DIR *d = opendir(s->scratch);
        struct dirent *e;
        char path[4400];
        while (d && (e = readdir(d)))
            if (strncmp(e->d_name, "cand-", 5) == 0) {
                snprintf(path, sizeof path, "%s/%s", s->scratch, e->d_name);
                remove(path);
            }
        if (d)
            closedir(d);
        rmdir(s->scratch);
    }
    free(s->scratch);
    free(s->refusal);
    lpnas_dataset_free(s->own_data);
    free(s->own_train), free(s->own_val);
}
