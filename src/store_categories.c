/*
 * SpatiaLite store: class labels of derived class columns, for categorical
 * styles and legends.
 */
#include "ctx_internal.h"
#include "store.h"

#include <sqlite3.h>

int kz_store__set_categories(kz_db *db, kz_ctx *ctx, const char *name, const char *categories)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "UPDATE indicator SET categories = ?2 WHERE name = ?1")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, name);
    kz_store__bind_text(st, 2, categories);
    rc = kz_store__step_done(db, ctx, st, "storing class labels");
    sqlite3_finalize(st);
    return rc;
}
