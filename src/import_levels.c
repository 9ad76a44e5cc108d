/*
 * Import of the area levels: read each source (any OGR format), reproject,
 * check polygons, store; build dissolved levels; link parents.
 */
#include "ctx_internal.h"
#include "kiez/import.h"
#include "kiez/layer.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* Depth of a level below the top of its hierarchy (top = 0), following
 * parents; the project parser has rejected cycles. */
static int level_depth(const kz_project *p, size_t i)
{
    int depth = 0;
    const char *parent = p->levels[i].parent;
    while (parent != NULL && depth < (int)p->n_levels) {
        int j = kz_project_level_index(p, parent);
        if (j < 0)
            break;
        parent = p->levels[j].parent;
        depth++;
    }
    return depth;
}

static int import_source_level(kz_db *db, kz_ctx *ctx, const kz_level_def *def, int rank)
{
    kz_layer *layer = NULL;
    kz_layer_options opts;
    size_t i, n;
    int rc;

    memset(&opts, 0, sizeof(opts));
    opts.kind = KZ_GEOM_AREAS;
    opts.key_field = def->key;
    opts.label_field = def->label;
    opts.crs = kz_db_crs(db);
    opts.key_width = def->key_width;
    opts.fix_keys = (const char *const *)def->fix_keys;
    opts.n_fix_keys = def->n_fix_keys;
    kz_ctx__log(ctx, KZ_LOG_INFO, "level %s: reading %s", def->name, def->source);
    if ((rc = kz_layer_read(&layer, ctx, def->source, &opts)) != KZ_OK)
        goto done;
    if ((rc = kz_layer_check_areas(layer, ctx, def->invalid == KZ_INVALID_REPAIR, NULL)) != KZ_OK)
        goto done;
    if ((rc = kz_store__put_level(
             db, ctx, def->name, def->title, def->parent,
             def->parent ? (def->parent_match == KZ_MATCH_OVERLAP ? "overlap" : "prefix") : NULL,
             def->source, rank)) != KZ_OK)
        goto done;
    n = kz_layer_count(layer);
    {
        long long source_id;
        if ((rc = kz_store__add_source(db, ctx, "areas", def->source, &source_id)) != KZ_OK ||
            (rc = kz_store__source_records(db, ctx, source_id, (long long)n)) != KZ_OK)
            goto done;
    }
    for (i = 0; i < n; i++) {
        size_t size;
        const unsigned char *wkb = kz_layer_wkb(layer, i, &size);
        rc = kz_store__insert_area(db, ctx, def->name, kz_layer_key(layer, i),
                                   kz_layer_label(layer, i), wkb, size,
                                   def->duplicates == KZ_DUP_MERGE);
        if (rc != KZ_OK) {
            kz_ctx__error_prefix(ctx, "%s: feature %lld", def->source, kz_layer_fid(layer, i));
            goto done;
        }
        kz_ctx__progress(ctx, def->name, (long long)i + 1, (long long)n);
    }
    kz_ctx__log(ctx, KZ_LOG_INFO, "level %s: %zu areas", def->name, n);
done:
    kz_layer_free(layer);
    return rc;
}

int kz_import_levels(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    size_t i, done_count = 0;
    unsigned char *done = calloc(p->n_levels ? p->n_levels : 1, 1);
    int rc;

    if (done == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK) {
        free(done);
        return rc;
    }
    for (i = 0; i < p->n_levels; i++) {
        if (p->levels[i].source == NULL)
            continue;
        if ((rc = import_source_level(db, ctx, &p->levels[i], level_depth(p, i))) != KZ_OK)
            goto out;
        done[i] = 1;
        done_count++;
    }
    /* Dissolved levels, each after the level it dissolves. */
    while (done_count < p->n_levels) {
        int progress = 0;
        for (i = 0; i < p->n_levels; i++) {
            const kz_level_def *def = &p->levels[i];
            int child = def->dissolve ? kz_project_level_index(p, def->dissolve) : -1;
            if (done[i] || child < 0 || !done[child])
                continue;
            if ((rc = kz_store__put_level(
                     db, ctx, def->name, def->title, def->parent,
                     def->parent ? (def->parent_match == KZ_MATCH_OVERLAP ? "overlap" : "prefix")
                                 : NULL,
                     NULL, level_depth(p, i))) != KZ_OK ||
                (rc = kz_store__dissolve(db, ctx, def->name, def->dissolve, def->key_prefix,
                                         def->area_key, def->area_name)) != KZ_OK)
                goto out;
            done[i] = 1;
            done_count++;
            progress = 1;
        }
        if (!progress) {
            rc = kz_ctx__error(ctx, KZ_E_USAGE,
                               "%s: levels without source whose dissolve "
                               "chain never reaches a level with a source",
                               p->path);
            goto out;
        }
    }
    for (i = 0; i < p->n_levels; i++) {
        const kz_level_def *def = &p->levels[i];
        long orphans = 0;
        if (def->parent == NULL)
            continue;
        if ((rc = kz_store__link_parents(db, ctx, def->name, def->parent,
                                         def->parent_match == KZ_MATCH_OVERLAP, &orphans)) != KZ_OK)
            goto out;
        if (orphans > 0)
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "level %s: %ld area(s) fit no area of level %s (listed in the findings "
                        "table)",
                        def->name, orphans, def->parent);
    }
    rc = kz_store__commit(db, ctx);
out:
    if (rc != KZ_OK)
        kz_store__rollback(db);
    free(done);
    return rc;
}
