// rope_scaling.cpp — see rope_scaling.h. Every tensor step of the reference is one fp32 operation
// here, in the same order (this file is built with -ffp-contract=off so no step is fused); the
// scalars the reference keeps in Python floats are doubles. `x / t` of a Python number by a tensor
// is reciprocal(t) * x in torch, and is written that way.
#include "engine/rope_scaling.h"

#include <algorithm>
#include <cmath>
#include <numbers>


namespace moescope {

std::vector<float> rope_inv_freq(float theta, int dim) {
  std::vector<float> inv_freq(size_t(dim / 2));
  for (int i = 0; i < dim / 2; ++i) inv_freq[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(dim));
  return inv_freq;
}

namespace {

constexpr double kPi = std::numbers::pi;

// get_mscale of _compute_yarn_parameters (and yarn_get_mscale of DeepSeek's attention).
double yarn_mscale(double scale, double mscale) { return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

// The dimension (in [0, dim)) at which a frequency makes `rotations` turns over `context` positions.
double correction_dim(double rotations, int dim, double base, double context) {
  return (dim * std::log(context / (rotations * 2 * kPi))) / (2 * std::log(base));
}

RopeFrequencies yarn(const RopeSpec& s, int dim) {
  RopeFrequencies out;
  const double f = s.factor;
  if (s.attention_factor) out.attention_factor = float(*s.attention_factor);
  else if (s.mscale != 0 && s.mscale_all_dim != 0) out.attention_factor = float(yarn_mscale(f, s.mscale) / yarn_mscale(f, s.mscale_all_dim));
  else out.attention_factor = float(yarn_mscale(f, 1.0));

  // Dimensions below `low` keep their frequency (extrapolation), above `high` are divided by the
  // factor (interpolation); a linear ramp in between.
  const double context = s.original_max_position_embeddings;
  double low = correction_dim(s.beta_fast, dim, s.theta, context), high = correction_dim(s.beta_slow, dim, s.theta, context);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(dim - 1));
  if (low == high) high += 0.001;  // the reference's guard against a zero-width ramp
  const float low_f = float(low), span = float(high - low), base = float(s.theta), factor = float(f);

  const int half = dim / 2;
  out.inv_freq.resize(size_t(half));
  for (int i = 0; i < half; ++i) {
    const float pos_freq = std::pow(base, float(2 * i) / float(dim));
    const float extrapolation = 1.0f / pos_freq;
    const float interpolation = 1.0f / (factor * pos_freq);
    const float ramp = std::clamp((float(i) - low_f) / span, 0.0f, 1.0f);
    const float extrapolation_factor = 1.0f - ramp;
    out.inv_freq[size_t(i)] = interpolation * (1.0f - extrapolation_factor) + extrapolation * extrapolation_factor;
  }
  return out;
}

// Llama 3.1: wavelengths longer than original / low_freq_factor are divided by the factor,
// shorter than original / high_freq_factor kept, and the band between smoothly blended.
RopeFrequencies llama3(const RopeSpec& s, int dim) {
  RopeFrequencies out;
  out.inv_freq = rope_inv_freq(float(s.theta), dim);
  const double context = s.original_max_position_embeddings;
  const float low_wavelen = float(context / s.low_freq_factor), high_wavelen = float(context / s.high_freq_factor);
  const float factor = float(s.factor), two_pi = float(2 * kPi), context_f = float(context);
  const float low_ff = float(s.low_freq_factor), band = float(s.high_freq_factor - s.low_freq_factor);
  for (float& f : out.inv_freq) {
    const float wavelen = (1.0f / f) * two_pi;
    const float scaled = wavelen > low_wavelen ? f / factor : f;
    const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
    if (medium) {
      const float smooth = ((1.0f / wavelen) * context_f - low_ff) / band;
      f = (1.0f - smooth) * scaled / factor + smooth * scaled;
    } else {
      f = scaled;
    }
  }
  return out;
}

}  // namespace

RopeFrequencies rope_frequencies(const RopeSpec& spec, int dim) {
  switch (spec.type) {
    case RopeType::Yarn: return yarn(spec, dim);
    case RopeType::Llama3: return llama3(spec, dim);
    case RopeType::Linear: {
      RopeFrequencies out{rope_inv_freq(float(spec.theta), dim), 1.f};
      for (float& f : out.inv_freq) f /= float(spec.factor);
      return out;
    }
    case RopeType::Default: break;
  }
  return {rope_inv_freq(float(spec.theta), dim), 1.f};
}

float mla_softmax_scale(const RopeSpec& spec, int qk_head_dim) {
  double scale = std::pow(double(qk_head_dim), -0.5);
  if (spec.type != RopeType::Default && spec.mscale_all_dim != 0) {
    const double m = yarn_mscale(spec.factor, spec.mscale_all_dim);
    scale = scale * m * m;
  }
  return float(scale);
}

}  // namespace moescope
