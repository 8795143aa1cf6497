/* proxy.h: which peers may speak for the client (X-Forwarded-For and
 * X-Forwarded-Proto), and who the client then is.
 *
 * The trusted-proxy setting lists the reverse proxies by address or network:
 * "loopback" (127.0.0.0/8 and ::1, the default: masthead listens on loopback,
 * so only a process on the same machine, the proxy, can reach it), "none",
 * or addresses and CIDR networks separated by commas ("10.0.0.5, 10.1.0.0/16").
 * Forwarded headers from any other peer are ignored. No HTTP in here: the
 * functions take text, so they are tested and fuzzed on their own. */
#ifndef MH_PROXY_H
#define MH_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define PROXY_MAX_NETS 32
/* Longest address text kept (an IPv6 address with a zone fits). */
#define PROXY_ADDR_MAX 64

struct proxy_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int bits;
};

struct proxy_list {
	size_t n;
	struct proxy_net nets[PROXY_MAX_NETS];
};

/* Parses the setting; "true" reads as "loopback" and "false" as "none", as
 * the setting was once a switch. On error, err names the bad entry. */
mh_err proxy_list_parse(const char *spec, struct proxy_list *out, char *err, size_t errlen);
/* True when the address (text) lies in one of the networks. */
bool proxy_list_trusts(const struct proxy_list *l, const char *addr);
/* The client's address: the peer, unless the peer is trusted and sent
 * X-Forwarded-For; then the rightmost address in that header that is not a
 * trusted proxy itself (each proxy appends the address it saw). An entry that
 * is not an IP address ends the walk at the last good one. Writes into out
 * (at least PROXY_ADDR_MAX bytes) and returns it. */
const char *proxy_client(const struct proxy_list *l, const char *peer, const char *xff, char *out, size_t outlen);
/* True when the request came over https: the peer is trusted and says so. */
bool proxy_https(const struct proxy_list *l, const char *peer, const char *proto);

#endif
