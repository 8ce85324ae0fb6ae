// dtype.h — storage dtypes of checkpoint tensors and their conversion to fp32.
// The CPU path computes in fp32 whatever the storage dtype (BF16/F16 are widened on load).
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

float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);  // round to nearest even, as PyTorch does
float f16_to_f32(uint16_t bits);
uint16_t f32_to_f16(float value);   // round to nearest even; overflow gives +-inf

// Widen n elements of a float weight tensor (F32/BF16/F16, little-endian, any alignment) to fp32.
void convert_to_f32(DType dtype, const void* src, float* dst, size_t n);

}  // namespace moescope
