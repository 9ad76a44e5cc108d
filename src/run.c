/*
 * kz_run: the pipeline of a project file, all-or-nothing (see run.h).
 */
#include "kiez/run.h"
#include "ctx_internal.h"
#include "dirs.h"
#include "kiez/compute.h"
#include "kiez/db.h"
#include "kiez/export.h"
#include "kiez/import.h"
#include "kiez/report.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_LEN 4096

static int join(char *out, size_t size, kz_ctx *ctx, const char *a, const char *b)
{
    int n = snprintf(out, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s/%s: path too long", a, b);
    return KZ_OK;
}

/* Remove a folder with everything in it (outputs only nest one or two
 * levels deep: the atlas). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_LEN];
    struct stat st;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Move every file of the staging folder into the output folder. */
static int publish(kz_ctx *ctx, const char *staging, const char *out_dir)
{
    DIR *d = opendir(staging);
    struct dirent *e;
    char from[PATH_LEN], to[PATH_LEN];
    int rc = KZ_OK;
    if (d == NULL)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot read the staging folder", staging);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((rc = join(from, sizeof(from), ctx, staging, e->d_name)) != KZ_OK ||
            (rc = join(to, sizeof(to), ctx, out_dir, e->d_name)) != KZ_OK)
            break;
        /* A folder (the atlas) replaces the old one: move the old aside,
         * move the new in, then delete the old. */
        {
            struct stat st;
            char old[PATH_LEN + 32];
            if (lstat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
                snprintf(old, sizeof(old), "%s.old-%ld", to, (long)getpid());
                if (rename(to, old) == 0) {
                    if (rename(from, to) != 0) {
                        rename(old, to);
                        rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot move into place: %s", to,
                                           strerror(errno));
                        break;
                    }
                    remove_tree(old);
                    continue;
                }
            }
        }
        if (rename(from, to) != 0) {
            rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot move into place: %s", to, strerror(errno));
            break;
        }
    }
    closedir(d);
    return rc;
}

/* The pid in a name "<prefix><pid><suffix>" of a run's temporary file, if
 * that process is gone (a killed run); else 0. */
static long dead_pid(const char *name, const char *mark)
{
    const char *at = strstr(name, mark);
    char *end;
    long pid;
    if (at == NULL)
        return 0;
    pid = strtol(at + strlen(mark), &end, 10);
    if (pid <= 0 || end == at + strlen(mark) ||
        (*end != '\0' && strcmp(end, "-journal") != 0 && strcmp(end, "-wal") != 0 &&
         strcmp(end, "-shm") != 0))
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH ? pid : 0;
}

/*
 * What a killed run leaves in its folder: ".kiez-staging-<pid>/" (the
 * outputs being written), "<db>.tmp-<pid>" (the database being built, with
 * its "-journal") and "<folder>.old-<pid>/" (an atlas being replaced).
 * Remove those of processes that no longer exist, so they never pile up
 * (only names starting with `prefix`, if not NULL).
 */
static void remove_stale(kz_ctx *ctx, const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_LEN];
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (prefix != NULL && strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (!dead_pid(e->d_name, ".kiez-staging-") && !dead_pid(e->d_name, ".tmp-") &&
            !dead_pid(e->d_name, ".old-"))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        kz_ctx__log(ctx, KZ_LOG_INFO, "removing %s (left by a run that was stopped)", path);
        remove_tree(path);
        unlink(path);
    }
    closedir(d);
}

/* Base name of the database: the GeoPackage name without extension, or
 * "kiez". */
static void db_name(char *out, size_t size, const kz_project *p)
{
    const char *g = p->outputs.gpkg;
    const char *dot = g ? strrchr(g, '.') : NULL;
    if (g == NULL)
        snprintf(out, size, "kiez.sqlite");
    else
        snprintf(out, size, "%.*s.sqlite", (int)(dot ? (size_t)(dot - g) : strlen(g)), g);
}

/*
 * The GeoJSON layers and the atlas, written by a second thread while the
 * main one writes the GeoPackage: both only read the finished database,
 * each through its own connection, context (errors, GEOS handle) and GDAL
 * datasets, so the two cores share the export.
 */
typedef struct side_export {
    const kz_project *p;
    const char *db_path, *staging;
    kz_ctx *ctx; /* the thread's own; its log lines are kept, see keep_log */
    int rc;
    int *levels; /* the kept log lines, passed to the caller's log after the join */
    char **lines;
    size_t n_lines, cap_lines;
} side_export;

/* The side thread's log: kept, so the caller's log callback only ever runs
 * on the caller's thread (ctx.h). A line that cannot be kept is lost. */
static void keep_log(int level, const char *message, void *payload)
{
    side_export *x = payload;
    size_t len = strlen(message) + 1;
    if (x->n_lines == x->cap_lines) {
        size_t cap = x->cap_lines ? 2 * x->cap_lines : 16;
        int *lv = realloc(x->levels, cap * sizeof(int));
        char **ln;
        if (lv == NULL)
            return;
        x->levels = lv;
        if ((ln = realloc(x->lines, cap * sizeof(char *))) == NULL)
            return;
        x->lines = ln;
        x->cap_lines = cap;
    }
    if ((x->lines[x->n_lines] = malloc(len)) == NULL)
        return;
    memcpy(x->lines[x->n_lines], message, len);
    x->levels[x->n_lines++] = level;
}

static void *side_export_run(void *arg)
{
    side_export *x = arg;
    kz_db *db = NULL;
    char atlas[PATH_LEN];
    x->rc = kz_db_open(&db, x->ctx, x->db_path);
    if (x->rc == KZ_OK && x->p->outputs.geojson)
        x->rc = kz_export_geojson(db, x->ctx, x->staging);
    if (x->rc == KZ_OK && x->p->outputs.report) {
        /* The atlas of the finest level, in <out>/atlas/. */
        if ((x->rc = join(atlas, sizeof(atlas), x->ctx, x->staging, "atlas")) == KZ_OK)
            x->rc = kz_report_write(db, x->ctx, atlas, NULL);
    }
    kz_db_close(db);
    return NULL;
}

/* Write the outputs of the project from the finished database at db_path
 * into staging (each export writes its QGIS styles too). */
static int export_all(kz_db *db, kz_ctx *ctx, const kz_project *p, const char *db_path,
                      const char *staging)
{
    char file[PATH_LEN];
    side_export x;
    pthread_t side;
    size_t i;
    int rc = KZ_OK, started = 0;

    memset(&x, 0, sizeof(x));
    x.p = p;
    x.db_path = db_path;
    x.staging = staging;
    if (p->outputs.geojson || p->outputs.report) {
        if ((rc = kz_ctx_new(&x.ctx)) != KZ_OK)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        if (ctx->log_fn != NULL)
            kz_ctx_set_log(x.ctx, ctx->log_max, keep_log, &x);
        /* GDAL's drivers are registered by the import (layer_ogr.c), before
         * two threads use them. */
        if (pthread_create(&side, NULL, side_export_run, &x) == 0)
            started = 1;
        else
            side_export_run(&x); /* no second thread: the same work, in turn */
    }
    if (p->outputs.gpkg != NULL) {
        if ((rc = join(file, sizeof(file), ctx, staging, p->outputs.gpkg)) == KZ_OK)
            rc = kz_export_gpkg(db, ctx, file);
    }
    if (started)
        pthread_join(side, NULL);
    for (i = 0; i < x.n_lines; i++) {
        ctx->log_fn(x.levels[i], x.lines[i], ctx->log_payload);
        free(x.lines[i]);
    }
    free(x.lines);
    free(x.levels);
    if (x.ctx != NULL) {
        ctx->warnings += x.ctx->warnings;
        if (rc == KZ_OK && x.rc != KZ_OK)
            rc = kz_ctx__error(ctx, x.rc, "%s", kz_ctx_errmsg(x.ctx));
        kz_ctx_free(x.ctx);
    }
    return rc;
}

int kz_run(kz_ctx *ctx, const kz_project *p, const char *out_dir)
{
    char staging[PATH_LEN], db_path[PATH_LEN], tmp_db[PATH_LEN], name[256], dot_dir[PATH_LEN];
    char started[21];
    kz_db *db = NULL;
    int rc;

    kz_store__now(started);

    if (out_dir == NULL)
        out_dir = p->outputs.dir;
    if (out_dir == NULL)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: no outputs.dir and no --out given", p->path);
    /* The files inside are opened by SQLite (kz_dirs__dot). */
    if (snprintf(dot_dir, sizeof(dot_dir), "%s%s", kz_dirs__dot(out_dir), out_dir) >=
        (int)sizeof(dot_dir))
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: path too long", out_dir);
    out_dir = dot_dir;
    if ((rc = kz_dirs__make(ctx, out_dir, "output folder")) != KZ_OK)
        return rc;
    snprintf(name, sizeof(name), ".kiez-staging-%ld", (long)getpid());
    if ((rc = join(staging, sizeof(staging), ctx, out_dir, name)) != KZ_OK)
        return rc;
    if (p->database != NULL) {
        if (snprintf(db_path, sizeof(db_path), "%s", p->database) >= (int)sizeof(db_path))
            return kz_ctx__error(ctx, KZ_E_USAGE, "database path too long");
    } else {
        db_name(name, sizeof(name), p);
        if ((rc = join(db_path, sizeof(db_path), ctx, out_dir, name)) != KZ_OK)
            return rc;
    }
    if (snprintf(tmp_db, sizeof(tmp_db), "%s.tmp-%ld", db_path, (long)getpid()) >=
        (int)sizeof(tmp_db))
        return kz_ctx__error(ctx, KZ_E_USAGE, "database path too long");
    {
        /* The database's folder must exist; clean up after killed runs. */
        char db_dir[PATH_LEN];
        const char *slash = strrchr(db_path, '/');
        struct stat st;
        if (slash == NULL)
            snprintf(db_dir, sizeof(db_dir), ".");
        else if (slash == db_path)
            snprintf(db_dir, sizeof(db_dir), "/");
        else
            snprintf(db_dir, sizeof(db_dir), "%.*s", (int)(slash - db_path), db_path);
        if (stat(db_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return kz_ctx__error(ctx, KZ_E_IO,
                                 "%s: the folder of the database %s does not exist; create it "
                                 "or change database: in %s",
                                 db_dir, db_path, p->path);
        remove_stale(ctx, out_dir, NULL);
        if (strcmp(db_dir, out_dir) != 0)
            remove_stale(ctx, db_dir, slash ? slash + 1 : db_path);
    }
    if (mkdir(staging, 0777) != 0)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot create: %s", staging, strerror(errno));

    unlink(tmp_db);
    if ((rc = kz_db_create(&db, ctx, tmp_db, p->crs)) != KZ_OK ||
        (rc = kz_store__fast_build(db, ctx)) != KZ_OK) /* store.c: why it is safe */
        goto done;
    kz_ctx__log(ctx, KZ_LOG_INFO, "building %s", db_path);
    if ((rc = kz_import_project(db, ctx, p)) != KZ_OK || (rc = kz_compute(db, ctx, p)) != KZ_OK ||
        (rc = kz_store__record_run(db, ctx, p->path, started)) != KZ_OK)
        goto done;
    if ((rc = export_all(db, ctx, p, tmp_db, staging)) != KZ_OK)
        goto done;
    kz_db_close(db);
    db = NULL;
    /* The build ran without fsync (kz_store__fast_build): flush it once,
     * so the file renamed into place is complete on disk. */
    {
        int fd = open(tmp_db, O_RDONLY);
        int synced = fd >= 0 && fsync(fd) == 0;
        if (fd >= 0)
            close(fd);
        if (!synced) {
            rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot write the database to disk: %s", tmp_db,
                               strerror(errno));
            goto done;
        }
    }
    if (rename(tmp_db, db_path) != 0) {
        rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot move the database into place: %s", db_path,
                           strerror(errno));
        goto done;
    }
    rc = publish(ctx, staging, out_dir);
done:
    kz_db_close(db);
    unlink(tmp_db);
    {
        char journal[PATH_LEN + 16];
        snprintf(journal, sizeof(journal), "%s-journal", tmp_db);
        unlink(journal);
    }
    remove_tree(staging);
    return rc;
}
