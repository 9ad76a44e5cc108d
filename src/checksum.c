/*
 * SHA-256 of input files (checksum.h), streamed in 64 KB chunks so a
 * large CSV costs no memory.
 */
#include "checksum.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <sys/stat.h>

int kz_sha256_file(const char *path, char hex[65], long long *bytes)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0, i;
    long long total = 0;
    EVP_MD_CTX *md_ctx = NULL;
    FILE *f;
    size_t got;
    int ok = 0;

    hex[0] = '\0';
    *bytes = -1;
    if ((f = fopen(path, "rb")) == NULL)
        return -1;
    /* Only a regular file: reading a pipe (/dev/stdin) would drain the
     * data the import is about to read. */
    {
        struct stat st;
        if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
            fclose(f);
            return -1;
        }
    }
    if ((md_ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL) != 1)
        goto done;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (EVP_DigestUpdate(md_ctx, buf, got) != 1)
            goto done;
        total += (long long)got;
    }
    if (ferror(f) || EVP_DigestFinal_ex(md_ctx, md, &md_len) != 1 || md_len != 32)
        goto done;
    for (i = 0; i < md_len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    *bytes = total;
    ok = 1;
done:
    EVP_MD_CTX_free(md_ctx);
    fclose(f);
    return ok ? 0 : -1;
}
