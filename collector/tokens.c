/* tokens.c — bearer tokens to accounts (see tokens.h).
 *
 * The file is small (one line per agent fleet or user), so it is read whole and kept as an array.
 * A lookup walks every entry and compares each with a constant-time loop over the longer of the
 * two lengths, so the time does not tell an attacker how many leading bytes were right; only the
 * number of entries and the presented token's length are visible, both harmless. */
#include "tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
    char token[STINT_TOKEN_MAX + 1];
    size_t token_len;
    char account[STINT_ACCOUNT_MAX + 1];
};

struct stint_tokens {
    struct entry *items;
    size_t n;
};

#define TOKENS_FILE_MAX ((size_t)1 << 20)

bool stint_account_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > STINT_ACCOUNT_MAX)
        return false;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool visible(char c)
{
    return c > 0x20 && c < 0x7f;
}

/* Constant-time equality over max(alen, blen) bytes. */
static bool ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen > blen ? alen : blen;
    unsigned diff = (unsigned)(alen ^ blen) != 0;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned)(x ^ y);
    }
    return diff == 0;
}

enum stint_err stint_tokens_parse(const char *text, size_t len, struct stint_tokens **out,
                                  struct stint_error *err)
{
    struct stint_tokens *t = NULL;
    enum stint_err rc = STINT_OK;
    size_t pos = 0, line = 0, cap = 0;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    while (pos < len) {
        const char *l = text + pos;
        size_t end = pos, i = 0, tok_start, tok_len, acc_start, acc_len, k;

        while (end < len && text[end] != '\n')
            end++;
        line++;
        {
            size_t ll = end - pos;
            if (ll && l[ll - 1] == '\r')
                ll--;
            while (i < ll && (l[i] == ' ' || l[i] == '\t'))
                i++;
            if (i == ll || l[i] == '#') {
                pos = end + 1;
                continue;
            }
            tok_start = i;
            while (i < ll && visible(l[i]))
                i++;
            tok_len = i - tok_start;
            while (i < ll && (l[i] == ' ' || l[i] == '\t'))
                i++;
            acc_start = i;
            while (i < ll && visible(l[i]))
                i++;
            acc_len = i - acc_start;
            while (i < ll && (l[i] == ' ' || l[i] == '\t'))
                i++;
            if (i != ll || tok_len < STINT_TOKEN_MIN || tok_len > STINT_TOKEN_MAX ||
                !stint_account_valid(l + acc_start, acc_len)) {
                rc = stint_error_set(err, STINT_ESYNTAX, pos,
                                     "tokens line %zu: want `TOKEN ACCOUNT` (token %d..%d visible "
                                     "ASCII characters, account 1..%d of [A-Za-z0-9._-])",
                                     line, STINT_TOKEN_MIN, STINT_TOKEN_MAX, STINT_ACCOUNT_MAX);
                goto cleanup;
            }
        }
        for (k = 0; k < t->n; k++) {
            if (ct_equal(t->items[k].token, t->items[k].token_len, l + tok_start, tok_len)) {
                rc = stint_error_set(err, STINT_ESYNTAX, pos,
                                     "tokens line %zu: token already given on an earlier line",
                                     line);
                goto cleanup;
            }
        }
        if (t->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct entry *ni = realloc(t->items, ncap * sizeof(*ni));
            if (!ni) {
                rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
                goto cleanup;
            }
            t->items = ni;
            cap = ncap;
        }
        memcpy(t->items[t->n].token, l + tok_start, tok_len);
        t->items[t->n].token[tok_len] = '\0';
        t->items[t->n].token_len = tok_len;
        memcpy(t->items[t->n].account, l + acc_start, acc_len);
        t->items[t->n].account[acc_len] = '\0';
        t->n++;
        pos = end + 1;
    }
    *out = t;
    t = NULL;
cleanup:
    stint_tokens_destroy(t);
    return rc;
}

enum stint_err stint_tokens_load(const char *path, struct stint_tokens **out,
                                 struct stint_error *err)
{
    enum stint_err rc = STINT_OK;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int fd = -1;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = stint_error_set(err, STINT_EIO, 0, "tokens file %s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = stint_error_set(err, STINT_EIO, 0, "tokens file %s: not a regular file", path);
        goto cleanup;
    }
    if (st.st_mode & 077) {
        rc = stint_error_set(err, STINT_EINVAL, 0,
                             "tokens file %s has mode %04o: group or others may read it; "
                             "chmod 600 it",
                             path, (unsigned)(st.st_mode & 07777));
        goto cleanup;
    }
    if ((size_t)st.st_size > TOKENS_FILE_MAX) {
        rc = stint_error_set(err, STINT_ELIMIT, 0, "tokens file %s is over %zu bytes", path,
                             TOKENS_FILE_MAX);
        goto cleanup;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    while (len < (size_t)st.st_size) {
        ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    rc = stint_tokens_parse(text, len, out, err);
cleanup:
    if (text) {
        memset(text, 0, len); /* tokens are secrets: leave no copy behind */
        free(text);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

const char *stint_tokens_lookup(const struct stint_tokens *t, const char *token, size_t len)
{
    const char *found = NULL;
    size_t i;

    if (!t || len > STINT_TOKEN_MAX)
        return NULL;
    for (i = 0; i < t->n; i++) {
        bool eq = ct_equal(t->items[i].token, t->items[i].token_len, token, len);
        if (eq && !found)
            found = t->items[i].account;
    }
    return found;
}

size_t stint_tokens_count(const struct stint_tokens *t)
{
    return t ? t->n : 0;
}

void stint_tokens_destroy(struct stint_tokens *t)
{
    if (!t)
        return;
    if (t->items)
        memset(t->items, 0, t->n * sizeof(*t->items));
    free(t->items);
    free(t);
}
