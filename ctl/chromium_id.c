/* chromium_id.c — Chromium's id for an unpacked extension folder (chromium_id.h).
 *
 * The hash is nettle's SHA-256; the mapping of hex digits to the letters a-p is Chromium's
 * (it avoids digits so that ids look alike whatever made them). Kept apart from browser.c so
 * the unit test checks it against an id a real Chromium reported, without the command line.
 */
#include "chromium_id.h"

#include <nettle/sha2.h>
#include <string.h>

bool stint_chromium_id(const char *dir, char *out, size_t cap)
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];

    if (cap > 0)
        out[0] = '\0';
    if (!dir || dir[0] != '/' || cap < STINT_CHROMIUM_ID_LEN + 1)
        return false;
    sha256_init(&ctx);
    sha256_update(&ctx, strlen(dir), (const uint8_t *)dir);
    sha256_digest(&ctx, sizeof(digest), digest);
    /* 32 hex digits are the first 16 bytes, high nibble first */
    for (size_t i = 0; i < STINT_CHROMIUM_ID_LEN / 2; i++) {
        out[2 * i] = (char)('a' + (digest[i] >> 4));
        out[2 * i + 1] = (char)('a' + (digest[i] & 0x0f));
    }
    out[STINT_CHROMIUM_ID_LEN] = '\0';
    return true;
}

bool stint_chromium_id_valid(const char *id)
{
    if (!id || strlen(id) != STINT_CHROMIUM_ID_LEN)
        return false;
    for (const char *p = id; *p; p++) {
        if (*p < 'a' || *p > 'p')
            return false;
    }
    return true;
}
