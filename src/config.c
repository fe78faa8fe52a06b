/* config (STUB: being implemented). */
#include "config.h"

#include <stddef.h>
#include <string.h>

char *config_find(const char *explicit_path, struct err *err)
{
        err_set(err, 1, "not implemented");
        return NULL;
}
struct config *config_load_file(const char *path, struct err *err)
{
        err_set(err, 1, "not implemented");
        return NULL;
}
struct config *config_load_string(const char *yaml, size_t len, const char *name, struct err *err)
{
        err_set(err, 1, "not implemented");
        return NULL;
}
void config_free(struct config *c) { (void)c; }
const struct source_cfg *config_source(const struct config *c, const char *name)
{
        for (size_t i = 0; c && i < c->n_sources; i++)
                if (strcmp(c->sources[i].name, name) == 0)
                        return &c->sources[i];
        return NULL;
}
const struct threshold *config_threshold(const struct source_cfg *s, const char *metric)
{
        for (size_t i = 0; s && i < s->n_thresholds; i++)
                if (strcmp(s->thresholds[i].def->name, metric) == 0)
                        return &s->thresholds[i];
        return NULL;
}
char *config_secret_resolve(const char *env_name, const char *file_path, struct err *err)
{
        err_clear(err);
        return NULL;
}
int config_parse_duration(const char *s, int64_t *ms, struct err *err) { return -1; }
int config_parse_size(const char *s, int64_t *bytes, struct err *err) { return -1; }
