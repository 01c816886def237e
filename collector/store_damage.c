/* store_damage.c — what the LevelDB store keeps and reports when its database does not open
 * cleanly (see store_damage.h and spec/COLLECTOR.md, "Storage faults"). Kept apart from
 * store_leveldb.c because it works on the folder's files, not through LevelDB: a copy of the
 * write-ahead logs before recovery may skip some of their bytes, and the count of the bytes it
 * skipped, read back from LevelDB's own LOG. */
#include "store_damage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t stint_ldb_dropped_in_log(const char *dir)
{
    char path[4096], line[1024];
    uint64_t total = 0;
    FILE *f;

    if ((size_t)snprintf(path, sizeof(path), "%s/LOG", dir) >= sizeof(path))
        return 0;
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "dropping ");
        char *end = NULL;
        unsigned long long n;

        if (!p)
            continue;
        n = strtoull(p + 9, &end, 10);
        if (end && strncmp(end, " bytes", 6) == 0)
            total += n;
    }
    fclose(f);
    return total;
}

void stint_ldb_keep_damaged_logs(const char *dir, const struct stint_log *log)
{
    char sub[4096], from[4096], to[4200];
    struct dirent *e;
    DIR *d = opendir(dir);
    uint8_t buf[65536];

    if (!d)
        return;
    if ((size_t)snprintf(sub, sizeof(sub), "%s/damaged-%lld", dir, (long long)time(NULL)) >=
        sizeof(sub)) {
        closedir(d);
        return;
    }
    if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
        stint_log(log, STINT_LOG_ERROR, "cannot keep the damaged logs in %s: %s", sub,
                  strerror(errno));
        closedir(d);
        return;
    }
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        int in = -1, out = -1;
        ssize_t r = 0;

        if (n < 5 || strcmp(e->d_name + n - 4, ".log") != 0)
            continue;
        if ((size_t)snprintf(from, sizeof(from), "%s/%s", dir, e->d_name) >= sizeof(from) ||
            (size_t)snprintf(to, sizeof(to), "%s/%s", sub, e->d_name) >= sizeof(to))
            continue;
        in = open(from, O_RDONLY | O_CLOEXEC);
        out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        while (in >= 0 && out >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
            if (write(out, buf, (size_t)r) != r) {
                r = -1;
                break;
            }
        if (in < 0 || out < 0 || r < 0 || fsync(out) != 0)
            stint_log(log, STINT_LOG_ERROR, "cannot keep %s in %s: %s", from, sub, strerror(errno));
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
    }
    closedir(d);
    stint_log(log, STINT_LOG_WARN, "the damaged logs are kept in %s", sub);
}
