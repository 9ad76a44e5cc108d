/*
 * Import of object layers (facilities as points) and of the indicator
 * catalogue.
 */
#include "ctx_internal.h"
#include "kiez/import.h"
#include "kiez/layer.h"
#include "kiez/table.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

int kz_import_objects(kz_db *db, kz_ctx *ctx, const kz_project *p, size_t index)
{
    const kz_object_def *def = &p->objects[index];
    kz_layer *layer = NULL;
    kz_layer_options opts;
    const char *fields[2];
    size_t n_fields = 0, i, n, bad = 0;
    int cap_field = -1, cat_field = -1, rc;
    char first_bad[160] = "";

    memset(&opts, 0, sizeof(opts));
    /* CSV with coordinate columns in the given CRS (the parser requires x,
     * y and crs together). */
    opts.x_field = def->x;
    opts.y_field = def->y;
    opts.source_crs = def->crs;
    if (def->category) {
        cat_field = (int)n_fields;
        fields[n_fields++] = def->category;
    }
    if (def->capacity) {
        cap_field = (int)n_fields;
        fields[n_fields++] = def->capacity;
    }
    opts.kind = KZ_GEOM_POINTS;
    opts.key_field = def->id;
    opts.label_field = def->label;
    opts.fields = fields;
    opts.n_fields = n_fields;
    opts.crs = kz_db_crs(db);
    if ((rc = kz_layer_read(&layer, ctx, def->source, &opts)) != KZ_OK)
        return rc;
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK) {
        kz_layer_free(layer);
        return rc;
    }
    if ((rc = kz_store__put_object_layer(db, ctx, def->name, def->title, def->source, def->category,
                                         def->capacity)) != KZ_OK)
        goto done;
    n = kz_layer_count(layer);
    {
        long long source_id;
        if ((rc = kz_store__add_source(db, ctx, "objects", def->source, &source_id)) != KZ_OK ||
            (rc = kz_store__source_records(db, ctx, source_id, (long long)n)) != KZ_OK)
            goto done;
    }
    for (i = 0; i < n; i++) {
        char idbuf[32];
        const char *id = kz_layer_key(layer, i);
        double x, y, capacity = 0.0;
        int flag = KZ_FLAG_MISSING;
        if (id == NULL) {
            snprintf(idbuf, sizeof(idbuf), "%lld", kz_layer_fid(layer, i));
            id = idbuf;
        }
        if (cap_field >= 0) {
            const char *text = kz_layer_field(layer, i, (size_t)cap_field);
            if (text != NULL &&
                kz_value_parse(&capacity, &flag, text, '.', KZ_THOUSANDS_NONE) != KZ_OK) {
                if (bad++ == 0)
                    snprintf(first_bad, sizeof(first_bad), "feature %lld: \"%.40s\"",
                             kz_layer_fid(layer, i), text);
                flag = KZ_FLAG_MISSING;
                capacity = 0.0;
            }
        }
        kz_layer_point(layer, i, &x, &y);
        if ((rc = kz_store__insert_object(
                 db, ctx, def->name, id, kz_layer_label(layer, i),
                 cat_field >= 0 ? kz_layer_field(layer, i, (size_t)cat_field) : NULL, capacity,
                 flag, x, y)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "%s", def->source);
            goto done;
        }
    }
    if (bad > 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%zu capacity value(s) in field %s are not numbers (first: %s)",
                 bad, def->capacity, first_bad);
        kz_ctx__log(ctx, KZ_LOG_WARN, "objects %s: %s; stored as missing", def->name, msg);
        if ((rc = kz_store__add_finding(db, ctx, "capacity", def->source, 0, NULL, NULL, msg)) !=
            KZ_OK)
            goto done;
    }
    kz_ctx__log(ctx, KZ_LOG_INFO, "objects %s: %zu points", def->name, n);
    rc = kz_store__commit(db, ctx);
done:
    if (rc != KZ_OK)
        kz_store__rollback(db);
    kz_layer_free(layer);
    return rc;
}

int kz_import_catalogue(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    size_t i;
    int rc;
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK)
        return rc;
    if ((rc = kz_store__clear_catalogue(db, ctx)) != KZ_OK)
        goto done;
    for (i = 0; i < p->n_indicators; i++)
        if ((rc = kz_store__put_indicator(db, ctx, &p->indicators[i], (int)i)) != KZ_OK)
            goto done;
    rc = kz_store__commit(db, ctx);
done:
    if (rc != KZ_OK)
        kz_store__rollback(db);
    return rc;
}

int kz_import_project(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    size_t i;
    int rc;
    if (strcmp(p->crs, kz_db_crs(db)) != 0)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "%s: the project's CRS %s differs from the database's %s; use a "
                             "database created for %s",
                             p->path, p->crs, kz_db_crs(db), p->crs);
    /* One transaction around all imports: a project imports whole or not
     * at all, and the database stays byte-identical on failure. */
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK)
        return rc;
    if ((rc = kz_import_levels(db, ctx, p)) != KZ_OK)
        goto fail;
    for (i = 0; i < p->n_tables; i++)
        if ((rc = kz_import_table(db, ctx, p, i)) != KZ_OK)
            goto fail;
    for (i = 0; i < p->n_objects; i++)
        if ((rc = kz_import_objects(db, ctx, p, i)) != KZ_OK)
            goto fail;
    if ((rc = kz_import_catalogue(db, ctx, p)) != KZ_OK)
        goto fail;
    return kz_store__commit(db, ctx);
fail:
    kz_store__rollback(db);
    return rc;
}
