#include "tools/raw_kafka.h"

#include "common/kafka/api.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace gregor::tools {
namespace {

absl::Status WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r == 0) return absl::DeadlineExceededError("timed out");
  if (r < 0) return absl::InternalError(std::strerror(errno));
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view data, int timeout_ms) {
  while (!data.empty()) {
    RETURN_IF_ERROR(WaitFd(fd, POLLOUT, timeout_ms));
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) return absl::UnavailableError(std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, char* out, size_t size, int timeout_ms) {
  while (size > 0) {
    RETURN_IF_ERROR(WaitFd(fd, POLLIN, timeout_ms));
    ssize_t n = ::recv(fd, out, size, 0);
    if (n <= 0) return absl::UnavailableError("connection closed");
    out += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<kafka::ListOffsetsResponse> RawListOffsets(const std::string& host, int port,
                                                          const kafka::ListOffsetsRequest& request,
                                                          int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0 || !result) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host));
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int rc = ::connect(fd, result->ai_addr, result->ai_addrlen);
  ::freeaddrinfo(result);
  if (rc != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", host, ":", port));
  }
  kafka::RequestHeader header;
  header.api_key = kafka::ApiKey::kListOffsets;
  header.api_version = 1;
  header.correlation_id = 1;
  header.client_id = "gregor-cli";
  kafka::Writer body;
  absl::Status status = kafka::EncodeListOffsetsRequest(request, 1, body);
  if (status.ok()) {
    auto frame = kafka::FrameRequest(header, std::move(body)).Flatten();
    status = frame.ok() ? WriteAll(fd, *frame, timeout_ms) : frame.status();
  }
  std::string response;
  if (status.ok()) {
    char prefix[4];
    status = ReadAll(fd, prefix, 4, timeout_ms);
    if (status.ok()) {
      int32_t size = static_cast<int32_t>(absl::big_endian::Load32(prefix));
      if (size < 4 || size > (64 << 20)) {
        status = absl::DataLossError("bad response size");
      } else {
        response.resize(static_cast<size_t>(size));
        status = ReadAll(fd, response.data(), response.size(), timeout_ms);
      }
    }
  }
  ::close(fd);
  RETURN_IF_ERROR(status);
  ASSIGN_OR_RETURN(kafka::ResponseHeader rh,
                   kafka::ParseResponseHeader(response, kafka::ApiKey::kListOffsets, 1));
  return kafka::DecodeListOffsetsResponse(rh.body, 1);
}

}  // namespace gregor::tools
