/* version.c — the client version, from the project version CMake knows. */
#include "version.h"

#ifndef STINT_VERSION
#define STINT_VERSION "0.0.0"
#endif

const char *stint_agent_version(void)
{
    return STINT_VERSION;
}
