/*
 * capture/tunnel.h - tunnel headers (tunnel.c); private to capture/.
 *
 * Each reader takes one tunnel header off the front of r and says what
 * follows it, by Ethernet type; decode.c reads what follows, so a tunnel in
 * a tunnel is read the same way, layer by layer, under CAP_ENCAP_MAX.
 */
#ifndef TLSGRADE_CAPTURE_TUNNEL_H
#define TLSGRADE_CAPTURE_TUNNEL_H

#include "capture/capture.h"
#include "base/rd.h"

/* Well-known UDP destination ports of the tunnels read over UDP. */
enum { TUN_PORT_VXLAN = 4789, TUN_PORT_GENEVE = 6081, TUN_PORT_GTPU = 2152 };

/* What follows a header, as an Ethernet type; two more values. */
enum {
  TUN_NEXT_IP = 0x0000,       /* IPv4 or IPv6, by the version in its first nibble */
  TUN_NEXT_ETHERNET = 0x6558, /* an Ethernet frame (transparent Ethernet bridging) */
  TUN_NEXT_IPV4 = 0x0800,
  TUN_NEXT_IPV6 = 0x86dd,
  TUN_NEXT_MPLS = 0x8847,
  TUN_NEXT_MPLS_MULTICAST = 0x8848,
  TUN_NEXT_PPPOE = 0x8864, /* PPPoE session stage (0x8863, discovery, carries no packet) */
};

enum tun_read {
  TUN_OK,        /* h says what follows; r holds it */
  TUN_SHORT,     /* the header runs past the captured bytes */
  TUN_BAD,       /* the header breaks its specification */
  TUN_NO_PACKET, /* a valid header that carries no packet (a GTP echo, a GENEVE
                    control packet, PPP's own protocols) */
  TUN_FOREIGN,   /* GRE that is no tunnel read here (PPTP's version 1, other
                    protocol types): the packet stays as it was */
};

struct tun_header {
  uint16_t next;   /* TUN_NEXT_* or another Ethernet type */
  uint8_t kind;    /* enum cap_encap_kind */
  uint8_t id_type; /* CAP_TENANT_*: id holds a tenant id */
  uint32_t id;
};

enum tun_read tun_vxlan(struct rd *r, struct tun_header *h);
enum tun_read tun_geneve(struct rd *r, struct tun_header *h);
enum tun_read tun_gtpu(struct rd *r, struct tun_header *h);
/* GRE, and the ERSPAN header that follows it for 0x88BE and 0x22EB. */
enum tun_read tun_gre(struct rd *r, struct tun_header *h);
enum tun_read tun_mpls(struct rd *r, struct tun_header *h);
enum tun_read tun_pppoe(struct rd *r, struct tun_header *h);

#endif
