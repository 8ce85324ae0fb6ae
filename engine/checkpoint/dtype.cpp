// dtype.cpp — dtype names, sizes and widening conversions to fp32.
#include "engine/checkpoint/dtype.h"

#ifdef __AVX512BF16__
#include <immintrin.h>
#endif

#include <cstring>

namespace moescope {

std::optional<DType> dtype_from_name(std::string_view n) {
  if (n == "F32") return DType::F32;
  if (n == "BF16") return DType::BF16;
  if (n == "F16") return DType::F16;
  if (n == "F64") return DType::F64;
  if (n == "I64") return DType::I64;
  if (n == "I32") return DType::I32;
  if (n == "I16") return DType::I16;
  if (n == "I8") return DType::I8;
  if (n == "U8") return DType::U8;
  if (n == "BOOL") return DType::BOOL;
  return std::nullopt;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
  }
  return "?";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::BF16: case DType::F16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::BOOL: return 1;
  }
  return 0;
}

bool dtype_is_float_weight(DType d) { return d == DType::F32 || d == DType::BF16 || d == DType::F16; }

void bf16_to_f32_n(const uint16_t* in, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(in[i]);
}

void f32_to_bf16_n(const float* in, size_t n, uint16_t* out) {
  size_t i = 0;
#ifdef __AVX512BF16__
  // 16 at a time with the CPU's own round-to-nearest-even conversion (quiet NaNs kept).
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(in + i)));
#endif
  for (; i < n; ++i) out[i] = f32_to_bf16(in[i]);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) { mant <<= 1; --exp; }
      mant &= 0x3ffu;
      u = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (mant << 13);
  } else {
    u = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t f32_to_f16(float value) {
  uint32_t u;
  std::memcpy(&u, &value, 4);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u;           // NaN
  if (a >= 0x477ff000u) return sign | 0x7c00u;          // >= 65520 rounds to infinity
  if (a >= 0x38800000u)                                 // normal in f16 (>= 2^-14)
    return sign | uint16_t((a - (uint32_t(127 - 15) << 23) + 0xfffu + ((a >> 13) & 1u)) >> 13);
  if (a < 0x33000000u) return sign;                     // below half the smallest subnormal: zero
  // Subnormal in f16: units of 2^-24. value = mant * 2^(e - 150), so units = mant >> (126 - e).
  const int e = int(a >> 23);
  const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  const int shift = 126 - e;
  uint32_t r = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (r & 1u))) ++r;
  return sign | uint16_t(r);
}

void convert_to_f32(DType dtype, const void* src, float* dst, size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(src);
  switch (dtype) {
    case DType::F32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::BF16:
      if (reinterpret_cast<uintptr_t>(src) % alignof(uint16_t) == 0) return bf16_to_f32_n(static_cast<const uint16_t*>(src), n, dst);
      for (size_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, bytes + 2 * i, 2);
        dst[i] = bf16_to_f32(b);
      }
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, bytes + 2 * i, 2);
        dst[i] = f16_to_f32(b);
      }
      return;
    default:
      break;
  }
}

}  // namespace moescope
