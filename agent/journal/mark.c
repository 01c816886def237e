/* mark.c — the clean-close mark (stint.closed): written at close, read and removed at
 * open, so that open can tell what a crash lost.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_int.h"

/* ---- the clean-close mark ---- */

int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static uint64_t parse_u64(const char *s)
{
    char *end = NULL;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    return (errno || end == s) ? 0 : (uint64_t)v;
}

void mark_read(const char *dir, struct mark *m)
{
    char file[4200], buf[512];
    FILE *f;
    size_t n;

    memset(m, 0, sizeof(*m));
    if (path_join(file, sizeof(file), dir, MARK_FILE) != 0 || !(f = fopen(file, "re"))) {
        return;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (strncmp(buf, "stint-journal-closed 1\n", 23) != 0) {
        return;
    }
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        if (strncmp(line, "next_seq ", 9) == 0) {
            m->next_seq = parse_u64(line + 9);
        } else if (strncmp(line, "acked_seq ", 10) == 0) {
            m->acked = parse_u64(line + 10);
        } else if (strncmp(line, "count ", 6) == 0) {
            m->count = parse_u64(line + 6);
            m->present = true;
        } else if (strncmp(line, "agent_id ", 9) == 0 && strlen(line + 9) == 32) {
            m->has_agent = true;
            for (int i = 0; i < STINT_AGENT_ID_LEN; i++) {
                char hex[3] = {line[9 + 2 * i], line[10 + 2 * i], 0};
                char *end = NULL;
                m->agent_id[i] = (uint8_t)strtoul(hex, &end, 16);
                if (end != hex + 2) {
                    m->has_agent = false;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
}

void mark_remove(const char *dir)
{
    char file[4200];
    if (path_join(file, sizeof(file), dir, MARK_FILE) == 0) {
        unlink(file);
    }
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

void mark_write(struct stint_journal *j)
{
    char file[4200], tmp[4200], text[512];
    int fd, n;
    char hex[2 * STINT_AGENT_ID_LEN + 1];

    for (int i = 0; i < STINT_AGENT_ID_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02x", j->agent_id[i]);
    }
    if (path_join(file, sizeof(file), j->path, MARK_FILE) != 0 ||
        path_join(tmp, sizeof(tmp), j->path, MARK_FILE ".tmp") != 0) {
        return;
    }
    n = snprintf(text, sizeof(text),
                 "stint-journal-closed 1\nagent_id %s\nnext_seq %" PRIu64 "\nacked_seq %" PRIu64
                 "\ncount %" PRIu64 "\n",
                 hex, j->st.next_seq, j->st.acked, j->st.count);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    if (n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0) {
        close(fd);
        if (rename(tmp, file) == 0) {
            fsync_dir(j->path);
        }
        return;
    }
    close(fd);
    unlink(tmp);
}
