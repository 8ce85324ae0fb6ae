// proc_memory.cpp — parsing the Vm* / Rss* lines of /proc/self/status.
#include "bench/proc_memory.h"

#include <fstream>
#include <sstream>
#include <string>

#include "engine/error.h"

namespace moescope {

ProcMemory read_proc_memory() {
  const char* path = "/proc/self/status";
  std::ifstream in(path);
  if (!in) fail(path, "cannot open (the memory benchmarks need Linux's /proc)");
  ProcMemory m;
  int found = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, unit;
    uint64_t kb = 0;
    if (!(fields >> key >> kb >> unit) || unit != "kB") continue;
    uint64_t* slot = key == "VmRSS:" ? &m.rss : key == "VmHWM:" ? &m.hwm : key == "RssAnon:" ? &m.rss_anon
                   : key == "RssFile:" ? &m.rss_file : nullptr;
    if (slot) {
      *slot = kb * 1024;
      ++found;
    }
  }
  if (found != 4) fail_expected(path, "missing memory fields", "VmRSS, VmHWM, RssAnon and RssFile", std::to_string(found) + " of them");
  return m;
}

}  // namespace moescope
