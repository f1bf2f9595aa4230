// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
// Check value: Crc32c("123456789") == 0xE3069283.
//
// Crc32c() uses the SSE4.2 instruction when the CPU has it (checked once at start-up) and a
// table-driven portable version otherwise. Both paths are exported so tests can compare them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gregor {

// Extends `crc` (the value returned for the preceding bytes; 0 for none) over `data`.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32c(const void* data, size_t size) { return Crc32cExtend(0, data, size); }
inline uint32_t Crc32c(std::string_view data) { return Crc32c(data.data(), data.size()); }

namespace crc32c_internal {
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size);
// Only callable when HardwareAvailable().
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t size);
bool HardwareAvailable();
}  // namespace crc32c_internal

}  // namespace gregor
