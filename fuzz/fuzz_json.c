/* fuzz_json.c — the canonical JSON decoders (json.h): what the collector runs on every
 * application/json body.
 *
 * The same text goes to the Batch, Record and Ack decoders and to the syntax check alone.
 * Checked: limits and UTF-8 of every string handed over (JSON escapes can spell surrogates and
 * NUL: the decoder must catch the first and keep the second), well-formed errors with an offset
 * inside the text, the record count equal to the records delivered, and consistency with the
 * syntax check: text the check refuses is refused by every decoder with STINT_EJSON, and text a
 * decoder accepts passes the check.
 *
 * STINT_FUZZ_DICT: json.dict
 */
#include <string.h>

#include "invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_batch head;
    static struct stint_record rec;
    const char *text = (const char *)data;
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    struct stint_ack ack;
    enum stint_err syntax, ret;
    uint64_t delivered = 0;

    syntax = stint_json_check_syntax(text, size, &err);
    stint_fuzz_check_result(syntax, &err, size, "stint_json_check_syntax");
    STINT_FUZZ_CHECK(syntax == STINT_OK || syntax == STINT_EJSON || syntax == STINT_ELIMIT,
                     "syntax check returned %d (%s)", syntax, err.msg);

    ret = stint_json_decode_batch(text, size, &head, stint_fuzz_record_fn, &delivered, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_json_decode_batch");
    STINT_FUZZ_CHECK(syntax == STINT_OK || ret == syntax,
                     "batch: syntax check says %d, decoder %d (%s)", syntax, ret, err.msg);
    if (ret == STINT_OK) {
        stint_fuzz_check_batch(&head);
        STINT_FUZZ_CHECK(info.records == delivered, "batch: info.records %llu, delivered %llu",
                         (unsigned long long)info.records, (unsigned long long)delivered);
    }

    ret = stint_json_decode_record(text, size, &rec, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_json_decode_record");
    STINT_FUZZ_CHECK(syntax == STINT_OK || ret == syntax,
                     "record: syntax check says %d, decoder %d (%s)", syntax, ret, err.msg);
    if (ret == STINT_OK)
        stint_fuzz_check_record(&rec, "record");

    ret = stint_json_decode_ack(text, size, &ack, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_json_decode_ack");
    STINT_FUZZ_CHECK(syntax == STINT_OK || ret == syntax,
                     "ack: syntax check says %d, decoder %d (%s)", syntax, ret, err.msg);
    if (ret == STINT_OK) {
        stint_fuzz_check_ack(&ack);
        stint_ack_free(&ack);
    } else {
        STINT_FUZZ_CHECK(ack.rejected == NULL && ack.n_rejected == 0,
                         "ack refused but rejections left to free");
    }
    return 0;
}
