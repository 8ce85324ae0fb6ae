// fuzz_safetensors.cpp — SafetensorsFile (engine/checkpoint/safetensors.h) on arbitrary file contents.
// The bytes are written to a per-process scratch file and opened like a checkpoint shard.
// A bug: anything but moescope::Error escaping, a sanitizer report, or a file that opens although
// its tensors do not tile the data buffer exactly: every tensor's bytes must lie inside the file,
// hold shape x dtype bytes, and be the very bytes at its offset in the input; dimensions >= 0.
#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/error.h"
#include "engine/checkpoint/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using moescope::fuzz::bug;

void check_tensors(const moescope::SafetensorsFile& f, const uint8_t* data, size_t size) {
  if (f.file_size() != size) bug("file_size() differs from the bytes written");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  const size_t data_start = 8 + size_t(header_len);
  if (data_start > size) bug("opened although the header runs past the end");

  std::vector<const moescope::TensorInfo*> tensors;
  for (const auto& [name, t] : f.tensors()) {
    if (t.name != name) bug("tensor stored under another name: " + name);
    if (f.find(name) != &t) bug("find() misses tensor " + name);
    if (!t.file || *t.file != f.path()) bug("tensor " + name + " does not name its file");
    for (int64_t d : t.shape)
      if (d < 0) bug("tensor " + name + " has a negative dimension");
    if (uint64_t(t.numel()) * moescope::dtype_size(t.dtype) != t.nbytes)
      bug("tensor " + name + ": nbytes != shape x dtype size");
    tensors.push_back(&t);
  }
  // The header promises an exact tiling of [data_start, size): walk it in data order. An empty
  // tensor ([x, x]) may share its start with the tensor at x, so ties go empty-first.
  std::stable_sort(tensors.begin(), tensors.end(), [](const auto* a, const auto* b) {
    return a->data != b->data ? a->data < b->data : a->nbytes < b->nbytes;
  });
  size_t covered = 0;
  const unsigned char* first = tensors.empty() ? nullptr : tensors.front()->data;
  for (const moescope::TensorInfo* t : tensors) {
    const size_t at = size_t(t->data - first);
    if (at != covered) bug("tensor " + t->name + " does not start where the previous one ended");
    if (data_start + at + t->nbytes > size) bug("tensor " + t->name + " runs past the end of the file");
    if (t->nbytes && std::memcmp(t->data, data + data_start + at, t->nbytes) != 0)
      bug("tensor " + t->name + " does not map the bytes at its offset");
    covered += t->nbytes;
  }
  if (data_start + covered != size) bug("opened although the tensors do not cover the data buffer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = moescope::fuzz::scratch_path("model.safetensors");
  moescope::fuzz::write_scratch(path, data, size);
  try {
    const moescope::SafetensorsFile f(path);
    check_tensors(f, data, size);
  } catch (const moescope::Error&) {
  }
  return 0;
}
