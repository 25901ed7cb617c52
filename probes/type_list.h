/* type_list.h — the list of check types: one line per type. Adding a type is one
 * line here (its enum value CHECK_<UPPER> and its descriptor
 * probe_type_<lower>, defined in probes/<lower>.c) plus that file; see
 * docs/probe-types.md. The order is the order of enum check_type and of the
 * "supported: ..." lists in messages. */
#ifndef PHAROS_TYPE_LIST_H
#define PHAROS_TYPE_LIST_H

#define PROBE_TYPE_LIST(X) \
	X(HTTP, http)          \
	X(TCP, tcp)            \
	X(DNS, dns)            \
	X(TLS, tls)            \
	X(ICMP, icmp)          \
	X(HEARTBEAT, heartbeat)

#endif
