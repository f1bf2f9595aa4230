// Producer state snapshots: `<dir>/<20-digit offset>.snapshot`, the producer state of a partition
// as of that offset (exclusive), in Kafka's format (ProducerSnapshot.json, version 1):
//
//   int16 version (1) | uint32 crc | int32 count | count x entry
//   entry: int64 producerId, int16 epoch, int32 lastSequence, int64 lastOffset,
//          int32 offsetDelta, int64 timestamp, int32 coordinatorEpoch, int64 currentTxnFirstOffset
//
// big-endian; the CRC is CRC32C of everything after it. Kafka writes one entry per producer
// (its newest batch). This broker writes one entry per retained batch (up to 5 per producer,
// oldest first), so a restart keeps the whole de-duplication window; Kafka reads such a file as
// the newest batch of each producer (its loader keeps the last entry of a producer id), and this
// broker reads Kafka's one-entry files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/storage/producer_state.h"

namespace gregor::storage {

std::string EncodeProducerSnapshot(const ProducerStateTable& table);
// DataLoss on a bad version, a short or long file, or a CRC mismatch.
absl::StatusOr<ProducerStateTable> DecodeProducerSnapshot(std::string_view bytes);

std::string ProducerSnapshotPath(const std::string& dir, int64_t offset);
// Offsets of the `*.snapshot` files in `dir`, ascending.
std::vector<int64_t> ListProducerSnapshots(const std::string& dir);
// Written atomically (temp file, fsync, rename, fsync of the directory).
absl::Status WriteProducerSnapshot(const std::string& dir, int64_t offset,
                                   const ProducerStateTable& table);
absl::StatusOr<ProducerStateTable> ReadProducerSnapshot(const std::string& dir, int64_t offset);
void DeleteProducerSnapshot(const std::string& dir, int64_t offset);

}  // namespace gregor::storage
