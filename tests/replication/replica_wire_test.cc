#include "broker/replication/replica_wire.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace gregor::broker::replica_wire {
namespace {

replication::ReplicaFetchRequest SampleFetch() {
  replication::ReplicaFetchRequest r;
  r.set_replica_id(2);
  r.set_broker_epoch(17);
  r.set_max_wait_ms(500);
  auto* p = r.add_partitions();
  p->set_topic("orders");
  p->set_partition(3);
  p->set_fetch_offset(1234);
  return r;
}

TEST(ReplicaWireTest, FetchAndWakeRoundTrip) {
  std::string frame = EncodeFetch(SampleFetch());
  ASSERT_EQ(GetU32(frame.data()), frame.size() - 4);
  auto decoded = DecodeRequest(std::string_view(frame).substr(4));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->type, RequestType::kFetch);
  EXPECT_EQ(decoded->fetch.SerializeAsString(), SampleFetch().SerializeAsString());

  std::string wake = EncodeWake();
  EXPECT_EQ(wake.size(), 5u);
  auto w = DecodeRequest(std::string_view(wake).substr(4));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->type, RequestType::kWake);
}

TEST(ReplicaWireTest, BadRequestsAreErrors) {
  EXPECT_FALSE(DecodeRequest("").ok());
  EXPECT_FALSE(DecodeRequest(std::string("\x07", 1)).ok());         // unknown type
  EXPECT_FALSE(DecodeRequest(std::string("\x02payload", 8)).ok());  // wake with a payload
  EXPECT_FALSE(DecodeRequest(std::string("\x01\xff\xff\xff", 4)).ok());  // not a protobuf
}

TEST(ReplicaWireTest, ResponseCarriesRecordsAfterTheHeaderInPartitionOrder) {
  replication::ReplicaFetchResponse header;
  for (int i = 0; i < 3; ++i) {
    auto* p = header.add_partitions();
    p->set_topic("t");
    p->set_partition(i);
    p->set_records_size(i == 1 ? 0 : 4 + i);
  }
  std::string frame = EncodeResponseHead(header, 4 + 6);
  frame += "aaaa";
  frame += "cccccc";
  ASSERT_EQ(GetU32(frame.data()), frame.size() - 4);
  auto r = DecodeResponse(std::string_view(frame).substr(4));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->records[0], "aaaa");
  EXPECT_EQ(r->records[1], "");
  EXPECT_EQ(r->records[2], "cccccc");
}

TEST(ReplicaWireTest, ResponsesWhoseSizesDoNotAddUpAreErrors) {
  replication::ReplicaFetchResponse header;
  header.add_partitions()->set_records_size(10);
  std::string head = EncodeResponseHead(header, 10);
  std::string body = head.substr(4);
  EXPECT_FALSE(DecodeResponse(body + "short").ok());         // fewer bytes than claimed
  EXPECT_FALSE(DecodeResponse(body + "0123456789xx").ok());  // bytes after the last partition
  EXPECT_TRUE(DecodeResponse(body + "0123456789").ok());
  header.mutable_partitions(0)->set_records_size(-1);
  EXPECT_FALSE(DecodeResponse(EncodeResponseHead(header, 0).substr(4)).ok());
  EXPECT_FALSE(DecodeResponse("").ok());
  EXPECT_FALSE(DecodeResponse(std::string("\x00\x00\x10\x00", 4)).ok());  // header past the end
}

// Whatever a broken or hostile peer sends decodes to an error or a value, never a crash.
TEST(ReplicaWireTest, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  std::string valid = EncodeFetch(SampleFetch()).substr(4);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = valid;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 1));
    (void)DecodeRequest(bytes);
    (void)DecodeResponse(bytes);
  }
}

}  // namespace
}  // namespace gregor::broker::replica_wire
