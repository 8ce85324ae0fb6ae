// registry.cpp — every family moescope runs, one line each (family.h).
#include "engine/error.h"
#include "engine/families/family.h"

namespace moescope {

namespace {
const Family* const kRegistry[] = {
    &kEmoFamily,     &kOlmoeFamily,      &kFlexOlmoFamily,   &kMixtralFamily,    &kMistralFamily,
    &kQwen2MoeFamily, &kQwen3MoeFamily,  &kDeepseekV2Family, &kDeepseekV3Family, &kLlama4Family,
};
}  // namespace

const Family& family_of(Arch arch) {
  for (const Family* f : kRegistry)
    if (f->arch == arch) return *f;
  fail("model family", "internal error: no family registered for this architecture");
}

const Family* family_by_model_type(const std::string& model_type) {
  for (const Family* f : kRegistry)
    for (const char* name : f->model_types)
      if (model_type == name) return f;
  return nullptr;
}

std::string known_model_types() {
  std::string s;
  for (const Family* f : kRegistry)
    for (const char* name : f->model_types) s += (s.empty() ? "" : ", ") + std::string(name);
  return s;
}

}  // namespace moescope
