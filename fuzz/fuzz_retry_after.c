/* fuzz_retry_after.c — the Retry-After parser (agent/retry_after.c): the value of a header any
 * server, proxy or captive portal can send.
 *
 * Invariants: the parser reads only [data, data+size) (ASan sees any overread, since the input is
 * copied into a buffer of exactly that size); it accepts or refuses with STINT_ESYNTAX and
 * nothing else; a refusal leaves a wait of 0; an accepted wait is within [0, 24 h]; the same input
 * and clock give the same answer; a later clock never gives a longer wait; a value made only of
 * digits (blanks around) is accepted and equals min(value, 86400) seconds; and extreme clocks do
 * not overflow (UBSan).
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 */
#include <stdlib.h>
#include <string.h>

#include "invariants.h"
#include "retry_after.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t clocks[] = {0,  1795917566000, 253402300799000, INT64_MIN, INT64_MAX,
                                     -1, 784111777000};
    char *copy = malloc(size ? size : 1);
    size_t i, a, b;
    uint64_t d1, d2, d3;
    enum stint_err r1, r2, r3;
    int all_digits = size > 0, any_digit = 0;
    uint64_t ref = 0;

    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    for (a = 0; a < size && (copy[a] == ' ' || copy[a] == '\t'); a++)
        ;
    for (b = size; b > a && (copy[b - 1] == ' ' || copy[b - 1] == '\t'); b--)
        ;
    for (i = a; i < b; i++) {
        if (copy[i] < '0' || copy[i] > '9') {
            all_digits = 0;
            break;
        }
        any_digit = 1;
        if (ref < 86400)
            ref = ref * 10 + (uint64_t)(copy[i] - '0');
    }
    for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        int64_t now = clocks[i];
        r1 = stint_retry_after_parse(copy, size, now, &d1);
        r2 = stint_retry_after_parse(copy, size, now, &d2);
        STINT_FUZZ_CHECK(r1 == STINT_OK || r1 == STINT_ESYNTAX, "unexpected code %d", (int)r1);
        STINT_FUZZ_CHECK(r1 == r2 && d1 == d2, "not deterministic");
        STINT_FUZZ_CHECK(r1 == STINT_OK || d1 == 0, "refusal left a wait of %llu",
                         (unsigned long long)d1);
        STINT_FUZZ_CHECK(d1 <= STINT_RETRY_AFTER_MAX_MS, "wait %llu over the clamp",
                         (unsigned long long)d1);
        if (now < INT64_MAX - 5000) {
            r3 = stint_retry_after_parse(copy, size, now + 5000, &d3);
            STINT_FUZZ_CHECK(r3 == r1, "acceptance depends on the clock");
            STINT_FUZZ_CHECK(d3 <= d1, "a later clock gave a longer wait (%llu > %llu)",
                             (unsigned long long)d3, (unsigned long long)d1);
        }
        if (all_digits && any_digit) {
            uint64_t want = (ref >= 86400 ? 86400 : ref) * 1000;
            STINT_FUZZ_CHECK(r1 == STINT_OK && d1 == want, "delay-seconds %llu ms, want %llu",
                             (unsigned long long)d1, (unsigned long long)want);
        }
    }
    free(copy);
    return 0;
}
