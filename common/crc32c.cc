#include "common/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define GREGOR_CRC32C_HAVE_SSE42 1
#else
#define GREGOR_CRC32C_HAVE_SSE42 0
#endif

namespace gregor {
namespace {

// Everything below works on the raw register ("state"): the public value is the state
// xor'ed with 0xFFFFFFFF, both on the way in and on the way out.
constexpr uint32_t kPoly = 0x82F63B78;  // Castagnoli, bit-reflected

// ---------------------------------------------------------------------------------------------
// Portable path: slicing-by-8. kSlices[k][b] is the state after feeding byte b followed by k
// zero bytes into a zero state, so eight bytes can be folded in with eight independent lookups.

using Table = std::array<uint32_t, 256>;

constexpr std::array<Table, 8> MakeSlicingTables() {
  std::array<Table, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPoly : 0);
    t[0][b] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
  return t;
}

constexpr std::array<Table, 8> kSlices = MakeSlicingTables();

// Assembled from bytes so the portable path is also right on big-endian machines; compilers
// turn this into a single load on little-endian ones.
inline uint32_t LoadLE32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline uint32_t PortableByte(uint32_t state, uint8_t byte) {
  return (state >> 8) ^ kSlices[0][(state ^ byte) & 0xFF];
}

// ---------------------------------------------------------------------------------------------
// CRC shift: appending n zero bytes to a message multiplies its state by x^(8n) modulo the
// polynomial. The hardware path uses this to join streams computed in parallel:
//   state(A B) = Shift(state(A), |B|) ^ state_from_zero(B).
// Shift is linear over GF(2), so for a fixed n it is four table lookups, one per state byte.

// a(x) * b(x) mod P(x), bit-reflected (bit 31 holds x^0). From zlib's multmodp().
constexpr uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return product;
}

// x^(8 * bytes) mod P(x), by square-and-multiply.
constexpr uint32_t XPow8N(size_t bytes) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 23;  // x^8
  for (size_t n = bytes; n != 0; n >>= 1) {
    if (n & 1) result = MultModP(square, result);
    square = MultModP(square, square);
  }
  return result;
}

using ShiftTables = std::array<Table, 4>;

constexpr ShiftTables MakeShiftTables(size_t bytes) {
  const uint32_t op = XPow8N(bytes);
  ShiftTables t{};
  for (size_t k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = MultModP(op, b << (8 * k));
  }
  return t;
}

inline uint32_t Shift(const ShiftTables& t, uint32_t state) {
  return t[0][state & 0xFF] ^ t[1][(state >> 8) & 0xFF] ^ t[2][(state >> 16) & 0xFF] ^
         t[3][state >> 24];
}

#if GREGOR_CRC32C_HAVE_SSE42

// ---------------------------------------------------------------------------------------------
// Hardware path. The crc32 instruction has a latency of 3 cycles but a throughput of one per
// cycle, so a single dependency chain uses a third of the unit. Large inputs are cut into three
// equal, adjacent streams whose chains run interleaved, then joined with Shift(). Two block
// sizes (as in Mark Adler's crc32c.c) keep mid-sized inputs on the fast path too.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;
static_assert(kLongBlock % 8 == 0 && kShortBlock % 8 == 0);

constexpr ShiftTables kLongShift = MakeShiftTables(kLongBlock);
constexpr ShiftTables kShortShift = MakeShiftTables(kShortBlock);

#define GREGOR_SSE42 __attribute__((target("sse4.2")))

GREGOR_SSE42 inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));  // x86 is little-endian, as the instruction expects
  return v;
}

// Consumes as many whole triples of `block`-byte streams as fit.
GREGOR_SSE42 inline uint32_t ThreeStreams(uint32_t state, const uint8_t*& p, size_t& size,
                                          size_t block, const ShiftTables& shift) {
  while (size >= 3 * block) {
    uint64_t crc0 = state;
    uint64_t crc1 = 0;
    uint64_t crc2 = 0;
    const uint8_t* end = p + block;
    for (; p < end; p += 8) {
      crc0 = _mm_crc32_u64(crc0, Load64(p));
      crc1 = _mm_crc32_u64(crc1, Load64(p + block));
      crc2 = _mm_crc32_u64(crc2, Load64(p + 2 * block));
    }
    state = Shift(shift, static_cast<uint32_t>(crc0)) ^ static_cast<uint32_t>(crc1);
    state = Shift(shift, state) ^ static_cast<uint32_t>(crc2);
    p += 2 * block;
    size -= 3 * block;
  }
  return state;
}

GREGOR_SSE42 uint32_t ExtendSse42(uint32_t crc, const uint8_t* p, size_t size) {
  uint32_t state = ~crc;
  // Aligned loads matter on older cores; the head is at most 7 bytes.
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    state = _mm_crc32_u8(state, *p++);
    --size;
  }
  state = ThreeStreams(state, p, size, kLongBlock, kLongShift);
  state = ThreeStreams(state, p, size, kShortBlock, kShortShift);
  uint64_t state64 = state;
  for (; size >= 8; p += 8, size -= 8) state64 = _mm_crc32_u64(state64, Load64(p));
  state = static_cast<uint32_t>(state64);
  for (; size > 0; ++p, --size) state = _mm_crc32_u8(state, *p);
  return ~state;
}

#undef GREGOR_SSE42

#endif  // GREGOR_CRC32C_HAVE_SSE42

}  // namespace

namespace crc32c_internal {

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    state = PortableByte(state, *p++);
    --size;
  }
  for (; size >= 8; p += 8, size -= 8) {
    const uint32_t lo = LoadLE32(p) ^ state;
    const uint32_t hi = LoadLE32(p + 4);
    state = kSlices[7][lo & 0xFF] ^ kSlices[6][(lo >> 8) & 0xFF] ^ kSlices[5][(lo >> 16) & 0xFF] ^
            kSlices[4][lo >> 24] ^ kSlices[3][hi & 0xFF] ^ kSlices[2][(hi >> 8) & 0xFF] ^
            kSlices[1][(hi >> 16) & 0xFF] ^ kSlices[0][hi >> 24];
  }
  for (; size > 0; ++p, --size) state = PortableByte(state, *p);
  return ~state;
}

uint32_t ExtendHardware(uint32_t crc, const void* data, size_t size) {
#if GREGOR_CRC32C_HAVE_SSE42
  return ExtendSse42(crc, static_cast<const uint8_t*>(data), size);
#else
  // Never selected here (HardwareAvailable() is false); answer correctly anyway.
  return ExtendPortable(crc, data, size);
#endif
}

bool HardwareAvailable() {
#if GREGOR_CRC32C_HAVE_SSE42
  // May run from another translation unit's static initializer, before libgcc has filled in
  // the CPU model.
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace crc32c_internal

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  static const bool use_hardware = crc32c_internal::HardwareAvailable();
  return use_hardware ? crc32c_internal::ExtendHardware(crc, data, size)
                      : crc32c_internal::ExtendPortable(crc, data, size);
}

}  // namespace gregor
