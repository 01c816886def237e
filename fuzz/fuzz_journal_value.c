/* fuzz_journal_value.c — what recovery does with a damaged journal value.
 *
 * The journal (ARCHITECTURE.md, "Journal") stores each record as its v1 protobuf encoding, so a
 * value read back after a crash or a bit flip goes through stint_pb_decode_record. Until the
 * journal exposes a value decoder of its own, this harness holds that function to what recovery
 * needs: a damaged value is refused with a well-formed error (code, offset inside the value,
 * message) and never handed over half-checked; an accepted value is a record within every limit
 * and valid UTF-8, decoded without allocation, whose re-encoding (what a rewrite would store) is
 * no longer than STINT_PB_RECORD_MAX and decodes to the same record.
 *
 * STINT_FUZZ_DICT: pb.dict
 */
#include <string.h>

#include "invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_record r, again;
    struct stint_buf out = {0};
    struct stint_error err;
    enum stint_err ret;
    long allocs;

    stint_fuzz_alloc_begin();
    ret = stint_pb_decode_record(data, size, &r, NULL, &err);
    allocs = stint_fuzz_alloc_end();
    STINT_FUZZ_CHECK(allocs <= 0, "journal value decode allocated %ld times", allocs);
    stint_fuzz_check_result(ret, &err, size, "journal value");
    if (ret != STINT_OK)
        return 0;
    stint_fuzz_check_record(&r, "journal value");
    ret = stint_pb_encode_record(&r, &out);
    STINT_FUZZ_CHECK(ret == STINT_OK, "journal value: re-encoding failed: %d", ret);
    STINT_FUZZ_CHECK(out.len <= STINT_PB_RECORD_MAX, "journal value: re-encoded to %zu bytes",
                     out.len);
    ret = stint_pb_decode_record(out.data, out.len, &again, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_record_equal(&r, &again),
                     "journal value: re-encoding reads back otherwise (%s)", err.msg);
    stint_buf_free(&out);
    return 0;
}
