/* test_sender.c — the sender's pure parts: the status classification table (every status and
 * the libcurl errors that matter), the Idempotency-Key, the choice between backoff and
 * Retry-After, the loopback rule for http://, and option checking at creation. The sender's
 * behaviour on the wire (splitting, pausing, dead-lettering, retries) is tested against a real
 * server in tests/integration/sender_*.c and against a scripted one in test_sender_script.c. */
#define _POSIX_C_SOURCE 200809L
#include "cmocka_all.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sender.h"

struct crow {
    int curl;
    long status;
    enum stint_send_class want;
};

static const struct crow crows[] = {
    {CURLE_OK, 200, STINT_SEND_OK},
    {CURLE_OK, 201, STINT_SEND_OK},
    {CURLE_OK, 204, STINT_SEND_OK},
    {CURLE_OK, 100, STINT_SEND_RETRY},
    {CURLE_OK, 301, STINT_SEND_RETRY},
    {CURLE_OK, 302, STINT_SEND_RETRY},
    {CURLE_OK, 307, STINT_SEND_RETRY},
    {CURLE_OK, 308, STINT_SEND_RETRY},
    {CURLE_OK, 400, STINT_SEND_REJECT},
    {CURLE_OK, 401, STINT_SEND_AUTH},
    {CURLE_OK, 402, STINT_SEND_REJECT},
    {CURLE_OK, 403, STINT_SEND_AUTH},
    {CURLE_OK, 404, STINT_SEND_MISCONFIG},
    {CURLE_OK, 405, STINT_SEND_MISCONFIG},
    {CURLE_OK, 408, STINT_SEND_RETRY},
    {CURLE_OK, 409, STINT_SEND_REJECT},
    {CURLE_OK, 410, STINT_SEND_REJECT},
    {CURLE_OK, 411, STINT_SEND_REJECT},
    {CURLE_OK, 413, STINT_SEND_SPLIT},
    {CURLE_OK, 415, STINT_SEND_MISCONFIG},
    {CURLE_OK, 422, STINT_SEND_REJECT},
    {CURLE_OK, 429, STINT_SEND_RETRY},
    {CURLE_OK, 431, STINT_SEND_REJECT},
    {CURLE_OK, 451, STINT_SEND_REJECT},
    {CURLE_OK, 499, STINT_SEND_REJECT},
    {CURLE_OK, 500, STINT_SEND_RETRY},
    {CURLE_OK, 501, STINT_SEND_MISCONFIG},
    {CURLE_OK, 502, STINT_SEND_RETRY},
    {CURLE_OK, 503, STINT_SEND_RETRY},
    {CURLE_OK, 504, STINT_SEND_RETRY},
    {CURLE_OK, 507, STINT_SEND_RETRY},
    {CURLE_OK, 599, STINT_SEND_RETRY},
    {CURLE_OK, 0, STINT_SEND_RETRY},
    {CURLE_OK, 999, STINT_SEND_RETRY},
    /* network: retried (curl's own --retry list and more) */
    {CURLE_COULDNT_RESOLVE_HOST, 0, STINT_SEND_RETRY},
    {CURLE_COULDNT_RESOLVE_PROXY, 0, STINT_SEND_RETRY},
    {CURLE_COULDNT_CONNECT, 0, STINT_SEND_RETRY},
    {CURLE_OPERATION_TIMEDOUT, 0, STINT_SEND_RETRY},
    {CURLE_SSL_CONNECT_ERROR, 0, STINT_SEND_RETRY},
    {CURLE_SEND_ERROR, 0, STINT_SEND_RETRY},
    {CURLE_RECV_ERROR, 0, STINT_SEND_RETRY},
    {CURLE_GOT_NOTHING, 0, STINT_SEND_RETRY},
    {CURLE_PARTIAL_FILE, 0, STINT_SEND_RETRY},
    {CURLE_HTTP2, 0, STINT_SEND_RETRY},
    {CURLE_HTTP2_STREAM, 0, STINT_SEND_RETRY},
    {CURLE_ABORTED_BY_CALLBACK, 0, STINT_SEND_RETRY},
    {CURLE_WRITE_ERROR, 0, STINT_SEND_RETRY},
    {CURLE_OUT_OF_MEMORY, 0, STINT_SEND_RETRY},
    {CURLE_HTTP3, 0, STINT_SEND_RETRY},
    /* verification and setup: blocked, not a retry storm */
    {CURLE_PEER_FAILED_VERIFICATION, 0, STINT_SEND_BLOCKED},
    {CURLE_SSL_PINNEDPUBKEYNOTMATCH, 0, STINT_SEND_BLOCKED},
    {CURLE_SSL_CACERT_BADFILE, 0, STINT_SEND_BLOCKED},
    {CURLE_SSL_CERTPROBLEM, 0, STINT_SEND_BLOCKED},
    {CURLE_SSL_ISSUER_ERROR, 0, STINT_SEND_BLOCKED},
    {CURLE_UNSUPPORTED_PROTOCOL, 0, STINT_SEND_BLOCKED},
    {CURLE_URL_MALFORMAT, 0, STINT_SEND_BLOCKED},
    /* a curl error wins over any status */
    {CURLE_RECV_ERROR, 200, STINT_SEND_RETRY},
    {CURLE_PEER_FAILED_VERIFICATION, 200, STINT_SEND_BLOCKED},
};

static void test_classification_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(crows) / sizeof(crows[0]); i++) {
        enum stint_send_class got = stint_http_classify(crows[i].curl, crows[i].status);
        if (got != crows[i].want)
            fail_msg("row %zu: curl %d status %ld -> %s, want %s", i, crows[i].curl,
                     crows[i].status, stint_send_class_name(got),
                     stint_send_class_name(crows[i].want));
    }
    /* every other 4xx dead-letters, every 5xx retries */
    for (i = 400; i < 500; i++) {
        enum stint_send_class c = stint_http_classify(CURLE_OK, (long)i);
        if (i == 401 || i == 403)
            assert_int_equal(c, STINT_SEND_AUTH);
        else if (i == 408 || i == 429)
            assert_int_equal(c, STINT_SEND_RETRY);
        else if (i == 413)
            assert_int_equal(c, STINT_SEND_SPLIT);
        else if (i == 404 || i == 405 || i == 415)
            assert_int_equal(c, STINT_SEND_MISCONFIG);
        else
            assert_int_equal(c, STINT_SEND_REJECT);
    }
    for (i = 500; i < 600; i++)
        assert_int_equal(stint_http_classify(CURLE_OK, (long)i),
                         i == 501 ? STINT_SEND_MISCONFIG : STINT_SEND_RETRY);
    assert_string_equal(stint_send_class_name(STINT_SEND_BLOCKED), "blocked");
    assert_string_equal(stint_send_class_name(STINT_SEND_MISCONFIG), "misconfig");
}

/* Without a CA file the sender trusts the system's CAs (Debian's ca-certificates, which `make
 * deps` installs): a hashed folder (OpenSSL) or a bundle (GnuTLS) that is found here and holds
 * certificates. Were it missing or empty, every public server would be refused. */
static void test_system_trust(void **state)
{
    bool is_dir = false;
    const char *t = stint_http_system_trust(&is_dir);
    int certs = 0;
    (void)state;
    assert_non_null(t);
    if (is_dir) {
        DIR *d = opendir(t);
        struct dirent *e;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) { /* hash links: 8 hex digits, '.', a digit */
            size_t n = strlen(e->d_name);
            certs += n == 10 && e->d_name[8] == '.' && strspn(e->d_name, "0123456789abcdef") == 8;
        }
        closedir(d);
    } else {
        char line[128];
        FILE *f = fopen(t, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
            certs += strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
        fclose(f);
    }
    assert_true(certs >= 10);
}

static void test_idempotency_key(void **state)
{
    uint8_t id[STINT_AGENT_ID_LEN];
    char k[128];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(id); i++)
        id[i] = (uint8_t)(i * 17);
    stint_sender_idempotency_key(id, 1, 1000, k, sizeof(k));
    assert_string_equal(k, "00112233445566778899aabbccddeeff:1-1000");
    stint_sender_idempotency_key(id, UINT64_MAX, UINT64_MAX, k, sizeof(k));
    assert_string_equal(k, "00112233445566778899aabbccddeeff:18446744073709551615-"
                           "18446744073709551615");
    /* visible ASCII only, under the collector's 200-byte limit */
    for (i = 0; k[i]; i++)
        assert_true(k[i] > 0x20 && k[i] < 0x7f);
    assert_true(strlen(k) < 200);
}

static void test_retry_wait(void **state)
{
    bool ra;
    const int64_t now = (int64_t)1795917566 * 1000; /* Sun, 29 Nov 2026 01:59:26 GMT */
    (void)state;
    assert_int_equal(stint_sender_retry_wait(700, false, NULL, now, &ra), 700);
    assert_false(ra);
    assert_int_equal(stint_sender_retry_wait(700, true, "3", now, &ra), 3000);
    assert_true(ra);
    /* a Retry-After shorter than the backoff draw does not shorten the wait */
    assert_int_equal(stint_sender_retry_wait(5000, true, "0", now, &ra), 5000);
    assert_false(ra);
    assert_int_equal(stint_sender_retry_wait(100, true, "garbage", now, &ra), 100);
    assert_false(ra);
    assert_int_equal(stint_sender_retry_wait(100, true, "Sun, 29 Nov 2026 01:59:30 GMT", now, &ra),
                     4000);
    assert_true(ra);
    assert_int_equal(stint_sender_retry_wait(100, true, "99999999", now, &ra), 86400000);
}

/* create checks the URL and token; nothing is started by create. */
static void test_create_checks_options(void **state)
{
    char dir[] = "/tmp/stint-send-unit-XXXXXX", cmd[128];
    struct stint_journal_opts jo;
    struct stint_journal *j = NULL;
    struct stint_sender_opts so;
    struct stint_sender *s = NULL;
    struct stint_sender_status st;
    struct stint_error err;
    static const char *const bad_urls[] = {"http://example.com", "http://10.0.0.1:80",
                                           "ftp://127.0.0.1/", "not a url", "file:///etc/passwd"};
    size_t i;

    (void)state;
    assert_non_null(mkdtemp(dir));
    memset(&jo, 0, sizeof(jo));
    jo.path = dir;
    jo.sync = STINT_SYNC_NONE;
    assert_int_equal(stint_journal_open(&jo, &j, NULL, NULL), STINT_OK);
    memset(&so, 0, sizeof(so));
    for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        so.url = bad_urls[i];
        stint_error_clear(&err);
        assert_int_equal(stint_sender_create(&so, j, &s, &err), STINT_EINVAL);
        assert_null(s);
        assert_true(strlen(err.msg) > 0);
    }
    so.url = "https://127.0.0.1:1";
    so.token = "bad token";
    so.token_len = 9;
    assert_int_equal(stint_sender_create(&so, j, &s, &err), STINT_EINVAL);
    assert_null(strstr(err.msg, "bad token")); /* the token is never echoed */
    so.token = "tok\r\nX: y";
    so.token_len = 9;
    assert_int_equal(stint_sender_create(&so, j, &s, &err), STINT_EINVAL);
    so.token = "good-token";
    so.token_len = 10;
    so.encoding = (enum stint_sender_encoding)7;
    assert_int_equal(stint_sender_create(&so, j, &s, &err), STINT_EINVAL);
    so.encoding = STINT_SENDER_PB;
    so.url = "http://127.0.0.1:1/";
    assert_int_equal(stint_sender_create(&so, j, &s, &err), STINT_OK);
    stint_sender_status(s, &st);
    assert_false(st.running);
    assert_int_equal(st.backlog, 0);
    assert_int_equal(stint_sender_set_token(s, "x y", 3), STINT_EINVAL);
    stint_sender_stop(s); /* not started: fine */
    stint_sender_destroy(s);
    s = NULL;
    so.url = "https://localhost:1";
    assert_int_equal(stint_sender_create(&so, j, &s, &err), STINT_OK);
    assert_int_equal(stint_sender_start(s), STINT_OK);
    assert_int_equal(stint_sender_start(s), STINT_EINVAL);
    stint_sender_status(s, &st);
    assert_true(st.running);
    stint_sender_destroy(s);
    stint_sender_destroy(NULL);
    stint_journal_close(j);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classification_table),  cmocka_unit_test(test_system_trust),
        cmocka_unit_test(test_idempotency_key),       cmocka_unit_test(test_retry_wait),
        cmocka_unit_test(test_create_checks_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
