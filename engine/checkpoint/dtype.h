// dtype.h — storage dtypes of checkpoint tensors and their conversion to fp32.
// Weights stay in their storage dtype (engine/weights.h); these convert values for the kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moescope {

enum class DType { F32, BF16, F16, F64, I64, I32, I16, I8, U8, BOOL };

std::optional<DType> dtype_from_name(std::string_view safetensors_name);  // "F32", "BF16", ...
const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);
bool dtype_is_float_weight(DType dtype);  // F32, BF16, F16: what model weights may use

// The one BF16 rounding and the one BF16 widening of the project (scalar and n at a time).
inline float bf16_to_f32(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
// Round to nearest even, as PyTorch does; NaN stays a (quiet) NaN.
inline uint16_t f32_to_bf16(float value) {
  uint32_t u;
  __builtin_memcpy(&u, &value, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
void bf16_to_f32_n(const uint16_t* in, size_t n, float* out);  // vectorised by the compiler
void f32_to_bf16_n(const float* in, size_t n, uint16_t* out);  // AVX512-BF16's conversion where built with it
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);   // round to nearest even; overflow gives +-inf

// Widen n elements of a float weight tensor (F32/BF16/F16, little-endian, any alignment) to fp32.
void convert_to_f32(DType dtype, const void* src, float* dst, size_t n);

}  // namespace moescope
