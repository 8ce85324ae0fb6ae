// backend_maker.cpp — parsing `--device` and picking the backend's maker (backend_maker.h).
#include "kernels/backend_maker.h"

#include <cctype>
#include <cstdlib>
#include <vector>

#include "engine/error.h"
#include "kernels/cuda_device.h"
#ifdef MOESCOPE_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace moescope {

namespace {
// The value of environment variable `name`, one of `allowed` (the first when unset); Error otherwise.
[[maybe_unused]] std::string env_choice(const char* name, const std::vector<std::string>& allowed) {
  const char* v = std::getenv(name);
  if (!v || !*v) return allowed.front();
  std::string list;
  for (const std::string& a : allowed) {
    if (a == v) return a;
    list += (list.empty() ? "" : " or ") + a;
  }
  fail_expected(std::string("environment variable ") + name, "unknown value", list, std::string("'") + v + "'");
}
}  // namespace

Device parse_device(const std::string& text, const std::string& what) {
  if (text == "cpu") return {};
  if (text == "cuda") return {DeviceKind::Cuda, 0};
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() <= 8) {
    int index = 0;
    for (size_t i = 5; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) index = -1;
      if (index >= 0) index = index * 10 + (text[i] - '0');
    }
    if (index >= 0) return {DeviceKind::Cuda, index};
  }
  fail_expected(what, "unknown device", "cpu, cuda or cuda:N", "'" + text + "'");
}

std::shared_ptr<const BackendMaker> backend_maker(const Device& device) {
  if (device.kind == DeviceKind::Cpu) return nullptr;
  const CudaDeviceInfo& info = cuda_device_info();
  if (!info.available) fail("--device " + device.name(), info.reason);
  if (device.index >= info.count)
    fail("--device " + device.name(), "this machine has " + std::to_string(info.count) + " CUDA device" +
                                          (info.count == 1 ? "" : "s") + " (cuda:0" +
                                          (info.count > 1 ? "..cuda:" + std::to_string(info.count - 1) : "") + ")");
#ifdef MOESCOPE_WITH_CUDA
  // Kernel choices (kernels/cuda/cuda_backend.h), read here at the program's edge.
  cuda::CudaOptions options;
  options.experts = env_choice("MOESCOPE_CUDA_EXPERTS", {"loop", "grouped"}) == "grouped" ? cuda::ExpertGemm::Grouped
                                                                                      : cuda::ExpertGemm::Loop;
  options.fp32_attention = env_choice("MOESCOPE_CUDA_ATTENTION", {"tensor-cores", "fp32"}) == "fp32";
  return cuda_backend_maker(device.index, options);
#else
  fail("--device " + device.name(), info.reason);
#endif
}

Device device_for_local_rank(const Device& device, int local_rank, int device_count) {
  if (device.kind != DeviceKind::Cuda || device_count <= 0 || local_rank < 0) return device;
  return {DeviceKind::Cuda, local_rank % device_count};
}

}  // namespace moescope
