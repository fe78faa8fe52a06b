/*
 * src/clients/pgconn.c against a real PostgreSQL 15 (tests/lib/tu_pg.c):
 *   - a server NOTICE never reaches stderr (the curses screen): fd 2 goes
 *     to a temp file during the query and stays empty; the notice is kept,
 *     first line and redacted, in pc.notice;
 *   - a refused password names the one that was sent: password_env,
 *     password_file, or the dsn's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "clients/pgconn.h"
#include "tu.h"
#include "tu_pg.h"
#include "core/util.h"

static struct tu_pg pg;

static int group_setup(void **st)
{
        (void)st;
        if (tu_pg_start(&pg) != 0)
                return -1;
        if (tu_pg_exec(&pg, "CREATE FUNCTION lo_note() RETURNS int LANGUAGE plpgsql AS $$ "
                       "BEGIN RAISE NOTICE 'lo notice password=Np-3x9q'; "
                       "RAISE WARNING 'lo warning'; RETURN 1; END $$") ||
            tu_pg_exec(&pg, "CREATE ROLE lo_pw LOGIN PASSWORD 'right-Pw-9f3e'") ||
            tu_pg_hba_prepend(&pg, "host all lo_pw 127.0.0.1/32 scram-sha-256"))
                return -1;
        return 0;
}

static int group_teardown(void **st)
{
        (void)st;
        tu_pg_destroy(&pg);
        return 0;
}

static void ctx_init(struct coll_ctx *ctx)
{
        memset(ctx, 0, sizeof *ctx);
        ctx->stop_fd = -1;
        ctx->now_mono = clock_mono_ms();
        ctx->timeout_ms = 15000;
        ctx->deadline_mono = ctx->now_mono + ctx->timeout_ms;
}

static void test_notice_not_on_stderr(void **st)
{
        char path[400], buf[256];
        struct pg_cfg cfg = { 0 };
        struct pgconn pc;
        struct coll_ctx ctx;
        struct err err;
        struct stat sb;
        PGresult *res;
        int fd, saved;
        ssize_t n;

        (void)st;
        cfg.dsn = tu_pg_dsn(&pg, "postgres");
        pgconn_init(&pc, &cfg, 15000, NULL);
        ctx_init(&ctx);
        snprintf(path, sizeof path, "%s/stderr.txt", pg.dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        fflush(stderr);
        saved = dup(2);
        assert_true(saved >= 0);
        assert_int_equal(dup2(fd, 2), 2);
        assert_int_equal(pgconn_open(&pc, &ctx, &err), 0);
        res = pgconn_exec(&pc, &ctx, "note", "SELECT lo_note()", 0, NULL, &err);
        fflush(stderr);
        assert_int_equal(dup2(saved, 2), 2);
        close(saved);
        close(fd);
        assert_non_null(res);
        PQclear(res);
        pgconn_close(&pc);
        assert_int_equal(stat(path, &sb), 0);
        if (sb.st_size != 0) {
                fd = open(path, O_RDONLY);
                n = read(fd, buf, sizeof buf - 1);
                close(fd);
                buf[n > 0 ? n : 0] = '\0';
                fail_msg("stderr got %lld bytes: %s", (long long)sb.st_size, buf);
        }
        /* The last one (the warning); the notice before it was redacted the
         * same way. */
        assert_string_equal(pc.notice, "WARNING:  lo warning");
        free(cfg.dsn);
}

static void test_notice_kept_redacted(void **st)
{
        struct pg_cfg cfg = { 0 };
        struct pgconn pc;
        struct coll_ctx ctx;
        struct err err;
        PGresult *res;

        (void)st;
        assert_int_equal(tu_pg_exec(&pg, "CREATE OR REPLACE FUNCTION lo_note2() RETURNS int "
                                    "LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE "
                                    "'lo notice password=Np-3x9q'; RETURN 1; END $$"), 0);
        cfg.dsn = tu_pg_dsn(&pg, "postgres");
        pgconn_init(&pc, &cfg, 15000, NULL);
        ctx_init(&ctx);
        assert_int_equal(pgconn_open(&pc, &ctx, &err), 0);
        res = pgconn_exec(&pc, &ctx, "note", "SELECT lo_note2()", 0, NULL, &err);
        assert_non_null(res);
        PQclear(res);
        pgconn_close(&pc);
        assert_string_equal(pc.notice, "NOTICE:  lo notice password=***");
        free(cfg.dsn);
}

static void wrong_password(struct pg_cfg *cfg, const char *hint)
{
        struct pgconn pc;
        struct coll_ctx ctx;
        struct err err;
        char *want;

        pgconn_init(&pc, cfg, 15000, NULL);
        ctx_init(&ctx);
        assert_int_equal(pgconn_open(&pc, &ctx, &err), -1);
        want = xasprintf("password authentication failed for user \"lo_pw\" at 127.0.0.1:%d (%s)",
                         pg.port, hint);
        assert_string_equal(err.msg, want);
        assert_null(strstr(err.msg, "wrong-Pw"));
        free(want);
}

static void test_wrong_password_hint(void **st)
{
        struct pg_cfg cfg = { 0 };
        char path[400];
        FILE *f;

        (void)st;
        cfg.dsn = tu_pg_dsn(&pg, "lo_pw");
        setenv("LO_IT_PGC_PW", "wrong-Pw-7c1d", 1);
        cfg.password_env = "LO_IT_PGC_PW";
        wrong_password(&cfg, "check the password in $LO_IT_PGC_PW (password_env)");
        unsetenv("LO_IT_PGC_PW");

        snprintf(path, sizeof path, "%s/pw", pg.dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "wrong-Pw-file\n");
        fclose(f);
        cfg.password_env = NULL;
        cfg.password_file = path;
        {
                char *hint = xasprintf("check the password in %s (password_file)", path);

                wrong_password(&cfg, hint);
                free(hint);
        }
        free(cfg.dsn);

        cfg.password_file = NULL;
        cfg.dsn = xasprintf("host=127.0.0.1 port=%d dbname=postgres user=lo_pw "
                            "password=wrong-Pw-inline", pg.port);
        wrong_password(&cfg, "the dsn's own password was used: check it, or set "
                       "password_env/password_file");
        free(cfg.dsn);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_notice_not_on_stderr),
                cmocka_unit_test(test_notice_kept_redacted),
                cmocka_unit_test(test_wrong_password_hint),
        };

        return cmocka_run_group_tests_name("it_pgconn", tests, group_setup, group_teardown);
}
