#include "broker/net/socket_writer.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace gregor::broker::net {

using asio::use_awaitable;
using asio::ip::tcp;

namespace {

constexpr size_t kMaxIov = 64;

// One non-blocking pass; returns bytes written, 0 when the socket is full (EAGAIN), -1 on error.
ssize_t WriteStrings(int fd, const std::vector<Chunk>& chunks, size_t first, size_t first_offset,
                     size_t* count) {
  iovec iov[kMaxIov];
  size_t n = 0;
  for (size_t i = first; i < chunks.size() && n < kMaxIov; ++i) {
    const std::string* bytes = std::get_if<std::string>(&chunks[i]);
    if (bytes == nullptr) break;
    size_t skip = i == first ? first_offset : 0;
    iov[n].iov_base = const_cast<char*>(bytes->data()) + skip;
    iov[n].iov_len = bytes->size() - skip;
    ++n;
  }
  *count = n;
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  while (true) {
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w >= 0) return w;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return -1;
  }
}

}  // namespace

bool WriteNow(tcp::socket* socket, std::vector<Chunk>* chunks, std::string* error) {
  const int fd = socket->native_handle();
  size_t done = 0;  // whole chunks written
  while (done < chunks->size()) {
    Chunk& chunk = (*chunks)[done];
    if (auto* bytes = std::get_if<std::string>(&chunk)) {
      if (bytes->empty()) {
        ++done;
        continue;
      }
      size_t count = 0;
      ssize_t w = WriteStrings(fd, *chunks, done, 0, &count);
      if (w < 0) {
        *error = std::strerror(errno);
        return false;
      }
      if (w == 0) break;  // full: the rest waits
      size_t left = static_cast<size_t>(w);
      while (left > 0) {
        std::string& s = std::get<std::string>((*chunks)[done]);
        if (left >= s.size()) {
          left -= s.size();
          ++done;
        } else {
          s.erase(0, left);
          left = 0;
        }
      }
      continue;
    }
    FileSlice& slice = std::get<FileSlice>(chunk);
    bool full = false;
    while (slice.size > 0) {
      off_t offset = static_cast<off_t>(slice.position);
      ssize_t n = ::sendfile(fd, slice.file->fd(), &offset,
                             static_cast<size_t>(std::min<int64_t>(slice.size, 1 << 30)));
      if (n > 0) {
        slice.position += n;
        slice.size -= n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        full = true;
        break;
      }
      if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
        // No sendfile for this pair: copy through memory, and let the async path send it.
        auto bytes = ReadSlice(slice);
        if (!bytes.ok()) {
          *error = std::string(bytes.status().message());
          return false;
        }
        chunk = std::move(*bytes);
        full = true;
        break;
      }
      *error = n == 0 ? "sendfile: file shorter than its slice" : std::strerror(errno);
      return false;
    }
    if (full) break;
    ++done;
  }
  chunks->erase(chunks->begin(), chunks->begin() + static_cast<ptrdiff_t>(done));
  return true;
}

asio::awaitable<void> WriteChunks(tcp::socket* socket, std::vector<Chunk>* chunks) {
  socket->native_non_blocking(true);
  while (true) {
    std::string error;
    if (!WriteNow(socket, chunks, &error)) throw std::runtime_error(error);
    if (chunks->empty()) co_return;
    co_await socket->async_wait(tcp::socket::wait_write, use_awaitable);
  }
}

}  // namespace gregor::broker::net
