/* icmp.h — what the icmp check type (icmp.c) offers beside its descriptor:
 * the socket kinds a run may try, for tests. */
#ifndef PHAROS_PROBES_ICMP_H
#define PHAROS_PROBES_ICMP_H

/* For tests of icmp.c: the ICMP socket kinds a run may try, PROBE_ICMP_DGRAM
 * and/or PROBE_ICMP_RAW (the default is both); 0 acts as a host where neither
 * is permitted. Call from the loop thread, or before any run starts. */
enum { PROBE_ICMP_DGRAM = 1, PROBE_ICMP_RAW = 2 };
void probe_icmp_set_socket_kinds(int kinds);

#endif
