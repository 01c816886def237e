/* version.h — the agent's client version, as sent in Batch.client_version. */
#ifndef STINT_AGENT_VERSION_H
#define STINT_AGENT_VERSION_H

/* "MAJOR.MINOR.PATCH" of this build; a static string. */
const char *stint_agent_version(void);

#endif
