/*
 * libFuzzer harness for the project-file parser (src/project.c): YAML
 * syntax, the schema walk and every validation rule, in memory. Sources are
 * not resolved (KZ_PROJECT__NO_FS): glob() on a hostile pattern could walk
 * the whole disk. The corpus (tests/fuzz/corpus/project) also runs as a
 * plain test in tests/unit/test_project.c.
 */
#include "kiez/project.h"
#include "project_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kz_ctx *ctx = NULL;
    kz_project *project = NULL;
    int rc;
    if (kz_ctx_new(&ctx) != KZ_OK)
        return 0;
    rc = kz_project__parse_buffer(&project, ctx, (const char *)data, size, "fuzz.yml",
                                  KZ_PROJECT__NO_FS);
    /* A result is a project or an error, never both, never neither. */
    if ((rc == KZ_OK) != (project != NULL))
        abort();
    if (rc == KZ_OK && kz_project_level_index(project, project->levels[0].name) != 0)
        abort();
    kz_project_free(project);
    kz_ctx_free(ctx);
    return 0;
}
