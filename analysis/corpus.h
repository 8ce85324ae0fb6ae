// corpus.h — a labelled corpus read from disk: JSONL (one object per line with `text` and
// optional `domain`, `lang`, `id`, `source`) or a folder with one sub-folder per domain holding
// .txt files (one document per file, the file name as id).
#pragma once

#include <string>
#include <vector>

namespace moescope {

struct CorpusDocument {
  std::string id;      // JSONL `id`, else "line N"; folder: "domain/file.txt"
  std::string domain;  // "" when the corpus has no labels
  std::string lang;    // "" when not given
  std::string text;    // UTF-8
};

// Reads a JSONL file or a domain folder. Errors (Error) name the file, the line and the field:
// not JSON, `text` missing or not a string, invalid UTF-8, no documents at all.
std::vector<CorpusDocument> read_corpus(const std::string& path);

}  // namespace moescope
