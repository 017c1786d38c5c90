/* crc32.c — IEEE CRC-32 (zlib's), bitwise: the blob is checked once at init, so a 1 KiB table
 * in flash is not worth it. */
#include "ppgkd_edge_format.h"

uint32_t ppgkd_crc32(const uint8_t* data, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  size_t i;
  int b;
  for (i = 0; i < len; ++i) {
    crc ^= data[i];
    for (b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}
