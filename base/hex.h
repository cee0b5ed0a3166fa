/*
 * base/hex.h - bytes as lowercase hexadecimal digits, without printf (a
 * digest's worth of snprintf("%02x") calls cost more than the digest).
 * Depends on nothing.
 */
#ifndef TLSGRADE_BASE_HEX_H
#define TLSGRADE_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The 2 * len digits of bytes[0..len) at dst, then a NUL. */
static inline void hex_encode(char *dst, const uint8_t *bytes, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    dst[2 * i] = digits[bytes[i] >> 4];
    dst[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
  dst[2 * len] = '\0';
}

#endif
