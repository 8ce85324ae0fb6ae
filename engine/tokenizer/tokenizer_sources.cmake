# Sources of the tokenizer (kept in its own list so the tokenizer can grow without touching engine/CMakeLists.txt).
set(MOESCOPE_TOKENIZER_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_added.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bytelevel.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_decoder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_normalizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_replace.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretokenizer_metaspace.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretokenizer_regex.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unicode_nfc.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unicode_utf8.cpp
)
