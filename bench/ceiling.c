/* ceiling.c: the fastest libmicrohttpd can answer here, for bench/run.
 *
 *     ceiling FILE [PORT [THREADS]]
 *
 * Serves FILE's bytes, read once at start, to every request, with the
 * daemon flags masthead uses (src/http/server.c: internal polling thread
 * pool on epoll, one thread per core) and the same response headers
 * masthead sends with a page. No routing, no database, no rendering, one
 * response object reused for every request: whatever masthead costs above
 * this is masthead's. Prints "listening on http://127.0.0.1:PORT/" (PORT 0
 * picks a free one) and stops on SIGINT or SIGTERM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct MHD_Response *page;

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
           const char *upload, size_t *upload_size, void **con_cls)
{
	(void) cls, (void) url, (void) method, (void) version, (void) upload;
	/* The first call only announces the request; answer on the second,
	 * as masthead does, once any body has been read. */
	static int announced;
	if (!*con_cls) {
		*con_cls = &announced;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, page);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: ceiling FILE [PORT [THREADS]]\n");
		return 2;
	}
	size_t len;
	char *body = slurp(argv[1], &len);
	if (!body) {
		perror(argv[1]);
		return 1;
	}
	unsigned port = argc > 2 ? (unsigned) strtoul(argv[2], NULL, 10) : 0;
	long threads = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads <= 0)
		threads = 1;

	page = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	static const char *headers[][2] = {
		{ "Content-Type", "text/html; charset=utf-8" },
		{ "X-Content-Type-Options", "nosniff" },
		{ "Referrer-Policy", "strict-origin-when-cross-origin" },
		{ "X-Frame-Options", "DENY" },
		{ "Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
		                             "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
		                             "form-action 'self'" },
		{ "Cache-Control", "private, no-store" },
		{ "Vary", "Cookie" },
	};
	for (size_t i = 0; i < sizeof headers / sizeof *headers; i++)
		MHD_add_response_header(page, headers[i][0], headers[i][1]);

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	/* Connection limit, timeout and memory as masthead's defaults. */
	struct MHD_Daemon *d =
	        MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
	                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned) threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
	                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                         (size_t) (16384 + 4096), MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "ceiling: cannot listen on 127.0.0.1:%u\n", port);
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on http://127.0.0.1:%u/ (%zu bytes, %ld threads)\n", info ? info->port : port, len, threads);
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(page);
	free(body);
	return 0;
}
