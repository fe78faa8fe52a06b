/*
 * collector_registry: the accessors through which the layers below the
 * collectors (the core, the clients) enumerate the registered kinds and
 * their hooks, without naming any (collectors/registry.c fills the table).
 */
#include "core/collector.h"

#include <stddef.h>

const struct collector_ops *collector_nth(size_t i)
{
        for (size_t j = 0; collector_registry[j]; j++)
                if (j == i)
                        return collector_registry[j];
        return NULL;
}
