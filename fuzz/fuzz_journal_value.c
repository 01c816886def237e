/* fuzz_journal_value.c — what recovery does with a damaged journal value.
 *
 * The journal (agent/journal.h, spec/JOURNAL.md) stores each record as a be32 CRC-32
 * (zlib's) of the rest, then the record's v1 encoding, under its seq; reading one back goes
 * through stint_journal_value_decode(). Input: 8 bytes of seq (big-endian), then the stored value.
 * Each input is tried twice: as it is (a damaged CRC must be caught), and with the CRC made to
 * hold (a damaged body behind a valid CRC, as after a bug that wrote bad bytes: the record decoder
 * is the last line). Checked:
 *   - the answer is STINT_OK or STINT_EWIRE, and the decoder allocates nothing (journal.h);
 *   - STINT_OK exactly when the CRC holds, the body decodes as a v1 Record by itself
 *     (stint_pb_decode_record) and its seq is the key's;
 *   - an accepted record is within every limit and valid UTF-8, equal to the body's own decoding,
 *     and its re-encoding (what a rewrite stores) is at most STINT_PB_RECORD_MAX bytes and reads
 *     back the same.
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 * STINT_FUZZ_DICT: pb.dict
 */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "invariants.h"
#include "journal.h"

#define CRC_LEN 4

static void check_value(const uint8_t *value, size_t len, uint64_t seq)
{
    static struct stint_record r, body, again;
    struct stint_buf out = {0};
    enum stint_err ret, want;
    bool crc_ok = false;
    long allocs;

    stint_fuzz_alloc_begin();
    ret = stint_journal_value_decode(value, len, seq, &r);
    allocs = stint_fuzz_alloc_end();
    STINT_FUZZ_CHECK(allocs <= 0, "journal value decode allocated %ld times", allocs);
    STINT_FUZZ_CHECK(ret == STINT_OK || ret == STINT_EWIRE, "journal value: returned %d (%s)", ret,
                     stint_strerror(ret));
    if (len >= CRC_LEN) {
        uint32_t crc = (uint32_t)crc32(0L, value + CRC_LEN, (uInt)(len - CRC_LEN));

        crc_ok = ((uint32_t)value[0] << 24 | (uint32_t)value[1] << 16 | (uint32_t)value[2] << 8 |
                  value[3]) == crc;
    }
    want = crc_ok &&
                   stint_pb_decode_record(value + CRC_LEN, len - CRC_LEN, &body, NULL, NULL) ==
                       STINT_OK &&
                   body.seq == seq
               ? STINT_OK
               : STINT_EWIRE;
    STINT_FUZZ_CHECK(ret == want, "journal value: %s, but CRC %s, body %s", stint_strerror(ret),
                     crc_ok ? "holds" : "does not hold", want == STINT_OK ? "good" : "bad");
    if (ret != STINT_OK)
        return;
    stint_fuzz_check_record(&r, "journal value");
    STINT_FUZZ_CHECK(r.seq == seq && stint_record_equal(&r, &body),
                     "journal value: record differs from its body's own decoding");
    ret = stint_pb_encode_record(&r, &out);
    STINT_FUZZ_CHECK(ret == STINT_OK, "journal value: re-encoding failed: %d", ret);
    STINT_FUZZ_CHECK(out.len <= STINT_PB_RECORD_MAX, "journal value: re-encoded to %zu bytes",
                     out.len);
    ret = stint_pb_decode_record(out.data, out.len, &again, NULL, NULL);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_record_equal(&r, &again),
                     "journal value: re-encoding reads back otherwise");
    stint_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seq = 0;
    uint8_t *fixed;
    size_t i, len;
    uint32_t crc;

    if (size < 8)
        return 0;
    for (i = 0; i < 8; i++)
        seq = seq << 8 | data[i];
    len = size - 8;
    check_value(data + 8, len, seq);
    if (len < CRC_LEN)
        return 0;
    fixed = malloc(len);
    if (!fixed)
        return 0;
    memcpy(fixed, data + 8, len);
    crc = (uint32_t)crc32(0L, fixed + CRC_LEN, (uInt)(len - CRC_LEN));
    fixed[0] = (uint8_t)(crc >> 24);
    fixed[1] = (uint8_t)(crc >> 16);
    fixed[2] = (uint8_t)(crc >> 8);
    fixed[3] = (uint8_t)crc;
    check_value(fixed, len, seq);
    free(fixed);
    return 0;
}
