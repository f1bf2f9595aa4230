#include "common/errors.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace gregor {
namespace {

// Every value of KafkaErrorCode.
const std::vector<KafkaErrorCode>& AllCodes() {
  static const auto* codes = new std::vector<KafkaErrorCode>{
      KafkaErrorCode::kUnknownServerError,
      KafkaErrorCode::kNone,
      KafkaErrorCode::kOffsetOutOfRange,
      KafkaErrorCode::kCorruptMessage,
      KafkaErrorCode::kUnknownTopicOrPartition,
      KafkaErrorCode::kInvalidFetchSize,
      KafkaErrorCode::kLeaderNotAvailable,
      KafkaErrorCode::kNotLeaderOrFollower,
      KafkaErrorCode::kRequestTimedOut,
      KafkaErrorCode::kMessageTooLarge,
      KafkaErrorCode::kCoordinatorLoadInProgress,
      KafkaErrorCode::kCoordinatorNotAvailable,
      KafkaErrorCode::kNotCoordinator,
      KafkaErrorCode::kInvalidTopicException,
      KafkaErrorCode::kRecordListTooLarge,
      KafkaErrorCode::kNotEnoughReplicas,
      KafkaErrorCode::kNotEnoughReplicasAfterAppend,
      KafkaErrorCode::kInvalidRequiredAcks,
      KafkaErrorCode::kIllegalGeneration,
      KafkaErrorCode::kInconsistentGroupProtocol,
      KafkaErrorCode::kInvalidGroupId,
      KafkaErrorCode::kUnknownMemberId,
      KafkaErrorCode::kInvalidSessionTimeout,
      KafkaErrorCode::kRebalanceInProgress,
      KafkaErrorCode::kInvalidCommitOffsetSize,
      KafkaErrorCode::kInvalidTimestamp,
      KafkaErrorCode::kUnsupportedVersion,
      KafkaErrorCode::kTopicAlreadyExists,
      KafkaErrorCode::kInvalidPartitions,
      KafkaErrorCode::kInvalidReplicationFactor,
      KafkaErrorCode::kInvalidReplicaAssignment,
      KafkaErrorCode::kInvalidConfig,
      KafkaErrorCode::kNotController,
      KafkaErrorCode::kInvalidRequest,
      KafkaErrorCode::kUnsupportedForMessageFormat,
      KafkaErrorCode::kKafkaStorageError,
      KafkaErrorCode::kUnknownLeaderEpoch,
      KafkaErrorCode::kFencedLeaderEpoch,
      KafkaErrorCode::kInvalidRecord,
      KafkaErrorCode::kOutOfOrderSequenceNumber,
      KafkaErrorCode::kInvalidProducerEpoch,
      KafkaErrorCode::kTransactionalIdAuthorizationFailed,
  };
  return *codes;
}

TEST(ErrorsTest, KafkaErrorRoundTripsEveryCode) {
  for (KafkaErrorCode code : AllCodes()) {
    SCOPED_TRACE(KafkaErrorName(code));
    const absl::Status status = KafkaError(code, "boom");
    EXPECT_EQ(ToKafkaErrorCode(status), code);
    // The code survives copies, which is how statuses travel up the stack.
    const absl::Status copy = status;
    EXPECT_EQ(ToKafkaErrorCode(copy), code);
  }
}

TEST(ErrorsTest, KafkaErrorKeepsTheMessage) {
  const absl::Status status = KafkaError(KafkaErrorCode::kCorruptMessage, "crc mismatch at 42");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "crc mismatch at 42");
}

TEST(ErrorsTest, NoneIsOk) {
  const absl::Status status = KafkaError(KafkaErrorCode::kNone, "ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(ToKafkaErrorCode(status), KafkaErrorCode::kNone);
  EXPECT_EQ(ToKafkaErrorCode(absl::OkStatus()), KafkaErrorCode::kNone);
}

TEST(ErrorsTest, OnlyNoneIsOk) {
  for (KafkaErrorCode code : AllCodes()) {
    if (code == KafkaErrorCode::kNone) continue;
    EXPECT_FALSE(KafkaError(code, "x").ok()) << KafkaErrorName(code);
  }
}

TEST(ErrorsTest, CanonicalCodes) {
  struct Case {
    KafkaErrorCode kafka;
    absl::StatusCode canonical;
  };
  const Case cases[] = {
      {KafkaErrorCode::kOffsetOutOfRange, absl::StatusCode::kOutOfRange},
      {KafkaErrorCode::kMessageTooLarge, absl::StatusCode::kOutOfRange},
      {KafkaErrorCode::kRecordListTooLarge, absl::StatusCode::kOutOfRange},
      {KafkaErrorCode::kCorruptMessage, absl::StatusCode::kDataLoss},
      {KafkaErrorCode::kKafkaStorageError, absl::StatusCode::kDataLoss},
      {KafkaErrorCode::kUnknownTopicOrPartition, absl::StatusCode::kNotFound},
      {KafkaErrorCode::kTopicAlreadyExists, absl::StatusCode::kAlreadyExists},
      {KafkaErrorCode::kLeaderNotAvailable, absl::StatusCode::kUnavailable},
      {KafkaErrorCode::kNotEnoughReplicas, absl::StatusCode::kUnavailable},
      {KafkaErrorCode::kCoordinatorLoadInProgress, absl::StatusCode::kUnavailable},
      {KafkaErrorCode::kRequestTimedOut, absl::StatusCode::kDeadlineExceeded},
      {KafkaErrorCode::kNotLeaderOrFollower, absl::StatusCode::kFailedPrecondition},
      {KafkaErrorCode::kFencedLeaderEpoch, absl::StatusCode::kFailedPrecondition},
      {KafkaErrorCode::kUnknownLeaderEpoch, absl::StatusCode::kFailedPrecondition},
      {KafkaErrorCode::kNotController, absl::StatusCode::kFailedPrecondition},
      {KafkaErrorCode::kUnsupportedVersion, absl::StatusCode::kUnimplemented},
      {KafkaErrorCode::kUnknownServerError, absl::StatusCode::kInternal},
      {KafkaErrorCode::kInvalidRequest, absl::StatusCode::kInvalidArgument},
      {KafkaErrorCode::kInvalidConfig, absl::StatusCode::kInvalidArgument},
      {KafkaErrorCode::kInvalidRecord, absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(KafkaError(c.kafka, "x").code(), c.canonical) << KafkaErrorName(c.kafka);
  }
}

// Statuses made without KafkaError(), e.g. by storage, map by their canonical code.
TEST(ErrorsTest, PlainStatusesMapByCanonicalCode) {
  EXPECT_EQ(ToKafkaErrorCode(absl::NotFoundError("x")), KafkaErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(ToKafkaErrorCode(absl::DataLossError("x")), KafkaErrorCode::kCorruptMessage);
  EXPECT_EQ(ToKafkaErrorCode(absl::DeadlineExceededError("x")), KafkaErrorCode::kRequestTimedOut);
  EXPECT_EQ(ToKafkaErrorCode(absl::InvalidArgumentError("x")), KafkaErrorCode::kInvalidRequest);
  EXPECT_EQ(ToKafkaErrorCode(absl::InternalError("x")), KafkaErrorCode::kUnknownServerError);
  EXPECT_EQ(ToKafkaErrorCode(absl::UnavailableError("x")), KafkaErrorCode::kUnknownServerError);
  EXPECT_EQ(ToKafkaErrorCode(absl::UnknownError("x")), KafkaErrorCode::kUnknownServerError);
}

// The payload, not the canonical code, decides: two Kafka codes sharing a canonical code stay
// distinct.
TEST(ErrorsTest, PayloadWinsOverCanonicalCode) {
  const absl::Status too_large = KafkaError(KafkaErrorCode::kMessageTooLarge, "x");
  ASSERT_EQ(too_large.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ToKafkaErrorCode(too_large), KafkaErrorCode::kMessageTooLarge);

  const absl::Status invalid_config = KafkaError(KafkaErrorCode::kInvalidConfig, "x");
  ASSERT_EQ(invalid_config.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToKafkaErrorCode(invalid_config), KafkaErrorCode::kInvalidConfig);
}

TEST(ErrorsTest, Names) {
  EXPECT_EQ(KafkaErrorName(KafkaErrorCode::kNone), "NONE");
  EXPECT_EQ(KafkaErrorName(KafkaErrorCode::kUnknownServerError), "UNKNOWN_SERVER_ERROR");
  EXPECT_EQ(KafkaErrorName(KafkaErrorCode::kCorruptMessage), "CORRUPT_MESSAGE");
  EXPECT_EQ(KafkaErrorName(KafkaErrorCode::kNotLeaderOrFollower), "NOT_LEADER_OR_FOLLOWER");
  EXPECT_EQ(KafkaErrorName(KafkaErrorCode::kFencedLeaderEpoch), "FENCED_LEADER_EPOCH");
  EXPECT_EQ(KafkaErrorName(static_cast<KafkaErrorCode>(9999)), "UNKNOWN");
}

TEST(ErrorsTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (KafkaErrorCode code : AllCodes()) {
    const std::string_view name = KafkaErrorName(code);
    EXPECT_NE(name, "UNKNOWN") << static_cast<int>(code);
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
}

}  // namespace
}  // namespace gregor
