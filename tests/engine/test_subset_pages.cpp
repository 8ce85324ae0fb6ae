// test_subset_pages.cpp — loading an expert subset reads none of the dropped experts' bytes.
// Checked from outside the loader: the checkpoint is written fresh, its pages evicted from the
// page cache (POSIX_FADV_DONTNEED after the writer's fsync), the subset loaded, and then
// mincore(2) on an independent mapping of each shard tells which pages the load brought back.
// Tensor offsets come from parsing the headers here, not from the reader under test. A second,
// page-cache-free check counts the bytes the process read through read()/pread (/proc/self/io
// rchar): less than the kept tensors, so no whole-file read (a checksum, say) happened either.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/synthetic_checkpoint.h"
#include "engine/model.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope;

namespace {

struct Range {
  std::string file, tensor;
  uint64_t begin = 0, end = 0;  // absolute byte offsets in the file
};

// Every tensor's absolute byte range, from the raw header bytes.
std::vector<Range> tensor_ranges(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  std::string header(size_t(n), '\0');
  in.read(header.data(), std::streamsize(n));
  const nlohmann::json j = nlohmann::json::parse(header);
  std::vector<Range> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& off = it.value()["data_offsets"];
    out.push_back({path, it.key(), 8 + n + off[0].get<uint64_t>(), 8 + n + off[1].get<uint64_t>()});
  }
  return out;
}

void evict(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// Page-cache residency of every page of the file (1 = in memory), through a fresh mapping.
std::vector<unsigned char> resident_pages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  const size_t size = fs::file_size(path), page = size_t(::sysconf(_SC_PAGESIZE));
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  std::vector<unsigned char> v((size + page - 1) / page);
  REQUIRE(::mincore(map, size, v.data()) == 0);
  ::munmap(map, size);
  for (auto& b : v) b &= 1;
  return v;
}

// Resident and total pages lying wholly inside [begin, end) (pages shared with a neighbour are
// left out: they may rightly be read for the neighbour).
std::pair<size_t, size_t> inner_pages(const std::vector<unsigned char>& res, uint64_t begin, uint64_t end) {
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  size_t in = 0, all = 0;
  for (uint64_t p = (begin + page - 1) / page; (p + 1) * page <= end; ++p, ++all) in += res[size_t(p)];
  return {in, all};
}

uint64_t bytes_read_by_syscalls() {
  std::ifstream in("/proc/self/io");
  std::string key;
  uint64_t v = 0;
  while (in >> key >> v)
    if (key == "rchar:") return v;
  FAIL("no rchar in /proc/self/io");
  return 0;
}

// "model.layers.L.mlp.experts.E.*" -> {L, E}; {-1, -1} for other tensors.
std::pair<int, int> expert_of(const std::string& name) {
  int l = -1, e = -1;
  char rest[64];
  if (std::sscanf(name.c_str(), "model.layers.%d.mlp.experts.%d.%63s", &l, &e, rest) == 3) return {l, e};
  return {-1, -1};
}

void check_subset_reads_only_kept(DType dtype) {
  const test::TempDir tmp(std::string("subset-pages-") + dtype_name(dtype));
  SyntheticCheckpointSpec spec;
  spec.layers = 2;
  spec.experts = 16;
  spec.top_k = 4;
  spec.hidden = 128;
  spec.intermediate = 128;  // an expert matrix spans 8 (BF16) or 16 (F32) pages
  spec.heads = 4;
  spec.dtype = dtype;
  spec.shard_bytes = 1 << 20;
  spec.tokenizer = test::source_dir() + "/samples/models/emo-sample/tokenizer.json";
  const std::string dir = tmp / "ckpt";
  write_synthetic_checkpoint(dir, spec);

  // Kept and dropped experts alternate, so a read-ahead around any kept one would show.
  const ModelConfig config = ModelConfig::from_file(dir + "/config.json");
  const ExpertSubset subset = ExpertSubset::from_json_text(
      R"({"experts_kept_per_layer": [[0, 3, 7, 8, 12], [1, 2, 10]]})", "keep", config);

  std::vector<Range> ranges;
  std::vector<std::string> shards;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") shards.push_back(e.path().string());
  REQUIRE(shards.size() > 1);
  for (const auto& s : shards)
    for (const Range& r : tensor_ranges(s)) ranges.push_back(r);
  for (const auto& s : shards) evict(s);

  size_t cached_before = 0;
  for (const auto& s : shards)
    for (unsigned char b : resident_pages(s)) cached_before += b;
  const bool page_cache_observable = cached_before <= shards.size();  // eviction works on this file system
  if (!page_cache_observable) MESSAGE("page cache eviction has no effect here (tmpfs?): only the read() count is checked");

  const uint64_t rchar0 = bytes_read_by_syscalls();
  LoadOptions opt;
  opt.subset = &subset;
  opt.load_tokenizer = false;
  auto model = Model::load(dir, opt);
  const uint64_t rchar = bytes_read_by_syscalls() - rchar0;
  // Use what was loaded (F32 weights viewed in the mapping are read in place on first use).
  double sum = 0;
  for (const LayerWeights& lw : model->weights().layers)
    for (const ExpertWeights& x : lw.experts)
      if (x.loaded())
        for (const Matrix* m : {&x.gate_up, &x.down})
          if (m->form == WeightForm::F32)
            for (int64_t i = 0; i < m->rows * m->cols; ++i) sum += m->data[i];
  CHECK(std::isfinite(sum));

  uint64_t kept_bytes = 0, shared_bytes = 0, dropped_bytes = 0;
  size_t dropped_resident = 0, dropped_pages = 0, kept_resident = 0, kept_pages = 0;
  for (const auto& s : shards) {
    const std::vector<unsigned char> res = resident_pages(s);
    for (const Range& r : ranges) {
      if (r.file != s) continue;
      const auto [l, e] = expert_of(r.tensor);
      const auto [in, all] = inner_pages(res, r.begin, r.end);
      if (l < 0) {
        shared_bytes += r.end - r.begin;
      } else if (subset.keeps(config, l, e)) {
        kept_bytes += r.end - r.begin;
        kept_resident += in;
        kept_pages += all;
      } else {
        dropped_bytes += r.end - r.begin;
        dropped_resident += in;
        dropped_pages += all;
      }
    }
  }
  REQUIRE(dropped_pages > 100);
  REQUIRE(kept_pages > 50);
  if (page_cache_observable) {
    CHECK(dropped_resident == 0);
    CHECK(kept_resident == kept_pages);
  }
  // Bytes read through read()/pread: config.json, headers and the loaded tensors (all but F32
  // weights viewed in place, which AMX machines read once to split them), within a slack far
  // below the dropped experts' bytes, which any pass over them would add.
  const uint64_t slack = uint64_t(256) << 10;
  const bool in_place = dtype == DType::F32 && !model->weights().plan.amx;
  CHECK(rchar <= (in_place ? 0 : kept_bytes + shared_bytes) + slack);
  CHECK(dropped_bytes > 4 * slack);
}

}  // namespace

TEST_CASE("subset loading: dropped experts' pages are never read (BF16 read through pread)") {
  check_subset_reads_only_kept(DType::BF16);
}

TEST_CASE("subset loading: dropped experts' pages are never read (F32 in place, or read once to split for AMX)") {
  check_subset_reads_only_kept(DType::F32);
}
