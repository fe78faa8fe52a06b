/*
 * opt: the command-line option parser that `lambdaops` (src/cli/main.c)
 * and its bring-up commands (src/bringup/bringup_cli.c) share: a table of
 * options in, getopt_long underneath (GNU rules: options and operands in
 * any order, unambiguous prefixes of long names, --name=value, "--" ends
 * the options), events out. Callers word their own messages.
 *
 * Uses getopt's global state: main thread only, one parse at a time.
 */
#ifndef LO_CORE_OPT_H
#define LO_CORE_OPT_H

#include <stdbool.h>

#define OPT_MAX 32                      /* options in one table */

/* One option: `--name` and/or `-s`, with a value in the next word (or
 * after '=') when `value` is set. The table ends with a zeroed entry. */
struct opt_def {
        const char *name;               /* long name without "--", or NULL */
        int         short_name;         /* the letter of -s, or 0 */
        bool        value;
        int         id;                 /* what opt_next returns for it; > 0 */
};

/* What opt_next returns besides an id. */
enum {
        OPT_END = 0,                    /* no more options: operands from opt_operands() */
        OPT_ERR_VALUE = -1,             /* an option without its value: bad says which */
        OPT_ERR_UNKNOWN = -2,           /* not an option of the table (or ambiguous, or
                                           a value given to one that takes none) */
};

struct opt_parser {
        int         argc;
        char      **argv;
        const struct opt_def *defs;
        const char *arg;                /* the value of the option just returned */
        const char *bad;                /* after an error: the word at fault */
        int         bad_short;          /* after OPT_ERR_UNKNOWN: the letter of an
                                           unknown -s, or 0 */
        int         n;                  /* private from here on */
        char        shorts[2 * OPT_MAX + 2];
        void       *longopts;           /* struct option[n + 1], owned */
};

/* Starts parsing argv[1..argc). Free with opt_done(). */
void opt_init(struct opt_parser *p, int argc, char **argv, const struct opt_def *defs);
/* The next option's id (p->arg set for options with a value), OPT_END, or
 * an error (p->bad, p->bad_short set). */
int  opt_next(struct opt_parser *p);
/* After OPT_END: the index in argv of the first operand (the operands are
 * argv[index..argc), in order). */
int  opt_operands(const struct opt_parser *p);
void opt_done(struct opt_parser *p);

/* True when `word` is exactly "--name" or "-s" of an option of defs that
 * takes its value in the next word. Pure. */
bool opt_takes_value(const struct opt_def *defs, const char *word);

#endif
