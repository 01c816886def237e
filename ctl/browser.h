/* browser.h — `stintctl browser install|status`: the native messaging host's manifests.
 *
 * install writes, per user, the manifest each browser reads to find stint-browser-host
 * (Firefox: ~/.mozilla/native-messaging-hosts/, Chromium: ~/.config/chromium/
 * NativeMessagingHosts/); status says which are installed and, from stintd's status, which
 * browsers have reported and when. */
#ifndef STINT_CTL_BROWSER_H
#define STINT_CTL_BROWSER_H

#include <jansson.h>

/* The host's name in manifests and connectNative. */
#define STINT_BROWSER_HOST_NAME "org.stint.browser_host"
/* The extension's id in Firefox (browser/extension/manifest.json, gecko id). */
#define STINT_BROWSER_FIREFOX_ID "stint@stint.invalid"

/* Runs `browser ARGS...` (argv[0] is the first word after "browser"). status_fn(socket) fetches
 * stintd's status answer (a new reference, or NULL when stintd cannot be reached). Returns the exit
 * status (0 done, 1 a failure to write, 2 usage). */
int stintctl_browser(int argc, char **argv, json_t *(*status_fn)(const char *socket),
                     const char *socket);

#endif
