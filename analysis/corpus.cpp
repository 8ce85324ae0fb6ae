// corpus.cpp — reading labelled corpora (JSONL or domain folders).
#include "analysis/corpus.h"

#include <algorithm>
#include <filesystem>

#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

std::string optional_string(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() && std::string(key) == "id") return std::to_string(it->get<int64_t>());
  fail_expected(where + ": field '" + key + "'", "wrong type", "a string", brief(*it));
}

std::vector<CorpusDocument> read_jsonl(const std::string& path) {
  const std::string data = read_text_file(path, "corpus JSONL file", size_t(4) << 30);
  std::vector<CorpusDocument> docs;
  size_t line_no = 0;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    ++line_no;
    const std::string where = path + ": line " + std::to_string(line_no);
    const char* b = data.data() + pos;
    const char* e = data.data() + end;
    pos = end + 1;
    if (std::all_of(b, e, [](char c) { return c == ' ' || c == '\t' || c == '\r'; })) continue;
    const nlohmann::json j = parse_json(b, e, where);
    if (!j.is_object()) fail_expected(where, "not a JSON object", "{\"text\": ..., \"domain\": ...}", brief(j));
    auto text = j.find("text");
    if (text == j.end()) fail(where, "has no 'text' field");
    if (!text->is_string()) fail_expected(where + ": field 'text'", "wrong type", "a string", brief(*text));
    CorpusDocument d;
    d.text = text->get<std::string>();
    detail::require_valid_utf8(d.text, where + ": field 'text'");
    d.domain = optional_string(j, "domain", where);
    d.lang = optional_string(j, "lang", where);
    d.id = optional_string(j, "id", where);
    if (d.id.empty()) d.id = "line " + std::to_string(line_no);
    docs.push_back(std::move(d));
  }
  return docs;
}

std::vector<CorpusDocument> read_folder(const std::string& path) {
  std::vector<fs::path> domains;
  for (const auto& entry : fs::directory_iterator(path))
    if (entry.is_directory()) domains.push_back(entry.path());
  std::sort(domains.begin(), domains.end());
  if (domains.empty()) fail_expected(path, "corpus folder has no domain sub-folders", "one sub-folder per domain with .txt files", "none");
  std::vector<CorpusDocument> docs;
  for (const fs::path& dom : domains) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dom))
      if (entry.is_regular_file() && entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      CorpusDocument d;
      d.domain = dom.filename().string();
      d.id = d.domain + "/" + fs::relative(f, dom).string();
      d.text = read_text_file(f.string(), "corpus document");
      detail::require_valid_utf8(d.text, f.string());
      docs.push_back(std::move(d));
    }
  }
  return docs;
}

}  // namespace

std::vector<CorpusDocument> read_corpus(const std::string& path) {
  if (!fs::exists(path)) fail(path, "no such file or folder (expected a JSONL corpus or a folder of domain sub-folders)");
  std::vector<CorpusDocument> docs = fs::is_directory(path) ? read_folder(path) : read_jsonl(path);
  if (docs.empty()) fail(path, "corpus has no documents");
  return docs;
}

}  // namespace moescope
