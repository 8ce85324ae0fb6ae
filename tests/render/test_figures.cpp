// test_figures.cpp — PNG figures: valid files, cell colours from the palette, atomic writes.
#include <stb/stb_image.h>  // stbi_load from Debian's libstb
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "app/render/column_order.h"
#include "app/render/figures.h"
#include "engine/error.h"
#include "tests/test_paths.h"

using namespace moescope;
using namespace moescope::render;

TEST_CASE("palette: end points and midpoint") {
  const Rgb lo = palette_color(Palette::Sequential, 0), hi = palette_color(Palette::Sequential, 1);
  CHECK((lo.r == 68 && lo.g == 1 && lo.b == 84));
  CHECK((hi.r == 253 && hi.g == 231 && hi.b == 37));
  const Rgb mid = palette_color(Palette::Diverging, 0.5);
  CHECK((mid.r == 247 && mid.g == 247 && mid.b == 247));
}

TEST_CASE("heatmap PNG: readable, cells coloured by value, no temp files left") {
  test::TempDir tmp("figures");
  HeatmapSpec h;
  h.title = "test";
  h.values = {{0.0, 1.0}, {0.5, std::nan("")}};
  h.row_labels = {"a", "b"};
  h.col_labels = {"x", "y"};
  const std::string path = tmp / "h.png";
  draw_heatmap(h, path);
  int w = 0, hgt = 0, ch = 0;
  unsigned char* img = stbi_load(path.c_str(), &w, &hgt, &ch, 3);
  REQUIRE(img);
  CHECK(w > 100);
  CHECK(hgt > 100);
  // Find the darkest viridis pixel (value 0) and the yellow one (value 1): both must be present.
  bool has_lo = false, has_hi = false;
  for (int i = 0; i < w * hgt; ++i) {
    const unsigned char* p = img + 3 * i;
    has_lo = has_lo || (p[0] == 68 && p[1] == 1 && p[2] == 84);
    has_hi = has_hi || (p[0] == 253 && p[1] == 231 && p[2] == 37);
  }
  stbi_image_free(img);
  CHECK(has_lo);
  CHECK(has_hi);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.str())) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
  CHECK_THROWS_AS(draw_heatmap(h, tmp / "no-such-folder/h.png"), Error);
}

TEST_CASE("heatmaps side by side share one colour scale") {
  test::TempDir tmp("figures-two");
  HeatmapSpec a, b;
  a.values = {{0.0, 1.0}};
  b.values = {{0.5, 0.5}};
  a.subtitle = "model A";
  b.subtitle = "model B";
  const std::string path = tmp / "two.png";
  draw_heatmaps({a, b}, path);
  int w = 0, hgt = 0, ch = 0;
  unsigned char* img = stbi_load(path.c_str(), &w, &hgt, &ch, 3);
  REQUIRE(img);
  // B's two cells are 0.5 on the shared 0..1 scale: the palette's middle (33, 145, 140), at least
  // two cells' worth of pixels (a cell is >= 8 px a side). Alone, B would be the lowest colour.
  size_t mid = 0;
  for (int i = 0; i < w * hgt; ++i) {
    const unsigned char* p = img + 3 * i;
    mid += p[0] == 33 && p[1] == 145 && p[2] == 140;
  }
  stbi_image_free(img);
  CHECK(mid >= 2 * 64);
  CHECK_THROWS_AS(draw_heatmaps({}, tmp / "none.png"), Error);
}

TEST_CASE("columns in blocks by the row they are largest in") {
  // Columns 0..4; column maxima: c0 row 1 (0.9), c1 row 0 (0.5), c2 row 1 (0.95), c3 row 0 (0.7),
  // c4 all NaN. Blocks: row 0 {c3 0.7, c1 0.5}, row 1 {c2 0.95, c0 0.9}, then c4.
  const double n = std::nan("");
  std::vector<std::vector<double>> v = {{0.1, 0.5, 0.05, 0.7, n}, {0.9, 0.2, 0.95, 0.3, n}};
  const auto order = columns_in_blocks(2, 5, [&](int r, int c) { return v[size_t(r)][size_t(c)]; });
  CHECK(order == std::vector<int>{3, 1, 2, 0, 4});
  std::vector<std::string> labels = {"e0", "e1"};  // the rest numbered
  reorder_columns(v, labels, order);
  CHECK(labels == std::vector<std::string>{"3", "e1", "2", "e0", "4"});
  CHECK(v[1][0] == 0.3);
  CHECK(v[0][3] == 0.1);
}

TEST_CASE("line plot PNG") {
  test::TempDir tmp("lineplot");
  LinePlotSpec p;
  p.series = {{"a", {1, 2, 4}, {3, 2, 1}, {31, 119, 180}}, {"b", {1, 4}, {2, 2}, {90, 90, 90}, true}};
  p.log2_x = true;
  draw_line_plot(p, tmp / "p.png");
  int w = 0, h = 0, ch = 0;
  unsigned char* img = stbi_load((tmp / "p.png").c_str(), &w, &h, &ch, 3);
  REQUIRE(img);
  bool blue = false;
  for (int i = 0; i < w * h && !blue; ++i) blue = img[3 * i] == 31 && img[3 * i + 1] == 119 && img[3 * i + 2] == 180;
  stbi_image_free(img);
  CHECK(blue);
  LinePlotSpec empty;
  CHECK_THROWS_AS(draw_line_plot(empty, tmp / "e.png"), Error);
}
