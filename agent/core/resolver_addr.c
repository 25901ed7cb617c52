/* resolver_addr.c — the address text of the resolver, without c-ares: the
 * server option parsed into the form c-ares takes, and addresses gathered
 * into a struct resolver_addrs (numeric text, no duplicates, port 0). */
#include "core/resolver_addr.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses "ip", "ip:port", "[v6]", "[v6]:port" or a bare v6 address into the
 * "ip:port" / "[v6]:port" form c-ares' csv parser takes. -1 when invalid. */
int resolver_server_csv(const char *s, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *port = NULL, *colon;
	unsigned long p = 53;
	size_t hl;
	bool v6;

	if (s == NULL || *s == '\0')
		return -1;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL)
			return -1;
		hl = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
		if (hl == 0 || hl >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		v6 = true;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Two colons or more: a bare IPv6 address, no port. */
			hl = strlen(s);
			v6 = true;
		} else {
			hl = colon ? (size_t)(colon - s) : strlen(s);
			port = colon ? colon + 1 : NULL;
			v6 = false;
		}
		if (hl == 0 || hl >= sizeof(host))
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) != 1)
		return -1;
	if (port != NULL) {
		char *end;

		if (*port < '0' || *port > '9')
			return -1;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno != 0 || *end != '\0' || p == 0 || p > 65535)
			return -1;
	}
	if (v6)
		snprintf(out, outlen, "[%s]:%lu", host, p);
	else
		snprintf(out, outlen, "%s:%lu", host, p);
	return 0;
}

/* Appends sa to addrs unless it is there already or addrs is full. */
void resolver_addrs_add(struct resolver_addrs *a, const struct sockaddr *sa)
{
	char text[64];
	socklen_t len;
	const void *src;

	if (a->n >= RESOLVER_MAX_ADDRS)
		return;
	if (sa->sa_family == AF_INET) {
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6) {
		src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		len = sizeof(struct sockaddr_in6);
	} else {
		return;
	}
	if (inet_ntop(sa->sa_family, src, text, sizeof(text)) == NULL)
		return;
	for (int i = 0; i < a->n; i++) {
		if (strcmp(a->text[i], text) == 0)
			return;
	}
	memset(&a->addr[a->n], 0, sizeof(a->addr[a->n]));
	memcpy(&a->addr[a->n], sa, len);
	/* Port 0 by contract: callers pin the address, the port is theirs. */
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)&a->addr[a->n])->sin_port = 0;
	else
		((struct sockaddr_in6 *)(void *)&a->addr[a->n])->sin6_port = 0;
	a->len[a->n] = len;
	util_strlcpy(a->text[a->n], text, sizeof(a->text[a->n]));
	a->n++;
}
