/*
 * tests/bench/floor.c - the libpcap read floor: read every packet of a
 * capture with pcap_dispatch and count bytes, nothing else.  No tool built on
 * libpcap can read a file faster.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  uint64_t *totals = (uint64_t *)(void *)user;
  totals[0]++;
  totals[1] += h->caplen;
  totals[2] += bytes[0]; /* touch the data, as a reader would */
}

int main(int argc, char **argv) {
  char errbuf[PCAP_ERRBUF_SIZE];
  if (argc != 2) {
    fprintf(stderr, "usage: floor PCAP\n");
    return 2;
  }
  pcap_t *p = pcap_open_offline(argv[1], errbuf);
  if (!p) {
    fprintf(stderr, "floor: %s\n", errbuf);
    return 1;
  }
  uint64_t totals[3] = {0, 0, 0};
  if (pcap_dispatch(p, -1, count, (u_char *)totals) < 0) {
    fprintf(stderr, "floor: %s\n", pcap_geterr(p));
    return 1;
  }
  pcap_close(p);
  printf("%llu packets, %llu bytes\n", (unsigned long long)totals[0],
         (unsigned long long)totals[1]);
  return 0;
}
