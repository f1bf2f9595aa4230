// Kafka api keys, request/response headers and frames.
#include "common/kafka/api.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kafka/test_bytes.h"

namespace gregor::kafka {
namespace {

using ::gregor::kafka::testing::Hex;
using ::gregor::kafka::testing::ToHex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Flat(const Writer& w) {
  absl::StatusOr<std::string> flat = w.Flatten();
  EXPECT_TRUE(flat.ok()) << flat.status();
  return flat.ok() ? *flat : std::string();
}

TEST(KafkaProtocolApiTest, FlexibleVersionsAndHeaderVersions) {
  EXPECT_FALSE(IsFlexible(ApiKey::kApiVersions, 2));
  EXPECT_TRUE(IsFlexible(ApiKey::kApiVersions, 3));
  EXPECT_TRUE(IsFlexible(ApiKey::kApiVersions, 4));
  EXPECT_FALSE(IsFlexible(ApiKey::kMetadata, 8));
  EXPECT_TRUE(IsFlexible(ApiKey::kMetadata, 9));
  EXPECT_TRUE(IsFlexible(ApiKey::kOffsetFetch, 6));
  EXPECT_TRUE(IsFlexible(ApiKey::kInitProducerId, 2));
  EXPECT_FALSE(IsFlexible(ApiKey::kSaslHandshake, 1));
  EXPECT_FALSE(IsFlexible(static_cast<ApiKey>(1000), 50));

  EXPECT_EQ(RequestHeaderVersion(ApiKey::kApiVersions, 3), 2);
  EXPECT_EQ(RequestHeaderVersion(ApiKey::kApiVersions, 2), 1);
  EXPECT_EQ(RequestHeaderVersion(ApiKey::kProduce, 3), 1);
  EXPECT_EQ(ResponseHeaderVersion(ApiKey::kMetadata, 4), 0);
  EXPECT_EQ(ResponseHeaderVersion(ApiKey::kMetadata, 9), 1);
  // Pitfall 4: ApiVersions responses always use header v0.
  EXPECT_EQ(ResponseHeaderVersion(ApiKey::kApiVersions, 3), 0);
  EXPECT_EQ(ResponseHeaderVersion(ApiKey::kApiVersions, 4), 0);
}

TEST(KafkaProtocolApiTest, ApiKeyNames) {
  EXPECT_EQ(ApiKeyName(ApiKey::kApiVersions), "ApiVersions");
  EXPECT_EQ(ApiKeyName(ApiKey::kCreateTopics), "CreateTopics");
  EXPECT_EQ(ApiKeyName(static_cast<ApiKey>(77)), "ApiKey(77)");
}

TEST(KafkaProtocolHeaderTest, ParsesRequestHeaderV1) {
  // kafka-python's Metadata v0 probe: key 3, v0, correlation 2, client "kafka-python-2.0.2".
  std::string frame = Hex("00 03 00 00 00 00 00 02 00 12 'kafka-python-2.0.2' | 00 00 00 00");
  absl::StatusOr<RequestHeader> h = ParseRequestHeader(frame);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_key, ApiKey::kMetadata);
  EXPECT_EQ(h->api_version, 0);
  EXPECT_EQ(h->correlation_id, 2);
  EXPECT_EQ(h->client_id, "kafka-python-2.0.2");
  EXPECT_EQ(h->body, Hex("00 00 00 00"));
  EXPECT_EQ(h->body.data(), frame.data() + frame.size() - 4);  // a view, not a copy
}

TEST(KafkaProtocolHeaderTest, ParsesRequestHeaderV2ForFlexibleApiVersions) {
  // librdkafka's first request: ApiVersions v3, header v2 (client id still int16-length!),
  // then the tagged fields, then a flexible body.
  std::string frame = Hex(
      "00 12 00 03 00 00 00 01 00 07 'rdkafka' 00 | 0b 'librdkafka' 06 '2.0.2' 00");
  absl::StatusOr<RequestHeader> h = ParseRequestHeader(frame);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_key, ApiKey::kApiVersions);
  EXPECT_EQ(h->api_version, 3);
  EXPECT_EQ(h->correlation_id, 1);
  EXPECT_EQ(h->client_id, "rdkafka");
  EXPECT_EQ(h->body, Hex("0b 'librdkafka' 06 '2.0.2' 00"));

  // Header tagged fields are skipped.
  std::string tagged = Hex("00 12 00 03 00 00 00 09 ff ff 01 00 02 aa bb | 01 01 00");
  h = ParseRequestHeader(tagged);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->client_id, std::nullopt);
  EXPECT_EQ(h->body, Hex("01 01 00"));
}

TEST(KafkaProtocolHeaderTest, UnknownApiKeyParsesAsV1) {
  std::string frame = Hex("03 e7 00 05 00 00 00 2a 00 01 'c' | 01 02");
  absl::StatusOr<RequestHeader> h = ParseRequestHeader(frame);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(static_cast<int16_t>(h->api_key), 999);
  EXPECT_EQ(h->correlation_id, 42);
  EXPECT_EQ(h->body, Hex("01 02"));
  EXPECT_EQ(ApiKeyName(h->api_key), "ApiKey(999)");
  EXPECT_EQ(FirstFlexibleVersion(h->api_key), -1);
}

TEST(KafkaProtocolHeaderTest, MalformedHeaders) {
  for (std::string_view bad : {"", "00 03", "00 03 00 00 00 00 00", "00 03 00 00 00 00 00 01 00 05 'ab'",
                               "00 03 00 00 00 00 00 01 ff fe",
                               // v2 header whose tag section is missing
                               "00 12 00 03 00 00 00 01 00 00"}) {
    absl::StatusOr<RequestHeader> h = ParseRequestHeader(Hex(bad));
    EXPECT_FALSE(h.ok()) << bad;
    EXPECT_THAT(h.status().message(), HasSubstr("request header"));
  }
}

TEST(KafkaProtocolHeaderTest, RequestHeaderRoundTrip) {
  for (auto [key, version] : std::vector<std::pair<ApiKey, int16_t>>{
           {ApiKey::kApiVersions, 3}, {ApiKey::kApiVersions, 0}, {ApiKey::kProduce, 3}}) {
    RequestHeader header;
    header.api_key = key;
    header.api_version = version;
    header.correlation_id = -5;
    header.client_id = "me";
    Writer body;
    body.WriteInt8(9);
    Writer frame = FrameRequest(header, std::move(body));
    std::string bytes = Flat(frame);
    absl::StatusOr<int32_t> size = DecodeFrameSize(bytes);
    ASSERT_TRUE(size.ok());
    EXPECT_EQ(static_cast<size_t>(*size), bytes.size() - 4);
    absl::StatusOr<RequestHeader> parsed = ParseRequestHeader(std::string_view(bytes).substr(4));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->api_key, key);
    EXPECT_EQ(parsed->api_version, version);
    EXPECT_EQ(parsed->correlation_id, -5);
    EXPECT_EQ(parsed->client_id, "me");
    EXPECT_EQ(parsed->body, Hex("09"));
  }
}

TEST(KafkaProtocolHeaderTest, ResponseHeaders) {
  Writer v0;
  WriteResponseHeader(ApiKey::kMetadata, 4, 0x01020304, v0);
  EXPECT_EQ(Flat(v0), Hex("01 02 03 04"));

  Writer v1;
  WriteResponseHeader(ApiKey::kMetadata, 9, 7, v1);
  EXPECT_EQ(Flat(v1), Hex("00 00 00 07 00"));

  // ApiVersions v3 has a flexible body but a v0 header: no tag byte.
  Writer api_versions;
  WriteResponseHeader(ApiKey::kApiVersions, 3, 7, api_versions);
  EXPECT_EQ(Flat(api_versions), Hex("00 00 00 07"));
}

TEST(KafkaProtocolHeaderTest, FrameResponseCountsEverythingAfterTheSize) {
  Writer body;
  body.WriteInt16(0);
  Writer frame = FrameResponse(ApiKey::kMetadata, 9, 3, std::move(body));
  EXPECT_EQ(ToHex(Flat(frame)), ToHex(Hex("00 00 00 07 | 00 00 00 03 00 | 00 00")));
  EXPECT_EQ(frame.size(), 11u);

  std::string bytes = Flat(frame);
  absl::StatusOr<ResponseHeader> h =
      ParseResponseHeader(std::string_view(bytes).substr(4), ApiKey::kMetadata, 9);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->correlation_id, 3);
  EXPECT_EQ(h->body, Hex("00 00"));
}

TEST(KafkaProtocolHeaderTest, FrameSizeLimits) {
  EXPECT_EQ(*DecodeFrameSize(Hex("00 00 01 00")), 256);
  EXPECT_FALSE(DecodeFrameSize(Hex("00 00 01")).ok());
  EXPECT_FALSE(DecodeFrameSize(Hex("ff ff ff ff")).ok());
  EXPECT_FALSE(DecodeFrameSize(Hex("7f ff ff ff")).ok());  // above 100 MiB
  EXPECT_TRUE(DecodeFrameSize(Hex("06 40 00 00")).ok());   // exactly 100 MiB
  EXPECT_FALSE(DecodeFrameSize(Hex("00 00 01 01"), 256).ok());
}

}  // namespace
}  // namespace gregor::kafka
