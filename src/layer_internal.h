/*
 * Internal layout of kz_layer, shared by the OGR reader (layer_ogr.c) and
 * the GEOS checks (layer_check.c). Not API.
 */
#ifndef KZ_LAYER_INTERNAL_H
#define KZ_LAYER_INTERNAL_H

#include "kiez/layer.h"

struct kz_layer {
    char *source;
    char *crs_wkt;
    int kind;
    size_t n, cap;
    size_t n_fields;
    long long *fid;
    char **keys;   /* n entries or NULL */
    char **labels; /* n entries or NULL */
    char **fields; /* n * n_fields entries (NULL for null) or NULL */
    unsigned char **wkb; /* areas: n WKB blobs */
    size_t *wkb_size;
    double *x, *y; /* points */
};

#endif
