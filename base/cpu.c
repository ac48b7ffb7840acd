/* CPU feature detection (CPUID + XGETBV by hand: __builtin_cpu_supports
 * lacks "f16c" on some compilers, and the OS must save the wider registers,
 * XCR0, for the instructions to be usable) and the LPNAS_ISA cap. */
#include "base/cpu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define LPNAS_X86 1
#endif

#define F_AVX2 1u
#define F_FMA 2u
#define F_F16C 4u
#define F_AVX512F 8u
#define F_AVX512FP16 16u
#define F_YMM 32u
#define F_ZMM 64u
#define F_SSE2 128u
#define F_AVX 256u

static unsigned read_features(void)
{
    unsigned feat = 0;
#ifdef LPNAS_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (d & bit_SSE2)
        feat |= F_SSE2;
    if (c & bit_FMA)
        feat |= F_FMA;
    if (c & bit_F16C)
        feat |= F_F16C;
    if ((c & bit_OSXSAVE) && (c & bit_AVX)) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        (void)hi;
        feat |= F_AVX;
        if ((lo & 0x6) == 0x6)
            feat |= F_YMM;
        if ((lo & 0xE6) == 0xE6)
            feat |= F_ZMM;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if (b & bit_AVX2)
            feat |= F_AVX2;
        if (b & bit_AVX512F)
            feat |= F_AVX512F;
        if (d & (1u << 23)) /* AVX512-FP16: CPUID.(7,0):EDX[23] */
            feat |= F_AVX512FP16;
    }
#endif
    return feat;
}

/* One-time detection (pthread_once: the only global state besides the
 * thread-local error text). */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static lpnas_isa detected_isa, env_cap;
static char feat_text[96];

static void detect(void)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{F_SSE2, "sse2"}, {F_AVX, "avx"},         {F_AVX2, "avx2"},
                 {F_FMA, "fma"},   {F_F16C, "f16c"},       {F_AVX512F, "avx512f"},
                 {F_AVX512FP16, "avx512_fp16"}};
    unsigned f = read_features();
    detected_isa = LPNAS_ISA_PORTABLE;
    unsigned avx2 = F_AVX | F_YMM | F_AVX2 | F_FMA | F_F16C;
    if ((f & avx2) == avx2) {
        detected_isa = LPNAS_ISA_AVX2;
        if ((f & (F_AVX512F | F_ZMM)) == (F_AVX512F | F_ZMM))
            detected_isa = (f & F_AVX512FP16) ? LPNAS_ISA_AVX512FP16 : LPNAS_ISA_AVX512;
    }
    env_cap = lpnas_isa_parse(getenv("LPNAS_ISA"));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (f & names[i].bit) {
            if (feat_text[0])
                strcat(feat_text, " ");
            strcat(feat_text, names[i].name);
        }
    if (!feat_text[0])
        strcpy(feat_text, "none");
}

lpnas_isa lpnas_cpu_isa_detected(void)
{
    pthread_once(&once, detect);
    return detected_isa;
}

lpnas_isa lpnas_cpu_isa_clamp(lpnas_isa want)
{
    lpnas_isa d = lpnas_cpu_isa_detected();
    return want < d ? want : d;
}

lpnas_isa lpnas_cpu_isa(void)
{
    pthread_once(&once, detect);
    return lpnas_cpu_isa_clamp(env_cap);
}

lpnas_isa lpnas_isa_parse(const char *text)
{
    if (text && !strcmp(text, "portable"))
        return LPNAS_ISA_PORTABLE;
    if (text && !strcmp(text, "avx2"))
        return LPNAS_ISA_AVX2;
    if (text && !strcmp(text, "avx512"))
        return LPNAS_ISA_AVX512;
    return LPNAS_ISA_AVX512FP16; /* "avx512fp16", unset or anything else: no cap */
}

const char *lpnas_isa_name(lpnas_isa isa)
{
    return isa >= LPNAS_ISA_AVX512FP16 ? "avx512fp16"
           : isa == LPNAS_ISA_AVX512   ? "avx512"
           : isa == LPNAS_ISA_AVX2     ? "avx2"
                                       : "portable";
}

const char *lpnas_cpu_features(void)
{
    pthread_once(&once, detect);
    return feat_text;
}
