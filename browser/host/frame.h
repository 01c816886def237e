/* frame.h — native messaging framing: a 32-bit length in the machine's byte order, then that many
 * bytes of UTF-8 JSON, on the host's stdin (from the browser) and stdout (to it).
 *
 * Conventions: functions return enum stint_err and fill a struct stint_error (may be NULL) naming
 * what went wrong and where; buffers are the caller's, with their caps given.
 */
#ifndef STINT_BROWSER_FRAME_H
#define STINT_BROWSER_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"

/* Reads one message from fd (blocking) into buf (cap bytes; the message is NUL-terminated, so
 * cap must be over the longest message taken) and stores its length in *len. Returns:
 *   STINT_OK      a message;
 *   STINT_EIO     end of input before the first byte of a header (*len = 0; e says "end"), or
 *                 a read error;
 *   STINT_ETRUNC  input ended inside a header or a body (a short read that never completed);
 *   STINT_ELIMIT  the header announced more than cap - 1 bytes: the body is read and thrown
 *                 away, so the next call reads the next message (*len holds the announced size).
 * Reads are retried on EINTR and continued after short reads. */
enum stint_err stint_browser_frame_read(int fd, char *buf, size_t cap, size_t *len,
                                        struct stint_error *e);

/* Writes one message (len bytes) to fd, header first, all of it. STINT_EIO on a write error,
 * STINT_ELIMIT over STINT_BROWSER_MSG_MAX. */
enum stint_err stint_browser_frame_write(int fd, const char *msg, size_t len,
                                         struct stint_error *e);

#endif
