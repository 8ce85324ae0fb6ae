// Safetensors reader: round trip through the writer, then every malformed header we can think of,
// each asserting the message names the file, the tensor and the problem.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <limits>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/checkpoint/checkpoint.h"
#include "engine/error.h"
#include "engine/checkpoint/safetensors.h"
#include "engine/checkpoint/safetensors_writer.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope;

namespace {

// A raw file: 8-byte little-endian header length, the header text, then `data_bytes` zero bytes.
std::string raw_file(const std::string& dir, const std::string& header, size_t data_bytes, int64_t declared_len = -1) {
  std::string path = dir + "/raw.safetensors";
  std::ofstream out(path, std::ios::binary);
  uint64_t n = declared_len >= 0 ? uint64_t(declared_len) : header.size();
  for (int i = 0; i < 8; ++i) out.put(char((n >> (8 * i)) & 0xff));
  out << header;
  out << std::string(data_bytes, '\0');
  return path;
}

std::string error_of(const std::string& path) {
  try {
    SafetensorsFile f(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safetensors: writer output reads back with dtypes, shapes and values") {
  const moescope::test::TempDir tmp("st-roundtrip");
  const std::string dir = tmp.str();
  const std::string path = dir + "/model.safetensors";
  write_safetensors(path, {tensor_f32("a", {2, 3}, {1, 2, 3, 4, 5, 6}), tensor_bf16("b", {3}, {1.0f, -2.5f, 0.15625f})},
                    {{"format", "pt"}});
  SafetensorsFile f(path);
  REQUIRE(f.tensors().size() == 2);
  const TensorInfo* a = f.find("a");
  REQUIRE(a);
  CHECK(a->dtype == DType::F32);
  CHECK(a->shape == std::vector<int64_t>{2, 3});
  float v[6];
  std::memcpy(v, a->data, sizeof v);
  CHECK(v[5] == 6.0f);
  const TensorInfo* b = f.find("b");
  REQUIRE(b);
  CHECK(b->dtype == DType::BF16);
  float w[3];
  convert_to_f32(b->dtype, b->data, w, 3);
  CHECK(w[0] == 1.0f);
  CHECK(w[1] == -2.5f);
  CHECK(w[2] == 0.15625f);  // exactly representable in bf16
  CHECK(f.metadata().at("format") == "pt");
  // No temporary file is left beside the output.
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir)) { (void)e; ++entries; }
  CHECK(entries == 1);
}

TEST_CASE("safetensors: the streamed writer produces tensor by tensor; a failing producer leaves no file") {
  const moescope::test::TempDir tmp("st-streamed");
  const std::string path = tmp / "s.safetensors";
  const std::vector<TensorLayout> layouts = {{"x", DType::F32, {3}}, {"y", DType::BF16, {2, 2}}};
  std::vector<size_t> asked;
  write_safetensors_streamed(path, layouts, [&](size_t i, unsigned char* dst) {
    asked.push_back(i);
    for (size_t k = 0; k < layouts[i].nbytes(); ++k) dst[k] = static_cast<unsigned char>(16 * i + k);
  });
  CHECK(asked == std::vector<size_t>{0, 1});
  {
    SafetensorsFile f(path);
    REQUIRE(f.find("y"));
    CHECK(f.find("y")->nbytes == 8);
    unsigned char y[8];
    f.read_data(f.find("y")->data, 8, y);  // through pread, as the loader reads
    for (int k = 0; k < 8; ++k) CHECK(y[k] == 16 + k);
    CHECK(std::memcmp(y, f.find("y")->data, 8) == 0);  // and the same through the mapping
  }
  // Same bytes as the in-memory writer given the same tensors.
  std::vector<TensorToWrite> whole = {{"x", DType::F32, {3}, {}}, {"y", DType::BF16, {2, 2}, {}}};
  for (size_t i = 0; i < 2; ++i)
    for (size_t k = 0; k < layouts[i].nbytes(); ++k) whole[i].bytes.push_back(static_cast<unsigned char>(16 * i + k));
  write_safetensors(tmp / "w.safetensors", whole);
  std::ifstream a(path, std::ios::binary), b(tmp / "w.safetensors", std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(a), {}) == std::string(std::istreambuf_iterator<char>(b), {}));

  const std::string failed = tmp / "failed.safetensors";
  CHECK_THROWS_WITH_AS(write_safetensors_streamed(failed, layouts,
                                                  [](size_t i, unsigned char*) {
                                                    if (i == 1) fail("producer", "gave up");
                                                  }),
                       "producer: gave up", Error);
  int entries = 0;
  for (auto& e : fs::directory_iterator(tmp.str())) entries += e.path().filename().string().rfind("failed", 0) == 0;
  CHECK(entries == 0);  // neither the file nor its temporary
}

TEST_CASE("safetensors: a file cut after opening gives an Error when read, not a crash") {
  const moescope::test::TempDir tmp("st-cut");
  const std::string path = tmp / "m.safetensors";
  write_safetensors(path, {tensor_f32("a", {4}, {1, 2, 3, 4}), tensor_bf16("b", {1024}, std::vector<float>(1024, 0.5f))});
  SafetensorsFile f(path);
  const TensorInfo& b = *f.find("b");
  fs::resize_file(path, f.file_size() - 1000);  // the loader reads BF16 tensors with pread
  const size_t at = size_t(f.file_size() - 1000);
  std::vector<unsigned char> out(b.nbytes);
  std::string expected = path + ": byte offset ";
  expected += std::to_string(at);
  expected += ": file ended early (changed since it was opened?) (expected ";
  expected += std::to_string(f.file_size());
  expected += " bytes, found end of file)";
  CHECK_THROWS_WITH_AS(f.read_data(b.data, b.nbytes, out.data()), expected.c_str(), Error);
}

TEST_CASE("safetensors: bf16 and f16 conversion against hand-computed values") {
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  CHECK(bf16_to_f32(0xc000) == -2.0f);
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(1.00390625f) == 0x3f80);  // halfway 1 + 2^-8 rounds to even (down)
  CHECK(f32_to_bf16(1.01171875f) == 0x3f82);  // halfway 1 + 3*2^-8 rounds to even (up)
  CHECK(f16_to_f32(0x3c00) == 1.0f);
  CHECK(f16_to_f32(0xc000) == -2.0f);
  CHECK(f16_to_f32(0x0001) == doctest::Approx(5.960464477539063e-08f));  // smallest subnormal 2^-24
  CHECK(f16_to_f32(0x7bff) == 65504.0f);
  CHECK(std::isinf(f16_to_f32(0x7c00)));
}

TEST_CASE("f32 -> f16: hand-computed values, ties to even, and every f16 value round-trips") {
  CHECK(f32_to_f16(1.0f) == 0x3c00);
  CHECK(f32_to_f16(-2.0f) == 0xc000);
  CHECK(f32_to_f16(0.1f) == 0x2e66);                    // 0.0999755859375
  CHECK(f32_to_f16(65504.0f) == 0x7bff);
  CHECK(f32_to_f16(65519.0f) == 0x7bff);                // below the rounding point
  CHECK(f32_to_f16(65520.0f) == 0x7c00);                // rounds to infinity
  CHECK(f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);      // halfway between 1 and 1+2^-10: even (down)
  CHECK(f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);      // halfway, odd below: up
  CHECK(f32_to_f16(5.960464477539063e-08f) == 0x0001);  // 2^-24, smallest subnormal
  CHECK(f32_to_f16(2.9802322387695312e-08f) == 0x0000); // 2^-25, exactly half: ties to even (zero)
  CHECK(f32_to_f16(4.5e-08f) == 0x0001);                // above half: rounds up
  CHECK(f32_to_f16(-0.0f) == 0x8000);
  CHECK((f32_to_f16(std::nanf("")) & 0x7c00) == 0x7c00);
  CHECK(f32_to_f16(std::numeric_limits<float>::infinity()) == 0x7c00);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads
    if (f32_to_f16(f16_to_f32(uint16_t(h))) != h) {
      FAIL("f16 0x" << std::hex << h << " does not round-trip");
    }
  }
}

TEST_CASE("safetensors: malformed files give messages naming file, tensor and problem") {
  const moescope::test::TempDir tmp("st-bad");
  const std::string dir = tmp.str();
  SUBCASE("file shorter than the length field") {
    std::string p = dir + "/short.safetensors";
    std::ofstream(p, std::ios::binary) << "abc";
    std::string e = error_of(p);
    CHECK(e.find(p) != std::string::npos);
    CHECK(e.find("too short") != std::string::npos);
  }
  SUBCASE("header length past the end (truncated)") {
    std::string e = error_of(raw_file(dir, "{}", 0, 4096));
    CHECK(e.find("header runs past the end of the file") != std::string::npos);
  }
  SUBCASE("implausible header length") {
    std::string e = error_of(raw_file(dir, "{}", 0, int64_t(1) << 40));
    CHECK(e.find("implausible") != std::string::npos);
  }
  SUBCASE("header is not JSON") {
    std::string e = error_of(raw_file(dir, "{\"a\": [", 0));
    CHECK(e.find("not valid JSON") != std::string::npos);
  }
  SUBCASE("unknown dtype") {
    std::string e = error_of(raw_file(dir, R"({"w":{"dtype":"F8","shape":[2],"data_offsets":[0,2]}})", 2));
    CHECK(e.find("tensor 'w'") != std::string::npos);
    CHECK(e.find("unknown dtype") != std::string::npos);
    CHECK(e.find("'F8'") != std::string::npos);
  }
  SUBCASE("size does not match shape x dtype") {
    std::string e = error_of(raw_file(dir, R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20));
    CHECK(e.find("tensor 'w'") != std::string::npos);
    CHECK(e.find("expected 24 bytes, found 20 bytes") != std::string::npos);
  }
  SUBCASE("data past the end of the file (truncated data)") {
    std::string e = error_of(raw_file(dir, R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8));
    CHECK(e.find("tensor 'w'") != std::string::npos);
    CHECK(e.find("past the end of the file") != std::string::npos);
  }
  SUBCASE("overlapping tensors") {
    std::string e = error_of(raw_file(
        dir, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12));
    CHECK(e.find("overlaps") != std::string::npos);
    CHECK(e.find("tensor 'b'") != std::string::npos);
  }
  SUBCASE("hole in the buffer") {
    std::string e = error_of(raw_file(
        dir, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12));
    CHECK(e.find("hole") != std::string::npos);
  }
  SUBCASE("trailing bytes after the last tensor") {
    std::string e = error_of(raw_file(dir, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 9));
    CHECK(e.find("data buffer size does not match") != std::string::npos);
  }
  SUBCASE("negative shape entry") {
    std::string e = error_of(raw_file(dir, R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4));
    CHECK(e.find("bad shape entry") != std::string::npos);
  }
  SUBCASE("missing data_offsets") {
    std::string e = error_of(raw_file(dir, R"({"a":{"dtype":"F32","shape":[1]}})", 4));
    CHECK(e.find("data_offsets") != std::string::npos);
  }
}

TEST_CASE("checkpoint: sharded index resolves tensors; broken indexes are named") {
  const moescope::test::TempDir tmp("ckpt-sharded");
  const std::string dir = tmp.str();
  write_safetensors(dir + "/model-00001-of-00002.safetensors", {tensor_f32("x", {2}, {1, 2})});
  write_safetensors(dir + "/model-00002-of-00002.safetensors", {tensor_f32("y", {1}, {3})});
  auto write_index = [&](const std::string& body) {
    std::ofstream(dir + "/model.safetensors.index.json") << body;
  };
  write_index(R"({"metadata":{},"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors"}})");
  {
    Checkpoint c(dir);
    CHECK(c.files().size() == 2);
    CHECK(c.get("y").shape == std::vector<int64_t>{1});
    std::string e;
    try { c.get("z"); } catch (const Error& err) { e = err.what(); }
    CHECK(e.find("tensor 'z' is missing") != std::string::npos);
  }
  write_index(R"({"weight_map":{"x":"model-00003-of-00002.safetensors"}})");
  CHECK_THROWS_WITH_AS(Checkpoint{dir}, doctest::Contains("shard 'model-00003-of-00002.safetensors'"), Error);
  write_index(R"({"weight_map":{"y":"model-00001-of-00002.safetensors"}})");
  CHECK_THROWS_WITH_AS(Checkpoint{dir}, doctest::Contains("does not hold it"), Error);
  write_index(R"({"weight_map": 3})");
  CHECK_THROWS_WITH_AS(Checkpoint{dir}, doctest::Contains("weight_map"), Error);
  CHECK_THROWS_WITH_AS(Checkpoint{dir + "/nope"}, doctest::Contains("not a directory"), Error);
}

TEST_CASE("safetensors: a deeply nested header is refused, not a stack overflow") {
  const moescope::test::TempDir tmp("st-deep");
  std::string header = R"({"w":{"dtype":"F32","shape":[)" + std::string(100000, '[') + std::string(100000, ']') +
                       R"(],"data_offsets":[0,0]}})";
  std::string e = error_of(raw_file(tmp.str(), header, 0));
  CHECK(e.find("nested deeper than 64 levels") != std::string::npos);
}

TEST_CASE("safetensors: a dimension past 2^63 - 1 is refused even after a 0 (fuzz regression)") {
  // Shape [0, 2^64 - 1] holds 0 bytes, so the size check let it through and the dimension became
  // -1 as int64_t. Input: tests/fuzz/regressions/safetensors/.
  const std::string path = moescope::test::source_dir() + "/tests/fuzz/regressions/safetensors/zero-then-dim-2pow64-1.safetensors";
  CHECK(error_of(path) == path + ": tensor 't': bad shape entry (expected an integer in [0, 2^63 - 1], found 18446744073709551615)");
  const moescope::test::TempDir tmp("st-bigdim");
  CHECK(error_of(raw_file(tmp.str(), R"({"t":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}})", 0)) == "");
}
