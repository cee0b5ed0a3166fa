/*
 * capture/ipv6_ext.h - the IPv6 extension header walk (ipv6_ext.c); private
 * to capture/.
 */
#ifndef TLSGRADE_CAPTURE_IPV6_EXT_H
#define TLSGRADE_CAPTURE_IPV6_EXT_H

#include "capture/capture.h"
#include "base/rd.h"

#define IPV6_HDR 40u /* the fixed header (RFC 8200 3) */

/* What an IPv6 fragment header says (RFC 8200 4.5). */
struct ipv6_frag_fields {
  uint32_t id;
  size_t offset;
  bool more;
};

/* Walk the extension headers (RFC 8200 4) from r, *nh naming the first,
 * up to the upper-layer header or a fragment header (then *frag says
 * which), leaving *nh at it.  A routing header with segments left sets
 * *final_dst (the pseudo-header's destination).  Returns -1 if they run
 * past the captured bytes. */
int ipv6_ext_walk(struct rd *r, uint8_t *nh, struct ipv6_frag_fields *frag,
                  struct cap_addr *final_dst);

#endif
