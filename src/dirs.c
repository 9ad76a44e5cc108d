/*
 * Folders for outputs (dirs.h).
 */
#include "dirs.h"
#include "ctx_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kz_dirs__dot(const char *path)
{
    if (path[0] == '/' || strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0)
        return "";
    return "./";
}

int kz_dirs__make(kz_ctx *ctx, const char *dir, const char *what)
{
    char buf[4096];
    size_t i, n = strlen(dir);
    if (n == 0 || n >= sizeof(buf))
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s \"%s\": bad path", what, dir);
    memcpy(buf, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot create the folder: %s", buf,
                                     strerror(errno));
            buf[i] = c;
        }
    }
    if (access(dir, W_OK) != 0)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: the %s is not writable", dir, what);
    return KZ_OK;
}
