// rope.h — RoPE's pair math: which two dimensions of a head rotate together and the rotation.
// Half pairing (NeoX, Llama): i with i + half; Interleaved (DeepSeek, Llama 4): 2i with 2i + 1.
// cos/sin already carry the attention factor (engine's make_rope_table).
#pragma once

#include "kernels/math/host_device.h"

namespace moescope::kmath {

// Dimension of pair i's first and second element within the rotated part of a head.
MOESCOPE_HD int rope_first(int i, bool interleaved) { return interleaved ? 2 * i : i; }
MOESCOPE_HD int rope_second(int i, int half, bool interleaved) { return interleaved ? 2 * i + 1 : i + half; }

// (a, b) rotated by the angle whose cosine and sine are c and s.
MOESCOPE_HD void rope_rotate(float& a, float& b, float c, float s) {
  const float a0 = a, b0 = b;
  a = a0 * c - b0 * s;
  b = b0 * c + a0 * s;
}

// Llama 4 NoPE layers: q at document position p is scaled by 1 + scale * ln(1 + floor((p + 1) / floor_scale)).
MOESCOPE_HD float temperature_factor(uint32_t position, float attn_scale, float floor_scale) {
  return 1.f + attn_scale * log1pf(floorf((float(position) + 1.f) / floor_scale));
}

}  // namespace moescope::kmath
