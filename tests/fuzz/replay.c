/*
 * Standalone driver: runs LLVMFuzzerTestOneInput on every file of the
 * directories (or files) given, so that each fuzz corpus also runs as a
 * plain test without libFuzzer (after libgit2's fuzzers/standalone_driver.c).
 * Exit 0 when at least one input ran and none crashed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Corpus files are small; anything larger is a mistake. */
#define MAX_INPUT (16 * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || n > MAX_INPUT) {
        fprintf(stderr, "%s: cannot read\n", path);
        if (fp != NULL)
            fclose(fp);
        return -1;
    }
    rewind(fp);
    buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    long ran = 0, failed = 0;
    int i;
    for (i = 1; i < argc; i++) {
        struct stat st;
        DIR *dir;
        struct dirent *e;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: no such file or directory\n", argv[i]);
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) == 0)
                ran++;
            else
                failed++;
            continue;
        }
        if ((dir = opendir(argv[i])) == NULL) {
            fprintf(stderr, "%s: cannot open directory\n", argv[i]);
            failed++;
            continue;
        }
        while ((e = readdir(dir)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (run_file(path) == 0)
                ran++;
            else
                failed++;
        }
        closedir(dir);
    }
    printf("%ld inputs ran, %ld unreadable\n", ran, failed);
    return ran > 0 && failed == 0 ? 0 : 1;
}
