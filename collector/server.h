/* server.h — the collector's HTTP(S) front: libmicrohttpd glue around the handler, plus fault
 * injection and the optional admin endpoint (spec/PROTOCOL.md, "Collector").
 *
 * One thread per connection (libmicrohttpd's internal threads): a delayed or slow answer holds
 * only its own connection, and synced commits of concurrent agents meet in LevelDB's group
 * commit. */
#ifndef STINT_COLLECTOR_SERVER_H
#define STINT_COLLECTOR_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "faults.h"
#include "handler.h"
#include "store.h"
#include "tokens.h"

struct stint_server_opts {
    const char *listen;   /* HOST:PORT; port 0 picks a free one */
    const char *cert_pem; /* PEM contents; NULL with insecure_http */
    const char *key_pem;
    bool insecure_http;            /* plain HTTP: refused unless listen is a loopback address */
    const char *admin_listen;      /* NULL: no admin endpoint; else a loopback HOST:PORT */
    struct stint_handler *handler; /* borrowed */
    struct stint_faults *faults;   /* borrowed */
    struct stint_store *store;     /* borrowed: /admin/stats */
    const struct stint_tokens *admin_tokens; /* borrowed; required with admin_listen */
    size_t max_body;                         /* 0: STINT_COLLECTOR_MAX_BODY */
    unsigned timeout_s;       /* idle timeout (reset by every byte); 0: STINT_SERVER_TIMEOUT_S */
    unsigned head_timeout_s;  /* whole request head; 0: STINT_SERVER_HEAD_TIMEOUT_S */
    unsigned min_rate;        /* body bytes per second after the grace; 0: no minimum */
    unsigned max_connections; /* 0: STINT_SERVER_MAX_CONNECTIONS */
    unsigned per_ip_limit;    /* connections per client address; 0: no limit */
};

#define STINT_SERVER_TIMEOUT_S 30
#define STINT_SERVER_HEAD_TIMEOUT_S 10
#define STINT_SERVER_MIN_RATE 1024
#define STINT_SERVER_MAX_CONNECTIONS 1024
#define STINT_SERVER_PER_IP_LIMIT 64

struct stint_server_counters {
    uint64_t connections;   /* open now */
    uint64_t head_timeouts; /* closed: head not complete in time */
    uint64_t slow_bodies;   /* closed: body under the minimum rate */
    uint64_t evictions;     /* closed to make room for a new connection */
    uint64_t malformed;     /* answered 400 from the head */
};

struct stint_server; /* opaque */

/* Starts listening (and serving in libmicrohttpd's threads). On success *out is the caller's:
 * stop it with stint_server_stop(). STINT_EINVAL for a bad address or plain HTTP off loopback,
 * STINT_EIO when the daemon cannot start (the message says why). */
enum stint_err stint_server_start(const struct stint_server_opts *opts, struct stint_server **out,
                                  struct stint_error *err);

uint16_t stint_server_port(const struct stint_server *s);
uint16_t stint_server_admin_port(const struct stint_server *s); /* 0 without admin */

void stint_server_counters(struct stint_server *s, struct stint_server_counters *c);

/* Stops accepting, waits for the connections in flight, frees. NULL is fine. */
void stint_server_stop(struct stint_server *s);

/* Parses HOST:PORT or [V6]:PORT. loopback is set when every address it names is loopback. */
enum stint_err stint_server_parse_listen(const char *listen, struct sockaddr_storage *sa,
                                         bool *loopback, struct stint_error *err);

#endif
