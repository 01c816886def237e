/* fuzz_pb_protobufc.c — the v1 protobuf decoders on protobuf-c (stint_pbc_*), the independent
 * second implementation (pb_ref.h).
 *
 * Batch, Record and Ack decoders on the same bytes. protobuf-c unpacks into its own allocated
 * tree, so allocation is allowed here (bounded by the input: run libFuzzer with -malloc_limit_mb
 * and -rss_limit_mb, as mk/fuzz.mk does); everything else is as for nanopb: limits and UTF-8 of
 * what is handed over, well-formed errors, record count equal to records delivered.
 *
 * STINT_FUZZ_DICT: pb.dict
 */
#include <string.h>

#include "invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_batch head;
    static struct stint_record rec;
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    struct stint_ack ack;
    enum stint_err ret;
    uint64_t delivered = 0;

    ret = stint_pbc_decode_batch(data, size, &head, stint_fuzz_record_fn, &delivered, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_pbc_decode_batch");
    if (ret == STINT_OK) {
        stint_fuzz_check_batch(&head);
        STINT_FUZZ_CHECK(info.records == delivered, "batch: info.records %llu, delivered %llu",
                         (unsigned long long)info.records, (unsigned long long)delivered);
    }

    ret = stint_pbc_decode_record(data, size, &rec, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_pbc_decode_record");
    if (ret == STINT_OK)
        stint_fuzz_check_record(&rec, "record");

    ret = stint_pbc_decode_ack(data, size, &ack, &info, &err);
    stint_fuzz_check_result(ret, &err, size, "stint_pbc_decode_ack");
    if (ret == STINT_OK) {
        stint_fuzz_check_ack(&ack);
        stint_ack_free(&ack);
    } else {
        STINT_FUZZ_CHECK(ack.rejected == NULL && ack.n_rejected == 0,
                         "ack refused but rejections left to free");
    }
    return 0;
}
