/*
 * config: the strict unit parsers for durations and sizes (config.h),
 * also used for thresholds.
 */
#include "core/config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/util.h"

#define FRAC_MAX        6               /* decimal places in durations and sizes */
#define DUR_UNITS       "ms, s, m, h or d"
#define SIZE_UNITS      "B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"

/* --- unit parsers ----------------------------------------------------------- */

const struct config_unit config_dur_units[CONFIG_DUR_UNITS] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
        { "d", 24 * 3600 * 1000 }, { NULL, 0 },
};

static const struct config_unit size_units[] = {
        { "B", 1 },
        { "KB", 1000 }, { "MB", 1000 * 1000 }, { "GB", 1000 * 1000 * 1000 },
        { "TB", 1000LL * 1000 * 1000 * 1000 },
        { "KiB", 1LL << 10 }, { "MiB", 1LL << 20 }, { "GiB", 1LL << 30 }, { "TiB", 1LL << 40 },
        { NULL, 0 },
};

static int config_strcasecmp_ascii(const char *a, const char *b)
{
        for (;; a++, b++) {
                int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
                int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
                if (x != y || !x)
                        return x - y;
        }
}

/* Shared by durations and sizes: "<digits>[.<digits>]<unit>". Durations
 * need a unit and a whole number of ms; sizes may be a bare integer and
 * round to the nearest byte. Exact integer arithmetic throughout. */
int config_parse_quantity(const char *s, bool is_size, int64_t *out, struct err *err)
{
        const char *what = is_size ? "size" : "duration";
        const char *units = is_size ? SIZE_UNITS : DUR_UNITS;
        const struct config_unit *tab = is_size ? size_units : config_dur_units, *u = NULL;
        const char *c = s;
        int64_t ip = 0, frac = 0, pow10 = 1, v, fv;
        int nfrac = 0;
        char b[64];

        if (!s || !*s) {
                err_set(err, EINVAL, "empty %s; expected a number and a unit (%s)", what, units);
                return -1;
        }
        config_show(s, b, sizeof b);
        if (strpbrk(s, " \t\r\n\f\v")) {
                err_set(err, EINVAL, "invalid %s \"%s\": spaces are not allowed", what, b);
                return -1;
        }
        if (*c == '-') {
                err_set(err, EINVAL, "invalid %s \"%s\": negative values are not allowed", what, b);
                return -1;
        }
        if (*c < '0' || *c > '9') {
                err_set(err, EINVAL, "invalid %s \"%s\": expected a number and a unit (%s)",
                        what, b, units);
                return -1;
        }
        for (; *c >= '0' && *c <= '9'; c++) {
                if (ip > (INT64_MAX - (*c - '0')) / 10)
                        goto too_large;
                ip = ip * 10 + (*c - '0');
        }
        if (*c == '.') {
                c++;
                if (*c < '0' || *c > '9')
                        goto malformed;
                for (; *c >= '0' && *c <= '9'; c++) {
                        if (++nfrac > FRAC_MAX) {
                                err_set(err, EINVAL,
                                        "invalid %s \"%s\": too many decimal places (at most %d)",
                                        what, b, FRAC_MAX);
                                return -1;
                        }
                        frac = frac * 10 + (*c - '0');
                        pow10 *= 10;
                }
        }
        if (*c == '.')
                goto malformed;
        if (!*c) {
                if (!is_size) {
                        err_set(err, EINVAL, "invalid duration \"%s\": missing unit (%s)", b,
                                units);
                        return -1;
                }
                if (nfrac) {
                        err_set(err, EINVAL, "invalid size \"%s\": a number without a unit is "
                                "whole bytes; add a unit (%s)", b, units);
                        return -1;
                }
                *out = ip;
                return 0;
        }
        for (size_t i = 0; tab[i].name; i++)
                if (strcmp(c, tab[i].name) == 0)
                        u = &tab[i];
        if (!u) {
                char ub[64];

                config_show(c, ub, sizeof ub);
                for (size_t i = 0; tab[i].name; i++)
                        if (config_strcasecmp_ascii(c, tab[i].name) == 0) {
                                err_set(err, EINVAL, "invalid %s \"%s\": unknown unit \"%s\" "
                                        "(did you mean \"%s\"?)", what, b, ub, tab[i].name);
                                return -1;
                        }
                if ((c[0] == 'e' || c[0] == 'E') &&
                    (c[1] == '+' || c[1] == '-' || (c[1] >= '0' && c[1] <= '9'))) {
                        err_set(err, EINVAL, "invalid %s \"%s\": exponents are not allowed",
                                what, b);
                        return -1;
                }
                err_set(err, EINVAL, "invalid %s \"%s\": unknown unit \"%s\" (use %s)", what, b, ub,
                        units);
                return -1;
        }
        /* frac < 10^FRAC_MAX and mult <= 2^40, so frac * mult fits. */
        fv = frac * u->mult;
        if (!is_size && fv % pow10 != 0) {
                err_set(err, EINVAL, "invalid duration \"%s\": finer than a millisecond", b);
                return -1;
        }
        fv = is_size ? (fv + pow10 / 2) / pow10 : fv / pow10;
        if (__builtin_mul_overflow(ip, u->mult, &v) || __builtin_add_overflow(v, fv, &v))
                goto too_large;
        *out = v;
        return 0;

too_large:
        err_set(err, ERANGE, "invalid %s \"%s\": too large", what, b);
        return -1;
malformed:
        err_set(err, EINVAL, "invalid %s \"%s\": malformed number", what, b);
        return -1;
}

int config_parse_duration(const char *s, int64_t *ms, struct err *err)
{
        return config_parse_quantity(s, false, ms, err);
}

int config_parse_size(const char *s, int64_t *bytes, struct err *err)
{
        return config_parse_quantity(s, true, bytes, err);
}

/* A non-negative decimal such as "100" or "2.5" (thresholds in counts and
 * rates). strtod alone would take "inf", "0x1p3" and leading spaces. */
int config_parse_number(const char *s, double *out)
{
        const char *c = s;

        if (*c < '0' || *c > '9')
                return -1;
        while (*c >= '0' && *c <= '9')
                c++;
        if (*c == '.') {
                c++;
                if (*c < '0' || *c > '9')
                        return -1;
                while (*c >= '0' && *c <= '9')
                        c++;
        }
        if (*c)
                return -1;
        *out = strtod(s, NULL);
        return isfinite(*out) ? 0 : -1;
}
