// Strong types for the numbers Gregor passes around: offsets, epochs and ids.
//
// Each is a distinct type with no implicit conversion to or from its representation, so an
// Offset cannot be passed where a LeaderEpoch is expected. `value()` gives the raw number
// at the boundaries (wire formats, files, logs).
#pragma once

#include <compare>
#include <cstdint>
#include <ostream>

namespace gregor {

template <typename Tag, typename Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }

  constexpr auto operator<=>(const StrongInt&) const = default;

  // Arithmetic with a plain delta keeps the type: `offset + 1` is the next offset.
  constexpr StrongInt operator+(Rep delta) const { return StrongInt(v_ + delta); }
  constexpr StrongInt operator-(Rep delta) const { return StrongInt(v_ - delta); }
  // The distance between two values of the same type is a plain number.
  constexpr Rep operator-(StrongInt other) const { return v_ - other.v_; }
  StrongInt& operator++() {
    ++v_;
    return *this;
  }

  template <typename H>
  friend H AbslHashValue(H h, StrongInt s) {
    return H::combine(std::move(h), s.v_);
  }
  friend std::ostream& operator<<(std::ostream& os, StrongInt s) { return os << s.v_; }

 private:
  Rep v_ = 0;
};

// A position in a partition's log. `log_end_offset` is exclusive (the next offset to write);
// `high_watermark` is exclusive (the first offset not yet committed).
using Offset = StrongInt<struct OffsetTag, int64_t>;
// Raised by the controller each time a partition's leader changes.
using LeaderEpoch = StrongInt<struct LeaderEpochTag, int32_t>;
// Raised by the controller on every change to a partition (leader, ISR, replicas).
using PartitionEpoch = StrongInt<struct PartitionEpochTag, int32_t>;
// `node.id` of a broker.
using BrokerId = StrongInt<struct BrokerIdTag, int32_t>;
// A new value each time a broker registers with the controller.
using BrokerEpoch = StrongInt<struct BrokerEpochTag, int64_t>;
// Raft term of the controller quorum.
using Term = StrongInt<struct TermTag, int64_t>;

inline constexpr Offset kInvalidOffset{-1};
inline constexpr LeaderEpoch kNoLeaderEpoch{-1};
inline constexpr BrokerId kNoBroker{-1};

}  // namespace gregor
