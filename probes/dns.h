/* dns.h — what the dns check type (dns.c) offers beside its descriptor:
 * freeing its cache of resolvers at shutdown. */
#ifndef PHAROS_PROBES_DNS_H
#define PHAROS_PROBES_DNS_H

/* Frees the DNS resolvers dns.c created for checks with a `server` (one per
 * loop, server and timeout, shared by every run). Call at shutdown, before
 * loop_free(), once no dns run is in flight. */
void probe_dns_cleanup(void);

#endif
