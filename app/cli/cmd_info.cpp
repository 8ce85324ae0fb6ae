// cmd_info.cpp — `moescope-cli info`: what a checkpoint is, read from config.json and the
// safetensors headers only (no weights are read, so it is instant even for a 14B model).
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "engine/error.h"
#include "kernels/cuda_device.h"

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

}  // namespace

int cmd_info(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"model"});
  const std::string dir = args.require("model");
  if (!std::filesystem::is_directory(dir)) fail(dir, "not a directory (expected a Hugging Face checkpoint folder)");
  ModelConfig c = ModelConfig::from_file((std::filesystem::path(dir) / "config.json").string());
  Checkpoint ckpt(dir);

  const TensorInfo& embed = ckpt.get("model.embed_tokens.weight");
  if (embed.shape.size() != 2) fail(dir + ": tensor 'model.embed_tokens.weight'", "expected 2 dimensions [V, D], found " + embed.shape_string());
  c.vocab_size = int(embed.shape[0]);

  // Parameters: every tensor counts once; active = total minus the experts a token does not use.
  double total = 0, bytes_on_disk = 0;
  std::map<std::string, double> dtype_params;
  for (const auto& name : ckpt.names()) {
    const TensorInfo& t = ckpt.get(name);
    total += double(t.numel());
    bytes_on_disk += double(t.nbytes);
    dtype_params[dtype_name(t.dtype)] += double(t.numel());
  }
  const double expert_params = 3.0 * double(c.expert_width) * double(c.hidden_size);
  double inactive = 0;
  for (const auto& s : c.layers)
    if (s.is_moe()) inactive += double(s.num_experts - c.top_k) * expert_params;
  const double active = total - inactive;
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
  j["params_total"] = total;
  j["params_active"] = active;
  j["dtype"] = dtype;
  j["bytes_on_disk"] = bytes_on_disk;
  j["bytes_fp32_cpu"] = total * 4.0;
  j["tensors"] = ckpt.names().size();
  j["shards"] = ckpt.files().size();
  j["tokenizer"] = std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json");
  const CudaDeviceInfo& cuda = cuda_device_info();
  j["cuda"] = {{"built", cuda.built_with_cuda}, {"available", cuda.available},
               {"device", cuda.available ? cuda.name : cuda.reason}};

  if (args.flag("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model         " << dir << "\n"
            << "architecture  " << arch_name(c.arch) << " (model_type " << c.model_type << ")\n"
            << "layers        " << c.num_layers << " (" << c.num_moe_layers() << " MoE)\n"
            << "hidden        " << c.hidden_size << ", heads " << c.num_heads << " (kv " << c.num_kv_heads << ", head_dim "
            << c.head_dim << ")\n"
            << "vocabulary    " << c.vocab_size << ", context " << c.max_position_embeddings << "\n"
            << "top-k         " << c.top_k << (c.norm_topk_prob ? " (renormalised)" : "") << "\n"
            << "experts       ";
  for (size_t l = 0; l < c.layers.size(); ++l) {
    const auto& s = c.layers[l];
    std::cout << (l ? ", " : "") << "L" << l << ":" << (s.is_moe() ? std::to_string(s.num_experts) : std::string("dense"));
    if (s.num_shared) std::cout << " (" << s.num_shared << " shared)";
    if (!s.always_active.empty()) std::cout << " (" << s.always_active.size() << " always active)";
  }
  std::cout << "\nexpert width  " << c.expert_width << "\n"
            << "parameters    " << human_count(total) << " total, " << human_count(active) << " active per token\n"
            << "dtype         " << dtype << ", " << human_bytes(bytes_on_disk) << " on disk, "
            << human_bytes(total * 4.0) << " as fp32 on the CPU path\n"
            << "files         " << ckpt.files().size() << " safetensors, " << ckpt.names().size() << " tensors, tokenizer "
            << (j["tokenizer"].get<bool>() ? "yes" : "no") << "\n"
            << "cuda          " << (cuda.available ? cuda.name : cuda.reason) << "\n";
  return 0;
}

}  // namespace moescope::cli
