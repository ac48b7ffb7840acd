/* Integer policies: formats, policy files and the requantization rules of
 * TFLite and ONNX Runtime, bit for bit (docs/numerics.md "Integer policies").
 * Everything here is integer or single IEEE operations whose rounding is
 * fixed by the C standard (the default round-to-nearest environment, which
 * the library never changes), so the host's results equal the runtimes'. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "fp16/policy.h"
#include "fp16/requant.h"

bool lpnas_policy_is_integer(const lpnas_policy *p) { return p && p->storage == LPNAS_STORAGE_INT; }

lpnas_status lpnas_policy_int_format(const lpnas_policy *p, lpnas_int_format *out)
{
    if (!out)
        return lpnas_fail(LPNAS_ERR_ARG, "policy: NULL output pointer");
    if (!lpnas_policy_is_integer(p))
        return lpnas_fail(LPNAS_ERR_ARG, "policy '%s': not an integer policy", lpnas_policy_name(p));
    *out = p->integer;
    return LPNAS_OK;
}

static lpnas_status check_format(const char *where, const lpnas_int_format *f)
{
    if (f->weight_bits < 2 || f->weight_bits > 8)
        return lpnas_fail(LPNAS_ERR_ARG, "%s: weight_bits %d: must be 2..8", where, f->weight_bits);
    if (f->act_bits < 2 || f->act_bits > 8)
        return lpnas_fail(LPNAS_ERR_ARG, "%s: act_bits %d: must be 2..8", where, f->act_bits);
    if ((int)f->requant < 0 || f->requant > LPNAS_REQUANT_SHIFT)
        return lpnas_fail(LPNAS_ERR_ARG, "%s: requant %d: unknown rule", where, (int)f->requant);
    if (f->requant == LPNAS_REQUANT_SHIFT && !f->pow2_scales)
        return lpnas_fail(LPNAS_ERR_ARG, "%s: requant shift needs scales = pow2", where);
    return LPNAS_OK;
}

/* Made policies live until exit (like the presets): a fixed pool, so
 * nothing is ever freed behind a caller that still holds the pointer. */
#define MADE_MAX 64
static struct {
    struct lpnas_policy p;
    char name[32];
    char desc[160];
} made[MADE_MAX];
static int nmade;

lpnas_status lpnas_policy_make_int(const char *name, const lpnas_int_format *f, const lpnas_policy **out)
{
    if (!out || !f || !name)
        return lpnas_fail(LPNAS_ERR_ARG, "policy: NULL argument");
    *out = NULL;
    lpnas_status st = check_format(name, f);
    if (st)
        return st;
    if (nmade == MADE_MAX)
        return lpnas_fail(LPNAS_ERR_NOMEM, "policy '%s': more than %d made policies", name, MADE_MAX);
    if (strlen(name) > 31)
        return lpnas_fail(LPNAS_ERR_ARG, "policy '%s': name longer than 31 characters", name);
    const lpnas_policy *base;
    st = lpnas_policy_get("int8", &base);
    if (st)
        return st;
    struct lpnas_policy *p = &made[nmade].p;
    *p = *base;
    strcpy(made[nmade].name, name);
    snprintf(made[nmade].desc, sizeof made[nmade].desc,
             "integer: weights %d-bit symmetric %s, activations %d-bit %s, %s scales, requant %s", f->weight_bits,
             f->weight_per_channel ? "per channel" : "per tensor", f->act_bits,
             f->act_symmetric ? "symmetric" : "asymmetric", f->pow2_scales ? "pow2" : "float",
             f->requant == LPNAS_REQUANT_TFLITE ? "tflite" : f->requant == LPNAS_REQUANT_ORT ? "ort" : "shift");
    p->name = made[nmade].name;
    p->description = made[nmade].desc;
    p->integer = *f;
    nmade++;
    *out = p;
    return LPNAS_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int pick(const char *v, const char *a, const char *b)
{
    return !strcmp(v, a) ? 1 : !strcmp(v, b) ? 0 : -1;
}

lpnas_status lpnas_policy_load(const char *path, const lpnas_policy **out)
{
    if (!out || !path)
        return lpnas_fail(LPNAS_ERR_ARG, "policy file: NULL argument");
    *out = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return lpnas_fail(LPNAS_ERR_IO, "policy file '%s': cannot open", path);
    lpnas_int_format f = {8, true, 8, false, false, LPNAS_REQUANT_TFLITE};
    char name[32] = "", line[256];
    int ln = 0;
    lpnas_status st = LPNAS_OK;
    while (!st && fgets(line, sizeof line, fp)) {
        ln++;
        char *h = strchr(line, '#');
        if (h)
            *h = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            st = lpnas_fail(LPNAS_ERR_FORMAT, "policy file '%s' line %d: expected 'key = value'", path, ln);
            break;
        }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        int b = -1;
        char *end;
        if (!strcmp(k, "name")) {
            if (strlen(v) == 0 || strlen(v) > 31)
                st = lpnas_fail(LPNAS_ERR_FORMAT, "policy file '%s' line %d: name '%s': 1..31 characters", path, ln, v);
            else
                strcpy(name, v);
        } else if (!strcmp(k, "base")) {
            const lpnas_policy *bp;
            if (lpnas_policy_get(v, &bp) || !lpnas_policy_is_integer(bp))
                st = lpnas_fail(LPNAS_ERR_FORMAT, "policy file '%s' line %d: base '%s': not an integer preset", path,
                                ln, v);
            else
                f = bp->integer;
        } else if (!strcmp(k, "weight_bits") || !strcmp(k, "act_bits")) {
            long x = strtol(v, &end, 10);
            if (*end || end == v || x < 2 || x > 8)
                st = lpnas_fail(LPNAS_ERR_FORMAT, "policy file '%s' line %d: %s '%s': must be 2..8", path, ln, k, v);
            else if (k[0] == 'w')
                f.weight_bits = (int)x;
            else
                f.act_bits = (int)x;
        } else if (!strcmp(k, "weight_granularity") && (b = pick(v, "per-channel", "per-tensor")) >= 0) {
            f.weight_per_channel = b;
        } else if (!strcmp(k, "act_symmetric") && (b = pick(v, "yes", "no")) >= 0) {
            f.act_symmetric = b;
        } else if (!strcmp(k, "scales") && (b = pick(v, "pow2", "float")) >= 0) {
            f.pow2_scales = b;
        } else if (!strcmp(k, "requant") && (!strcmp(v, "tflite") || !strcmp(v, "ort") || !strcmp(v, "shift"))) {
            f.requant = v[0] == 't' ? LPNAS_REQUANT_TFLITE : v[0] == 'o' ? LPNAS_REQUANT_ORT : LPNAS_REQUANT_SHIFT;
        } else {
            st = lpnas_fail(LPNAS_ERR_FORMAT, "policy file '%s' line %d: key '%s' value '%s': unknown or bad", path,
                            ln, k, v);
        }
    }
    fclose(fp);
    if (st)
        return st;
    if (!name[0])
        return lpnas_fail(LPNAS_ERR_FORMAT, "policy file '%s': no 'name = ...' line", path);
    char where[300];
    snprintf(where, sizeof where, "policy file '%s'", path);
    st = check_format(where, &f);
    return st ? st : lpnas_policy_make_int(name, &f, out);
}

/* ---- TFLite / gemmlowp fixed point ---- */

lpnas_status lpnas_quantize_multiplier(double m, int32_t *q, int *shift)
{
    if (!(m >= 0) || isinf(m))
        return lpnas_fail(LPNAS_ERR_ARG, "quantize_multiplier: multiplier %g: must be finite and >= 0", m);
    if (m == 0) {
        *q = 0, *shift = 0;
        return LPNAS_OK;
    }
    int e;
    double fr = frexp(m, &e); /* m = fr * 2^e, fr in [0.5, 1): exact */
    /* TfLiteRound = std::round: half away from zero. fr * 2^31 is exact. */
    int64_t qf = (int64_t)round(fr * 2147483648.0);
    if (qf == (int64_t)1 << 31) { /* fr rounded up to 1.0: renormalize */
        qf /= 2;
        e++;
    }
    if (e < -31) { /* below 2^-32: TFLite gives 0 (the product always rounds to 0) */
        e = 0;
        qf = 0;
    }
    if (e > 30) { /* TFLite clamps the other end to the largest multiplier */
        e = 30;
        qf = ((int64_t)1 << 31) - 1;
    }
    *q = (int32_t)qf;
    *shift = e;
    return LPNAS_OK;
}

int32_t lpnas_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN)
        return INT32_MAX; /* the one product that does not fit after doubling */
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* C division truncates toward zero, as gemmlowp's does. With the nudge
     * 2^30 a positive tie (ab = (k + 1/2) 2^31) goes up; with 1 - 2^30 a
     * negative tie lands one short of the next multiple and truncates toward
     * zero, i.e. also up: ties round toward +inf, everything else to nearest. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t lpnas_rdbpot(int32_t x, int e)
{
    if (e <= 0)
        return x;
    int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
    int32_t rem = x & mask;
    int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
    /* x >> e on a negative x: arithmetic shift (floor), as gemmlowp assumes;
     * written as a floor division so no implementation-defined shift is used */
    int64_t fl = x >= 0 ? (int64_t)x >> e : -(((-(int64_t)x) + mask) >> e);
    return (int32_t)(fl + (rem > thr ? 1 : 0));
}

int32_t lpnas_mbqm(int32_t acc, int32_t q, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    /* TFLite multiplies by 1 << left in int32 (two's complement wrap on the
     * targets it runs on); do the same without signed overflow */
    int32_t x = (int32_t)(uint32_t)((uint32_t)acc << left);
    return lpnas_rdbpot(lpnas_srdhm(x, q), right);
}

static int32_t clamp32(int64_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : (int32_t)v; }

int32_t lpnas_requant(lpnas_requant_rule r, int32_t acc, double m, int32_t zp, int32_t lo, int32_t hi)
{
    lpnas_rq rq = lpnas_rq_make(r, m);
    return lpnas_rq_apply(&rq, acc, zp, lo, hi);
}

int32_t lpnas_quantize1(float x, float s, int32_t zp, int32_t lo, int32_t hi)
{
    float v = x / s; /* binary32 division, as QuantizeLinear */
    if (v != v)
        return clamp32(zp, lo, hi);
    v = fmaxf((float)(lo - zp), fminf((float)(hi - zp), v));
    return clamp32((int64_t)nearbyintf(v) + zp, lo, hi);
}

lpnas_status lpnas_calib_method_parse(const char *s, lpnas_calib_method *out)
{
    static const char *names[] = {"minmax", "percentile", "mse"};
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (lpnas_calib_method)i;
            return LPNAS_OK;
        }
    return lpnas_fail(LPNAS_ERR_ARG, "calibration '%s': unknown; known: minmax, percentile, mse", s ? s : "(null)");
}

lpnas_rq lpnas_rq_make(lpnas_requant_rule r, double m)
{
    lpnas_rq rq = {r, 0, 0, (float)m};
    if (r == LPNAS_REQUANT_TFLITE) {
        if (lpnas_quantize_multiplier(m, &rq.q, &rq.shift))
            rq.q = 0, rq.shift = 0;
    } else if (r == LPNAS_REQUANT_SHIFT) {
        int e;
        frexp(m > 0 ? m : 1, &e);
        rq.shift = 1 - e;
    }
    return rq;
}

int32_t lpnas_rq_apply(const lpnas_rq *rq, int32_t acc, int32_t zp, int32_t lo, int32_t hi)
{
    int64_t v;
    switch (rq->rule) {
    case LPNAS_REQUANT_ORT: {
        float f = (float)acc * rq->mf;
        f = fmaxf((float)(lo - zp), fminf((float)(hi - zp), f));
        v = (int64_t)nearbyintf(f);
        break;
    }
    case LPNAS_REQUANT_SHIFT:
        v = rq->shift <= 0 ? (int64_t)acc * ((int64_t)1 << (-rq->shift > 32 ? 32 : -rq->shift))
                           : lpnas_rdbpot(acc, rq->shift > 31 ? 31 : rq->shift);
        break;
    default:
        v = lpnas_mbqm(acc, rq->q, rq->shift);
    }
    return clamp32(v + zp, lo, hi);
}
