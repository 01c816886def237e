/* fuzz_config.c — stintd's INI config (agent/config.c) on any text.
 *
 * Invariants: a refusal carries its code, a message that starts with the file name and the line
 * it names ("fuzz.ini:LINE: "), and that line (also in e.offset) exists in the input; an
 * acceptance leaves every setting in its documented range and every string NUL-terminated inside
 * its buffer without control characters; stint_config_finish then answers without crashing.
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 * STINT_FUZZ_DICT: config.dict
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "invariants.h"

static void check_str(const char *s, size_t cap, const char *name)
{
    size_t n = strnlen(s, cap);
    STINT_FUZZ_CHECK(n < cap, "config: %s is not NUL-terminated", name);
    for (size_t i = 0; i < n; i++) {
        STINT_FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
                         "config: %s holds a control character", name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_config c;
    struct stint_error e;
    char *text = malloc(size + 1);
    size_t lines = 1;

    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i < size && text[i]; i++) {
        lines += text[i] == '\n';
    }
    setenv("HOME", "/home/fuzz", 1);
    STINT_FUZZ_CHECK(stint_config_defaults(&c, NULL) == STINT_OK, "config: defaults failed");
    enum stint_err rc = stint_config_load_string(&c, text, "fuzz.ini", &e);
    if (rc != STINT_OK) {
        char prefix[64];
        STINT_FUZZ_CHECK(e.code == rc, "config: error code %d, returned %d", e.code, rc);
        snprintf(prefix, sizeof(prefix), "fuzz.ini:%zu: ", e.offset);
        STINT_FUZZ_CHECK(strncmp(e.msg, prefix, strlen(prefix)) == 0,
                         "config: message does not name file and line: \"%s\"", e.msg);
        STINT_FUZZ_CHECK(e.offset >= 1 && e.offset <= lines, "config: line %zu of a %zu-line input",
                         e.offset, lines);
        STINT_FUZZ_CHECK(strlen(e.msg) > strlen(prefix), "config: empty message");
    } else {
        STINT_FUZZ_CHECK(c.idle_after_ms >= 5000 && c.idle_after_ms <= 86400000,
                         "config: idle_after %lld", (long long)c.idle_after_ms);
        STINT_FUZZ_CHECK(c.checkpoint_every_ms >= 1000, "config: checkpoint_every");
        STINT_FUZZ_CHECK(c.batch_records >= 1 && c.batch_records <= 10000, "config: batch");
        STINT_FUZZ_CHECK(c.max_bytes >= 65536, "config: max_bytes");
        STINT_FUZZ_CHECK(c.max_age_ms == -1 || c.max_age_ms >= 3600000, "config: max_age");
        STINT_FUZZ_CHECK(c.journal[0] != '\0', "config: empty journal path");
        (void)stint_config_finish(&c, &e);
    }
    check_str(c.source, sizeof(c.source), "source");
    check_str(c.socket, sizeof(c.socket), "socket");
    check_str(c.server, sizeof(c.server), "server");
    check_str(c.token_file, sizeof(c.token_file), "token_file");
    check_str(c.ca_file, sizeof(c.ca_file), "ca_file");
    check_str(c.pinned_key, sizeof(c.pinned_key), "pinned_key");
    check_str(c.journal, sizeof(c.journal), "journal");
    free(text);
    return 0;
}
