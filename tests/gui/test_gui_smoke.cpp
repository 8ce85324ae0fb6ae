// test_gui_smoke.cpp — the desktop app under a virtual display (Xvfb) on the EMO sample model and
// a small traced sample corpus: a screenshot of every view shows its content, and a scripted
// session (paste text, pin a token, choose and export a subset, write a pruned checkpoint) leaves
// files that agree with moescope-cli. Skipped with a message where the app was not built or
// xvfb-run is missing.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <stb/stb_image.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tests/test_paths.h"

namespace {

#ifdef MOESCOPE_GUI_PATH
int sh(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// A shell command from words, each single-quoted except shell syntax given as `raw` pieces.
std::string cli_cmd(std::initializer_list<std::string> words, const std::string& redirect) {
  std::string c = "'";
  c += moescope::test::cli_path();
  c += "'";
  for (const auto& w : words) {
    c += " '";
    c += w;
    c += "'";
  }
  c += ' ';
  c += redirect;
  return c;
}

std::string sample_model(const std::string& name = "emo-sample") {
  std::string p = moescope::test::source_dir();
  p += "/samples/models/" + name;
  return p;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The app on the sample model with `args`, under Xvfb, HOME in `home` (so no user settings leak in).
// The X authority file lives in `home` too: without -f, xvfb-run makes its own temporary folder and,
// when removing it fails (seen under load), exits 5 in place of the app's exit status.
int run_app(const std::string& home, const std::string& args) {
  return sh("HOME='" + home + "' xvfb-run -a -f '" + home + "/.Xauthority' -s '-screen 0 1600x1000x24' '" +
            MOESCOPE_GUI_PATH + "' --model '" +
            moescope::test::source_dir() + "/samples/models/emo-sample' " + args + " >'" + home + "/app.log' 2>&1");
}

struct Image {
  int w = 0, h = 0;
  std::vector<unsigned char> rgb;
  size_t colours(int x0, int y0, int x1, int y1) const {  // distinct colours in a rectangle
    std::set<uint32_t> s;
    for (int y = y0; y < std::min(y1, h); ++y)
      for (int x = x0; x < std::min(x1, w); ++x) {
        const unsigned char* p = &rgb[3 * (size_t(y) * size_t(w) + size_t(x))];
        s.insert(uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]);
      }
    return s.size();
  }
};

Image load_png(const std::string& path) {
  Image im;
  int ch = 0;
  unsigned char* px = stbi_load(path.c_str(), &im.w, &im.h, &ch, 3);
  REQUIRE_MESSAGE(px, "cannot read " << path);
  im.rgb.assign(px, px + size_t(im.w) * size_t(im.h) * 3);
  stbi_image_free(px);
  return im;
}

// A small labelled corpus from the committed held-out sample (8 documents of each of 6 domains),
// traced with the CLI (by the EMO sample unless `model` says otherwise): what the Corpus, Groups
// and Subsets views show.
std::string traced_sample(const moescope::test::TempDir& tmp, const std::string& model = sample_model(),
                          const std::string& name = "sample.moescope") {
  std::ifstream in(moescope::test::source_dir() + "/samples/corpus/heldout.jsonl");
  std::ofstream out(tmp / "corpus.jsonl");
  std::map<std::string, int> taken;
  const std::set<std::string> domains{"biology", "code_python", "lang_de", "lang_es", "legal", "religion_en"};
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    const std::string d = j["domain"];
    if (domains.count(d) && taken[d]++ < 8) out << line << "\n";
  }
  out.close();
  const std::string ws = tmp / name;
  REQUIRE(sh(cli_cmd({"trace", "--model", model, "--corpus", tmp / "corpus.jsonl", "--workspace", ws,
                      "--max-tokens-per-doc", "96"},
                     ">/dev/null 2>&1")) == 0);
  return ws;
}
#endif

}  // namespace

TEST_CASE("gui: bad options are refused before a window opens") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built (MOESCOPE_GUI off or Dear ImGui/GLFW missing)");
#else
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --bogus >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --view nowhere >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --script /nonexistent/script.txt >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --text-file /nonexistent/text.txt >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --frames 0 >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --frames many >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --ui-scale 9 >/dev/null 2>&1") == 2);
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --ui-scale big >/dev/null 2>&1") == 2);
#endif
}

TEST_CASE("gui: a screenshot of every view under Xvfb shows its content") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built");
#else
  if (sh("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: xvfb-run not installed (tools/install-deps.sh installs it)");
    return;
  }
  moescope::test::TempDir tmp("gui-views");
  const std::string ws = traced_sample(tmp);
  std::map<std::string, Image> shots;
  for (const char* view : {"model", "text", "corpus", "groups", "subsets", "compare"}) {
    const std::string png = tmp / (std::string(view) + ".png");
    INFO("view " << view << "; log: " << slurp(tmp / "app.log"));
    REQUIRE(run_app(tmp.str(), std::string("--workspace '") + ws + "' --compare-workspace '" + ws + "' --view " + view +
                                   " --screenshot '" + png + "'") == 0);
    shots[view] = load_png(png);
    CHECK(shots[view].w == 1500);
    CHECK(shots[view].h == 940);
  }
  // The heatmaps (Text: right pane; Corpus: domain x expert; Compare: both columns) hold many colours,
  // the token boxes and graph nodes take group colours; a blank or unfinished view has a handful.
  CHECK(shots["text"].colours(980, 100, 1500, 200) > 40);   // layer x expert heatmap of the text
  CHECK(shots["text"].colours(0, 220, 960, 330) > 20);      // coloured token boxes
  CHECK(shots["corpus"].colours(150, 220, 1500, 400) > 60); // domain x expert heatmap
  CHECK(shots["groups"].colours(0, 100, 740, 840) > 20);    // the graph: nodes in group colours, edges
  CHECK(shots["compare"].colours(0, 160, 1500, 240) > 60);  // two text heatmaps side by side
  CHECK(shots["model"].colours(0, 60, 700, 400) > 10);      // the info table
  CHECK(shots["subsets"].colours(0, 60, 700, 200) > 10);    // the kept experts, buttons
  // Views differ from each other (the tab really switched).
  for (const char* v : {"model", "corpus", "groups", "subsets", "compare"}) CHECK(shots[v].rgb != shots["text"].rgb);
  // Screenshots never write the user's layout files.
  CHECK_FALSE(std::filesystem::exists(tmp / ".config/moescope/imgui.ini"));
  CHECK_FALSE(std::filesystem::exists(tmp / ".config/moescope/session.json"));
#endif
}

TEST_CASE("gui: a scripted session pastes text, pins a token, exports a subset and a pruned checkpoint") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built");
#else
  if (sh("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: xvfb-run not installed");
    return;
  }
  moescope::test::TempDir tmp("gui-script");
  const std::string ws = traced_sample(tmp);
  {
    std::ofstream s(tmp / "script.txt");
    s << "text Die Experten teilen sich die Arbeit.\\nIn the beginning God created the heaven.\n"
      << "pin 2\n"
      << "workspace " << ws << "\n"
      << "view subsets\n"
      << "subset lang_de global 3\n"
      << "export-subset " << tmp / "subset.json" << "\n"
      << "export-checkpoint " << tmp / "pruned" << "\n"
      << "ablate\n"
      << "save-state " << tmp / "state.json" << "\n"
      << "corpus-tab clusters\n"
      << "cluster 3\n"
      << "expert-blocks on\n"
      << "save-state " << tmp / "state-clusters.json" << "\n"
      << "search court\n"
      << "search-tokens the\n"
      << "save-state " << tmp / "state-search.json" << "\n"
      << "open-document 5\n"
      << "save-state " << tmp / "state-open.json" << "\n"
      << "export-folder " << tmp / "exports" << "\n"
      << "expert-blocks off\n"
      << "corpus-tab domain-expert\n"
      << "layer 0\n"
      << "export-csv domain_heat\n"
      << "save-state " << tmp / "state-export.json" << "\n"
      << "trace " << tmp / "corpus.jsonl" << " " << tmp / "from-app.moescope" << " 32\n"
      << "save-state " << tmp / "state-traced.json" << "\n"
      << "model /nonexistent/checkpoint\n"
      << "save-state " << tmp / "state-bad-model.json" << "\n"
      << "model " << tmp / "pruned" << "\n"
      << "view model\n"
      << "save-state " << tmp / "state-pruned.json" << "\n"
      << "quit\n";
  }
  INFO(slurp(tmp / "app.log"));
  REQUIRE(run_app(tmp.str(), "--script '" + tmp / "script.txt" + "'") == 0);
  const auto state = nlohmann::json::parse(slurp(tmp / "state.json"));
  CHECK(state["errors"].empty());
  CHECK(state["view"] == "Subsets");
  // The Corpus view's default corpus is the sample's, found from the app, not the working folder.
  CHECK(std::filesystem::exists(state["corpus_path"].get<std::string>()));
  CHECK(state["pinned"] == 2);
  // The pinned token is the third token of the pasted text, as the CLI tokenizes it.
  const std::string tok = tmp / "tok.json";
  REQUIRE(sh(cli_cmd({"tokenize", "--model", sample_model(), "--text", "Die Experten teilen", "--json"}, ">" + tok)) == 0);
  const auto tj = nlohmann::json::parse(slurp(tok));
  CHECK(state["pinned_token"]["id"] == tj["ids"][2]);
  CHECK(state["pinned_token"]["layers"].size() == 4);
  CHECK(state["ablation_points"].get<int>() > 5);
  // The sweep was stored and the view's curves read it back: one workspace, one domain, % increase
  // per budget, 0 at the full model's k and more for random subsets than for the domain's own.
  REQUIRE(state["ablation_curves"].size() == 1);
  CHECK(state["ablation_curves"][0]["name"].get<std::string>().find("emo-sample (") == 0);
  CHECK(state["ablation_curves"][0]["domains"] == 1);
  const auto& pct = state["ablation_curves"][0]["mean_increase_pct"];
  REQUIRE(pct.contains("global_mean_prob"));
  REQUIRE(pct.contains("random"));
  CHECK(pct["random"]["2"].get<double>() > pct["global_mean_prob"]["2"].get<double>());
  // Script commands reach the Corpus view's sub-views: the clusters tab's result is the CLI's.
  const auto clusters = nlohmann::json::parse(slurp(tmp / "state-clusters.json"));
  CHECK(clusters["view"] == "Corpus");
  CHECK(clusters["expert_blocks"] == true);
  CHECK(clusters["clusters"]["k"] == 3);
  CHECK(clusters["clusters"]["documents"] == 48);
  const std::string analyzed = tmp / "analyze.json";
  REQUIRE(sh(cli_cmd({"analyze", "--workspace", ws, "--clusters", "3", "--json"}, ">" + analyzed)) == 0);
  const auto aj = nlohmann::json::parse(slurp(analyzed));
  CHECK(clusters["clusters"]["nmi"].get<double>() == doctest::Approx(aj["document_clusters"]["nmi"].get<double>()));
  // The expert usage tab flags the experts `analyze` reports as rarely used.
  REQUIRE(clusters["rarely_used_experts"].size() == aj["layers"].size());
  for (size_t l = 0; l < aj["layers"].size(); ++l)
    CHECK(clusters["rarely_used_experts"][l] == aj["layers"][l]["expert_usage"]["rarely_used"]);
  // The explorer maps every traced document; its search finds exactly the documents whose text
  // holds the word (checked against the corpus file); a document opened goes to the Text view.
  const auto search = nlohmann::json::parse(slurp(tmp / "state-search.json"));
  CHECK(search["view"] == "Explore");
  CHECK(search["map_points"] == 48);
  std::vector<std::string> expected_ids;
  std::vector<std::string> texts;
  {
    std::ifstream corpus(tmp / "corpus.jsonl");
    int line = 0;
    for (std::string l; std::getline(corpus, l);) {
      ++line;
      const auto j = nlohmann::json::parse(l);
      texts.push_back(j["text"]);
      if (j["text"].get<std::string>().find("court") != std::string::npos) expected_ids.push_back("line " + std::to_string(line));
    }
  }
  REQUIRE(expected_ids.size() == 2);  // "court" (no other case of it in these 48 documents)
  // Token search: vocabulary tokens holding "the", each seen in the corpus, most frequent first.
  REQUIRE(!search["token_search"].empty());
  size_t last = SIZE_MAX;
  for (const auto& t : search["token_search"]) {
    CHECK(t["occurrences"].get<size_t>() >= t["documents"].get<size_t>());
    CHECK(t["documents"].get<size_t>() >= 1);
    CHECK(t["occurrences"].get<size_t>() <= last);
    last = t["occurrences"].get<size_t>();
  }
  CHECK(search["search"]["documents"] == nlohmann::json(expected_ids));
  const auto opened = nlohmann::json::parse(slurp(tmp / "state-open.json"));
  CHECK(opened["view"] == "Text");
  CHECK(opened["text_bytes"] == texts[5].size());
  // A figure's data as CSV (its right-click menu): the domain x expert map of layer 0 holds the
  // mean probabilities `analyze` reports.
  const auto exported = nlohmann::json::parse(slurp(tmp / "state-export.json"));
  const std::string csv_path = exported["last_export"];
  CHECK(csv_path.find(tmp / "exports/domain_heat-") == 0);
  {
    std::ifstream csv(csv_path);
    std::string header;
    std::getline(csv, header);
    CHECK(header.find("domain,expert 0,expert 1,") == 0);
    size_t row = 0;
    for (std::string line; std::getline(csv, line); ++row) {
      REQUIRE(row < aj["layers"][0]["domains"].size());
      const auto& want = aj["layers"][0]["domains"][row];
      CHECK(line.find(want["domain"].get<std::string>() + " (") == 0);
      std::stringstream fields(line.substr(line.find(',') + 1));
      std::string v;
      for (size_t e = 0; std::getline(fields, v, ','); ++e)
        CHECK(std::stod(v) == doctest::Approx(want["mean_prob"][e].get<double>()).epsilon(1e-6));
    }
    CHECK(row == 6);
  }
  // The exported subset is what `moescope-cli subset select` chooses for the same request.
  const std::string cli_subset = tmp / "cli-subset.json";
  REQUIRE(sh(cli_cmd({"subset", "select", "--workspace", ws, "--domain", "lang_de", "--experts", "3", "--out", cli_subset},
                     ">/dev/null")) == 0);
  const auto gui = nlohmann::json::parse(slurp(tmp / "subset.json")), cli = nlohmann::json::parse(slurp(cli_subset));
  CHECK(gui["schema"] == "moescope-subset/1");
  CHECK(gui["experts_kept_per_layer"] == cli["experts_kept_per_layer"]);
  CHECK(gui["experts_kept_per_layer"][0].size() == 3);
  // The pruned checkpoint loads and has 3 standard + 1 shared experts per layer.
  const std::string info = tmp / "info.json";
  REQUIRE(sh(cli_cmd({"info", "--model", tmp / "pruned", "--json"}, ">" + info)) == 0);
  const auto ij = nlohmann::json::parse(slurp(info));
  CHECK(ij["experts_per_layer"] == nlohmann::json::array({4, 4, 4, 4}));
  // A corpus traced from the app (Corpus view) opens as the workspace when done, every document in.
  const auto traced = nlohmann::json::parse(slurp(tmp / "state-traced.json"));
  CHECK(traced["workspace"]["path"] == tmp / "from-app.moescope");
  CHECK(traced["workspace"]["documents"] == 48);
  CHECK(traced["errors"].empty());
  // A bad checkpoint folder is an error shown in the window; the loaded model stays.
  const auto bad = nlohmann::json::parse(slurp(tmp / "state-bad-model.json"));
  CHECK(bad["errors"]["model"].get<std::string>().find("/nonexistent/checkpoint") != std::string::npos);
  CHECK(bad["model"] == state["model"]);
  // The pruned checkpoint, loaded, says what it was pruned from (its pruning_metadata.json).
  const auto pruned = nlohmann::json::parse(slurp(tmp / "state-pruned.json"));
  CHECK(pruned["errors"].empty());
  CHECK(pruned["pruned_from"].get<std::string>().find(
            "pruned from " + std::filesystem::absolute(sample_model()).lexically_normal().string() +
            " (domain lang_de, global_mean_prob): 3 of ") == 0);
  CHECK(state["pruned_from"] == "");
#endif
}

TEST_CASE("gui: the views share one loaded model; a workspace traced with another model asks for that model") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built");
#else
  if (sh("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: xvfb-run not installed");
    return;
  }
  moescope::test::TempDir tmp("gui-one-model");
  const std::string ws_emo = traced_sample(tmp), ws_std = traced_sample(tmp, sample_model("std-sample"), "std.moescope");
  {
    std::ofstream s(tmp / "script.txt");
    // The app's model (the EMO sample) traced this workspace: a greedy export, a sweep and a trace
    // run on it, and Compare's model A (the EMO sample too) is it; only model B is loaded again.
    s << "workspace " << ws_emo << "\n"
      << "subset lang_de greedy 3\n"
      << "export-subset " << tmp / "greedy.json" << "\n"
      << "subset lang_de global 3\n"
      << "ablate\n"
      << "trace " << tmp / "corpus.jsonl" << " " << tmp / "from-app.moescope" << " 32\n"
      << "view compare\n"
      << "save-state " << tmp / "state-same.json" << "\n"
      // A workspace of the standard sample: refused, naming the model to load; nothing is loaded.
      << "workspace " << ws_std << "\n"
      << "view subsets\n"
      << "subset lang_de greedy 3\n"
      << "export-subset " << tmp / "refused.json" << "\n"
      << "ablate\n"
      << "save-state " << tmp / "state-other.json" << "\n"
      // Loading it (the Model view's path) makes it the app's model: then they run.
      << "model " << sample_model("std-sample") << "\n"
      << "export-subset " << tmp / "std-greedy.json" << "\n"
      << "ablate\n"
      << "save-state " << tmp / "state-switched.json" << "\n"
      << "quit\n";
  }
  INFO(slurp(tmp / "app.log"));
  REQUIRE(run_app(tmp.str(), "--script '" + tmp / "script.txt" + "'") == 0);
  const auto same = nlohmann::json::parse(slurp(tmp / "state-same.json"));
  CHECK(same["errors"].empty());
  CHECK(same["model_loads"] == 2);  // the app's model and Compare's model B
  CHECK(same["ablation_points"].get<int>() > 5);
  CHECK(same["workspace"]["path"] == tmp / "from-app.moescope");
  CHECK(nlohmann::json::parse(slurp(tmp / "greedy.json"))["method"] == "greedy_layerwise");
  const auto other = nlohmann::json::parse(slurp(tmp / "state-other.json"));
  CHECK(other["model"] == sample_model());
  CHECK(other["model_loads"] == 2);
  for (const char* job : {"export", "ablation"}) {
    INFO(job << ": " << other["errors"]);
    REQUIRE(other["errors"].contains(job));
    const std::string err = other["errors"][job];
    CHECK(err.find(sample_model("std-sample") + ": is the model the workspace was traced with") == 0);
    CHECK(err.find("the loaded model is " + sample_model()) != std::string::npos);
    CHECK(err.find("Load it in the Model view") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(tmp / "refused.json"));
  const auto switched = nlohmann::json::parse(slurp(tmp / "state-switched.json"));
  CHECK(switched["errors"].empty());
  CHECK(switched["model"] == sample_model("std-sample"));
  CHECK(switched["model_loads"] == 3);
  CHECK(switched["ablation_points"].get<int>() > 5);
  CHECK(nlohmann::json::parse(slurp(tmp / "std-greedy.json"))["model"]["path"] == sample_model("std-sample"));
#endif
}

TEST_CASE("gui: a text file that is not UTF-8 is refused naming the file, the byte and the encoding; the text box keeps its text") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built");
#else
  moescope::test::TempDir tmp("gui-bad-text-file");
  const std::string bad = tmp / "latin1.txt";
  std::ofstream(bad, std::ios::binary) << "caf\xe9 au lait\n";  // é in Latin-1
  const std::string expected = bad + ": not UTF-8 text: byte 3 (0xE9) at line 1, column 4 is not valid UTF-8 (moescope reads "
                                     "text files as UTF-8";
  // Given at start-up: refused before a window opens.
  CHECK(sh(std::string("'") + MOESCOPE_GUI_PATH + "' --text-file '" + bad + "' >/dev/null 2>'" + tmp / "start.log" + "'") == 2);
  CHECK(slurp(tmp / "start.log").find(expected) != std::string::npos);
  if (sh("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped the window part: xvfb-run not installed");
    return;
  }
  {
    std::ofstream s(tmp / "script.txt");
    s << "text Die Experten teilen\n"
      << "text-file " << bad << "\n"
      << "save-state " << tmp / "state.json" << "\n"
      << "screenshot " << tmp / "text.png" << "\n"
      << "text Die Experten teilen sich\n"
      << "screenshot " << tmp / "text-after.png" << "\n"
      << "quit\n";
  }
  INFO(slurp(tmp / "app.log"));
  CHECK(run_app(tmp.str(), "--view text --script '" + tmp / "script.txt" + "'") == 1);  // the script's line 2 failed
  CHECK(slurp(tmp / "app.log").find("script line 2: " + expected) != std::string::npos);
  const auto state = nlohmann::json::parse(slurp(tmp / "state.json"));
  CHECK(state["text_file_error"].get<std::string>().find(expected) == 0);
  CHECK(state["text_bytes"] == 19);  // "Die Experten teilen": the typed text stayed and was routed
  CHECK(state["text_error"] == "");
  // The error is drawn in the Text view, in orange between the "Open text file..." button and the
  // text box; a new text replaces it.
  auto orange_above_text_box = [](const Image& im) {
    size_t n = 0;
    for (int y = 70; y < 120; ++y)
      for (int x = 0; x < 960; ++x) {
        const unsigned char* p = &im.rgb[3 * (size_t(y) * size_t(im.w) + size_t(x))];
        n += p[0] > 200 && p[1] > 110 && p[1] < 190 && p[2] < 110;
      }
    return n;
  };
  CHECK(orange_above_text_box(load_png(tmp / "text.png")) > 200);
  CHECK(orange_above_text_box(load_png(tmp / "text-after.png")) == 0);
#endif
}

TEST_CASE("gui: a text longer than the context is routed in windows, stated in the state, as the CLI routes it") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built");
#else
  if (sh("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: xvfb-run not installed");
    return;
  }
  moescope::test::TempDir tmp("gui-long-text");
  // Sentences repeated past the sample's 1024-token context.
  std::string text;
  for (int i = 0; i < 120; ++i) text += "Die Experten teilen sich die Arbeit. In the beginning God created the heaven.\n";
  std::ofstream(tmp / "long.txt") << text;
  const std::string cli_json = tmp / "route.json";
  REQUIRE(sh(cli_cmd({"route", "--model", sample_model(), "--file", tmp / "long.txt", "--json"}, ">" + cli_json)) == 0);
  const auto cli = nlohmann::json::parse(slurp(cli_json));
  const size_t T = cli["ids"].size();
  REQUIRE(T > 1024);
  const size_t pin = T - 3;  // in the last window
  {
    std::ofstream s(tmp / "script.txt");
    s << "text-file " << tmp / "long.txt" << "\n"
      << "pin " << pin << "\n"
      << "save-state " << tmp / "state.json" << "\n"
      << "screenshot " << tmp / "text.png" << "\n"
      << "quit\n";
  }
  INFO(slurp(tmp / "app.log"));
  REQUIRE(run_app(tmp.str(), "--script '" + tmp / "script.txt" + "'") == 0);
  const auto state = nlohmann::json::parse(slurp(tmp / "state.json"));
  CHECK(state["text_error"] == "");
  CHECK(state["tokens"] == T);
  CHECK(state["windows"] == cli["windows"]);
  CHECK(state["windows"].size() == (T + 1023) / 1024);
  REQUIRE(state["pinned_token"]["layers"].size() == cli["layers"].size());
  for (size_t l = 0; l < cli["layers"].size(); ++l)
    CHECK(state["pinned_token"]["layers"][l]["experts"] == cli["layers"][l]["topk_ids"][pin]);
  CHECK(std::filesystem::exists(tmp / "text.png"));
#endif
}

TEST_CASE("gui: the text box wraps long lines, and typing into it edits the text, not its soft breaks") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built");
#else
  if (sh("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: xvfb-run not installed");
    return;
  }
  moescope::test::TempDir tmp("gui-wrapped-text");
  // One line of ~90 words (far wider than the box) and a second line after a hard newline.
  std::string line;
  for (int i = 0; i < 90; ++i) {
    if (i) line += ' ';
    line += i % 3 ? "expert" : "routing";
  }
  const std::string text = line + "\nsecond line";
  {
    std::ofstream s(tmp / "script.txt");
    s << "text " << line << "\\nsecond line\n"
      << "save-state " << tmp / "before.json" << "\n"
      << "type Zq\n"   // the box takes focus with its cursor at the start
      << "type x \n"   // the cursor stayed after the "Zq" while the lines re-flowed
      << "save-state " << tmp / "after.json" << "\n"
      << "quit\n";
  }
  INFO(slurp(tmp / "app.log"));
  REQUIRE(run_app(tmp.str(), "--view text --script '" + tmp / "script.txt" + "'") == 0);
  const auto before = nlohmann::json::parse(slurp(tmp / "before.json"));
  const auto after = nlohmann::json::parse(slurp(tmp / "after.json"));
  CHECK(before["text"] == text);
  // ~630 characters in a box ~880 px wide: several lines, beyond the one hard newline.
  CHECK(before["text_box_lines"].get<int>() >= 4);
  std::string typed = "Zqx ";
  typed += text;
  CHECK(after["text"] == typed);  // no soft break turned into a newline, nothing typed elsewhere
  CHECK(after["text_bytes"] == text.size() + 4);  // and the edited text was routed
#endif
}
