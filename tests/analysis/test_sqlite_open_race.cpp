// Two processes opening the same new database at once (a trace creating its workspace while the
// app or a test peeks at it) must both succeed: switching a fresh file to WAL deadlocks one of them
// otherwise, and SQLite answers it SQLITE_BUSY without waiting (the rare flake of
// "Ctrl-C (SIGINT) stops a trace": the trace exited 1 before its first document).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "analysis/sqlite_db.h"
#include "engine/error.h"
#include "tests/test_paths.h"

namespace {

// Opens (creating) path and creates a table; true on success.
bool open_and_write(const std::string& path) {
  try {
    moescope::SqliteDb db(path, true);
    db.exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
    return true;
  } catch (const moescope::Error&) {
    return false;
  }
}

}  // namespace

TEST_CASE("sqlite: two processes opening one new database at the same moment both succeed") {
  moescope::test::TempDir dir("sqlite-open-race");
  int failures = 0;
  for (int round = 0; round < 500; ++round) {  // without the retry, ~1 in 600 rounds fails
    const std::string path = dir / ("db-" + std::to_string(round) + ".sqlite");
    int go[2];
    REQUIRE(::pipe(go) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // wait for the start signal, then race the parent
      char c;
      ::close(go[1]);
      const bool ok = ::read(go[0], &c, 1) == 1 && open_and_write(path);
      ::_exit(ok ? 0 : 1);
    }
    ::close(go[0]);
    const char c = 'x';
    REQUIRE(::write(go[1], &c, 1) == 1);
    ::close(go[1]);
    const bool parent_ok = open_and_write(path);
    int status = 0;
    ::waitpid(child, &status, 0);
    const bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    failures += (parent_ok ? 0 : 1) + (child_ok ? 0 : 1);
  }
  CHECK(failures == 0);
}
