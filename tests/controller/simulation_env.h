// The knobs of a seeded simulation run (raft_simulation_test.cc): seeds and step counts from the
// environment, and a signal handler that prints the seed when a GREGOR_CHECK aborts the process.
#pragma once

#include <csignal>
#include <cstdint>
#include <optional>

namespace gregor::quorum::sim_env {

// Set by the running simulation, printed by OnAbort.
extern volatile std::sig_atomic_t g_abort_nodes;
extern uint64_t g_abort_seed;

// A SIGABRT handler: prints "rerun with GREGOR_RAFT_SEED=<seed>", then re-raises.
void OnAbort(int sig);

// GREGOR_RAFT_SEED, if set.
std::optional<uint64_t> SeedFromEnv();
// GREGOR_RAFT_SEEDS / GREGOR_RAFT_STEPS override how many seeds a sweep runs and how many
// chaos events each seed gets (e.g. for a long soak).
int EnvInt(const char* name, int default_value);
// GREGOR_RAFT_VERBOSE.
bool Verbose();

}  // namespace gregor::quorum::sim_env
