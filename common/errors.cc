#include "common/errors.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace gregor {
namespace {

constexpr absl::string_view kPayloadUrl = "gregor/kafka-error-code";
constexpr absl::string_view kRecordErrorsUrl = "gregor/kafka-record-errors";

absl::StatusCode CanonicalFor(KafkaErrorCode code) {
  switch (code) {
    case KafkaErrorCode::kNone:
      return absl::StatusCode::kOk;
    case KafkaErrorCode::kOffsetOutOfRange:
    case KafkaErrorCode::kMessageTooLarge:
    case KafkaErrorCode::kRecordListTooLarge:
      return absl::StatusCode::kOutOfRange;
    case KafkaErrorCode::kCorruptMessage:
    case KafkaErrorCode::kKafkaStorageError:
      return absl::StatusCode::kDataLoss;
    case KafkaErrorCode::kUnknownTopicOrPartition:
    case KafkaErrorCode::kUnknownTopicId:
      return absl::StatusCode::kNotFound;
    case KafkaErrorCode::kTopicAlreadyExists:
      return absl::StatusCode::kAlreadyExists;
    case KafkaErrorCode::kLeaderNotAvailable:
    case KafkaErrorCode::kNotEnoughReplicas:
    case KafkaErrorCode::kNotEnoughReplicasAfterAppend:
    case KafkaErrorCode::kCoordinatorNotAvailable:
    case KafkaErrorCode::kCoordinatorLoadInProgress:
      return absl::StatusCode::kUnavailable;
    case KafkaErrorCode::kRequestTimedOut:
      return absl::StatusCode::kDeadlineExceeded;
    case KafkaErrorCode::kNotLeaderOrFollower:
    case KafkaErrorCode::kNotController:
    case KafkaErrorCode::kNotCoordinator:
    case KafkaErrorCode::kFencedLeaderEpoch:
    case KafkaErrorCode::kUnknownLeaderEpoch:
    case KafkaErrorCode::kStaleBrokerEpoch:
    case KafkaErrorCode::kInvalidUpdateVersion:
    case KafkaErrorCode::kIneligibleReplica:
    case KafkaErrorCode::kBrokerIdNotRegistered:
    case KafkaErrorCode::kIllegalGeneration:
    case KafkaErrorCode::kRebalanceInProgress:
      return absl::StatusCode::kFailedPrecondition;
    case KafkaErrorCode::kUnsupportedVersion:
      return absl::StatusCode::kUnimplemented;
    case KafkaErrorCode::kUnknownServerError:
      return absl::StatusCode::kInternal;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

}  // namespace

std::string_view KafkaErrorName(KafkaErrorCode code) {
  switch (code) {
    case KafkaErrorCode::kUnknownServerError: return "UNKNOWN_SERVER_ERROR";
    case KafkaErrorCode::kNone: return "NONE";
    case KafkaErrorCode::kOffsetOutOfRange: return "OFFSET_OUT_OF_RANGE";
    case KafkaErrorCode::kCorruptMessage: return "CORRUPT_MESSAGE";
    case KafkaErrorCode::kUnknownTopicOrPartition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case KafkaErrorCode::kInvalidFetchSize: return "INVALID_FETCH_SIZE";
    case KafkaErrorCode::kLeaderNotAvailable: return "LEADER_NOT_AVAILABLE";
    case KafkaErrorCode::kNotLeaderOrFollower: return "NOT_LEADER_OR_FOLLOWER";
    case KafkaErrorCode::kRequestTimedOut: return "REQUEST_TIMED_OUT";
    case KafkaErrorCode::kMessageTooLarge: return "MESSAGE_TOO_LARGE";
    case KafkaErrorCode::kCoordinatorLoadInProgress: return "COORDINATOR_LOAD_IN_PROGRESS";
    case KafkaErrorCode::kCoordinatorNotAvailable: return "COORDINATOR_NOT_AVAILABLE";
    case KafkaErrorCode::kNotCoordinator: return "NOT_COORDINATOR";
    case KafkaErrorCode::kInvalidTopicException: return "INVALID_TOPIC_EXCEPTION";
    case KafkaErrorCode::kRecordListTooLarge: return "RECORD_LIST_TOO_LARGE";
    case KafkaErrorCode::kNotEnoughReplicas: return "NOT_ENOUGH_REPLICAS";
    case KafkaErrorCode::kNotEnoughReplicasAfterAppend: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    case KafkaErrorCode::kInvalidRequiredAcks: return "INVALID_REQUIRED_ACKS";
    case KafkaErrorCode::kIllegalGeneration: return "ILLEGAL_GENERATION";
    case KafkaErrorCode::kInconsistentGroupProtocol: return "INCONSISTENT_GROUP_PROTOCOL";
    case KafkaErrorCode::kInvalidGroupId: return "INVALID_GROUP_ID";
    case KafkaErrorCode::kUnknownMemberId: return "UNKNOWN_MEMBER_ID";
    case KafkaErrorCode::kInvalidSessionTimeout: return "INVALID_SESSION_TIMEOUT";
    case KafkaErrorCode::kRebalanceInProgress: return "REBALANCE_IN_PROGRESS";
    case KafkaErrorCode::kInvalidCommitOffsetSize: return "INVALID_COMMIT_OFFSET_SIZE";
    case KafkaErrorCode::kInvalidTimestamp: return "INVALID_TIMESTAMP";
    case KafkaErrorCode::kUnsupportedVersion: return "UNSUPPORTED_VERSION";
    case KafkaErrorCode::kTopicAlreadyExists: return "TOPIC_ALREADY_EXISTS";
    case KafkaErrorCode::kInvalidPartitions: return "INVALID_PARTITIONS";
    case KafkaErrorCode::kInvalidReplicationFactor: return "INVALID_REPLICATION_FACTOR";
    case KafkaErrorCode::kInvalidReplicaAssignment: return "INVALID_REPLICA_ASSIGNMENT";
    case KafkaErrorCode::kInvalidConfig: return "INVALID_CONFIG";
    case KafkaErrorCode::kNotController: return "NOT_CONTROLLER";
    case KafkaErrorCode::kInvalidRequest: return "INVALID_REQUEST";
    case KafkaErrorCode::kUnsupportedForMessageFormat: return "UNSUPPORTED_FOR_MESSAGE_FORMAT";
    case KafkaErrorCode::kPolicyViolation: return "POLICY_VIOLATION";
    case KafkaErrorCode::kOutOfOrderSequenceNumber: return "OUT_OF_ORDER_SEQUENCE_NUMBER";
    case KafkaErrorCode::kDuplicateSequenceNumber: return "DUPLICATE_SEQUENCE_NUMBER";
    case KafkaErrorCode::kInvalidProducerEpoch: return "INVALID_PRODUCER_EPOCH";
    case KafkaErrorCode::kTransactionalIdAuthorizationFailed:
      return "TRANSACTIONAL_ID_AUTHORIZATION_FAILED";
    case KafkaErrorCode::kUnknownProducerId: return "UNKNOWN_PRODUCER_ID";
    case KafkaErrorCode::kKafkaStorageError: return "KAFKA_STORAGE_ERROR";
    case KafkaErrorCode::kStaleBrokerEpoch: return "STALE_BROKER_EPOCH";
    case KafkaErrorCode::kPreferredLeaderNotAvailable: return "PREFERRED_LEADER_NOT_AVAILABLE";
    case KafkaErrorCode::kEligibleLeadersNotAvailable: return "ELIGIBLE_LEADERS_NOT_AVAILABLE";
    case KafkaErrorCode::kElectionNotNeeded: return "ELECTION_NOT_NEEDED";
    case KafkaErrorCode::kInvalidUpdateVersion: return "INVALID_UPDATE_VERSION";
    case KafkaErrorCode::kUnknownTopicId: return "UNKNOWN_TOPIC_ID";
    case KafkaErrorCode::kUnsupportedEndpointType: return "UNSUPPORTED_ENDPOINT_TYPE";
    case KafkaErrorCode::kBrokerIdNotRegistered: return "BROKER_ID_NOT_REGISTERED";
    case KafkaErrorCode::kIneligibleReplica: return "INELIGIBLE_REPLICA";
    case KafkaErrorCode::kFetchSessionIdNotFound: return "FETCH_SESSION_ID_NOT_FOUND";
    case KafkaErrorCode::kInvalidFetchSessionEpoch: return "INVALID_FETCH_SESSION_EPOCH";
    case KafkaErrorCode::kUnknownLeaderEpoch: return "UNKNOWN_LEADER_EPOCH";
    case KafkaErrorCode::kFencedLeaderEpoch: return "FENCED_LEADER_EPOCH";
    case KafkaErrorCode::kUnsupportedCompressionType: return "UNSUPPORTED_COMPRESSION_TYPE";
    case KafkaErrorCode::kInvalidRecord: return "INVALID_RECORD";
    case KafkaErrorCode::kOffsetMetadataTooLarge: return "OFFSET_METADATA_TOO_LARGE";
    case KafkaErrorCode::kNonEmptyGroup: return "NON_EMPTY_GROUP";
    case KafkaErrorCode::kGroupIdNotFound: return "GROUP_ID_NOT_FOUND";
    case KafkaErrorCode::kMemberIdRequired: return "MEMBER_ID_REQUIRED";
    case KafkaErrorCode::kGroupMaxSizeReached: return "GROUP_MAX_SIZE_REACHED";
    case KafkaErrorCode::kFencedInstanceId: return "FENCED_INSTANCE_ID";
    case KafkaErrorCode::kGroupSubscribedToTopic: return "GROUP_SUBSCRIBED_TO_TOPIC";
  }
  return "UNKNOWN";
}

absl::Status KafkaError(KafkaErrorCode code, absl::string_view message) {
  absl::Status status(CanonicalFor(code), message);
  if (!status.ok()) {
    status.SetPayload(kPayloadUrl, absl::Cord(std::to_string(static_cast<int>(code))));
  }
  return status;
}

KafkaErrorCode ToKafkaErrorCode(const absl::Status& status) {
  if (status.ok()) return KafkaErrorCode::kNone;
  if (auto payload = status.GetPayload(kPayloadUrl)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*payload), &value)) return static_cast<KafkaErrorCode>(value);
  }
  switch (status.code()) {
    case absl::StatusCode::kNotFound: return KafkaErrorCode::kUnknownTopicOrPartition;
    case absl::StatusCode::kDataLoss: return KafkaErrorCode::kCorruptMessage;
    case absl::StatusCode::kDeadlineExceeded: return KafkaErrorCode::kRequestTimedOut;
    case absl::StatusCode::kInvalidArgument: return KafkaErrorCode::kInvalidRequest;
    default: return KafkaErrorCode::kUnknownServerError;
  }
}

absl::Status WithRecordErrors(absl::Status status, const std::vector<int32_t>& record_indexes) {
  if (!status.ok() && !record_indexes.empty()) {
    status.SetPayload(kRecordErrorsUrl, absl::Cord(absl::StrJoin(record_indexes, ",")));
  }
  return status;
}

std::vector<int32_t> RecordErrorIndexes(const absl::Status& status) {
  std::vector<int32_t> out;
  auto payload = status.GetPayload(kRecordErrorsUrl);
  if (!payload) return out;
  for (absl::string_view part : absl::StrSplit(std::string(*payload), ',')) {
    int32_t index = 0;
    if (absl::SimpleAtoi(part, &index)) out.push_back(index);
  }
  return out;
}

}  // namespace gregor
