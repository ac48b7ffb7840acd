/* The OpenVINO MYRIAD plugin's host conversion FP32 -> FP16
 * (InferenceEngine::PrecisionUtils::f32tof16), reproduced bit for bit with
 * integer operations so that the host's rounding mode and FTZ/DAZ
 * settings cannot change it.
 *
 * The plugin computes, in binary32:
 *   halfULP = 2^(E-127) * 2^-11          (E = biased exponent of |x|; 0 if E == 0)
 *   v = |x| + halfULP                    (one binary32 addition, nearest-even)
 *   v <  2^-15       -> +-0
 *   v <  2^-14       -> +-2^-14          (0x0400)
 *   v >= 65504       -> +-65504          (0x7BFF, saturation, no inf)
 *   else             -> bits(v) truncated to binary16 (rebias, drop 13 bits)
 *   NaN  -> (sign | (bits >> 13) | 0x200) truncated to 16 bits: the exponent
 *           bits shifted out of the f16 field land in bit 15, so every NaN
 *           comes out with the sign bit set: 0xFE00 | top payload bits.
 *   +-inf -> +-inf.
 * In the normal range this is exactly "nearest, ties away": the binary32
 * addition is exact unless the sum reaches the next binade, and then the
 * truncation gives 2^(e+1), as ties-away does. The differences from IEEE
 * are the flush/saturation rules and the NaN sign. We still emulate the
 * addition itself, including its binary32 rounding, so that the code can be
 * read against the plugin's. */
#include "fp16/myriadx.h"

uint16_t lpnas_myriadx_f32tof16(float x)
{
    uint32_t u = lpnas_f32_bits(x);
    uint16_t s = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7FFFFFFFu;
    uint32_t E = a >> 23;
    if (E == 0xFF)
        return (uint16_t)((a & 0x7FFFFF) ? (0xFE00u | ((a & 0x7FFFFF) >> 13)) : (s | 0x7C00u));
    /* |x| < 2^-16: v < 2^-16 * (1 + 2^-11) < 2^-15 -> zero (this also
     * covers E == 0, where halfULP is 0). */
    if (E <= 110)
        return s;
    /* In units of 2^(E-150): sig = 1.m * 2^23, halfULP = 2^12. */
    uint32_t S = (0x800000u | (a & 0x7FFFFF)) + 0x1000u;
    uint32_t w;
    if (S < 0x1000000u) {
        w = (E << 23) | (S - 0x800000u);
    } else {
        /* The sum reached the next binade: binary32 keeps S/2, nearest-even. */
        uint32_t half = (S >> 1) + (S & (S >> 1) & 1u);
        w = ((E + 1) << 23) + (half - 0x800000u);
    }
    if (w < 0x38000000u) /* 2^-15 */
        return s;
    if (w < 0x38800000u) /* 2^-14 */
        return (uint16_t)(s | 0x0400u);
    if (w >= 0x477FE000u) /* 65504 */
        return (uint16_t)(s | 0x7BFFu);
    return (uint16_t)(s | ((w - (112u << 23)) >> 13));
}
