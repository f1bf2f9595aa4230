#include "tests/controller/simulation_env.h"

#include <unistd.h>

#include <cstdlib>

namespace gregor::quorum::sim_env {

volatile std::sig_atomic_t g_abort_nodes = 0;
uint64_t g_abort_seed = 0;

void OnAbort(int sig) {
  char buf[160];
  char digits[24];
  int n = 0;
  uint64_t v = g_abort_seed;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 24);
  int len = 0;
  const char* prefix = "\n*** raft simulation aborted; rerun with GREGOR_RAFT_SEED=";
  for (const char* p = prefix; *p != '\0'; ++p) buf[len++] = *p;
  while (n > 0) buf[len++] = digits[--n];
  const char* suffix = g_abort_nodes == 5 ? " (FiveNodes)\n" : " (ThreeNodes)\n";
  for (const char* p = suffix; *p != '\0'; ++p) buf[len++] = *p;
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, buf, static_cast<size_t>(len));
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::optional<uint64_t> SeedFromEnv() {
  const char* s = std::getenv("GREGOR_RAFT_SEED");
  if (s == nullptr || *s == '\0') return std::nullopt;
  return std::strtoull(s, nullptr, 10);
}

int EnvInt(const char* name, int default_value) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return default_value;
  return static_cast<int>(std::strtol(s, nullptr, 10));
}

bool Verbose() {
  const char* s = std::getenv("GREGOR_RAFT_VERBOSE");
  return s != nullptr && *s != '\0' && *s != '0';
}

}  // namespace gregor::quorum::sim_env
