/*
 * SpatiaLite store: class labels of derived class columns (for categorical
 * styles and legends) and the inputs of derived columns (for disclosure).
 */
#include "ctx_internal.h"
#include "store.h"

#include <sqlite3.h>

/* Run an UPDATE of one indicator: ?1 its name, ?2 the text. */
static int update_indicator(kz_db *db, kz_ctx *ctx, const char *sql, const char *name,
                            const char *text, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st, sql)) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, name);
    kz_store__bind_text(st, 2, text);
    rc = kz_store__step_done(db, ctx, st, what);
    sqlite3_finalize(st);
    return rc;
}

int kz_store__set_categories(kz_db *db, kz_ctx *ctx, const char *name, const char *categories)
{
    return update_indicator(db, ctx, "UPDATE indicator SET categories = ?2 WHERE name = ?1", name,
                            categories, "storing class labels");
}

int kz_store__set_inputs(kz_db *db, kz_ctx *ctx, const char *name, const char *inputs)
{
    return update_indicator(db, ctx, "UPDATE indicator SET inputs = ?2 WHERE name = ?1", name,
                            inputs, "storing the inputs of a column");
}
