// Kafka's error codes, and how they ride on absl::Status.
//
// Storage and replication return absl::Status; the Kafka front end needs the precise Kafka code
// (CORRUPT_MESSAGE vs MESSAGE_TOO_LARGE vs ...). KafkaError() makes a Status whose payload
// carries the code; ToKafkaErrorCode() reads it back (or maps the canonical code).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace gregor {

// Values are Kafka's (clients/.../protocol/Errors.java).
enum class KafkaErrorCode : int16_t {
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kInvalidFetchSize = 4,
  kLeaderNotAvailable = 5,
  kNotLeaderOrFollower = 6,
  kRequestTimedOut = 7,
  kMessageTooLarge = 10,
  kOffsetMetadataTooLarge = 12,
  kCoordinatorLoadInProgress = 14,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kInvalidTopicException = 17,
  kRecordListTooLarge = 18,
  kNotEnoughReplicas = 19,
  kNotEnoughReplicasAfterAppend = 20,
  kInvalidRequiredAcks = 21,
  kIllegalGeneration = 22,
  kInconsistentGroupProtocol = 23,
  kInvalidGroupId = 24,
  kUnknownMemberId = 25,
  kInvalidSessionTimeout = 26,
  kRebalanceInProgress = 27,
  kInvalidCommitOffsetSize = 28,
  kInvalidTimestamp = 32,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidReplicaAssignment = 39,
  kInvalidConfig = 40,
  kNotController = 41,
  kInvalidRequest = 42,
  kUnsupportedForMessageFormat = 43,
  kPolicyViolation = 44,
  kOutOfOrderSequenceNumber = 45,
  kDuplicateSequenceNumber = 46,
  kInvalidProducerEpoch = 47,
  kTransactionalIdAuthorizationFailed = 53,
  kKafkaStorageError = 56,
  kUnknownProducerId = 59,
  kNonEmptyGroup = 68,
  kGroupIdNotFound = 69,
  kFetchSessionIdNotFound = 70,
  kInvalidFetchSessionEpoch = 71,
  kFencedLeaderEpoch = 74,
  kUnknownLeaderEpoch = 75,
  kUnsupportedCompressionType = 76,
  kStaleBrokerEpoch = 77,
  kPreferredLeaderNotAvailable = 80,
  kMemberIdRequired = 79,
  kGroupMaxSizeReached = 81,
  kEligibleLeadersNotAvailable = 83,
  kElectionNotNeeded = 84,
  kFencedInstanceId = 82,
  kGroupSubscribedToTopic = 86,
  kInvalidRecord = 87,
  kInvalidUpdateVersion = 95,
  kUnknownTopicId = 100,
  kUnsupportedEndpointType = 115,
  kBrokerIdNotRegistered = 102,
  kIneligibleReplica = 107,
};

std::string_view KafkaErrorName(KafkaErrorCode code);

// A Status with the canonical code that fits `code`, the message, and `code` as payload.
absl::Status KafkaError(KafkaErrorCode code, absl::string_view message);

// The Kafka code carried by `status`: its payload if any, else a mapping of the canonical code
// (OK -> kNone, anything unmapped -> kUnknownServerError).
KafkaErrorCode ToKafkaErrorCode(const absl::Status& status);

// Produce v8+ names the records that made a batch be refused (KIP-467): their indexes within
// the batch ride on the status too.
absl::Status WithRecordErrors(absl::Status status, const std::vector<int32_t>& record_indexes);
std::vector<int32_t> RecordErrorIndexes(const absl::Status& status);

}  // namespace gregor
