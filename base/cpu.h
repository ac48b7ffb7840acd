/* Internal: which SIMD code paths this CPU (and its OS) can run, for the
 * kernels' run-time dispatch, and a way to force a lower one.
 *
 *   LPNAS_ISA_PORTABLE  plain C (whatever the compiler's baseline is)
 *   LPNAS_ISA_AVX2      AVX2 + FMA + F16C, the OS saves ymm state
 *   LPNAS_ISA_AVX512    the above + AVX-512F, the OS saves zmm state
 *   LPNAS_ISA_AVX512FP16  the above + AVX512-FP16 (binary16 arithmetic:
 *                       only the fp16-accumulate conv uses it; every other
 *                       kernel runs its AVX-512F code there)
 *
 * The environment variable LPNAS_ISA=portable|avx2|avx512|avx512fp16 caps the level
 * (read once, with the detection): tests and benches run every path this
 * CPU has through it. A level above what the CPU has is ignored (capped to
 * the detected one), so forcing can never select an instruction the CPU
 * lacks. Functions that take an explicit level (the kernels' *_isa entry
 * points) clamp it the same way through lpnas_cpu_isa_clamp. */
#ifndef LPNAS_BASE_CPU_H
#define LPNAS_BASE_CPU_H

typedef enum { LPNAS_ISA_PORTABLE = 0, LPNAS_ISA_AVX2 = 1, LPNAS_ISA_AVX512 = 2, LPNAS_ISA_AVX512FP16 = 3 } lpnas_isa;
#define LPNAS_ISA_LEVELS (LPNAS_ISA_AVX512FP16 + 1) /* for arrays indexed by level */

lpnas_isa lpnas_cpu_isa_detected(void); /* what the hardware has, ignoring LPNAS_ISA */
lpnas_isa lpnas_cpu_isa(void);          /* detected, capped by LPNAS_ISA */
lpnas_isa lpnas_cpu_isa_clamp(lpnas_isa want); /* min(want, detected) */
const char *lpnas_isa_name(lpnas_isa isa);     /* "portable", "avx2", "avx512", "avx512fp16" */
/* The cap an LPNAS_ISA value sets: portable, avx2, avx512; avx512fp16, NULL or anything else: none. */
lpnas_isa lpnas_isa_parse(const char *text);
/* "sse2 avx avx2 fma f16c avx512f avx512_fp16 ..." of the flags the library knows. */
const char *lpnas_cpu_features(void);

#endif
