/* byteorder.h — unsigned 64- and 32-bit integers in big-endian byte order.
 *
 * Big-endian keys sort in numeric order under a bytewise comparator (LevelDB's default), which is
 * why journal and store keys use them. Conventions: p points at 8 (be64) or 4 (be32) bytes the
 * caller owns; no
 * alignment is needed. */
#ifndef STINT_COMMON_BYTEORDER_H
#define STINT_COMMON_BYTEORDER_H

#include <stdint.h>

/* Writes v into p[0..7], most significant byte first. */
void stint_be64_put(uint8_t *p, uint64_t v);

/* Reads the big-endian integer in p[0..7]. */
uint64_t stint_be64_get(const uint8_t *p);

/* Writes v into p[0..3], most significant byte first. */
void stint_be32_put(uint8_t *p, uint32_t v);

/* Reads the big-endian integer in p[0..3]. */
uint32_t stint_be32_get(const uint8_t *p);

#endif
