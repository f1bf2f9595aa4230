// Writing a message made of owned bytes and file slices to an Asio TCP socket: owned chunks are
// gathered into one write, file slices go out with sendfile(2) straight from the page cache.
// Shared by the Kafka listener and the replication listener.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <asio.hpp>

#include "common/file.h"

namespace gregor::broker::net {

using Chunk = std::variant<std::string, FileSlice>;

// Writes as much of `chunks` as the socket takes right now, without blocking or suspending, and
// drops what was written from the front of `chunks` (a chunk written in part is trimmed). The
// common case — a response that fits the socket buffer — is then done with a syscall or two on
// the calling thread. Returns false with `error` set when the socket failed.
bool WriteNow(asio::ip::tcp::socket* socket, std::vector<Chunk>* chunks, std::string* error);

// Writes every chunk in order: WriteNow, then waits for the socket for whatever is left. Throws
// (asio::system_error, std::runtime_error) when the socket fails or a file is shorter than its
// slice: the connection cannot continue. `chunks` must outlive the call (GCC 12 mishandles
// class-type coroutine parameters); it is consumed.
asio::awaitable<void> WriteChunks(asio::ip::tcp::socket* socket, std::vector<Chunk>* chunks);

}  // namespace gregor::broker::net
