// app_script.cpp — scripted commands (`moescope --script FILE`): the actions a user takes with
// the mouse, by name, so tests and demos can drive the app end to end under Xvfb. One command per
// line; the app runs the next one once the previous one's background work has finished.
//   model DIR | browse DIR | text TEXT (\n for newlines) | type TEXT | text-file F | view NAME | layer N | pin N
//   search TEXT | search-tokens TEXT | open-document N | explore-colour domain|cluster | export-folder DIR | export-csv FIGURE |
//   corpus-tab domain-expert|similarity|pools|clusters|usage | cluster K | expert-blocks on|off | ablation-curves mean|domain
//   workspace WS | trace CORPUS WS [MAX_TOKENS] | subset DOMAIN METHOD K | ablate
//   export-subset PATH | export-checkpoint DIR | save-state PATH | screenshot PATH | quit
#include <fstream>
#include <sstream>

#include "analysis/ablation_summary.h"
#include "app/gui/app.h"
#include "app/gui/widget_export.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "kernels/backend_maker.h"
#include "engine/checkpoint/safetensors_writer.h"

namespace moescope::gui {

namespace {
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 't' || s[i + 1] == '\\')) {
      out += s[i + 1] == 'n' ? '\n' : (s[i + 1] == 't' ? '\t' : '\\');
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::string App::run_command(const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  std::string rest;
  std::getline(in >> std::ws, rest);
  try {
    if (cmd.empty() || cmd[0] == '#') return "";
    if (cmd == "model") {
      std::snprintf(model_path_, sizeof model_path_, "%s", rest.c_str());
      load_model(rest);
    } else if (cmd == "device") {  // where the next load runs: cpu, cuda, cuda:N
      device_ = parse_device(rest, "device");
      backend_maker(device_);  // an error now, naming the reason, when there is no such device
    } else if (cmd == "browse") {  // the Model view's file browser, opened at a folder
      select_view(View::Model);
      browser_.open(rest, true, {}, "Open a checkpoint folder");
    } else if (cmd == "text") {
      set_text(unescape(rest));
    } else if (cmd == "type") {  // typed into the Text view's box at its cursor (the start, when it was not focused)
      select_view(View::Text);
      text_box_.type(unescape(rest));
    } else if (cmd == "text-file") {
      if (std::string err = load_text_file(rest); !err.empty()) return err;
    } else if (cmd == "view") {
      View v;
      if (!parse_view(rest, &v)) return "unknown view '" + rest + "' (model, text, corpus, groups, subsets, compare, explore)";
      select_view(v);
    } else if (cmd == "corpus-tab") {  // the Corpus view's sub-views
      const char* tabs[] = {"domain-expert", "similarity", "pools", "clusters", "usage"};
      corpus_tab_request_ = -1;
      for (int i = 0; i < 5; ++i)
        if (rest == tabs[i]) corpus_tab_request_ = i;
      if (corpus_tab_request_ < 0) return "unknown corpus tab '" + rest + "' (domain-expert, similarity, pools, clusters, usage)";
      select_view(View::Corpus);
    } else if (cmd == "cluster") {  // the document clusters tab's k and its button
      cluster_k_ = std::stoi(rest);
      start_clustering();
    } else if (cmd == "search") {  // the Explore view's search box
      const auto c = corpus();
      if (!c) return "search needs an open workspace";
      std::snprintf(explore_search_, sizeof explore_search_, "%s", rest.c_str());
      search_documents(*c, rest);
      select_view(View::Explore);
    } else if (cmd == "search-tokens") {  // the Explore view's token search
      const auto c = corpus();
      if (!c) return "search-tokens needs an open workspace";
      std::snprintf(explore_search_, sizeof explore_search_, "%s", rest.c_str());
      explore_search_tokens_ = 1;
      search_tokens(*c, rest);
      select_view(View::Explore);
    } else if (cmd == "open-document") {  // a traced document (its position among the traced ones) in the Text view
      const auto c = corpus();
      if (!c) return "open-document needs an open workspace";
      const size_t i = size_t(std::stoul(rest));
      if (i >= c->trace.docs.size()) return "open-document: the workspace has " + std::to_string(c->trace.docs.size()) + " traced documents";
      open_document(*c, i);
    } else if (cmd == "explore-colour") {
      if (rest != "domain" && rest != "cluster") return "explore-colour takes domain or cluster";
      explore_colour_ = rest == "cluster";
    } else if (cmd == "export-folder") {  // where figures' CSV and PNG files go
      figure_exports().folder = rest;
    } else if (cmd == "export-csv") {  // a shown figure's data, as its right-click menu saves it
      figure_exports().requested_csv = rest;
    } else if (cmd == "expert-blocks") {  // domain x expert columns in blocks by the domain they serve most
      if (rest != "on" && rest != "off") return "expert-blocks takes on or off";
      experts_in_blocks_ = rest == "on";
    } else if (cmd == "ablation-curves") {  // the Subsets view's curves: mean over domains, or the chosen domain
      if (rest != "mean" && rest != "domain") return "ablation-curves takes mean or domain";
      ablation_mean_ = rest == "mean";
    } else if (cmd == "layer") {
      layer_ = corpus_layer_ = std::stoi(rest);
    } else if (cmd == "pin") {
      pinned_ = std::stoi(rest);
    } else if (cmd == "workspace") {
      open_workspace(rest);
    } else if (cmd == "trace") {
      std::istringstream a(rest);
      std::string corpus, ws;
      int64_t max_tokens = 0;
      a >> corpus >> ws >> max_tokens;
      if (ws.empty()) return "trace needs CORPUS WORKSPACE [MAX_TOKENS]";
      std::snprintf(trace_ws_path_, sizeof trace_ws_path_, "%s", ws.c_str());
      start_trace(corpus, ws, max_tokens);
    } else if (cmd == "subset") {
      std::istringstream a(rest);
      std::string domain, method;
      int k = 0;
      a >> domain >> method >> k;
      const auto c = corpus();
      if (!c) return "subset needs an open workspace";
      subset_domain_ = domain_index(c->trace, domain, "subset");
      const char* methods[] = {"global", "greedy", "easy-ep", "random"};
      subset_method_ = -1;
      for (int i = 0; i < 4; ++i)
        if (method == methods[i]) subset_method_ = i;
      if (subset_method_ < 0) return "unknown method '" + method + "' (global, greedy, easy-ep, random)";
      subset_k_ = k;
    } else if (cmd == "ablate") {
      run_ablation();
    } else if (cmd == "export-subset") {
      std::snprintf(export_json_path_, sizeof export_json_path_, "%s", rest.c_str());
      export_subset_json(rest);  // a script confirms by naming the path
    } else if (cmd == "export-checkpoint") {
      std::snprintf(export_ckpt_path_, sizeof export_ckpt_path_, "%s", rest.c_str());
      export_checkpoint(rest);
    } else if (cmd == "save-state") {
      // What the user sees: view, model, routed tokens, the pinned token and its experts, jobs' errors;
      // and how many checkpoints were loaded (the views share one model).
      nlohmann::json s{{"view", view_name(view_)}, {"expert_blocks", experts_in_blocks_}, {"ablation_curves_mean", ablation_mean_ == 1}, {"model", model_ ? model_->dir : ""}, {"model_loads", model_loads()},
                       {"pruned_from", model_ ? model_->pruned_from : ""},
                       {"pinned", pinned_}, {"text_file_error", text_file_error_}, {"text", text_}, {"text_box_lines", text_box_.lines()}, {"corpus_path", corpus_path_},
                       {"last_export", figure_exports().last_written}};
      if (const auto r = router_ ? router_->latest() : nullptr) {
        s["tokens"] = r->enc.ids.size();
        s["text_error"] = r->error;
        s["text_bytes"] = r->text.size();
        nlohmann::json windows = nlohmann::json::array();
        for (const DocumentSpan& w : r->windows) windows.push_back({{"start", w.begin}, {"end", w.end}});
        s["windows"] = windows;
        if (pinned_ >= 0 && size_t(pinned_) < r->enc.ids.size()) {
          const auto& off = r->enc.offsets[size_t(pinned_)];
          nlohmann::json layers = nlohmann::json::array();
          for (const LayerRecord& l : r->result.layers)
            layers.push_back({{"layer", l.layer},
                              {"experts", std::vector<int>(l.topk_ids.begin() + long(size_t(pinned_) * size_t(l.k)),
                                                           l.topk_ids.begin() + long(size_t(pinned_ + 1) * size_t(l.k)))}});
          s["pinned_token"] = {{"id", r->enc.ids[size_t(pinned_)]}, {"text", r->text.substr(off.first, off.second - off.first)}, {"layers", layers}};
        }
      }
      if (const auto c = corpus()) {
        s["workspace"] = {{"path", c->path}, {"documents", c->trace.docs.size()}, {"domains", c->trace.domains}};
        nlohmann::json rarely = nlohmann::json::array();
        for (const ExpertUsageLayer& u : c->usage) rarely.push_back(u.rarely_used);
        s["rarely_used_experts"] = rarely;  // per MoE layer, as the expert usage tab flags them
        nlohmann::json found = nlohmann::json::array();
        for (size_t i : explore_matches_) found.push_back(c->trace.docs[i].ext_id);
        s["search"] = {{"text", explore_searched_}, {"documents", found}};
        nlohmann::json toks = nlohmann::json::array();
        for (const TokenUsage& u : explore_tokens_) toks.push_back({{"id", u.id}, {"occurrences", u.occurrences}, {"documents", u.documents}});
        s["token_search"] = toks;
        const auto m = map_job_.result();
        s["map_points"] = m && m->workspace == c->path ? m->map.x.size() : 0;
      }
      if (const auto a = ablation_job_.result()) s["ablation_points"] = a->points.size();
      if (const auto k = clusters_job_.result()) s["clusters"] = {{"k", k->k}, {"nmi", k->nmi}, {"documents", k->labels.size()}};
      // The Subsets view's curves: which workspaces' stored sweeps it overlays, and their means.
      nlohmann::json curves = nlohmann::json::array();
      for (const AblationSource& src : ablation_sources_) {
        const AblationCurves mean = ablation_curves(src.points);
        nlohmann::json m = nlohmann::json::object();
        for (const auto& [method, curve] : mean.by_method)
          for (const AblationCurvePoint& p : curve) m[method][std::to_string(p.k)] = p.increase_pct;
        curves.push_back({{"name", src.name}, {"domains", mean.domains.size()}, {"mean_increase_pct", m}});
      }
      s["ablation_curves"] = curves;
      if (const auto e = export_job_.result()) s["exported"] = e->path;
      nlohmann::json errors = nlohmann::json::object();
      for (const auto& [name, err] : {std::pair{"model", model_job_.error()}, std::pair{"corpus", corpus_job_.error()},
                                      std::pair{"trace", trace_job_.error()}, std::pair{"ablation", ablation_job_.error()},
                                      std::pair{"export", export_job_.error()}})
        if (!err.empty()) errors[name] = err;
      s["errors"] = errors;
      write_file_atomically(rest, s.dump(2) + "\n");
    } else if (cmd == "screenshot") {
      screenshot_ = rest;
    } else if (cmd == "quit") {
      quit_ = true;
    } else {
      return "unknown command '" + cmd + "'";
    }
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return "bad arguments for '" + cmd + "': " + e.what();
  }
  return "";
}

}  // namespace moescope::gui
