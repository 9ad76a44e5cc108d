/*
 * SHA-256 of input files, for the provenance of a run (OpenSSL's EVP
 * digest; kiez does not implement hashes).
 */
#ifndef KZ_CHECKSUM_H
#define KZ_CHECKSUM_H

/* The SHA-256 of the file at `path` as 64 lowercase hex digits and its
 * size in bytes. Returns 0, or -1 when it is no regular file that can be
 * read (an OGR connection string, a pipe: not read at all) : then hex is
 * "" and *bytes is -1. */
int kz_sha256_file(const char *path, char hex[65], long long *bytes);

#endif
