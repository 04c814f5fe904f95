/*
 * lda-bench-hello — the floor of the benchmarks: a bare libmicrohttpd server started the way
 * lda-api starts its own (epoll, internal thread pool, the same connection limits), that
 * answers every request with the same small JSON document and does nothing else. bench/run.mjs
 * measures it with wrk in the same run as GET /v1/platforms/{code}.
 *
 *   lda-bench-hello PORT [THREADS]     listens on 127.0.0.1:PORT until SIGTERM or SIGINT
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char BODY[] = "{\"status\":\"ok\"}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct MHD_Response *response = cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = response;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a body is read and ignored */
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(connection, MHD_HTTP_OK, response);
}

static long arg_long(const char *s, long min, long max, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "lda-bench-hello: %s must be %ld..%ld\n", what, min, max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: lda-bench-hello PORT [THREADS]\n");
        return 2;
    }
    long port = arg_long(argv[1], 1, 65535, "PORT");
    long threads = argc == 3 ? arg_long(argv[2], 1, 256, "THREADS") : 8;

    /* signals are waited for by this thread only */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct MHD_Response *response =
        MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    if (!response ||
        MHD_add_response_header(response, "Content-Type", "application/json") != MHD_YES) {
        fprintf(stderr, "lda-bench-hello: cannot build the response\n");
        return 1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
        NULL, answer, response, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)2048,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned int)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "lda-bench-hello: cannot listen on 127.0.0.1:%ld\n", port);
        MHD_destroy_response(response);
        return 1;
    }
    fprintf(stderr, "lda-bench-hello: listening on 127.0.0.1:%ld with %ld threads\n", port,
            threads);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    MHD_stop_daemon(d);
    MHD_destroy_response(response);
    return 0;
}
