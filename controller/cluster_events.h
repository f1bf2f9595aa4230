// Human-meaningful cluster events derived from committed metadata: "broker 2 fenced",
// "orders-0 leader 2 -> 3 (epoch 4 -> 5)", "orders-0 ISR [1,2,3] -> [1,3]". Pure functions of
// (image before the batch, batch) so every controller derives the same events.
#pragma once

#include <vector>

#include "common/metadata/metadata_image.h"
#include "proto/controller.pb.h"

namespace gregor::controller {

// Events of one record of the batch committed at `offset` (with the batch's timestamp),
// described against `image`, the image just before this record applies. Appends to `out`.
void DescribeRecord(const metadata::MetadataImage& image, int64_t offset, int64_t timestamp_ms,
                    const metadata::MetadataRecord& record, std::vector<ClusterEvent>* out);

// Events of a whole batch against `before` (copies the image; for tools and tests).
std::vector<ClusterEvent> DescribeBatch(const metadata::MetadataImage& before, int64_t offset,
                                        const metadata::MetadataBatch& batch);

// One event per broker and per partition describing the image as it is (for a watcher that
// wants the current state first).
std::vector<ClusterEvent> DescribeImage(const metadata::MetadataImage& image, int64_t timestamp_ms);

}  // namespace gregor::controller
