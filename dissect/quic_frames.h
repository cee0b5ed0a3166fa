/*
 * dissect/quic_frames.h - QUIC varints and frames skipped by layout
 * (private to dissect/; used by quic.c).
 */
#ifndef TLSGRADE_DISSECT_QUIC_FRAMES_H
#define TLSGRADE_DISSECT_QUIC_FRAMES_H

#include "base/rd.h"

#include <stdbool.h>
#include <stdint.h>

/* RFC 9000 16: a variable-length integer; 0 with r->err on truncation. */
uint64_t quic_rd_varint(struct rd *r);
/* A varint length, then that many bytes (on error: r->err, empty). */
struct rd quic_rd_varvec(struct rd *r);
/* ACK (0x02) or ACK with ECN counts (0x03), after its type (RFC 9000 19.3). */
void quic_skip_ack(struct rd *p, bool ecn);
/* A frame only a 1-RTT packet may carry, after its type; false for a type
 * unknown here. */
bool quic_skip_app_frame(struct rd *p, uint64_t type);
/* Google QUIC's ACK frame of type `type` (01NTLLMM), after its type. */
void quic_skip_google_ack(struct rd *p, uint8_t type);

#endif
