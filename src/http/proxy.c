/* proxy.c: trusted reverse proxies and the client address behind them. */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/banned.h"

static bool
parse_addr(const char *text, size_t len, struct proxy_net *out)
{
	char buf[PROXY_ADDR_MAX];
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		out->bits = 32;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		out->bits = 128;
		return true;
	}
	return false;
}

static bool
add(struct proxy_list *l, const struct proxy_net *n)
{
	if (l->n == PROXY_MAX_NETS)
		return false;
	l->nets[l->n++] = *n;
	return true;
}

static void
add_loopback(struct proxy_list *l)
{
	struct proxy_net v4 = { AF_INET, { 127 }, 8 };
	struct proxy_net v6 = { AF_INET6, { 0 }, 128 };
	v6.addr[15] = 1;
	add(l, &v4);
	add(l, &v6);
}

mh_err
proxy_list_parse(const char *spec, struct proxy_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	const char *p = spec ? spec : "";
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		size_t len = (size_t) (p - start);
		if ((len == 8 && !strncmp(start, "loopback", 8)) || (len == 4 && !strncmp(start, "true", 4))) {
			add_loopback(out);
			continue;
		}
		if ((len == 4 && !strncmp(start, "none", 4)) || (len == 5 && !strncmp(start, "false", 5)))
			continue;
		const char *slash = memchr(start, '/', len);
		struct proxy_net n;
		if (!parse_addr(start, slash ? (size_t) (slash - start) : len, &n))
			goto bad;
		if (slash) {
			const char *b = slash + 1;
			int bits = 0;
			if (b == p || p - b > 3)
				goto bad;
			for (; b < p; b++) {
				if (*b < '0' || *b > '9')
					goto bad;
				bits = bits * 10 + (*b - '0');
			}
			if (bits > n.bits)
				goto bad;
			n.bits = bits;
		}
		if (!add(out, &n)) {
			snprintf(err, errlen, "trusted-proxy: more than %d entries", PROXY_MAX_NETS);
			return MH_ERR_INVALID;
		}
		continue;
	bad:
		snprintf(
		        err, errlen,
		        "trusted-proxy: '%.*s' is not an address or network (e.g. 10.0.0.5, 10.1.0.0/16, loopback, none)",
		        (int) (len > 80 ? 80 : len), start);
		return MH_ERR_INVALID;
	}
	return MH_OK;
}

static bool
net_has(const struct proxy_net *n, const struct proxy_net *a)
{
	if (n->family != a->family)
		return false;
	int full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(n->addr, a->addr, (size_t) full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t) (0xff << (8 - rest));
	return (n->addr[full] & mask) == (a->addr[full] & mask);
}

static bool
trusts(const struct proxy_list *l, const struct proxy_net *a)
{
	/* An IPv4 peer on a dual-stack socket reads as ::ffff:a.b.c.d. */
	struct proxy_net v4;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (a->family == AF_INET6 && !memcmp(a->addr, mapped, sizeof mapped)) {
		memset(&v4, 0, sizeof v4);
		v4.family = AF_INET;
		v4.bits = 32;
		memcpy(v4.addr, a->addr + 12, 4);
		a = &v4;
	}
	for (size_t i = 0; i < l->n; i++)
		if (net_has(&l->nets[i], a))
			return true;
	return false;
}

bool
proxy_list_trusts(const struct proxy_list *l, const char *addr)
{
	struct proxy_net a;
	return addr && parse_addr(addr, strlen(addr), &a) && trusts(l, &a);
}

static const char *
copy(char *out, size_t outlen, const char *s, size_t len)
{
	if (outlen == 0)
		return out;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

const char *
proxy_client(const struct proxy_list *l, const char *peer, const char *xff, char *out, size_t outlen)
{
	const char *client = peer ? peer : "-";
	size_t client_len = strlen(client);
	if (!xff || !proxy_list_trusts(l, client))
		return copy(out, outlen, client, client_len);
	/* From the right: each entry was appended by the hop in front of it. */
	const char *end = xff + strlen(xff);
	while (end > xff) {
		const char *comma = end;
		while (comma > xff && comma[-1] != ',')
			comma--;
		const char *s = comma, *e = end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		struct proxy_net a;
		if (!parse_addr(s, (size_t) (e - s), &a))
			break; /* garbage: the last good hop is the client */
		client = s;
		client_len = (size_t) (e - s);
		if (!trusts(l, &a))
			break;
		end = comma > xff ? comma - 1 : xff;
	}
	return copy(out, outlen, client, client_len);
}

bool
proxy_https(const struct proxy_list *l, const char *peer, const char *proto)
{
	return proto && !strcmp(proto, "https") && proxy_list_trusts(l, peer);
}
