/* stint.h — everything of libstint-codec in one include. */
#ifndef STINT_STINT_H
#define STINT_STINT_H

#include "stint/base64.h"
#include "stint/buf.h"
#include "stint/error.h"
#include "stint/format.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "stint/pb_ref.h"
#include "stint/record.h"
#include "stint/spool.h"
#include "stint/utf8.h"

#endif
