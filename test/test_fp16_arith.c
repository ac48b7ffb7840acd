/* binary16 add, sub, mul, div, fma, sqrt in every mode with flags, against
 * the independent bracket-and-compare reference of test/f16_ref.c. The
 * exact result is never formed: each op supplies sign(x - y) computed
 * exactly in binary64 (see the comparators). Failures print operands in hex. */
#include <math.h>
#include <stdio.h>

#include "check_util.h"
#include "f16_ref.h"
#include "lpnas/fp16.h"

static const lpnas_round MODES[] = {LPNAS_RNE, LPNAS_RTZ, LPNAS_RDN, LPNAS_RUP, LPNAS_RNA};
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FMA, OP_SQRT };
static const char *OP_NAMES[] = {"add", "sub", "mul", "div", "fma", "sqrt"};

static double val(uint16_t b) { return lpnas_ref_f16_value(b); }
static int isnan16(uint16_t b) { return (b & 0x7FFF) > 0x7C00; }
static int issnan16(uint16_t b) { return isnan16(b) && !(b & 0x200); }
static int sgn(double d) { return (d > 0) - (d < 0); }

/* ---- comparators: sign(exact - y), exact in binary64 ---------------- */
struct opnd { double a, b, c; };

/* a + b and a * b of binary16 values are exact binary64 values. */
static int cmp_exact(const void *ctx, double y)
{
    const struct opnd *o = ctx;
    return sgn(o->a - y); /* a holds the exact result */
}

/* a / b - y has the sign of (a - y*b) * sign(b); y*b has <= 12+11 bits. */
static int cmp_div(const void *ctx, double y)
{
    const struct opnd *o = ctx;
    return sgn(o->a - y * o->b) * sgn(o->b);
}

/* sqrt(a) - y for y >= 0 has the sign of a - y*y (y*y exact: 24 bits);
 * for y < 0 it is positive. */
static int cmp_sqrt(const void *ctx, double y)
{
    const struct opnd *o = ctx;
    return y < 0 ? 1 : sgn(o->a - y * y);
}

/* a*b + c - y: a*b exact (22 bits); y - c exact (both on a 2^-26 grid below
 * 2^17); compare the two. */
static int cmp_fma(const void *ctx, double y)
{
    const struct opnd *o = ctx;
    return sgn(o->a * o->b - (y - o->c));
}

/* ---- the reference, specials first --------------------------------- */
static uint16_t ref_op(int op, uint16_t x, uint16_t y, uint16_t z, lpnas_round rm, unsigned *fl)
{
    const uint16_t NaN = 0x7E00;
    double a = val(x), b = val(y), c = val(z);
    if (op == OP_SUB) {
        if (isnan16(y))
            return (*fl |= (issnan16(x) || issnan16(y)) ? LPNAS_FLAG_INVALID : 0), NaN;
        y ^= 0x8000;
        b = -b;
        op = OP_ADD;
    }
    int anynan = isnan16(x) || (op != OP_SQRT && isnan16(y)) || (op == OP_FMA && isnan16(z));
    int anysnan = issnan16(x) || (op != OP_SQRT && issnan16(y)) || (op == OP_FMA && issnan16(z));
    int neg_zero_rdn = rm == LPNAS_RDN;
    switch (op) {
    case OP_ADD: {
        if (anynan)
            return (*fl |= anysnan ? LPNAS_FLAG_INVALID : 0), NaN;
        if (isinf(a) && isinf(b) && a != b)
            return (*fl |= LPNAS_FLAG_INVALID), NaN;
        if (isinf(a))
            return x;
        if (isinf(b))
            return y;
        double s = a + b;
        if (s == 0)
            return (signbit(a) && signbit(b)) || ((!!signbit(a) != !!signbit(b)) && neg_zero_rdn) ||
                           (a != 0 && neg_zero_rdn)
                       ? 0x8000
                       : 0;
        struct opnd o = {s, 0, 0};
        return lpnas_ref_round(cmp_exact, &o, rm, fl);
    }
    case OP_MUL: {
        if (anynan)
            return (*fl |= anysnan ? LPNAS_FLAG_INVALID : 0), NaN;
        uint16_t sign = (x ^ y) & 0x8000;
        if ((isinf(a) && b == 0) || (isinf(b) && a == 0))
            return (*fl |= LPNAS_FLAG_INVALID), NaN;
        if (isinf(a) || isinf(b))
            return sign | 0x7C00;
        if (a == 0 || b == 0)
            return sign;
        struct opnd o = {a * b, 0, 0};
        return lpnas_ref_round(cmp_exact, &o, rm, fl);
    }
    case OP_DIV: {
        if (anynan)
            return (*fl |= anysnan ? LPNAS_FLAG_INVALID : 0), NaN;
        uint16_t sign = (x ^ y) & 0x8000;
        if ((isinf(a) && isinf(b)) || (a == 0 && b == 0))
            return (*fl |= LPNAS_FLAG_INVALID), NaN;
        if (isinf(a))
            return sign | 0x7C00;
        if (isinf(b))
            return sign;
        if (b == 0)
            return (*fl |= LPNAS_FLAG_DIVBYZERO), sign | 0x7C00;
        if (a == 0)
            return sign;
        struct opnd o = {a, b, 0};
        return lpnas_ref_round(cmp_div, &o, rm, fl);
    }
    case OP_SQRT: {
        if (anynan)
            return (*fl |= anysnan ? LPNAS_FLAG_INVALID : 0), NaN;
        if (a == 0)
            return x;
        if (a < 0)
            return (*fl |= LPNAS_FLAG_INVALID), NaN;
        if (isinf(a))
            return x;
        struct opnd o = {a, 0, 0};
        return lpnas_ref_round(cmp_sqrt, &o, rm, fl);
    }
    case OP_FMA: {
        int zero_inf = (isinf(a) && b == 0) || (isinf(b) && a == 0);
        if (isnan16(x) || isnan16(y))
            return (*fl |= anysnan ? LPNAS_FLAG_INVALID : 0), NaN;
        if (zero_inf)
            return (*fl |= LPNAS_FLAG_INVALID), NaN;
        if (isnan16(z))
            return (*fl |= anysnan ? LPNAS_FLAG_INVALID : 0), NaN;
        int sp = !!signbit(a) != !!signbit(b);
        if (isinf(a) || isinf(b)) {
            if (isinf(c) && (c < 0) != sp)
                return (*fl |= LPNAS_FLAG_INVALID), NaN;
            return (uint16_t)((sp ? 0x8000 : 0) | 0x7C00);
        }
        if (isinf(c))
            return z;
        double p = a * b;
        if (p == 0 && c == 0)
            return (sp && signbit(c)) || (sp != !!signbit(c) && neg_zero_rdn) ? 0x8000 : 0;
        if (p == 0)
            return z;
        /* exact zero: a*b == -c */
        if (p == -c)
            return neg_zero_rdn ? 0x8000 : 0;
        struct opnd o = {a, b, c};
        return lpnas_ref_round(cmp_fma, &o, rm, fl);
    }
    }
    return NaN;
}

static uint16_t lib_op(int op, uint16_t x, uint16_t y, uint16_t z, lpnas_round rm, unsigned *fl)
{
    lpnas_f16 a = {x}, b = {y}, c = {z};
    switch (op) {
    case OP_ADD: return lpnas_f16_add(a, b, rm, fl).bits;
    case OP_SUB: return lpnas_f16_sub(a, b, rm, fl).bits;
    case OP_MUL: return lpnas_f16_mul(a, b, rm, fl).bits;
    case OP_DIV: return lpnas_f16_div(a, b, rm, fl).bits;
    case OP_FMA: return lpnas_f16_fma(a, b, c, rm, fl).bits;
    default: return lpnas_f16_sqrt(a, rm, fl).bits;
    }
}

static long failures;

static void check_case(int op, uint16_t x, uint16_t y, uint16_t z, lpnas_round rm)
{
    unsigned fl = 0, rfl = 0;
    uint16_t got = lib_op(op, x, y, z, rm, &fl);
    uint16_t want = ref_op(op, x, y, z, rm, &rfl);
    if (got != want || fl != rfl) {
        if (failures++ < 20)
            fprintf(stderr, "%s %s a=0x%04x b=0x%04x c=0x%04x: got 0x%04x flags %u, want 0x%04x flags %u\n",
                    OP_NAMES[op], lpnas_ref_mode_name(rm), x, y, z, got, fl, want, rfl);
    }
}

/* Random operands: uniform bits most of the time; otherwise operands whose
 * exponents are close (cancellation, results near ties) or whose result
 * lands near the subnormal and overflow edges. */
static uint16_t rand_half(uint64_t *st, int mode)
{
    uint64_t r = lpnas_ref_rand(st);
    uint16_t b = (uint16_t)r;
    switch (mode % 4) {
    case 0: return b;
    case 1: return (uint16_t)((b & 0x83FF) | ((14 + (r >> 16) % 4) << 10)); /* near 1 */
    case 2: return (uint16_t)((b & 0x83FF) | (((r >> 16) % 3) << 10));      /* tiny */
    default: return (uint16_t)((b & 0x83FF) | ((27 + (r >> 16) % 4) << 10)); /* huge */
    }
}

static void random_sweep(int op, long n, uint64_t seed)
{
    uint64_t st = seed;
    for (long i = 0; i < n; i++) {
        uint64_t r = lpnas_ref_rand(&st);
        uint16_t x = rand_half(&st, (int)(r & 3)), y = rand_half(&st, (int)((r >> 2) & 3));
        uint16_t z = rand_half(&st, (int)((r >> 4) & 3));
        if (op == OP_FMA && (r >> 8) % 3 == 0) {
            /* c close to -a*b: massive cancellation */
            unsigned f = 0;
            z = lpnas_f16_mul((lpnas_f16){x}, (lpnas_f16){y}, LPNAS_RNE, &f).bits ^ 0x8000;
            z = (uint16_t)(z + (int)((r >> 12) % 5) - 2);
        }
        for (size_t m = 0; m < 5; m++)
            check_case(op, x, y, z, MODES[m]);
    }
}

static const uint16_t EDGES[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x0401, 0x07FF, 0x3C00,
                                 0xBC00, 0x3C01, 0x3BFF, 0x7BFF, 0xFBFF, 0x7BFE, 0x7C00, 0xFC00, 0x7E00,
                                 0xFE00, 0x7D00, 0x7C01, 0x4000, 0x3800, 0x0200, 0x5BFF, 0x1400, 0x2400};
#define NEDGES (sizeof EDGES / sizeof EDGES[0])

static void edge_sweep(int op)
{
    for (size_t i = 0; i < NEDGES; i++)
        for (size_t j = 0; j < NEDGES; j++)
            for (size_t k = 0; k < (op == OP_FMA ? NEDGES : 1); k++)
                for (size_t m = 0; m < 5; m++)
                    check_case(op, EDGES[i], EDGES[j], EDGES[k], MODES[m]);
}

static long sweep_size(void) { return lpnas_test_long() ? 20000000L : 1000000L; }

#define OP_TEST(NAME, OP, SEED)                                                   \
    START_TEST(NAME)                                                              \
    {                                                                             \
        failures = 0;                                                             \
        edge_sweep(OP);                                                           \
        random_sweep(OP, sweep_size(), SEED);                                     \
        ck_assert_msg(failures == 0, "%ld mismatches (first ones on stderr)", failures); \
    }                                                                             \
    END_TEST

OP_TEST(add_all_modes, OP_ADD, 1)
OP_TEST(sub_all_modes, OP_SUB, 2)
OP_TEST(mul_all_modes, OP_MUL, 3)
OP_TEST(div_all_modes, OP_DIV, 4)
OP_TEST(fma_all_modes, OP_FMA, 5)

START_TEST(sqrt_every_operand)
{
    failures = 0;
    for (uint32_t b = 0; b < 0x10000; b++)
        for (size_t m = 0; m < 5; m++)
            check_case(OP_SQRT, (uint16_t)b, 0, 0, MODES[m]);
    ck_assert_msg(failures == 0, "%ld mismatches (first ones on stderr)", failures);
}
END_TEST

/* fma is not mul-then-add: a case where the double rounding differs. */
START_TEST(fma_rounds_once)
{
    lpnas_f16 a = {0x3C01}, c = {0x8000 | 0x3C02}; /* (1+2^-10)^2 - (1+2^-9) = 2^-20 */
    unsigned fl = 0;
    lpnas_f16 r = lpnas_f16_fma(a, a, c, LPNAS_RNE, &fl);
    ck_assert_uint_eq(r.bits, lpnas_f16_from_f64(0x1p-20, LPNAS_RNE, NULL).bits);
    ck_assert_uint_eq(fl, 0);
    lpnas_f16 two_step = lpnas_f16_add(lpnas_f16_mul(a, a, LPNAS_RNE, NULL), c, LPNAS_RNE, NULL);
    ck_assert_uint_eq(two_step.bits, 0); /* the product rounds to 1+2^-9 */
}
END_TEST

START_TEST(comparisons)
{
    for (uint32_t i = 0; i < 0x10000; i += 7)
        for (uint32_t j = 0; j < 0x10000; j += 13) {
            uint16_t x = (uint16_t)i, y = (uint16_t)j;
            double a = val(x), b = val(y);
            int nan = isnan(a) || isnan(b), snan = issnan16(x) || issnan16(y);
            unsigned f1 = 0, f2 = 0, f3 = 0, f4 = 0, f5 = 0, f6 = 0;
            lpnas_f16 p = {x}, q = {y};
            LPNAS_REQUIRE(lpnas_f16_eq(p, q, &f1) == (a == b) && f1 == (snan ? LPNAS_FLAG_INVALID : 0u),
                          "eq 0x%04x 0x%04x", x, y);
            LPNAS_REQUIRE(lpnas_f16_lt(p, q, &f2) == (a < b) && f2 == (nan ? LPNAS_FLAG_INVALID : 0u),
                          "lt 0x%04x 0x%04x", x, y);
            LPNAS_REQUIRE(lpnas_f16_le(p, q, &f3) == (a <= b) && f3 == (nan ? LPNAS_FLAG_INVALID : 0u),
                          "le 0x%04x 0x%04x", x, y);
            LPNAS_REQUIRE(lpnas_f16_eq_signaling(p, q, &f4) == (a == b) && f4 == (nan ? LPNAS_FLAG_INVALID : 0u),
                          "eq_signaling 0x%04x 0x%04x", x, y);
            LPNAS_REQUIRE(lpnas_f16_lt_quiet(p, q, &f5) == (a < b) && f5 == (snan ? LPNAS_FLAG_INVALID : 0u),
                          "lt_quiet 0x%04x 0x%04x", x, y);
            LPNAS_REQUIRE(lpnas_f16_le_quiet(p, q, &f6) == (a <= b) && f6 == (snan ? LPNAS_FLAG_INVALID : 0u),
                          "le_quiet 0x%04x 0x%04x", x, y);
        }
}
END_TEST

START_TEST(null_flags_and_accumulation)
{
    lpnas_f16 one = {0x3C00}, three = {0x4200}, max = {0x7BFF};
    lpnas_f16 r = lpnas_f16_div(one, three, LPNAS_RNE, NULL); /* NULL flags allowed */
    ck_assert_uint_eq(r.bits, 0x3555);
    unsigned fl = LPNAS_FLAG_DIVBYZERO; /* flags are OR-ed in, never cleared */
    lpnas_f16_add(max, max, LPNAS_RNE, &fl);
    ck_assert_uint_eq(fl, LPNAS_FLAG_DIVBYZERO | LPNAS_FLAG_OVERFLOW | LPNAS_FLAG_INEXACT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fp16_arith");
    TCase *t = lpnas_tcase("arith");
    tcase_add_test(t, add_all_modes);
    tcase_add_test(t, sub_all_modes);
    tcase_add_test(t, mul_all_modes);
    tcase_add_test(t, div_all_modes);
    tcase_add_test(t, fma_all_modes);
    tcase_add_test(t, sqrt_every_operand);
    tcase_add_test(t, fma_rounds_once);
    tcase_add_test(t, comparisons);
    tcase_add_test(t, null_flags_and_accumulation);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
