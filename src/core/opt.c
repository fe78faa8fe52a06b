/*
 * opt: the shared command-line option parser (see opt.h).
 */
#include "core/opt.h"

#include <assert.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Long options return their letter when they have one (so getopt's optopt
 * names it), else OPT_LONG_BASE + their index, above any letter. */
#define OPT_LONG_BASE 256

void opt_init(struct opt_parser *p, int argc, char **argv, const struct opt_def *defs)
{
        struct option *lo;
        size_t s = 0;
        int n = 0;

        memset(p, 0, sizeof *p);
        p->argc = argc;
        p->argv = argv;
        p->defs = defs;
        while (defs[n].id)
                n++;
        assert(n <= OPT_MAX);
        p->n = n;
        lo = xcalloc((size_t)n + 1, sizeof *lo);
        p->shorts[s++] = ':';           /* ':' for a missing value, not '?' */
        for (int i = 0, k = 0; i < n; i++) {
                if (defs[i].short_name) {
                        p->shorts[s++] = (char)defs[i].short_name;
                        if (defs[i].value)
                                p->shorts[s++] = ':';
                }
                if (defs[i].name)
                        lo[k++] = (struct option){ defs[i].name,
                                                   defs[i].value ? required_argument : no_argument,
                                                   NULL, defs[i].short_name ? defs[i].short_name
                                                                            : OPT_LONG_BASE + i };
        }
        p->shorts[s] = '\0';
        p->longopts = lo;
        optind = 1;
        opterr = 0;                     /* the callers print their own messages */
}

int opt_next(struct opt_parser *p)
{
        int ch = getopt_long(p->argc, p->argv, p->shorts, p->longopts, NULL);

        p->arg = optarg;
        if (ch == -1)
                return OPT_END;
        if (ch >= OPT_LONG_BASE && ch < OPT_LONG_BASE + p->n)
                return p->defs[ch - OPT_LONG_BASE].id;
        if (ch != ':' && ch != '?')
                for (int i = 0; i < p->n; i++)
                        if (p->defs[i].short_name == ch)
                                return p->defs[i].id;
        p->bad = p->argv[optind - 1];
        if (ch == ':')
                return OPT_ERR_VALUE;
        p->bad_short = optopt && optopt < OPT_LONG_BASE ? optopt : 0;
        return OPT_ERR_UNKNOWN;
}

int opt_operands(const struct opt_parser *p)
{
        (void)p;
        return optind;
}

void opt_done(struct opt_parser *p)
{
        free(p->longopts);
        p->longopts = NULL;
}

bool opt_takes_value(const struct opt_def *defs, const char *word)
{
        for (int i = 0; defs[i].id; i++) {
                if (!defs[i].value)
                        continue;
                if (defs[i].name && word[0] == '-' && word[1] == '-' &&
                    strcmp(word + 2, defs[i].name) == 0)
                        return true;
                if (defs[i].short_name && word[0] == '-' && word[1] == defs[i].short_name &&
                    word[2] == '\0')
                        return true;
        }
        return false;
}
