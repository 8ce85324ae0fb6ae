// gemm_amx.cpp — BF16x3 FP32 GEMM on AMX tiles (see gemm_amx.h for the arithmetic).
//
// Register blocking: a 32 x 32 block of y lives in four FP32 accumulator tiles (0-3); tiles 4-5
// hold 32 rows x 32 k of one activation part, tiles 6-7 hold 32 k x 32 columns of one weight part.
// Per 32-wide step of k the six products are visited in an order where consecutive products share
// an operand, so 14 tile loads feed 24 tile multiplies (4 per product, one load pair per change).
// k is summed in the tiles 512 at a time and the blocks' sums added in FP32 (blocked summation).
#include "engine/cpu/gemm_amx.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "engine/error.h"
#include "engine/checkpoint/dtype.h"

#if defined(MOESCOPE_AMX) && defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MOESCOPE_AMX_KERNELS 1
#endif

namespace moescope {

namespace {

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

}  // namespace


void AmxBuffer::resize(size_t n) {
  if (n <= count && data) return;
  const size_t bytes = round_up(int64_t(std::max<size_t>(n, 1) * sizeof(uint16_t)), 64);
  void* p = std::aligned_alloc(64, bytes);
  if (!p) fail("gemm_amx", "out of memory allocating " + std::to_string(bytes) + " bytes");
  data = std::unique_ptr<uint16_t[], void (*)(void*)>(static_cast<uint16_t*>(p), std::free);
  count = n;
}

AmxF32Weights pack_amx_f32_weights(const float* w, int64_t N, int64_t K) {
  AmxF32Weights p;
  p.N = N, p.K = K, p.Np = round_up(N, 32), p.Kp = round_up(K, 32);
  p.parts = 1;
  for (int64_t i = 0; i < N * K && p.parts == 1; ++i)
    if (!(bf16_to_f32(f32_to_bf16(w[i])) == w[i])) p.parts = 3;
  const int64_t Ks = p.Kp / 32, parts = p.parts;
  p.packed.resize(size_t(p.Np * p.Kp * parts));
  uint16_t* out = p.packed.data.get();
  std::memset(out, 0, p.packed.count * sizeof(uint16_t));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < N; ++n) {
    const int64_t nb = n / 32, h = (n % 32) / 16, c = n % 16;
    for (int64_t k = 0; k < K; ++k) {
      uint16_t s[3];
      split_bf16x3(w[n * K + k], s[0], s[1], s[2]);
      const int64_t ks = k / 32, r = (k % 32) / 2, pair = k % 2;
      for (int64_t j = 0; j < parts; ++j)
        out[((nb * parts + j) * Ks + ks) * 1024 + h * 512 + r * 32 + c * 2 + pair] = s[j];
    }
  }
  return p;
}

AmxF32Weights amx_bf16_weights(int64_t N, int64_t K) {
  AmxF32Weights p;
  p.N = N, p.K = K, p.Np = round_up(N, 32), p.Kp = round_up(K, 32), p.parts = 1;
  p.packed.resize(size_t(p.Np * p.Kp));
  std::memset(p.packed.data.get(), 0, p.packed.count * sizeof(uint16_t));
  return p;
}

void pack_amx_bf16_rows(AmxF32Weights& w, int64_t row0, const uint16_t* rows, int64_t n) {
  if (w.parts != 1 || row0 < 0 || row0 + n > w.N)
    fail("pack_amx_bf16_rows", "rows " + std::to_string(row0) + ".." + std::to_string(row0 + n) + " outside [0, " +
                                   std::to_string(w.N) + ") of a one-part layout");
  const int64_t Ks = w.Kp / 32, K = w.K;
  uint16_t* out = w.packed.data.get();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = row0 + i, nb = row / 32, h = (row % 32) / 16, c = row % 16;
    for (int64_t k = 0; k < K; ++k)
      out[(nb * Ks + k / 32) * 1024 + h * 512 + ((k % 32) / 2) * 32 + c * 2 + k % 2] = rows[i * K + k];
  }
}

void split_amx_f32_activations(const float* x, int64_t M, int64_t K, int64_t ldx, AmxF32Activations& a) {
  a.M = M, a.K = K, a.Mp = round_up(M, 32), a.Kp = round_up(K, 32);
  const int64_t Mt = a.Mp / 16, Ks = a.Kp / 32, part = a.Mp * a.Kp;
  a.packed.resize(size_t(3 * part));
  uint16_t* out = a.packed.data.get();
#pragma omp parallel for schedule(static) if (M * K >= 65536 && !omp_in_parallel())
  for (int64_t mt = 0; mt < Mt; ++mt)
    for (int64_t r = 0; r < 16; ++r) {
      const int64_t m = mt * 16 + r;
      for (int64_t ks = 0; ks < Ks; ++ks) {
        const int64_t at = (mt * Ks + ks) * 512 + r * 32;
        for (int64_t kk = 0; kk < 32; ++kk) {
          const int64_t k = ks * 32 + kk;
          uint16_t s[3] = {0, 0, 0};
          if (m < M && k < K) split_bf16x3(x[m * ldx + k], s[0], s[1], s[2]);
          out[at + kk] = s[0];
          out[part + at + kk] = s[1];
          out[2 * part + at + kk] = s[2];
        }
      }
    }
}

#ifdef MOESCOPE_AMX_KERNELS

namespace {

bool amx_usable(std::string& why) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 22))) {
    why = "the CPU has no AMX-BF16";
    return false;
  }
  constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) != 0) {
    why = "the kernel does not grant the AMX tile state";
    return false;
  }
  return true;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

void load_tile_config() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }  // every tile 16 rows x 64 bytes
  _tile_loadconfig(&cfg);
}

constexpr int64_t kGroupBlocks = 8;   // row blocks per group: 256 rows of activations
constexpr int64_t kKBlockSteps = 16;  // k summed in the tiles 512 at a time

// acc(0..3) += the products for one 32 x 32 block over k steps [ks0, ks1). a = activation part 1 at the
// block's first tile row (parts `part_a` apart, second tile row Ks*512 on), b = weight part 1 of
// the column block (parts Ks*1024 apart).
template <int kWeightParts>
inline void block_products(const uint16_t* a, int64_t part_a, const uint16_t* b, int64_t Ks, int64_t ks0, int64_t ks1) {
  const int64_t row2 = Ks * 512, part_b = Ks * 1024;
  const uint16_t *a1 = a, *a2 = a + part_a, *a3 = a + 2 * part_a;
  const uint16_t *b1 = b, *b2 = b + part_b, *b3 = b + 2 * part_b;
#define MOESCOPE_LOAD_A(p) _tile_loadd(4, (p) + ks * 512, 64); _tile_loadd(5, (p) + row2 + ks * 512, 64)
#define MOESCOPE_LOAD_B(p) _tile_loadd(6, (p) + ks * 1024, 64); _tile_loadd(7, (p) + ks * 1024 + 512, 64)
#define MOESCOPE_MULTIPLY \
  _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7)
  for (int64_t ks = ks0; ks < ks1; ++ks) {
    if constexpr (kWeightParts == 3) {
      // a1w3, a1w2, a2w2, a2w1, a3w1, a1w1: each step changes one operand.
      MOESCOPE_LOAD_A(a1); MOESCOPE_LOAD_B(b3); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_B(b2); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_A(a2); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_B(b1); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_A(a3); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_A(a1); MOESCOPE_MULTIPLY;
    } else {
      // Smallest terms first: a3w1, a2w1, a1w1.
      MOESCOPE_LOAD_B(b1); MOESCOPE_LOAD_A(a3); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_A(a2); MOESCOPE_MULTIPLY;
      MOESCOPE_LOAD_A(a1); MOESCOPE_MULTIPLY;
    }
  }
#undef MOESCOPE_LOAD_A
#undef MOESCOPE_LOAD_B
#undef MOESCOPE_MULTIPLY
}

// One 32 x 32 block's products over k steps [ks0, ks1), summed in the tiles from zero.
inline void block_sum(const AmxF32Activations& x, const AmxF32Weights& w, int64_t mb, int64_t nb, int64_t ks0,
                      int64_t ks1) {
  const int64_t Ks = w.Kp / 32;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const uint16_t* a = x.packed.data.get() + mb * 2 * Ks * 512;
  const uint16_t* b = w.packed.data.get() + nb * w.parts * Ks * 1024;
  if (w.parts == 3) block_products<3>(a, x.Mp * x.Kp, b, Ks, ks0, ks1);
  else block_products<1>(a, x.Mp * x.Kp, b, Ks, ks0, ks1);
}

void store_tiles(float* out, int64_t ld) {  // ld in floats
  const int64_t stride = ld * int64_t(sizeof(float));
  _tile_stored(0, out, stride);
  _tile_stored(1, out + 16, stride);
  _tile_stored(2, out + 16 * ld, stride);
  _tile_stored(3, out + 16 * ld + 16, stride);
}

// One thread's share: (row group, column block) items [begin, end) of the flattened range.
// Loop order per row group: k block -> column block -> row block, so a group's activations for
// one k block (256 rows x 512 k x 3 parts, 768 KB) stay in L2 while every column block's weights
// for that k block pass once. Each k block is summed in the tiles from zero and added to the
// running total in FP32, in k order (blocked summation; the result does not depend on the order
// of the other loops). Totals live in y itself; blocks cut by the last row or column in a side
// buffer.
void run_blocks(const AmxF32Activations& x, const AmxF32Weights& w, int64_t nb0, int64_t nb1, int64_t n1, float* y,
                int64_t ldy, int64_t begin, int64_t end) {  // y: column nb0 * 32 of the output
  const int64_t Ks = w.Kp / 32, mblocks = x.Mp / 32, ncols = nb1 - nb0;
  alignas(64) float part[32 * 32];
  std::vector<float> side;  // running totals of partial blocks, 32 x 32 each
  load_tile_config();
  for (int64_t item = begin; item < end;) {
    const int64_t group = item / ncols, nb_lo = nb0 + item % ncols;
    const int64_t nb_hi = nb0 + std::min(ncols, item % ncols + (end - item));  // this group's columns in the share
    item += nb_hi - nb_lo;
    const int64_t mb_lo = group * kGroupBlocks, mb_hi = std::min(mblocks, mb_lo + kGroupBlocks);
    side.resize(std::max(side.size(), size_t((mb_hi - mb_lo) + (nb_hi - nb_lo)) * 1024));  // written before read
    for (int64_t ks0 = 0; ks0 < Ks; ks0 += kKBlockSteps) {
      const int64_t ks1 = std::min(Ks, ks0 + kKBlockSteps);
      for (int64_t nb = nb_lo; nb < nb_hi; ++nb)
        for (int64_t mb = mb_lo; mb < mb_hi; ++mb) {
          block_sum(x, w, mb, nb, ks0, ks1);
          const int64_t m0 = mb * 32, c0 = nb * 32;
          const int64_t rows = std::min<int64_t>(32, x.M - m0), cols = std::min<int64_t>(32, n1 - c0);
          float* out = y + m0 * ldy + (c0 - nb0 * 32);
          if (rows == 32 && cols == 32) {
            if (ks0 == 0) {
              store_tiles(out, ldy);
            } else {
              store_tiles(part, 32);
              for (int64_t i = 0; i < 32; ++i)
                for (int64_t j = 0; j < 32; ++j) out[i * ldy + j] += part[i * 32 + j];
            }
            continue;
          }
          // A partial block: its total in the side buffer (slot per row block if the column is cut,
          // else per column block), copied out after the last k block.
          float* total = side.data() + (cols < 32 ? (mb - mb_lo) : (mb_hi - mb_lo) + (nb - nb_lo)) * 1024;
          store_tiles(part, 32);
          for (int i = 0; i < 32 * 32; ++i) total[i] = ks0 == 0 ? part[i] : total[i] + part[i];
          if (ks1 == Ks)
            for (int64_t i = 0; i < rows; ++i) std::memcpy(out + i * ldy, total + i * 32, size_t(cols) * sizeof(float));
        }
    }
  }
  _tile_release();
}

// The hardware and kernel check, once per process.
bool amx_supported(std::string* why) {
  static std::once_flag once;
  static bool ok = false;
  static std::string reason;
  std::call_once(once, [] { ok = amx_usable(reason); });
  if (why) *why = reason;
  return ok;
}

}  // namespace

bool amx_f32_available(std::string* why) {
  const bool ok = amx_supported(why);
  if (why && ok) *why = "AMX-BF16 tiles, BF16x3";
  return ok;
}

void gemm_amx_f32(const AmxF32Activations& x, const AmxF32Weights& w, int64_t n0, int64_t n1, float* y, int64_t ldy) {
  if (!amx_supported(nullptr)) fail("gemm_amx_f32", "AMX kernels are not usable on this machine");
  if (x.K != w.K || n0 % 32 != 0 || n0 < 0 || n1 > w.N || n0 > n1)
    fail("gemm_amx_f32", "operand shapes do not match (x K " + std::to_string(x.K) + ", w [" + std::to_string(w.N) +
                             ", " + std::to_string(w.K) + "], columns " + std::to_string(n0) + ".." + std::to_string(n1) + ")");
  if (x.M == 0 || n0 == n1) return;
  const int64_t nb0 = n0 / 32, nb1 = (n1 + 31) / 32;
  const int64_t items = (x.Mp / 32 + kGroupBlocks - 1) / kGroupBlocks * (nb1 - nb0);
  const bool parallel = !omp_in_parallel() && omp_get_max_threads() > 1 && items > 1 &&
                        x.M * (n1 - n0) * x.K >= (int64_t(1) << 21);
  if (!parallel) {
    run_blocks(x, w, nb0, nb1, n1, y, ldy, 0, items);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    run_blocks(x, w, nb0, nb1, n1, y, ldy, items * t / nt, items * (t + 1) / nt);
  }
}

#else  // built without the AMX intrinsics

bool amx_f32_available(std::string* why) {
  if (why) *why = "built without AMX support (needs an x86-64 compiler with -mamx-tile -mamx-bf16)";
  return false;
}

void gemm_amx_f32(const AmxF32Activations&, const AmxF32Weights&, int64_t, int64_t, float*, int64_t) {
  fail("gemm_amx_f32", "built without AMX support");
}

#endif

void gemm_amx_f32(const float* x, int64_t M, int64_t ldx, const AmxF32Weights& w, float* y, int64_t ldy) {
  // Rows per chunk: the three BF16 parts of a chunk take at most 3 x 2^20 x 2 bytes.
  const int64_t chunk = std::clamp<int64_t>((int64_t(1) << 20) / round_up(w.K, 32) / 32 * 32, 32, 2048);
  thread_local AmxF32Activations scratch;
  for (int64_t m0 = 0; m0 < M; m0 += chunk) {
    const int64_t n = std::min(chunk, M - m0);
    split_amx_f32_activations(x + m0 * ldx, n, w.K, ldx, scratch);
    gemm_amx_f32(scratch, w, 0, w.N, y + m0 * ldy, ldy);
  }
}

}  // namespace moescope
