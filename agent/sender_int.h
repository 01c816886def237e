/* sender_int.h — what the sender's two files share: sender.c (the thread, the attempts, the
 * API) and sender_batch.c (the batch: read from the journal, encoded, and the server's answer
 * for it). Not an API: only those two files include it. */
#ifndef STINT_AGENT_SENDER_INT_H
#define STINT_AGENT_SENDER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "backoff.h"
#include "sender.h"
#include "stint/spool.h"

struct item {
    uint64_t seq;
    uint32_t raw_off; /* into frames: the record's own bytes */
    uint32_t raw_len;
};

struct batch {
    struct stint_spool frames; /* the records as a Batch's field 4 frames (stint/spool.h) */
    struct item *items;
    size_t n, cap;
    uint64_t first, last;
    struct stint_buf body; /* the encoded request of the current attempt */
    struct stint_buf gz;
    /* legacy encodings: the records the mapping writes (seq, start in seconds), in order, and
     * the Stint-Seqs header line naming them (spec/PROTOCOL.md §6.8) */
    uint64_t *lseq;
    int64_t *lstart;
    size_t n_legacy, cap_legacy;
    struct stint_buf seqs_header;
};

struct stint_sender {
    struct stint_sender_opts o; /* o.log is NULL: lg is the copy */
    struct stint_log lg;
    struct stint_journal *j;
    struct stint_http *http;
    char *url;             /* URL/v1/batches or URL/v1/legacy */
    char *ua_header;       /* "User-Agent: stint/x.y.z" */
    char agent_header[64]; /* legacy: "Stint-Agent-Id: <32 hex>" */
    /* legacy, against a server that does not confirm the agent-seq identity: the start second of
     * the last record sent, to keep records it would merge (one per start second) */
    int64_t legacy_prev_start;
    bool have_legacy_prev;
    const char *ctype; /* Content-Type line */
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    char client_version[STINT_VERSION_MAX + 1];
    z_stream zs;
    bool zs_ready;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread, nl_thread;
    bool started, nl_started, joined;
    int nl_fd, pipe_fd[2];

    /* under mu */
    char *auth_header; /* "Authorization: Bearer ..." (NULL: no token) */
    bool stopping, wake_req, flush_req, token_changed, idle;
    int64_t stop_deadline; /* mono ms */
    int64_t linger_until;  /* mono ms */
    int64_t retry_at;      /* mono ms; 0: none */
    uint64_t net_epoch, net_seen;
    /* the wait in force was asked for by the server (an HTTP answer: 429, 5xx, Retry-After):
     * a network change does not cut it short, since the server, not the link, said "later" */
    bool server_wait;
    uint64_t net_conn; /* net_epoch when the kept connection was last judged usable */
    bool in_flight, net_abort, purge_abort;
    uint64_t purge_epoch;     /* bumped by stint_sender_purge */
    uint64_t in_flight_epoch; /* purge_epoch when the request in flight was read */
    int64_t in_flight_since;  /* mono ms */
    int64_t last_end;         /* mono ms of the last attempt's end */
    struct stint_sender_status st;

    /* sender thread only */
    struct batch b;
    bool have_batch;
    uint64_t batch_epoch; /* purge_epoch before the batch was read from the journal */
    size_t limit;         /* records per batch now (lower while splitting) */
    uint64_t split_until; /* the range being split ends here */
    struct stint_backoff bo;
    uint64_t probe_rng; /* jitter of the probe interval */
};

/* The helpers below keep their short names inside the sender's files; these macros give them
 * prefixed link names, so that nothing else linked into the agent can clash with them. */
#define fmt_ stint_sender_i_fmt_
#define batch_free stint_sender_i_batch_free
#define encode_body stint_sender_i_encode_body
#define excerpt stint_sender_i_excerpt
#define fill_batch stint_sender_i_fill_batch
#define legacy_encoding stint_sender_i_legacy_encoding
#define take_ack stint_sender_i_take_ack

/* sender.c */
/* snprintf that may cut: messages are bounded on purpose */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void fmt_(char *out, size_t cap, const char *fmt, ...);

/* sender_batch.c */
void batch_free(struct batch *b);
enum stint_err encode_body(struct stint_sender *s, int64_t now, const uint8_t **body, size_t *len,
                           bool *gz);
void excerpt(const uint8_t *p, size_t len, char *out, size_t cap);
enum stint_err fill_batch(struct stint_sender *s);
bool legacy_encoding(enum stint_sender_encoding e);
enum stint_send_class take_ack(struct stint_sender *s, const struct stint_http_response *r,
                               char *why, size_t why_cap, uint64_t *sent, uint64_t *dead);

#endif
