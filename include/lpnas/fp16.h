/* IEEE 754 binary16 reference arithmetic, correctly rounded in five modes,
 * with IEEE exception flags (Berkeley SoftFloat 3 semantics, x86
 * specialization; default NaN 0x7E00). Rounding is always a parameter,
 * never global state; the host FPU rounding mode is never left changed.
 *
 *   | S | EEEEE | MMMMMMMMMM |   bias 15, emin -14, subnormals down to 2^-24
 */
#ifndef LPNAS_FP16_H
#define LPNAS_FP16_H

#include "lpnas/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A wrapper, so that bits are never added by mistake. */
typedef struct { uint16_t bits; } lpnas_f16;

/* Rounding directions. Append-only (written to files). */
typedef enum {
    LPNAS_RNE, /* nearest, ties to even */
    LPNAS_RTZ, /* toward zero */
    LPNAS_RDN, /* toward -infinity */
    LPNAS_RUP, /* toward +infinity */
    LPNAS_RNA  /* nearest, ties away from zero */
} lpnas_round;

enum {
    LPNAS_FLAG_INVALID = 1,
    LPNAS_FLAG_DIVBYZERO = 2,
    LPNAS_FLAG_OVERFLOW = 4,
    LPNAS_FLAG_UNDERFLOW = 8,
    LPNAS_FLAG_INEXACT = 16
};

/* flags may be NULL; raised flags are OR-ed in; tininess detected after rounding */
lpnas_f16 lpnas_f16_add(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags);
lpnas_f16 lpnas_f16_sub(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags);
lpnas_f16 lpnas_f16_mul(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags);
lpnas_f16 lpnas_f16_div(lpnas_f16 a, lpnas_f16 b, lpnas_round rm, unsigned *flags);
lpnas_f16 lpnas_f16_fma(lpnas_f16 a, lpnas_f16 b, lpnas_f16 c, lpnas_round rm, unsigned *flags); /* a*b+c, rounded once */
lpnas_f16 lpnas_f16_sqrt(lpnas_f16 a, lpnas_round rm, unsigned *flags);
lpnas_f16 lpnas_f16_from_f32(float x, lpnas_round rm, unsigned *flags);
lpnas_f16 lpnas_f16_from_f64(double x, lpnas_round rm, unsigned *flags);
float     lpnas_f16_to_f32(lpnas_f16 h);                      /* exact */
void lpnas_f16_from_f32_array(lpnas_f16 *dst, const float *src, size_t n, lpnas_round rm);
void lpnas_f16_to_f32_array(float *dst, const lpnas_f16 *src, size_t n);

/* ---- comparison and classification (SoftFloat semantics) ---------------
 * eq and the *_quiet forms raise INVALID only for signaling NaN operands;
 * lt, le and eq_signaling raise INVALID for any NaN operand. */
bool lpnas_f16_eq(lpnas_f16 a, lpnas_f16 b, unsigned *flags);
bool lpnas_f16_lt(lpnas_f16 a, lpnas_f16 b, unsigned *flags);
bool lpnas_f16_le(lpnas_f16 a, lpnas_f16 b, unsigned *flags);
bool lpnas_f16_eq_signaling(lpnas_f16 a, lpnas_f16 b, unsigned *flags);
bool lpnas_f16_lt_quiet(lpnas_f16 a, lpnas_f16 b, unsigned *flags);
bool lpnas_f16_le_quiet(lpnas_f16 a, lpnas_f16 b, unsigned *flags);

/* IEEE 754 class. Append-only. */
typedef enum {
    LPNAS_F16_SIGNALING_NAN,
    LPNAS_F16_QUIET_NAN,
    LPNAS_F16_NEG_INF,
    LPNAS_F16_NEG_NORMAL,
    LPNAS_F16_NEG_SUBNORMAL,
    LPNAS_F16_NEG_ZERO,
    LPNAS_F16_POS_ZERO,
    LPNAS_F16_POS_SUBNORMAL,
    LPNAS_F16_POS_NORMAL,
    LPNAS_F16_POS_INF
} lpnas_f16_class;

lpnas_f16_class lpnas_f16_classify(lpnas_f16 a);
bool lpnas_f16_is_nan(lpnas_f16 a);
bool lpnas_f16_is_inf(lpnas_f16 a);
bool lpnas_f16_is_finite(lpnas_f16 a);

/* Array conversions with an explicit path, for tests and benches (the plain
 * functions above pick the best path the CPU has, detected once). All paths
 * give identical bits. Returns LPNAS_ERR_UNSUPPORTED (and converts nothing)
 * if the CPU lacks the instructions of the requested path. */
typedef enum {
    LPNAS_F16_PATH_AUTO,
    LPNAS_F16_PATH_PORTABLE,
    LPNAS_F16_PATH_F16C,    /* F16C + AVX2: 8 lanes */
    LPNAS_F16_PATH_AVX512   /* AVX-512F: 16 lanes */
} lpnas_f16_path;
lpnas_status lpnas_f16_from_f32_array_path(lpnas_f16_path path, lpnas_f16 *dst, const float *src,
                                           size_t n, lpnas_round rm);
lpnas_status lpnas_f16_to_f32_array_path(lpnas_f16_path path, float *dst, const lpnas_f16 *src,
                                         size_t n);
bool lpnas_f16_path_available(lpnas_f16_path path);
lpnas_f16_path lpnas_f16_best_path(void); /* what AUTO resolves to on this CPU */
const char *lpnas_f16_path_name(lpnas_f16_path path);

#ifdef __cplusplus
}
#endif
#endif
