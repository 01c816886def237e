/* replay_main.c — a main() for the harnesses where libFuzzer is not linked (gcc, plain builds).
 *
 *   fuzz_<name> PATH...
 *
 * Runs LLVMFuzzerTestOneInput once on every regular file named, and on every regular file of
 * every folder named (not recursively, in name order so that a run is reproducible). Each input is
 * copied into a heap block of exactly its size, so that ASan sees a read past its end. A broken
 * invariant or a sanitizer report aborts the process; otherwise it prints how many inputs ran and
 * exits 0. A path that cannot be read is an error (exit 2): a test must not pass on a typo.
 * Options of libFuzzer (arguments starting with '-') are ignored, so the same command line works
 * for both builds.
 */
#define _POSIX_C_SOURCE 200809L /* fileno, opendir */

#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* defined by the harness this main is linked with */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *count)
{
    FILE *f = NULL;
    uint8_t *data = NULL;
    struct stat st;
    size_t n = 0;
    int ret = 2;

    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    /* malloc(0) may return NULL: keep one byte, hand over size 0 */
    data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (!data) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        goto cleanup;
    }
    n = fread(data, 1, (size_t)st.st_size, f);
    if (n != (size_t)st.st_size) {
        fprintf(stderr, "replay: %s: short read\n", path);
        goto cleanup;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(data, n);
    ++*count;
    ret = 0;
cleanup:
    free(data);
    if (f)
        fclose(f);
    return ret;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *path, size_t *count)
{
    DIR *d = NULL;
    struct dirent *de;
    char **names = NULL, **grown;
    size_t n = 0, cap = 0, i;
    int ret = 2;

    d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ., .., and hidden files such as .gitkeep */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            grown = realloc(names, cap * sizeof(*names));
            if (!grown)
                goto cleanup;
            names = grown;
        }
        names[n] = malloc(strlen(path) + strlen(de->d_name) + 2);
        if (!names[n])
            goto cleanup;
        snprintf(names[n], strlen(path) + strlen(de->d_name) + 2, "%s/%s", path, de->d_name);
        n++;
    }
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    ret = 0;
    for (i = 0; i < n && ret == 0; i++) {
        struct stat st;

        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            ret = run_file(names[i], count);
    }
cleanup:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (d)
        closedir(d);
    return ret;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int i, ret = 0;

    for (i = 1; i < argc && ret == 0; i++) {
        struct stat st;

        if (argv[i][0] == '-')
            continue;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            ret = 2;
        } else if (S_ISDIR(st.st_mode)) {
            ret = run_dir(argv[i], &count);
        } else {
            ret = run_file(argv[i], &count);
        }
    }
    if (ret == 0)
        printf("replay: %zu inputs, every invariant held\n", count);
    return ret;
}
