/*
 * loopback-bind.c - LD_PRELOAD shim that confines wildcard listeners to loopback.
 *
 * `openssl ocsp -port N` (OpenSSL 3.0) has no option for the address it listens on and binds the
 * wildcard address (0.0.0.0, or [::] dual-stack). The benchmark must only use loopback, so this
 * shim wraps bind(2):
 *   0.0.0.0:N               -> 127.0.0.1:N
 *   [::]:N, IPV6_V6ONLY=0   -> [::ffff:127.0.0.1]:N   (dual-stack socket: IPv4 loopback only)
 *   [::]:N, IPV6_V6ONLY=1   -> [::1]:N
 * Any other address is passed through unchanged. With BENCH_SHIM_VERBOSE=1 every rewrite is
 * reported on stderr. bench/run.sh builds it at bench time:
 *   cc -shared -fPIC -O2 -Wall -o loopback-bind.so loopback-bind.c -ldl
 * and then checks with `ss -ltn` that the responder listens on loopback only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

static bind_fn next_bind(void)
{
    static bind_fn fn;
    if (fn == NULL)
        fn = (bind_fn)dlsym(RTLD_NEXT, "bind");
    return fn;
}

static void note(const char *what, int port)
{
    const char *v = getenv("BENCH_SHIM_VERBOSE");
    if (v != NULL && v[0] == '1')
        fprintf(stderr, "loopback-bind: wildcard bind on port %d rewritten to %s\n", port, what);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    bind_fn real = next_bind();
    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (addr == NULL)
        return real(fd, addr, len);

    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in v4;
        memcpy(&v4, addr, sizeof v4);
        if (v4.sin_addr.s_addr != htonl(INADDR_ANY))
            return real(fd, addr, len);
        v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        note("127.0.0.1", ntohs(v4.sin_port));
        return real(fd, (const struct sockaddr *)&v4, sizeof v4);
    }

    if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 v6;
        int only6 = 0;
        socklen_t optlen = sizeof only6;
        memcpy(&v6, addr, sizeof v6);
        if (!IN6_IS_ADDR_UNSPECIFIED(&v6.sin6_addr))
            return real(fd, addr, len);
        if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only6, &optlen) != 0)
            only6 = 0;
        if (only6) {
            v6.sin6_addr = in6addr_loopback;
            note("[::1]", ntohs(v6.sin6_port));
        } else {
            static const unsigned char mapped_loopback[16] =
                { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
            memcpy(v6.sin6_addr.s6_addr, mapped_loopback, sizeof mapped_loopback);
            note("[::ffff:127.0.0.1]", ntohs(v6.sin6_port));
        }
        return real(fd, (const struct sockaddr *)&v6, sizeof v6);
    }

    return real(fd, addr, len);
}
