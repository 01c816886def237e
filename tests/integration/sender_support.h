/* sender_support.h — what the sender's integration tests, kill -9 test, network namespace test
 * and benchmark share: a run folder with certificates made by the openssl CLI, stint-collector
 * started as a child process on a free port, journals filled with typical records, and the
 * exactly-once check over `stint-collector dump`. Test code: failures print and return -1. */
#ifndef STINT_SENDER_SUPPORT_H
#define STINT_SENDER_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_TOKEN "alice-token-0123456789"
#define SUP_BAD_TOKEN "alice-token-wrong-00000"

struct sup_run {
    char base[128]; /* the run's folder */
    char cert[192]; /* the collector's certificate (CN localhost, SAN 127.0.0.1 + extra IP) */
    char key[192];
    char other[192]; /* an unrelated self-signed certificate: a CA the agent must not trust */
    char tokens[192];
    char pin[128]; /* "sha256//..." of cert's public key */
};

struct sup_collector {
    pid_t pid;
    int port;
    char data[256];
    char out[300];
};

/* Makes the folder and certificates; extra_ip (may be NULL) is added to the SAN. 0 or -1. */
int sup_run_init(struct sup_run *r, const char *tag, const char *extra_ip);
void sup_run_cleanup(struct sup_run *r); /* removes the folder */

/* Starts the collector: listen "HOST:PORT" (port 0: any), data folder `data` (kept across
 * restarts), extra args NULL-terminated, wrapper argv (NULL-terminated, e.g. ip netns exec NS)
 * or NULL. Waits for the port file. 0 or -1. */
int sup_collector_start(struct sup_collector *c, const struct sup_run *r, const char *listen,
                        const char *data, const char *const *extra, const char *const *wrapper);
/* Sends sig and reaps; 0 when it exited (cleanly, for SIGTERM). */
int sup_collector_stop(struct sup_collector *c, int sig);

/* Appends n typical records (about 110 bytes each) to the journal at path (opened and closed
 * here). *first (may be NULL) gets the first seq. */
int sup_fill(const char *path, uint64_t n, uint64_t *first);

/* The same into an open journal. */
struct stint_journal;
int sup_append(struct stint_journal *j, uint64_t n, uint64_t *first);

/* Opens a journal for tests (no sync, no bounds that drop). NULL on failure. */
struct stint_journal *sup_journal_open(const char *path);

/* Counts how often each seq 1..max is stored for account alice: counts[seq] (counts has max+1
 * entries); *extra gets lines with seq outside 1..max. Returns the number of lines or -1. */
long sup_dump(const struct sup_collector *c, uint64_t max, uint32_t *counts, uint64_t *extra);

/* Exactly-once check of seqs 1..max, except those in skip[] (sorted, n_skip), which must be
 * absent. Prints what is wrong; 0 when all is right. */
int sup_check_once(const struct sup_collector *c, uint64_t max, const uint64_t *skip,
                   size_t n_skip);

double sup_now(void); /* CLOCK_MONOTONIC seconds */
int64_t sup_wall_ms(void);
void sup_sleep(double s);

#endif
