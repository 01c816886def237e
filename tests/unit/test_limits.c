/* test_limits.c — the limits in record.h are the limits in proto/stint/v1/stint.options. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/stint.h"

/* The number after `max_length:` or `max_size:` on the options line of `field`, or -1. */
static long option_limit(const char *field, const char *key)
{
    FILE *f = fopen(STINT_SOURCE_DIR "/proto/stint/v1/stint.options", "r");
    char line[512];
    long v = -1;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *p;
        size_t n = strlen(field);
        if (strncmp(line, field, n) != 0 || (line[n] != ' ' && line[n] != '\t'))
            continue;
        p = strstr(line, key);
        if (p)
            v = strtol(p + strlen(key), NULL, 10);
    }
    fclose(f);
    return v;
}

static void test_options_match_model(void **state)
{
    (void)state;
    assert_int_equal(option_limit("stint.v1.Record.app", "max_length:"), STINT_APP_MAX);
    assert_int_equal(option_limit("stint.v1.Record.path", "max_length:"), STINT_PATH_MAX);
    assert_int_equal(option_limit("stint.v1.Record.title", "max_length:"), STINT_TITLE_MAX);
    assert_int_equal(option_limit("stint.v1.Record.url", "max_length:"), STINT_URL_MAX);
    assert_int_equal(option_limit("stint.v1.Batch.client_version", "max_length:"),
                     STINT_VERSION_MAX);
    assert_int_equal(option_limit("stint.v1.Batch.agent_id", "max_size:"), STINT_AGENT_ID_LEN);
    assert_int_equal(option_limit("stint.v1.Rejection.reason", "max_length:"), STINT_REASON_MAX);
    assert_int_equal(option_limit("stint.v1.Ack.rejected", "max_count:"), STINT_ACK_REJECTED_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_match_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
