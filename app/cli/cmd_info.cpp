// cmd_info.cpp — `moescope-cli info`: what a checkpoint is, read from config.json and the
// safetensors headers only (no weights are read, so it is instant even for a 14B model).
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "engine/error.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/memory_estimate.h"
#include "engine/config_summary.h"
#include "engine/param_count.h"
#include "engine/checkpoint/pruning_provenance.h"
#include "engine/checkpoint/tensor_names.h"
#include "engine/checkpoint/weight_files.h"
#include "kernels/cuda_device.h"
#include "kernels/plan/device_pass_plan.h"

namespace moescope::cli {

namespace {

const char* mode_name(RoutingMode m) {
  switch (m) {
    case RoutingMode::AlwaysActive: return "always_active";
    case RoutingMode::Shared: return "shared";
    case RoutingMode::Plain: return "plain";
  }
  return "?";
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) { b /= 1024.0; ++u; }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", b, units[u]);
  return buf;
}

std::string human_count(double n) {
  char buf[32];
  if (n >= 1e9) std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
  else if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1e3) std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

// "yarn, factor 40 (original context 4096), theta 10000".
std::string rope_text(const RopeSpec& r) {
  std::string s = rope_type_name(r.type);
  char buf[64];
  if (r.type != RopeType::Default) {
    std::snprintf(buf, sizeof buf, ", factor %g", r.factor);
    s += buf;
  }
  if (r.original_max_position_embeddings > 0) {
    s += " (original context ";
    s += std::to_string(r.original_max_position_embeddings);
    s += ")";
  }
  std::snprintf(buf, sizeof buf, ", theta %g", r.theta);
  return s + buf;
}

// The memory a full load takes under this machine's FP32 GEMM path, MemAvailable, and how many
// standard experts per MoE layer fit when not all do.
void memory_report(const Checkpoint& ckpt, const ModelConfig& c, nlohmann::json& j, std::string& line) {
  WeightPlan plan;
  plan.amx = f32_gemm_from_environment() == F32Gemm::Auto && amx_f32_available();
  const MemoryEstimate full = estimate_memory(ckpt, c, ExpertSubset::all(c), plan);
  ExpertSubset none;  // shared and always-active experts only
  none.kept_per_layer.assign(size_t(c.num_layers), std::vector<int>{});
  for (int l = 0; l < c.num_layers; ++l)
    if (!c.layers[size_t(l)].is_moe()) none.kept_per_layer[size_t(l)] = std::nullopt;
  const MemoryEstimate base = estimate_memory(ckpt, c, none, plan);
  const auto available = available_memory();
  j = {{"estimate_bytes", full.total()}, {"weights_bytes", full.weights}, {"experts_bytes", full.experts},
       {"working_bytes", full.working}, {"gemm_path", plan.amx ? "f32 on AMX tiles" : "f32"},
       {"available_bytes", available ? nlohmann::json(*available) : nlohmann::json()}};
  line = gib(full.total()) + " to load (weights " + gib(full.weights) + " + working " + gib(full.working) + ", f32" +
         (plan.amx ? " on AMX tiles" : "") + ")";
  if (!available) return;
  const bool fits = full.total() <= *available;
  const int fit = experts_per_layer_that_fit(base, *available);
  j["fits"] = fits;
  j["experts_per_layer_that_fit"] = fits ? full.max_standard : fit;
  line += "; " + gib(*available) + " available: ";
  if (fits) line += "fits";
  else if (fit == 0) line += "does not fit, not even without its standard experts";
  else line += "does not fit; " + std::to_string(fit) + " of " + std::to_string(full.max_standard) +
               " standard experts per layer would (--keep)";
}

// What the model (and the --keep subset) needs on a GPU: weights as uploaded plus a pass of
// kPlannedPassTokens tokens (kernels/plan/device_pass_plan.h), against device 0's memory.
void gpu_memory_report(const Checkpoint& ckpt, const ModelConfig& c, const ExpertSubset* keep, nlohmann::json& j,
                       std::string& line) {
  const WeightPlan as_stored;  // F32 precision, no AMX: the plan a device backend's load uses
  const DeviceMemoryEstimate all = estimate_device_memory(c, estimate_memory(ckpt, c, ExpertSubset::all(c), as_stored),
                                                          kPlannedPassTokens);
  j = {{"all_experts_bytes", all.total()}, {"weights_bytes", all.weights}, {"pass_bytes", all.pass.total()},
       {"pass_tokens", all.pass.tokens}, {"reserve_bytes", all.reserve}};
  line = gib(all.total()) + " with all experts (weights " + gib(all.weights) + " + a " + std::to_string(all.pass.tokens) +
         "-token pass " + gib(all.pass.total()) + " + reserve " + gib(all.reserve) + ")";
  uint64_t needed = all.total();
  if (keep) {
    const DeviceMemoryEstimate sub = estimate_device_memory(c, estimate_memory(ckpt, c, *keep, as_stored), kPlannedPassTokens);
    j["subset_bytes"] = sub.total();
    line += ", " + gib(sub.total()) + " with the --keep subset";
    needed = sub.total();
  }
  const CudaDeviceInfo& cuda = cuda_device_info();
  if (!cuda.available) return;
  j["device_bytes"] = cuda.memory_bytes;
  j["fits"] = needed <= cuda.memory_bytes;
  line += "; cuda:0 has " + gib(cuda.memory_bytes) + (needed <= cuda.memory_bytes ? ": fits" : ": does not fit");
}

}  // namespace

int cmd_info(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "force-subset"}, {"model", "keep"});
  const std::string dir = args.require("model");
  if (!std::filesystem::is_directory(dir)) fail(dir, "not a directory (expected a Hugging Face checkpoint folder)");
  ModelConfig c = ModelConfig::from_file((std::filesystem::path(dir) / "config.json").string());
  std::optional<ExpertSubset> keep;
  if (auto k = args.get("keep")) keep = ExpertSubset::from_file(*k, c);
  const WeightFiles files = find_weight_files(dir);

  // Parameters: with the weights here, every tensor in their headers counts once; with
  // config.json alone (a model card's folder, an index without its shards), they are counted
  // from the config, tensor by tensor. Active = total minus the experts a token does not use.
  double total = 0, bytes_on_disk = files.index_total_size;
  size_t tensors = files.index_tensors, shards = files.index_shards;
  std::map<std::string, double> dtype_params;
  const char* params_from = "config.json";
  nlohmann::json memory;  // the load's memory estimate (engine/memory_estimate.h); weights needed
  std::string memory_line;
  nlohmann::json gpu_memory;  // the same on a GPU (kernels/plan/device_pass_plan.h)
  std::string gpu_memory_line;
  if (files.complete) {
    Checkpoint ckpt(dir);
    if (keep && !args.flag("force-subset")) check_subset_model(*keep, *args.get("keep"), identify_model(ckpt));
    const std::string embed_name = model_tensor(c, "model.embed_tokens.weight");
    const TensorInfo& embed = ckpt.get(embed_name);
    if (embed.shape.size() != 2) fail(dir + ": tensor '" + embed_name + "'", "expected 2 dimensions [V, D], found " + embed.shape_string());
    c.vocab_size = int(embed.shape[0]);
    bytes_on_disk = 0;
    for (const auto& name : ckpt.names()) {
      const TensorInfo& t = ckpt.get(name);
      total += double(t.numel());
      bytes_on_disk += double(t.nbytes);
      dtype_params[dtype_name(t.dtype)] += double(t.numel());
    }
    tensors = ckpt.names().size();
    shards = ckpt.files().size();
    params_from = "safetensors headers";
    memory_report(ckpt, c, memory, memory_line);
    gpu_memory_report(ckpt, c, keep ? &*keep : nullptr, gpu_memory, gpu_memory_line);
  } else {
    if (c.vocab_size <= 0)
      fail(dir, "no safetensors here and config.json has no vocab_size: cannot count the embedding's parameters");
    total = count_params(c).total;
  }
  const double active = total - inactive_params(c);
  std::string dtype;
  double best = -1;
  for (const auto& [name, n] : dtype_params)
    if (n > best) { best = n; dtype = name; }

  nlohmann::json j;
  j["model"] = dir;
  j["model_type"] = c.model_type;
  j["architecture"] = arch_name(c.arch);
  j["layers"] = c.num_layers;
  j["moe_layers"] = c.num_moe_layers();
  j["hidden_size"] = c.hidden_size;
  j["heads"] = c.num_heads;
  j["kv_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rope_theta"] = c.rope_theta;
  j["rope_type"] = rope_type_name(c.rope.type);
  j["rope_factor"] = c.rope.type == RopeType::Default ? nlohmann::json() : nlohmann::json(c.rope.factor);
  j["top_k"] = c.top_k;
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["expert_width"] = c.expert_width;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  auto& per_layer = j["experts_per_layer"] = nlohmann::json::array();
  auto& shared = j["shared_experts_per_layer"] = nlohmann::json::array();
  auto& modes = j["routing_mode_per_layer"] = nlohmann::json::array();
  auto& aa = j["always_active_experts_per_layer"] = nlohmann::json::array();
  for (const auto& s : c.layers) {
    per_layer.push_back(s.num_experts);
    shared.push_back(s.num_shared);
    modes.push_back(s.is_moe() ? mode_name(s.mode) : "dense");
    aa.push_back(s.always_active);
  }
  j["routing"] = describe_routing(c);
  j["attention"] = describe_attention(c);
  j["shared_mlp_width"] = c.shared_width;
  auto& windows = j["sliding_window_per_layer"] = nlohmann::json::array();
  for (const auto& s : c.layers) windows.push_back(s.sliding_window);
  j["params_total"] = total;
  j["params_from"] = params_from;
  j["weights_present"] = files.complete;
  j["params_active"] = active;
  j["dtype"] = dtype.empty() ? nlohmann::json() : nlohmann::json(dtype);
  j["bytes_on_disk"] = bytes_on_disk;
  j["memory"] = memory;
  j["gpu_memory"] = gpu_memory;
  j["tensors"] = tensors;
  j["shards"] = shards;
  j["tokenizer"] = std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json");
  // An unreadable pruning_metadata.json is reported, not fatal: the model itself is fine (the
  // app's Model view does the same).
  std::optional<PruningProvenance> pruned;
  std::string pruned_error;
  try {
    pruned = read_pruning_provenance(dir, c);
  } catch (const Error& e) {
    pruned_error = e.what();
  }
  if (!pruned_error.empty()) {
    j["pruned_from"] = {{"error", pruned_error}};
  } else if (pruned) {
    nlohmann::json kept = nlohmann::json::array(), original = nlohmann::json::array();
    for (size_t l = 0; l < c.layers.size(); ++l) {
      const bool was_pruned = c.layers[l].is_moe() && pruned->original_ids[l];
      kept.push_back(was_pruned ? nlohmann::json(c.layers[l].num_standard()) : nlohmann::json());
      original.push_back(was_pruned && pruned->original_standard[l] > 0 ? nlohmann::json(pruned->original_standard[l])
                                                                         : nlohmann::json());
    }
    j["pruned_from"] = {{"original_model", pruned->original_model}, {"method", pruned->method},
                        {"domain", pruned->domain}, {"standard_kept_per_layer", kept},
                        {"original_standard_per_layer", original}, {"summary", pruned->summary(c)}};
  } else {
    j["pruned_from"] = nullptr;
  }
  const CudaDeviceInfo& cuda = cuda_device_info();
  j["cuda"] = {{"built", cuda.built_with_cuda}, {"available", cuda.available}, {"devices", cuda.count},
               {"device", cuda.available ? cuda.name : cuda.reason}};

  if (args.flag("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model         " << dir << "\n"
            << (pruned ? "pruned        " + pruned->summary(c).substr(7) + "\n" : std::string())
            << (pruned_error.empty() ? std::string() : "pruned        (unreadable pruning metadata: " + pruned_error + ")\n")
            << "architecture  " << arch_name(c.arch) << " (model_type " << c.model_type << ")\n"
            << "layers        " << c.num_layers << " (" << c.num_moe_layers() << " MoE)\n"
            << "hidden        " << c.hidden_size << ", heads " << c.num_heads << " (kv " << c.num_kv_heads << ", head_dim "
            << c.head_dim << ")\n"
            << "vocabulary    " << c.vocab_size << ", context " << c.max_position_embeddings << "\n"
            << "rope          " << rope_text(c.rope) << "\n"
            << "top-k         " << c.top_k << (c.norm_topk_prob ? " (renormalised)" : "") << "\n"
            << "routing       " << describe_routing(c) << "\n"
            << "attention     " << describe_attention(c) << "\n"
            << (c.shared_width > 0 ? "shared        " + describe_shared_mlp(c) + "\n" : std::string())
            << "experts       ";
  // Many identical MoE layers (Mixtral's 32, DeepSeek's 58) read better as one count.
  bool same = c.num_moe_layers() > 4;
  const LayerSpec* first = nullptr;
  std::string dense;
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const auto& s = c.layers[l];
    if (!s.is_moe()) {
      dense += (dense.empty() ? "L" : ", L") + std::to_string(l);
      continue;
    }
    if (!first) first = &s;
    same = same && s.num_experts == first->num_experts && s.num_shared == first->num_shared && s.always_active.empty();
  }
  if (same) {
    std::cout << first->num_experts << (first->num_shared ? " (" + std::to_string(first->num_shared) + " shared)" : std::string())
              << " in each of " << c.num_moe_layers() << " MoE layers" << (dense.empty() ? "" : "; dense: " + dense);
  } else {
    for (size_t l = 0; l < c.layers.size(); ++l) {
      const auto& s = c.layers[l];
      std::cout << (l ? ", " : "") << "L" << l << ":" << (s.is_moe() ? std::to_string(s.num_experts) : std::string("dense"));
      if (s.num_shared) std::cout << " (" << s.num_shared << " shared)";
      if (!s.always_active.empty()) std::cout << " (" << s.always_active.size() << " always active)";
    }
  }
  std::cout << "\nexpert width  " << c.expert_width << "\n"
            << "parameters    " << human_count(total) << " total, " << human_count(active) << " active per token (from "
            << params_from << ")\n"
            << "dtype         " << (dtype.empty() ? "unknown (no weights here)" : dtype)
            << (files.complete ? ", " + human_bytes(bytes_on_disk) + " on disk"
                               : bytes_on_disk > 0 ? ", " + human_bytes(bytes_on_disk) + " in the index's total_size" : std::string())
            << "\n"
            << (memory_line.empty() ? std::string() : "memory        " + memory_line + "\n")
            << "files         "
            << (files.complete ? std::to_string(shards) + " safetensors, " + std::to_string(tensors) + " tensors"
                : files.has_index ? "index only (" + std::to_string(shards) + " shards, " + std::to_string(tensors) + " tensors, none here)"
                                  : std::string("config.json only (no safetensors)"))
            << ", tokenizer "
            << (j["tokenizer"].get<bool>() ? "yes" : "no") << "\n"
            << "cuda          " << (cuda.available ? cuda.name : cuda.reason) << "\n"
            << (gpu_memory_line.empty() ? std::string() : "gpu memory    " + gpu_memory_line + "\n");
  return 0;
}

}  // namespace moescope::cli
