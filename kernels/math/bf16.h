// bf16.h — BF16 <-> FP32 bit conversions (round to nearest even, NaN kept quiet), the same on the
// GPU and the host; tests check them against engine/checkpoint/dtype.h on every 16-bit pattern.
#pragma once

#include <cstring>

#include "kernels/math/host_device.h"

namespace moescope::kmath {

MOESCOPE_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

MOESCOPE_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

MOESCOPE_HD float bf16_bits_to_float(uint16_t b) { return bits_float(uint32_t(b) << 16); }

MOESCOPE_HD uint16_t float_to_bf16_bits(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN stays a (quiet) NaN
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// IEEE half -> float, exact (subnormals included): F16 weights are widened on upload.
MOESCOPE_HD float f16_bits_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0) {
    const float v = float(man) * (1.0f / 16777216.0f);  // man * 2^-24
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (man << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

}  // namespace moescope::kmath
