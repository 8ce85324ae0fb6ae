// test_emo_export.cpp — the EMO pipeline export: .npy headers NumPy reads, layer-major float16
// router logits equal to the forward pass, token ids and boundaries consistent.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/emo_export.h"
#include "analysis/npy_writer.h"
#include "engine/checkpoint/dtype.h"
#include "engine/error.h"
#include "tests/test_paths.h"

using namespace moescope;

namespace {
// Returns the header dict text and the payload bytes of a .npy file.
std::pair<std::string, std::string> read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  REQUIRE(all.size() >= 10);
  CHECK(all.substr(0, 6) == "\x93NUMPY");
  const size_t hlen = size_t(uint8_t(all[8])) | size_t(uint8_t(all[9])) << 8;
  CHECK((10 + hlen) % 64 == 0);
  return {all.substr(10, hlen), all.substr(10 + hlen)};
}
}  // namespace

TEST_CASE("npy writer: header, padding, shape checks") {
  test::TempDir tmp("npy");
  const std::vector<int64_t> v = {1, -2, 3};
  write_npy(tmp / "a.npy", "<i8", {3}, v.data(), 8);
  auto [h, data] = read_npy(tmp / "a.npy");
  CHECK(h.find("'descr': '<i8'") != std::string::npos);
  CHECK(h.find("'shape': (3,)") != std::string::npos);
  CHECK(h.back() == '\n');
  REQUIRE(data.size() == 24);
  int64_t second;
  std::memcpy(&second, data.data() + 8, 8);
  CHECK(second == -2);
  NpyWriter w(tmp / "b.npy", "<f2", {2, 2}, 2);
  const uint16_t x[3] = {1, 2, 3};
  w.append(x, 3);
  CHECK_THROWS_AS(w.finish(), Error);  // 3 of 4 elements
  CHECK_FALSE(std::filesystem::exists(tmp / "b.npy"));
}

TEST_CASE("export-emo: float16 layer-major logits of the standard experts equal the forward pass") {
  test::TempDir tmp("emo-export");
  const auto model = Model::load(test::fixtures_dir() + "/models/emo-per-layer");  // dense layer 0, MoE layers 1, 2
  const std::vector<CorpusDocument> docs = {{"a", "x", "", "hello world of experts"}, {"b", "y", "", ""},
                                            {"c", "x", "", "another text, somewhat longer than the first one"}};
  const EmoExportSummary s = export_emo_pipeline(*model, docs, tmp / "out", 6, 8);
  CHECK(s.documents == 2);
  CHECK(s.skipped == 1);
  // The standard experts of the MoE layers, from the config (shared columns dropped).
  size_t width = 0;
  for (const LayerSpec& l : model->config().layers) width += size_t(l.num_standard());
  CHECK(s.emb_dim == int64_t(width));
  auto [h, data] = read_npy(tmp / "out/embeddings_logits.npy");
  CHECK(h.find("'shape': (" + std::to_string(s.tokens) + ", " + std::to_string(width) + ")") != std::string::npos);
  auto [hb, bounds_raw] = read_npy(tmp / "out/doc_boundaries.npy");
  std::vector<int64_t> bounds(bounds_raw.size() / 8);
  std::memcpy(bounds.data(), bounds_raw.data(), bounds_raw.size());
  REQUIRE(bounds.size() == 3);
  CHECK(bounds[2] == int64_t(s.tokens));
  // Row t of document 0 against the model's own router logits.
  const Encoding enc = model->tokenizer()->encode(docs[0].text);
  std::vector<int32_t> ids = enc.ids;
  if (ids.size() > 6) ids.resize(6);
  CHECK(bounds[1] == int64_t(ids.size()));
  ForwardOptions fo;
  fo.router_logits = true;
  const ForwardResult r = model->forward({ids}, fo);
  for (size_t t = 0; t < ids.size(); ++t) {
    size_t col = 0;
    for (const LayerRecord& l : r.layers)
      for (int e = 0; e < l.num_standard; ++e, ++col) {
        uint16_t got;
        std::memcpy(&got, data.data() + (t * width + col) * 2, 2);
        CHECK(got == f32_to_f16(l.router_logits[t * size_t(l.num_experts) + size_t(e)]));
      }
  }
  CHECK_THROWS_WITH_AS(export_emo_pipeline(*model, docs, tmp / "out", 6), doctest::Contains("already exists"), Error);
}
