//! The role SQL against a hostile tenant, on a real PostgreSQL server (run by `make test` on 15
//! and 17). The tenant has exactly its owner role: it logs in over TCP and sets traps (its own
//! functions and operators, database settings, grant chains, routines, a held lock); the
//! administrator then runs apply, verify and purge. Each test is named after the scenario it
//! plays and asserts that no tenant code ran as the administrator, no data was dropped, no
//! cross-tenant access remains, and every refusal names what to fix.
#![cfg(feature = "integration")]

mod common;
use common::{as_postgrest, as_role, ident, lit, Pg, Workspace};

const TENANT_PW: &str = "tenant-password-1";

/// Seeds `db` for `owner` (marts.places and a view over it in `api_v1`) and lets the owner log
/// in, so the test can act as the tenant.
fn tenant(pg: &Pg, db: &str, owner: &str) {
    pg.seed(db, owner, "api_v1");
    pg.sql(
        "postgres",
        &format!(
            "ALTER ROLE {} LOGIN PASSWORD {}",
            ident(owner),
            lit(TENANT_PW)
        ),
    );
}

fn as_tenant(pg: &Pg, owner: &str, db: &str, sql: &str) -> String {
    pg.sql_as(owner, TENANT_PW, db, sql)
        .unwrap_or_else(|e| panic!("tenant SQL failed: {sql}\n{e}"))
}

fn file(ws: &Workspace, app: &str, name: &str) -> std::path::PathBuf {
    ws.out(&format!("apps/{app}/sql/{name}"))
}

fn roles_exist(pg: &Pg, app: &str) -> String {
    pg.sql(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_roles WHERE rolname IN ({}, {})",
            lit(&format!("{app}_authenticator")),
            lit(&format!("{app}_web_anon"))
        ),
    )
}

/// Tenant functions and operators in its `public` that shadow what the scripts call, and
/// database settings that would change how they parse and resolve. A trap that fires says so
/// with a WARNING (which survives a rollback) and tries to make the tenant a superuser (or, run
/// by a hosted administrator, give it CREATEROLE).
const TRAPS: &str = r#"
CREATE FUNCTION public.pwn() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  RAISE WARNING 'TENANT CODE RAN as %', current_user;
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE trap SUPERUSER';
  ELSIF (SELECT rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE trap CREATEROLE';
  END IF;
END $f$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN pg_catalog.format($1, $2); END$f$;
CREATE FUNCTION public.format(text, text, text) RETURNS text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN pg_catalog.format($1, $2, $3); END$f$;
CREATE FUNCTION public.current_setting(text) RETURNS text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN pg_catalog.current_setting($1); END$f$;
CREATE FUNCTION public.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN pg_catalog.set_config($1, $2, $3); END$f$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN pg_catalog.quote_ident($1); END$f$;
CREATE FUNCTION public.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); PERFORM pg_catalog.pg_advisory_xact_lock($1); END$f$;
CREATE FUNCTION public.ne(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN $1 OPERATOR(pg_catalog.<>) $2; END$f$;
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.ne);
CREATE FUNCTION public.ne(name, text) RETURNS boolean LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN $1 OPERATOR(pg_catalog.<>) $2; END$f$;
CREATE OPERATOR public.<> (LEFTARG = name, RIGHTARG = text, FUNCTION = public.ne);
CREATE FUNCTION public.eq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN $1 OPERATOR(pg_catalog.=) $2; END$f$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.eq);
CREATE FUNCTION public.eq(name, text) RETURNS boolean LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN $1 OPERATOR(pg_catalog.=) $2; END$f$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.eq);
CREATE FUNCTION public.jsonb_object_keys(jsonb) RETURNS SETOF text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN QUERY SELECT pg_catalog.jsonb_object_keys($1); END$f$;
CREATE FUNCTION public.jsonb_array_elements_text(jsonb) RETURNS SETOF text LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN QUERY SELECT pg_catalog.jsonb_array_elements_text($1); END$f$;
CREATE FUNCTION public.string_to_array(text, text) RETURNS text[] LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN pg_catalog.string_to_array($1, $2); END$f$;
CREATE FUNCTION public.haskey(jsonb, text) RETURNS boolean LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN $1 OPERATOR(pg_catalog.?) $2; END$f$;
CREATE OPERATOR public.? (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.haskey);
CREATE FUNCTION public.field(jsonb, text) RETURNS jsonb LANGUAGE plpgsql AS
  $f$BEGIN PERFORM public.pwn(); RETURN $1 OPERATOR(pg_catalog.->) $2; END$f$;
CREATE OPERATOR public.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.field);
"#;

fn db_settings(db: &str) -> String {
    let d = ident(db);
    [
        "search_path = public, pg_catalog",
        "standard_conforming_strings = off",
        "role = trap",
        "default_transaction_read_only = on",
        "transform_null_equals = on",
        "quote_all_identifiers = on",
        "client_encoding = 'SJIS'",
        "statement_timeout = '50ms'",
        "lock_timeout = '1ms'",
        "DateStyle = 'SQL, DMY'",
    ]
    .iter()
    .map(|s| format!("ALTER DATABASE {d} SET {s};"))
    .collect()
}

/// How many entries of a database's ACL name a grantee matching `grantee` (a LIKE pattern).
fn entries_on_database(pg: &Pg, db: &str, grantee: &str) -> String {
    pg.sql(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_database d, aclexplode(d.datacl) g
              WHERE d.datname = {} AND g.grantee::regrole::text LIKE {}",
            lit(db),
            lit(grantee)
        ),
    )
}
#[test]
fn tenant_functions_operators_and_settings_never_run_as_admin() {
    traps_scenario(None);
}

/// The same traps, the scripts run by a hosted administrator (CREATEROLE, no SUPERUSER) that
/// may act as the tenant (SET): the tenant's `role = trap` database setting starts its session
/// as the tenant, and every grant and revoke is made by SET ROLE.
#[test]
fn tenant_functions_operators_and_settings_never_run_as_the_hosted_admin_live() {
    let pg = Pg::require();
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS trap_admin; CREATE ROLE trap_admin LOGIN CREATEROLE PASSWORD 'trap-admin-pw-1'",
    );
    traps_scenario(Some(("trap_admin", "trap-admin-pw-1")));
}

/// `admin`: None runs the scripts as PG*'s superuser, Some((role, password)) as that role.
fn traps_scenario(admin: Option<(&str, &str)>) {
    let pg = Pg::require();
    let run = |db: &str, f: &std::path::Path| match admin {
        None => pg.try_file_output(db, f),
        Some((role, pw)) => pg.try_file_as(role, pw, db, f),
    };
    // A backslash in the database name: with standard_conforming_strings off, a plain literal
    // holding it would end early.
    let db = "trap\\db' x";
    // The whole API surface runs under the traps: two schemas, writes, RPC, a JWT role.
    let ws = Workspace::new(&format!(
        "[apps.trap]\ndatabase = {}\nschemas = [\"api_v1\", \"api_v2\"]\nanon-privileges = [\"select\", \"execute\"]\n[apps.trap.jwt.roles.web_user]\nprivileges = [\"select\", \"insert\", \"execute\"]\n",
        toml_str(db)
    ));
    ws.ok(&["build"]);
    tenant(&pg, db, "trap");
    if let Some((role, _)) = admin {
        let pg16 = pg.version_at_least(160000);
        let opts = if pg16 {
            " WITH INHERIT FALSE, SET TRUE"
        } else {
            ""
        };
        pg.sql("postgres", &format!("GRANT trap TO {role}{opts}"));
    }
    as_tenant(
        &pg,
        "trap",
        db,
        "CREATE SCHEMA api_v2; CREATE TABLE api_v2.notes (x int); CREATE FUNCTION api_v2.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    );
    as_tenant(&pg, "trap", db, TRAPS);
    as_tenant(&pg, "trap", db, &db_settings(db));
    // The traps are live: an admin session that does not pin itself runs the tenant's code.
    ws.write("unpinned.sql", "SELECT format('%s', 'x') = 'x';");
    let unpinned = run(db, &ws.path().join("unpinned.sql")).unwrap_or_else(|e| e);
    assert!(unpinned.contains("TENANT CODE RAN as "), "{unpinned}");
    pg.sql("postgres", "ALTER ROLE trap NOSUPERUSER NOCREATEROLE");

    let mut stderr = String::new();
    for name in ["apply.sql", "apply.sql", "verify.sql"] {
        let out = run(db, &file(&ws, "trap", name))
            .unwrap_or_else(|e| panic!("{name} failed under the tenant's traps:\n{e}"));
        stderr.push_str(&out);
    }
    let rows = as_postgrest(
        &pg,
        "trap",
        &ws.password("trap"),
        db,
        "api_v1",
        "SELECT count(*) FROM places",
    );
    assert_eq!(rows.unwrap(), "2", "PostgREST reads the view after apply");
    let rows = as_role(
        &pg,
        "trap",
        &ws.password("trap"),
        db,
        "trap_web_user",
        "api_v2",
        "SELECT f(), count(*) FROM notes",
    );
    // (The tenant's database settings make its own API sessions read-only: its business.)
    assert_eq!(
        rows.unwrap(),
        "1|0",
        "the JWT role calls and reads after apply"
    );
    stderr.push_str(&run(db, &file(&ws, "trap", "purge.sql")).expect("purge runs"));

    assert!(
        !stderr.contains("TENANT CODE RAN"),
        "tenant code ran in the admin's session:\n{stderr}"
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = 'trap'"
        ),
        "f",
        "the tenant made itself a superuser or a role administrator"
    );
    assert_eq!(roles_exist(&pg, "trap"), "0", "purge dropped the roles");
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname = 'trap_web_user'"
        ),
        "0",
        "purge dropped the JWT role"
    );
    assert_eq!(
        pg.sql(db, "RESET ROLE; SELECT count(*) FROM marts.places"),
        "2",
        "no tenant data was dropped"
    );
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn foreign_grantor_revoke_live() {
    let pg = Pg::require();
    let db = "chain_db";
    let ws = Workspace::new("[apps.chain]\ndatabase = \"chain_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "chain");
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS chain_mid; CREATE ROLE chain_mid LOGIN PASSWORD 'tenant-password-1'",
    );
    pg.file(db, &file(&ws, "chain", "apply.sql"));
    // The tenant passes UPDATE on a table of its exposed schema down a grant-option chain.
    as_tenant(
        &pg,
        "chain",
        db,
        "CREATE TABLE api_v1.notes (id int, body text);
        INSERT INTO api_v1.notes VALUES (1, 'keep');
        GRANT SELECT, UPDATE ON api_v1.notes TO chain_mid WITH GRANT OPTION;
        GRANT USAGE ON SCHEMA api_v1 TO chain_mid;
        GRANT SELECT ON api_v1.places TO chain_web_anon WITH GRANT OPTION;",
    );
    pg.sql_as(
        "chain_mid",
        TENANT_PW,
        db,
        "GRANT UPDATE ON api_v1.notes TO chain_web_anon;
        GRANT UPDATE (body) ON api_v1.notes TO chain_authenticator;",
    )
    .unwrap();
    let pw = ws.password("chain");
    let update = "UPDATE notes SET body = 'pwned' RETURNING id";
    assert_eq!(
        as_postgrest(&pg, "chain", &pw, db, "api_v1", update).unwrap(),
        "1",
        "the chain works before apply"
    );
    let drift = pg
        .try_file(db, &file(&ws, "chain", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("UPDATE on TABLE api_v1.notes (granted by chain_mid)"),
        "{drift}"
    );
    assert!(drift.contains("with grant option"), "{drift}");

    pg.file(db, &file(&ws, "chain", "apply.sql"));
    pg.file(db, &file(&ws, "chain", "verify.sql"));
    let err = as_postgrest(&pg, "chain", &pw, db, "api_v1", update).unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    assert_eq!(
        as_postgrest(
            &pg,
            "chain",
            &pw,
            db,
            "api_v1",
            "SELECT count(*) FROM places"
        )
        .unwrap(),
        "2"
    );
    // The tenant's own grant to its helper role stays: apply revokes only what its roles hold.
    assert_eq!(
        pg.sql(
            db,
            "SELECT has_table_privilege('chain_mid', 'api_v1.notes', 'UPDATE WITH GRANT OPTION')"
        ),
        "t"
    );
}

#[test]
fn routines_granted_to_anon_are_revoked() {
    let pg = Pg::require();
    let db = "rtn_db";
    let ws = Workspace::new("[apps.rtn]\ndatabase = \"rtn_db\"\n[apps.bystander]\ndatabase = \"rtn_db\"\nowner = \"rtn\"\nschema = \"api_b\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "rtn");
    pg.sql(db, "CREATE SCHEMA api_b AUTHORIZATION rtn");
    as_tenant(
        &pg,
        "rtn",
        db,
        "
        CREATE PROCEDURE api_v1.p() LANGUAGE sql AS 'SELECT 1';
        CREATE FUNCTION api_v1.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
        CREATE AGGREGATE api_v1.agg(int) (SFUNC = int4pl, STYPE = int);
        CREATE DOMAIN api_v1.d AS int;
        SELECT lo_create(4242);",
    );
    pg.file(db, &file(&ws, "rtn", "apply.sql"));
    as_tenant(
        &pg,
        "rtn",
        db,
        "
        GRANT EXECUTE ON PROCEDURE api_v1.p() TO rtn_web_anon;
        GRANT EXECUTE ON FUNCTION api_v1.f() TO rtn_web_anon WITH GRANT OPTION;
        GRANT EXECUTE ON FUNCTION api_v1.agg(int) TO rtn_authenticator;
        GRANT USAGE ON TYPE api_v1.d TO rtn_web_anon;
        GRANT SELECT, UPDATE ON LARGE OBJECT 4242 TO rtn_web_anon;",
    );
    // One apply.sql run for both apps, as the runner does: the procedure must not stop it.
    pg.file(db, &file(&ws, "rtn", "apply.sql"));
    pg.file(db, &file(&ws, "bystander", "apply.sql"));
    pg.file(db, &file(&ws, "rtn", "verify.sql"));
    let left = pg.sql(db, "SELECT count(*) FROM pg_shdepend WHERE deptype = 'a'
        AND refobjid IN ('rtn_web_anon'::regrole, 'rtn_authenticator'::regrole)
        AND classid IN ('pg_proc'::regclass, 'pg_type'::regclass, 'pg_largeobject_metadata'::regclass)");
    assert_eq!(left, "0");
    pg.file(db, &file(&ws, "rtn", "purge.sql"));
    assert_eq!(roles_exist(&pg, "rtn"), "0");
}

/// A tenant can hold either of apply.sql's advisory locks (the owner's, taken first, and the
/// database ACL's, taken by the database step): each wait is bounded, names the holder, and
/// the apply leaves nothing behind.
#[test]
fn held_advisory_locks_bound_the_wait() {
    let pg = Pg::require();
    let db = "lock_db";
    let ws = Workspace::new("[apps.lockd]\ndatabase = \"lock_db\"\nowner = \"lockd\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "lockd");
    // The keys are in the steps apply.sql defines when it changes something
    // (out/sql/apply-write-functions.sql):
    // the owner's lock is a pair (a constant, the owner's oid), the database's one bigint.
    let steps = std::fs::read_to_string(ws.out("sql/apply-write-functions.sql")).unwrap();
    let args: Vec<&str> = steps
        .split("PERFORM pg_advisory_xact_lock(")
        .skip(1)
        .map(|s| s.split(");").next().unwrap())
        .collect();
    assert_eq!(args.len(), 2, "{args:?}");
    let owner_lock = args[0].replace("coalesce(owner, 0)::int4", "'lockd'::regrole::oid::int4");
    assert!(
        owner_lock.starts_with(char::is_numeric) && owner_lock.contains(", "),
        "{owner_lock}"
    );
    let db_lock = args[1];
    assert!(db_lock.chars().all(|c| c.is_ascii_digit()), "{db_lock}");
    for (held, what) in [
        (owner_lock.as_str(), "of owner lockd"),
        (db_lock, "of the database's ACL"),
    ] {
        // The tenant takes the lock in a session it keeps open.
        let holder = pg.spawn_as(
            "lockd",
            TENANT_PW,
            db,
            &format!("SELECT pg_advisory_lock({held}); SELECT pg_sleep(120);"),
        );
        let _guard = KillOnDrop(holder);
        wait_for(
            &pg,
            db,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
        );
        let started = std::time::Instant::now();
        let err = pg
            .try_file(db, &file(&ws, "lockd", "apply.sql"))
            .unwrap_err();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the wait is bounded"
        );
        assert!(
            err.contains(&format!(
                "app \"lockd\": gave up waiting 10s for the postgrest-gen lock {what} in database \"lock_db\""
            )),
            "{err}"
        );
        assert!(err.contains("role lockd"), "names the holder: {err}");
        assert_eq!(roles_exist(&pg, "lockd"), "0", "nothing was created");
        // The holder's backend outlives its killed client while it sleeps: end it.
        pg.sql(
            db,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'",
        );
        wait_for(
            &pg,
            db,
            "SELECT (count(*) = 0)::int FROM pg_locks WHERE locktype = 'advisory'",
        );
    }
}

/// Polls `count_sql` (a count) until it says 1, for at most 5 s.
fn wait_for(pg: &Pg, db: &str, count_sql: &str) {
    for _ in 0..100 {
        if pg.sql(db, count_sql) == "1" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("never true: {count_sql}");
}

#[test]
fn open_transaction_on_a_tenant_view_bounds_the_wait() {
    let pg = Pg::require();
    let db = "txn_db";
    let ws = Workspace::new("[apps.txn]\ndatabase = \"txn_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "txn");
    pg.file(db, &file(&ws, "txn", "apply.sql"));
    // The tenant takes its view's grant away, so apply must grant it again, and keeps a
    // transaction open that changed the same catalog row.
    as_tenant(
        &pg,
        "txn",
        db,
        "REVOKE SELECT ON api_v1.places FROM txn_web_anon",
    );
    let holder = pg.spawn_as(
        "txn",
        TENANT_PW,
        db,
        "BEGIN; GRANT SELECT ON api_v1.places TO PUBLIC; SELECT pg_sleep(120);",
    );
    let guard = KillOnDrop(holder);
    wait_for(&pg, db, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'txn' AND query LIKE '%pg_sleep(120)%'");
    let err = pg.try_file(db, &file(&ws, "txn", "apply.sql")).unwrap_err();
    assert!(
        err.contains("app \"txn\": gave up waiting 10s for a lock in database \"txn_db\""),
        "{err}"
    );
    assert!(
        err.contains("(role txn, database txn_db, active since"),
        "names the holder: {err}"
    );
    // Ending the client leaves the backend asleep in its transaction; end that too.
    drop(guard);
    pg.sql(
        db,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'txn'",
    );
    wait_for(
        &pg,
        db,
        "SELECT count(*) + 1 FROM pg_stat_activity WHERE usename = 'txn'",
    );
    pg.file(db, &file(&ws, "txn", "apply.sql"));
    pg.file(db, &file(&ws, "txn", "verify.sql"));
}

struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn preexisting_roles_with_holdings_are_refused_and_never_dropped() {
    let pg = Pg::require();
    let db = "adopt_db";
    let ws = Workspace::new("[apps.adopt]\ndatabase = \"adopt_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "adopt");
    pg.seed("adopt_other_db", "adopt_other", "api_v1");
    // Roles with the generated names, left from an earlier life of the platform.
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS adopt_web_anon; DROP ROLE IF EXISTS adopt_authenticator;
        CREATE ROLE adopt_web_anon NOLOGIN; CREATE ROLE adopt_authenticator LOGIN;
        GRANT SET ON PARAMETER work_mem TO adopt_authenticator;",
    );
    pg.sql(
        db,
        "CREATE TABLE public.history (x int) ; INSERT INTO public.history VALUES (1), (2), (3);
        ALTER TABLE public.history OWNER TO adopt_web_anon;",
    );
    pg.sql(
        "adopt_other_db",
        "GRANT SELECT ON marts.places TO adopt_web_anon",
    );

    let before = pg.sql(
        "postgres",
        "SELECT count(*) FROM pg_auth_members WHERE member = 'adopt_authenticator'::regrole",
    );
    let err = pg
        .try_file(db, &file(&ws, "adopt", "apply.sql"))
        .unwrap_err();
    for needle in [
        "apply.sql refused, nothing was changed",
        "role adopt_web_anon owns table public.history",
        "REASSIGN OWNED BY adopt_web_anon",
        "in database adopt_other_db",
        "SET on PARAMETER work_mem",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    assert!(
        !err.contains("DROP OWNED"),
        "never suggests dropping: {err}"
    );
    assert_eq!(
        before,
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_auth_members WHERE member = 'adopt_authenticator'::regrole"
        )
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_shdescription WHERE objoid = 'adopt_web_anon'::regrole"
        ),
        "0"
    );

    let drift = pg
        .try_file(db, &file(&ws, "adopt", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("role adopt_web_anon owns table public.history"),
        "{drift}"
    );
    assert!(drift.contains("in database adopt_other_db"), "{drift}");

    // purge.sql refuses too, naming the same, and drops nothing.
    let err = pg
        .try_file(db, &file(&ws, "adopt", "purge.sql"))
        .unwrap_err();
    assert!(
        err.contains("purge.sql refused, nothing was changed"),
        "{err}"
    );
    assert!(
        err.contains("owns table public.history") && err.contains("adopt_other_db"),
        "{err}"
    );
    assert_eq!(
        pg.sql(db, "SELECT count(*) FROM public.history"),
        "3",
        "no data dropped"
    );
    assert_eq!(roles_exist(&pg, "adopt"), "2");

    // Following the hints makes the roles adoptable.
    pg.sql(db, "REASSIGN OWNED BY adopt_web_anon TO adopt");
    pg.sql(
        "adopt_other_db",
        "REVOKE SELECT ON marts.places FROM adopt_web_anon",
    );
    pg.sql(
        "postgres",
        "REVOKE SET ON PARAMETER work_mem FROM adopt_authenticator",
    );
    pg.file(db, &file(&ws, "adopt", "apply.sql"));
    pg.file(db, &file(&ws, "adopt", "verify.sql"));
    assert_eq!(pg.sql(db, "SELECT count(*) FROM public.history"), "3");
}

#[test]
fn hand_made_role_pair_with_the_expected_grants_is_adopted() {
    let pg = Pg::require();
    let db = "uis_db";
    let ws = Workspace::new("[apps.uis]\ndatabase = \"uis_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "uis");
    // What the hand-run platform did.
    pg.sql("postgres", "DROP ROLE IF EXISTS uis_web_anon; DROP ROLE IF EXISTS uis_authenticator;
        CREATE ROLE uis_authenticator LOGIN NOINHERIT PASSWORD 'old'; CREATE ROLE uis_web_anon NOLOGIN;
        GRANT uis_web_anon TO uis_authenticator; GRANT CONNECT ON DATABASE uis_db TO uis_authenticator;");
    pg.sql(db, "GRANT USAGE ON SCHEMA api_v1 TO uis_web_anon; GRANT SELECT ON ALL TABLES IN SCHEMA api_v1 TO uis_web_anon;
        ALTER DEFAULT PRIVILEGES FOR ROLE uis IN SCHEMA api_v1 GRANT SELECT ON TABLES TO uis_web_anon;");
    pg.file(db, &file(&ws, "uis", "apply.sql"));
    pg.file(db, &file(&ws, "uis", "verify.sql"));
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT description FROM pg_shdescription WHERE objoid = 'uis_web_anon'::regrole"
        ),
        "postgrest-gen: app uis in database uis_db"
    );
    let rows = as_postgrest(
        &pg,
        "uis",
        &ws.password("uis"),
        db,
        "api_v1",
        "SELECT count(*) FROM places",
    );
    assert_eq!(rows.unwrap(), "2");
}

#[test]
fn schema_of_another_role_and_privileged_owner_are_refused() {
    let pg = Pg::require();
    let db = "own_db";
    let ws = Workspace::new("[apps.own]\ndatabase = \"own_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "own");
    pg.sql("postgres", "DROP ROLE IF EXISTS own_stranger; CREATE ROLE own_stranger NOLOGIN; ALTER ROLE own CREATEROLE BYPASSRLS");
    pg.sql(db, "ALTER SCHEMA api_v1 OWNER TO own_stranger");
    let err = pg.try_file(db, &file(&ws, "own", "apply.sql")).unwrap_err();
    assert!(
        err.contains("owner role own has BYPASSRLS, CREATEROLE"),
        "{err}"
    );
    assert!(
        err.contains("schema api_v1 belongs to own_stranger, not to the declared owner own"),
        "{err}"
    );
    assert_eq!(roles_exist(&pg, "own"), "0");
    pg.sql("postgres", "ALTER ROLE own NOCREATEROLE NOBYPASSRLS");
    pg.sql(db, "ALTER SCHEMA api_v1 OWNER TO own");
    pg.file(db, &file(&ws, "own", "apply.sql"));
    pg.sql("postgres", "ALTER ROLE own CREATEROLE");
    pg.sql(db, "ALTER SCHEMA api_v1 OWNER TO own_stranger");
    let drift = pg
        .try_file(db, &file(&ws, "own", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("owner role own has CREATEROLE; the views it owns run with its rights"),
        "{drift}"
    );
    assert!(
        drift.contains("schema api_v1 belongs to own_stranger, not to the declared owner own"),
        "{drift}"
    );
    pg.sql(db, "ALTER SCHEMA api_v1 OWNER TO own");
    pg.sql("postgres", "ALTER ROLE own NOCREATEROLE");
}

#[test]
fn purge_refuses_while_roles_own_data_policies_or_foreign_grants() {
    let pg = Pg::require();
    let db = "pol_db";
    let ws = Workspace::new("[apps.pol]\ndatabase = \"pol_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "pol");
    pg.seed("pol_other_db", "pol_other", "api_v1");
    pg.sql(
        "postgres",
        "ALTER ROLE pol_other LOGIN PASSWORD 'tenant-password-1'",
    );
    pg.file(db, &file(&ws, "pol", "apply.sql"));
    // The tenant writes row-level security for its anonymous role (legitimate), and another
    // tenant grants its own table to this app's anonymous role.
    as_tenant(
        &pg,
        "pol",
        db,
        "ALTER TABLE marts.places ENABLE ROW LEVEL SECURITY;
        CREATE POLICY anon_reads ON marts.places TO pol_web_anon USING (true);
        CREATE POLICY \"x
  - FAKE: all clear\" ON marts.places TO pol_web_anon USING (true);",
    );
    pg.sql_as(
        "pol_other",
        TENANT_PW,
        "pol_other_db",
        "GRANT SELECT ON marts.places TO pol_web_anon",
    )
    .unwrap();

    // apply still converges this database and warns; verify names the foreign grant.
    let warned = pg
        .try_file_output(db, &file(&ws, "pol", "apply.sql"))
        .unwrap();
    assert!(
        warned.contains("holds a privilege in database pol_other_db"),
        "{warned}"
    );
    let drift = pg
        .try_file(db, &file(&ws, "pol", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("role pol_web_anon holds a privilege on pg_class object"),
        "{drift}"
    );
    assert!(drift.contains("in database pol_other_db"), "{drift}");

    let err = pg.try_file(db, &file(&ws, "pol", "purge.sql")).unwrap_err();
    assert!(
        err.contains("is named in policy anon_reads on table marts.places"),
        "{err}"
    );
    assert!(
        err.contains("connect to pol_other_db and revoke it"),
        "{err}"
    );
    // A tenant's name cannot fake a line of the refusal.
    assert!(
        err.contains("policy x?  - FAKE: all clear on table"),
        "{err}"
    );
    assert!(!err.contains("\n  - FAKE"), "{err}");
    assert_eq!(roles_exist(&pg, "pol"), "2");
    assert_eq!(
        pg.sql(
            db,
            "SELECT count(*) FROM pg_policy WHERE polname = 'anon_reads'"
        ),
        "1",
        "the policy stays"
    );
    assert_eq!(pg.sql(db, "SELECT count(*) FROM marts.places"), "2");

    as_tenant(
        &pg,
        "pol",
        db,
        "DROP POLICY anon_reads ON marts.places; DROP POLICY \"x
  - FAKE: all clear\" ON marts.places",
    );
    pg.sql(
        "pol_other_db",
        "REVOKE SELECT ON marts.places FROM pol_web_anon",
    );
    pg.file(db, &file(&ws, "pol", "purge.sql"));
    assert_eq!(roles_exist(&pg, "pol"), "0");
    assert_eq!(pg.sql(db, "SELECT count(*) FROM marts.places"), "2");
}

#[test]
fn grants_to_another_apps_roles_are_revoked_where_they_were_made() {
    let pg = Pg::require();
    let ws = Workspace::new(
        "[apps.victim]\ndatabase = \"victim_db\"\n[apps.host]\ndatabase = \"host_db\"\n",
    );
    ws.ok(&["build"]);
    tenant(&pg, "victim_db", "victim");
    tenant(&pg, "host_db", "host");
    pg.file("victim_db", &file(&ws, "victim", "apply.sql"));
    pg.file("host_db", &file(&ws, "host", "apply.sql"));
    // The host tenant hands its own data to the victim app's roles, in its own database.
    as_tenant(
        &pg,
        "host",
        "host_db",
        "GRANT SELECT ON marts.places TO victim_web_anon;
        GRANT USAGE ON SCHEMA marts TO victim_web_anon;
        GRANT CONNECT ON DATABASE host_db TO victim_authenticator;
        ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO victim_authenticator;",
    );
    let drift = pg
        .try_file("victim_db", &file(&ws, "victim", "verify.sql"))
        .unwrap_err();
    assert!(drift.contains("in database host_db"), "{drift}");
    let drift = pg
        .try_file("host_db", &file(&ws, "host", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("victim_web_anon holds SELECT on TABLE marts.places (granted by host)"),
        "{drift}"
    );

    // The host app's apply, which runs in host_db, takes back the grants on host's objects.
    // CONNECT on host_db itself is in a catalog every database shares: the victim's own apply
    // takes it back, from victim_db, as its grantor. Then both apps verify.
    pg.file("host_db", &file(&ws, "host", "apply.sql"));
    pg.file("host_db", &file(&ws, "host", "verify.sql"));
    let drift = pg
        .try_file("victim_db", &file(&ws, "victim", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("victim_authenticator holds CONNECT on DATABASE host_db (granted by host)")
            && drift.contains("(1 difference(s))"),
        "{drift}"
    );
    pg.file("victim_db", &file(&ws, "victim", "apply.sql"));
    pg.file("victim_db", &file(&ws, "victim", "verify.sql"));
    pg.file("host_db", &file(&ws, "host", "verify.sql"));
    // The victim keeps what it needs in its own database.
    let rows = as_postgrest(
        &pg,
        "victim",
        &ws.password("victim"),
        "victim_db",
        "api_v1",
        "SELECT count(*) FROM places",
    );
    assert_eq!(rows.unwrap(), "2");
    pg.file("victim_db", &file(&ws, "victim", "purge.sql"));
    assert_eq!(roles_exist(&pg, "victim"), "0");
    pg.file("host_db", &file(&ws, "host", "purge.sql"));
}

/// The database owner (tenant A) creates app B's schema before B's owner has it, plants a
/// SECURITY DEFINER routine and a view there and lets PUBLIC create in it, then follows the
/// refusal's hint and hands the schema over. B's apply must still refuse, naming every foreign
/// object and the CREATE grant, and B's verify must report them, so that A's code never serves
/// in B's requests (it would read B's users' bearer tokens from `request.headers`).
#[test]
fn objects_planted_in_another_apps_schema_are_refused_live() {
    let pg = Pg::require();
    let db = "plant_db";
    let ws = Workspace::new(
        "[apps.planta]\ndatabase = \"plant_db\"\n\n[apps.plantb]\ndatabase = \"plant_db\"\nschema = \"api_b\"\n",
    );
    ws.ok(&["build"]);
    tenant(&pg, db, "planta");
    pg.sql(
        "postgres",
        &format!(
            "DROP ROLE IF EXISTS plantb; CREATE ROLE plantb LOGIN PASSWORD {}",
            lit(TENANT_PW)
        ),
    );
    pg.file(db, &file(&ws, "planta", "apply.sql"));
    as_tenant(
        &pg,
        "planta",
        db,
        "CREATE TABLE api_v1.loot(hdr text); GRANT INSERT ON api_v1.loot TO PUBLIC;
         CREATE SCHEMA api_b; GRANT USAGE, CREATE ON SCHEMA api_b TO PUBLIC;
         CREATE FUNCTION api_b.hello() RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
           AS $$ INSERT INTO api_v1.loot SELECT current_setting('request.headers', true); SELECT current_user::text $$;
         CREATE VIEW api_b.v AS SELECT current_user AS who;",
    );
    // The admin follows the hint of the first refusal and hands the schema over.
    let err = pg
        .try_file(db, &file(&ws, "plantb", "apply.sql"))
        .unwrap_err();
    assert!(err.contains("schema api_b belongs to planta"), "{err}");
    pg.sql(db, "ALTER SCHEMA api_b OWNER TO plantb");
    let err = pg
        .try_file(db, &file(&ws, "plantb", "apply.sql"))
        .unwrap_err();
    for what in [
        "schema api_b holds routine api_b.hello() owned by planta",
        "schema api_b holds view api_b.v owned by planta",
        "schema api_b lets PUBLIC create objects in it; only the owner may: REVOKE CREATE ON SCHEMA api_b FROM PUBLIC;",
    ] {
        assert!(err.contains(what), "{what}\n{err}");
    }
    assert_eq!(roles_exist(&pg, "plantb"), "0", "nothing was created");
    // Cleaned up by the admin: B applies, and A cannot plant again.
    pg.sql(
        db,
        "DROP FUNCTION api_b.hello(); DROP VIEW api_b.v; REVOKE CREATE ON SCHEMA api_b FROM PUBLIC",
    );
    pg.file(db, &file(&ws, "plantb", "apply.sql"));
    pg.file(db, &file(&ws, "plantb", "verify.sql"));
    let planted = pg.sql_as("planta", TENANT_PW, db, "CREATE VIEW api_b.w AS SELECT 1");
    assert!(
        planted.is_err(),
        "the tenant can no longer create in B's schema"
    );
    // A grant of CREATE made later (by B's owner, say) is drift.
    pg.sql(db, "GRANT CREATE ON SCHEMA api_b TO planta");
    let drift = pg
        .try_file(db, &file(&ws, "plantb", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("schema api_b lets planta create objects in it"),
        "{drift}"
    );
    pg.sql(db, "REVOKE CREATE ON SCHEMA api_b FROM planta");
}

/// PostgreSQL 17: the database owner sets a transaction timeout no script could finish in; the
/// scripts pin it like every other session setting. (On 15 the setting does not exist: the
/// scripts skip the SET, and running them there checks that.)
#[test]
fn transaction_timeout_set_by_the_tenant_is_pinned_live() {
    let pg = Pg::require();
    let db = "ttl_db";
    let ws = Workspace::new("[apps.ttl]\ndatabase = \"ttl_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "ttl");
    let v17 = pg.version_at_least(170000);
    if v17 {
        as_tenant(
            &pg,
            "ttl",
            db,
            "ALTER DATABASE ttl_db SET transaction_timeout = '1ms'",
        );
    }
    for f in ["apply.sql", "verify.sql", "apply.sql", "purge.sql"] {
        pg.file(db, &file(&ws, "ttl", f));
    }
    if v17 {
        as_tenant(
            &pg,
            "ttl",
            db,
            "ALTER DATABASE ttl_db RESET transaction_timeout",
        );
    }
}

/// Two apps of two tenants, each with a JWT role. Tenant `ja` owns `ja_db` and logs in.
fn two_jwt_tenants(pg: &Pg) -> Workspace {
    let ws = Workspace::new(
        "[apps.ja]\ndatabase = \"ja_db\"\n[apps.ja.jwt]\n[apps.jb]\ndatabase = \"jb_db\"\n[apps.jb.jwt]\n",
    );
    ws.ok(&["build"]);
    tenant(pg, "ja_db", "ja");
    pg.seed("jb_db", "jb", "api_v1");
    pg.file("ja_db", &file(&ws, "ja", "apply.sql"));
    pg.file("jb_db", &file(&ws, "jb", "apply.sql"));
    ws
}

#[test]
fn tenant_cannot_hand_its_jwt_role_to_another_apps_authenticator() {
    let pg = Pg::require();
    let ws = two_jwt_tenants(&pg);
    // The tenant holds no ADMIN on its app's roles: it cannot grant, alter, re-mark or
    // create them.
    for attack in [
        "GRANT ja_web_user TO jb_authenticator",
        "GRANT jb_web_user TO ja_authenticator",
        "GRANT ja_web_user TO ja",
        "ALTER ROLE ja_web_user SUPERUSER",
        "ALTER ROLE ja_web_user SET statement_timeout = 0",
        "COMMENT ON ROLE ja_web_user IS 'postgrest-gen: app jb in database jb_db'",
        "CREATE ROLE ja_future_role",
    ] {
        let err = pg.sql_as("ja", TENANT_PW, "ja_db", attack).unwrap_err();
        assert!(
            err.contains("permission denied")
                || err.contains("must have")
                || err.contains("must be superuser"),
            "{attack}: {err}"
        );
    }
    // Had an administrator done it by mistake, either app's apply takes it back.
    pg.sql("postgres", "GRANT ja_web_user TO jb_authenticator");
    let drift = pg
        .try_file("jb_db", &file(&ws, "jb", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("unexpected membership: jb_authenticator in ja_web_user"),
        "{drift}"
    );
    pg.file("jb_db", &file(&ws, "jb", "apply.sql"));
    let err = as_role(
        &pg,
        "jb",
        &ws.password("jb"),
        "jb_db",
        "ja_web_user",
        "api_v1",
        "SELECT 1",
    )
    .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    pg.sql("postgres", "GRANT jb_web_user TO ja_authenticator");
    pg.file("ja_db", &file(&ws, "ja", "apply.sql"));
    assert_eq!(
        pg.sql("postgres", "SELECT count(*) FROM pg_auth_members WHERE roleid = 'jb_web_user'::regrole AND member = 'ja_authenticator'::regrole"),
        "0",
        "ja's apply revoked a membership of its authenticator"
    );
    pg.file("ja_db", &file(&ws, "ja", "verify.sql"));
    pg.file("jb_db", &file(&ws, "jb", "verify.sql"));
}

#[test]
fn tenant_grants_to_its_jwt_role_beyond_the_declared_are_revoked() {
    let pg = Pg::require();
    let ws = two_jwt_tenants(&pg);
    // The tenant may grant on its own objects: a SECURITY DEFINER function in a new schema
    // that reads its internal tables, USAGE on that schema, writes on an exposed view, and its
    // own marts to the other tenant's JWT role.
    as_tenant(
        &pg,
        "ja",
        "ja_db",
        "CREATE SCHEMA api_v9;
         CREATE FUNCTION api_v9.dump() RETURNS SETOF marts.places LANGUAGE sql SECURITY DEFINER
           SET search_path = pg_catalog AS 'SELECT * FROM marts.places';
         REVOKE EXECUTE ON FUNCTION api_v9.dump() FROM PUBLIC;
         GRANT USAGE ON SCHEMA api_v9 TO ja_web_user;
         GRANT EXECUTE ON FUNCTION api_v9.dump() TO ja_web_user;
         GRANT INSERT, DELETE ON api_v1.places TO ja_web_user;
         GRANT USAGE ON SCHEMA marts TO ja_web_user, jb_web_user;
         GRANT SELECT ON marts.places TO ja_web_user, jb_web_user WITH GRANT OPTION;",
    );
    let pw = ws.password("ja");
    assert_eq!(
        as_role(
            &pg,
            "ja",
            &pw,
            "ja_db",
            "ja_web_user",
            "api_v1",
            "SELECT count(*) FROM api_v9.dump()"
        )
        .unwrap(),
        "2",
        "the tenant's grants work until apply"
    );
    let drift = pg
        .try_file("ja_db", &file(&ws, "ja", "verify.sql"))
        .unwrap_err();
    for needle in [
        "ja_web_user holds EXECUTE on ROUTINE api_v9.dump()",
        "ja_web_user holds USAGE on SCHEMA api_v9",
        "ja_web_user holds INSERT on TABLE api_v1.places",
        "ja_web_user holds SELECT on TABLE marts.places (granted by ja, with grant option)",
        // The other database's JWT role is a postgrest-gen role too: ja's verify names it.
        "jb_web_user holds SELECT on TABLE marts.places",
    ] {
        assert!(drift.contains(needle), "missing `{needle}` in:\n{drift}");
    }
    pg.file("ja_db", &file(&ws, "ja", "apply.sql"));
    pg.file("ja_db", &file(&ws, "ja", "verify.sql"));
    for sql in [
        "SELECT count(*) FROM api_v9.dump()",
        "SELECT count(*) FROM marts.places",
        "DELETE FROM places",
    ] {
        let err = as_role(&pg, "ja", &pw, "ja_db", "ja_web_user", "api_v1", sql).unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // Exposing the new schema later grants only what is declared (select), not execute. (A
    // function PUBLIC may execute, PostgreSQL's default, stays callable by everyone: the README
    // tells owners to revoke that default.)
    let toml = ws.read("apps.toml").replace(
        "[apps.ja]\ndatabase = \"ja_db\"\n",
        "[apps.ja]\ndatabase = \"ja_db\"\nschemas = [\"api_v1\", \"api_v9\"]\n",
    );
    ws.write("apps.toml", &toml);
    ws.ok(&["build"]);
    pg.file("ja_db", &file(&ws, "ja", "apply.sql"));
    let err = as_role(
        &pg,
        "ja",
        &pw,
        "ja_db",
        "ja_web_user",
        "api_v9",
        "SELECT count(*) FROM dump()",
    )
    .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    assert_eq!(
        pg.sql("ja_db", "SELECT count(*) FROM marts.places"),
        "2",
        "no data dropped"
    );
}

#[test]
fn role_named_like_a_future_jwt_role_is_refused_until_it_holds_nothing() {
    let pg = Pg::require();
    let ws = Workspace::new("[apps.fut]\ndatabase = \"fut_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, "fut_db", "fut");
    pg.file("fut_db", &file(&ws, "fut", "apply.sql"));
    // Someone with CREATEROLE made `fut_web_user` before the app declares it: it can read the
    // tenant's internal table and is a member of the owner.
    pg.sql("postgres", "DROP ROLE IF EXISTS fut_web_user; CREATE ROLE fut_web_user NOLOGIN; GRANT fut TO fut_web_user");
    pg.sql(
        "fut_db",
        "GRANT USAGE ON SCHEMA marts TO fut_web_user; GRANT SELECT ON marts.places TO fut_web_user",
    );
    ws.write(
        "apps.toml",
        "[apps.fut]\ndatabase = \"fut_db\"\n[apps.fut.jwt]\n",
    );
    ws.ok(&["build"]);
    let err = pg
        .try_file("fut_db", &file(&ws, "fut", "apply.sql"))
        .unwrap_err();
    for needle in [
        "apply.sql refused, nothing was changed",
        "role fut_web_user existed before postgrest-gen managed it and holds SELECT on TABLE marts.places",
        "fut_web_user is a member of fut",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_auth_members WHERE roleid = 'fut_web_user'::regrole"
        ),
        "0",
        "not granted to the authenticator"
    );
    // Once it holds nothing, apply adopts it.
    pg.sql("fut_db", "REVOKE USAGE ON SCHEMA marts FROM fut_web_user; REVOKE SELECT ON marts.places FROM fut_web_user");
    pg.sql("postgres", "REVOKE fut FROM fut_web_user");
    pg.file("fut_db", &file(&ws, "fut", "apply.sql"));
    pg.file("fut_db", &file(&ws, "fut", "verify.sql"));
    assert_eq!(
        as_role(
            &pg,
            "fut",
            &ws.password("fut"),
            "fut_db",
            "fut_web_user",
            "api_v1",
            "SELECT count(*) FROM places"
        )
        .unwrap(),
        "2"
    );
}

/// Tenant B names app A's JWT role in a row-level security policy of its own. When A retires
/// that role and narrows its anonymous privileges, B's policy must not hold back A's apply: the
/// narrowing goes through, the retired role loses its membership and privileges and is kept
/// with a warning, verify reports it, and once the policy is gone a later apply drops it.
#[test]
fn policy_naming_another_apps_retired_role_does_not_hold_back_its_apply_live() {
    let pg = Pg::require();
    let db = "pol_db";
    let before = "[apps.pa]\ndatabase = \"pol_db\"\nanon-privileges = [\"select\", \"insert\"]\n[apps.pa.jwt]\n[apps.pa.jwt.roles.editor]\nprivileges = [\"select\", \"update\"]\n\n[apps.pb]\ndatabase = \"pol_db\"\nschema = \"api_b\"\n";
    let ws = Workspace::new(before);
    ws.ok(&["build"]);
    tenant(&pg, db, "pa");
    pg.sql(
        "postgres",
        &format!(
            "DROP ROLE IF EXISTS pb; CREATE ROLE pb LOGIN PASSWORD {}",
            lit(TENANT_PW)
        ),
    );
    pg.sql(db, "CREATE SCHEMA api_b AUTHORIZATION pb");
    pg.file(db, &file(&ws, "pa", "apply.sql"));
    pg.file(db, &file(&ws, "pb", "apply.sql"));
    as_tenant(
        &pg,
        "pb",
        db,
        "CREATE TABLE api_b.t(x int); ALTER TABLE api_b.t ENABLE ROW LEVEL SECURITY;
         CREATE POLICY p ON api_b.t TO pa_editor USING (true);",
    );
    // A retires `editor` and narrows its anonymous role to select.
    ws.write(
        "apps.toml",
        &before
            .replace(
                "anon-privileges = [\"select\", \"insert\"]",
                "anon-privileges = [\"select\"]",
            )
            .replace(
                "[apps.pa.jwt.roles.editor]\nprivileges = [\"select\", \"update\"]\n",
                "[apps.pa.jwt.roles.reader]\nprivileges = [\"select\"]\n",
            ),
    );
    ws.ok(&["build"]);
    let out = pg
        .try_file_output(db, &file(&ws, "pa", "apply.sql"))
        .expect("A's apply is not held back by B's policy");
    assert!(
        out.contains("retired role \"pa_editor\" is kept for now"),
        "{out}"
    );
    assert_eq!(
        pg.sql(
            db,
            "SELECT has_table_privilege('pa_web_anon', 'api_v1.places', 'INSERT')"
        ),
        "f",
        "the narrowing went through"
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_auth_members WHERE roleid = 'pa_editor'::regrole"
        ),
        "0",
        "the retired role is no longer grantable to the authenticator"
    );
    let drift = pg.try_file(db, &file(&ws, "pa", "verify.sql")).unwrap_err();
    assert!(drift.contains("pa_editor"), "{drift}");
    as_tenant(&pg, "pb", db, "DROP POLICY p ON api_b.t");
    pg.file(db, &file(&ws, "pa", "apply.sql"));
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname = 'pa_editor'"
        ),
        "0"
    );
    pg.file(db, &file(&ws, "pa", "verify.sql"));
}

/// Hosted PostgreSQL: the administrator (CREATEROLE, no SUPERUSER) holds the privileges of
/// every owner it serves, so PostgreSQL picks the grantor of each of its GRANTs among those
/// roles: the first that holds the grant option, not necessarily the object's owner. A tenant
/// gives the grant option on its own objects to the administrator and to another tenant's
/// owner; apply then records its grants as made by them (the other tenant's owner acting in
/// this tenant's database), exits 0, and leaves drift that the next apply, on 16+, refuses with
/// a hint to give the administrator SET on the other tenant's owner.
#[test]
fn tenant_grant_options_steer_the_hosted_admins_grantor_live() {
    let pg = Pg::require();
    let admin_pw = "platform-admin-pw-1";
    let pg16 = pg.version_at_least(160000);
    for db in ["gsa_db", "gsb_db"] {
        pg.sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
    }
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS gsa_authenticator, gsa_web_anon, gsb_authenticator, gsb_web_anon, gsa_own, gsb_own, gs_admin;
         CREATE ROLE gs_admin LOGIN CREATEROLE CREATEDB PASSWORD 'platform-admin-pw-1'",
    );
    // B's owner is created first: it comes first in the administrator's memberships.
    tenant(&pg, "gsb_db", "gsb_own");
    tenant(&pg, "gsa_db", "gsa_own");
    for o in ["gsb_own", "gsa_own"] {
        let opts = if pg16 {
            " WITH INHERIT TRUE, SET TRUE"
        } else {
            ""
        };
        pg.sql("postgres", &format!("GRANT {o} TO gs_admin{opts}"));
    }
    let ws = Workspace::new(
        "[apps.gsa]\ndatabase = \"gsa_db\"\nowner = \"gsa_own\"\n\n[apps.gsb]\ndatabase = \"gsb_db\"\nowner = \"gsb_own\"\n",
    );
    ws.ok(&["build"]);
    // (ok, what psql printed to stderr), logged in as the hosted administrator.
    let as_admin = |db: &str, f: &std::path::Path| match pg.try_file_as("gs_admin", admin_pw, db, f)
    {
        Ok(log) => (true, log),
        Err(log) => (false, log),
    };
    // Tenant A hands grant options on its own schema and view to the administrator and to B's
    // owner (both legal for an owner), before its first apply.
    as_tenant(
        &pg,
        "gsa_own",
        "gsa_db",
        "GRANT USAGE ON SCHEMA api_v1 TO gsb_own WITH GRANT OPTION;
         GRANT SELECT ON api_v1.places TO gs_admin WITH GRANT OPTION;",
    );
    let (ok, log) = as_admin("gsa_db", &file(&ws, "gsa", "apply.sql"));
    assert!(ok, "apply as the hosted administrator: {log}");
    let grantors = pg.sql(
        "gsa_db",
        "SELECT string_agg(DISTINCT g.grantor::regrole::text, ',') FROM (
           SELECT (aclexplode(nspacl)).* FROM pg_namespace WHERE nspname = 'api_v1'
           UNION ALL SELECT (aclexplode(relacl)).* FROM pg_class WHERE oid = 'api_v1.places'::regclass) g
          WHERE g.grantee = 'gsa_web_anon'::regrole",
    );
    // What apply grants must be granted by the object's owner (what verify expects), never by
    // the administrator or by another tenant's owner.
    assert_eq!(
        grantors, "gsa_own",
        "apply's grants were recorded as made by: {grantors}"
    );
    let (ok, log) = as_admin("gsa_db", &file(&ws, "gsa", "verify.sql"));
    assert!(ok, "verify after apply: {log}");
    let (ok, log) = as_admin("gsa_db", &file(&ws, "gsa", "apply.sql"));
    assert!(ok, "second apply: {log}");
}

/// Hosted PostgreSQL, a database the platform owns shared by apps of two tenants. Tenant A,
/// owning only its schema there, grants SELECT on its view to a third app's role and the grant
/// option on it to the administrator. Every apply in that database must revoke that grant (the
/// third app's role is another database's); the administrator's plain REVOKE then acts as
/// itself (PostgreSQL's choice of grantor), revoked nothing, and co-tenant C's apply failed on
/// every run; each REVOKE is now made as the entry's grantor, so C converges.
#[test]
fn cotenant_grant_option_to_the_hosted_admin_blocks_other_apps_apply_live() {
    let pg = Pg::require();
    let pg16 = pg.version_at_least(160000);
    for db in ["cgs_db", "cgb_db"] {
        pg.sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
    }
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS cga_authenticator, cga_web_anon, cgb_authenticator, cgb_web_anon,
                             cgc_authenticator, cgc_web_anon, cga_own, cgb_own, cgc_own, cg_admin;
         CREATE ROLE cg_admin LOGIN CREATEROLE CREATEDB PASSWORD 'platform-admin-pw-1';
         CREATE ROLE cga_own LOGIN PASSWORD 'tenant-password-1'; CREATE ROLE cgc_own NOLOGIN;
         DROP ROLE IF EXISTS cg_dbowner; CREATE ROLE cg_dbowner NOLOGIN",
    );
    // The shared database belongs to the platform (a provider's bootstrap role), not a tenant.
    pg.sql("postgres", "CREATE DATABASE cgs_db OWNER cg_dbowner");
    tenant(&pg, "cgb_db", "cgb_own");
    pg.sql(
        "cgs_db",
        "CREATE SCHEMA api_a AUTHORIZATION cga_own; CREATE SCHEMA api_c AUTHORIZATION cgc_own;
         SET ROLE cga_own; CREATE VIEW api_a.v AS SELECT 1 AS x; RESET ROLE;
         SET ROLE cgc_own; CREATE VIEW api_c.v AS SELECT 1 AS x; RESET ROLE;",
    );
    for o in ["cga_own", "cgb_own", "cgc_own", "cg_dbowner"] {
        let opts = if pg16 {
            " WITH INHERIT TRUE, SET TRUE"
        } else {
            ""
        };
        pg.sql("postgres", &format!("GRANT {o} TO cg_admin{opts}"));
    }
    let ws = Workspace::new(
        "[apps.cga]\ndatabase = \"cgs_db\"\nowner = \"cga_own\"\nschemas = [\"api_a\"]\n\n\
         [apps.cgb]\ndatabase = \"cgb_db\"\nowner = \"cgb_own\"\n\n\
         [apps.cgc]\ndatabase = \"cgs_db\"\nowner = \"cgc_own\"\nschemas = [\"api_c\"]\n",
    );
    ws.ok(&["build"]);
    // (ok, what psql printed to stderr), logged in as the hosted administrator.
    let as_admin = |db: &str, f: &std::path::Path| match pg.try_file_as(
        "cg_admin",
        "platform-admin-pw-1",
        db,
        f,
    ) {
        Ok(log) => (true, log),
        Err(log) => (false, log),
    };
    for (app, db) in [("cgb", "cgb_db"), ("cga", "cgs_db"), ("cgc", "cgs_db")] {
        let (ok, log) = as_admin(db, &file(&ws, app, "apply.sql"));
        assert!(ok, "first apply of {app}: {log}");
    }
    as_tenant(
        &pg,
        "cga_own",
        "cgs_db",
        "GRANT SELECT ON api_a.v TO cgb_web_anon; GRANT SELECT ON api_a.v TO cg_admin WITH GRANT OPTION;",
    );
    let (ok, log) = as_admin("cgs_db", &file(&ws, "cgc", "apply.sql"));
    assert!(
        ok,
        "co-tenant C's apply must not be held back by tenant A's grants: {log}"
    );
    pg.sql("cgs_db", "DROP SCHEMA api_a CASCADE");
    pg.sql("postgres", "DROP DATABASE cgs_db WITH (FORCE)");
    pg.sql("postgres", "DROP ROLE cg_dbowner");
}

/// The role SQL finds what names the app's roles through pg_shdepend by their oids (and the
/// owner's), not by reading every ACL of the cluster. Each path such a lookup reaches
/// differently from a catalog-wide scan: a column grant made by a grantor that does not own the
/// table, a default privilege in a schema that is not exposed, an app role that is only the
/// grantor of an entry, a parameter and another database (shared objects), and another
/// database's app roles named by the tenant on its own table and on its database. Verify names
/// each one; apply revokes every one it can reach from here and reports the other database.
#[test]
fn indexed_lookups_find_every_entry_naming_the_apps_roles_live() {
    let pg = Pg::require();
    let db = "ix_db";
    let ws = Workspace::new(
        "[apps.ix]\ndatabase = \"ix_db\"\n\n[apps.iy]\ndatabase = \"iy_db\"\nowner = \"iy\"\n",
    );
    ws.ok(&["build"]);
    tenant(&pg, db, "ix");
    tenant(&pg, "iy_db", "iy");
    pg.file(db, &file(&ws, "ix", "apply.sql"));
    pg.file("iy_db", &file(&ws, "iy", "apply.sql"));
    pg.sql(
        "postgres",
        "DROP DATABASE IF EXISTS ix_elsewhere WITH (FORCE)",
    );
    pg.sql("postgres", "CREATE DATABASE ix_elsewhere");
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS ix_third; CREATE ROLE ix_third NOLOGIN",
    );
    // A third role's table, on which the tenant holds a grant option.
    pg.sql(
        db,
        "CREATE SCHEMA side AUTHORIZATION ix_third; SET ROLE ix_third;
         CREATE TABLE side.t (a int, b int); GRANT USAGE ON SCHEMA side TO ix;
         GRANT SELECT ON side.t TO ix WITH GRANT OPTION; RESET ROLE;
         GRANT USAGE ON SCHEMA marts TO ix_web_anon; GRANT SELECT ON marts.places TO ix_web_anon WITH GRANT OPTION;
         SET ROLE ix_web_anon; GRANT SELECT ON marts.places TO ix_third; RESET ROLE;
         GRANT SET ON PARAMETER work_mem TO ix_web_anon;",
    );
    as_tenant(
        &pg,
        "ix",
        db,
        "GRANT SELECT (b) ON side.t TO ix_web_anon;
         ALTER DEFAULT PRIVILEGES IN SCHEMA marts GRANT SELECT ON TABLES TO ix_web_anon;
         GRANT SELECT ON marts.places TO iy_web_anon;
         GRANT CONNECT ON DATABASE ix_db TO iy_authenticator;",
    );
    pg.sql("ix_elsewhere", "GRANT CONNECT ON DATABASE ix_elsewhere TO ix_authenticator; CREATE TABLE t (x int); GRANT SELECT ON t TO ix_web_anon;");

    let drift = pg.try_file(db, &file(&ws, "ix", "verify.sql")).unwrap_err();
    for expected in [
        "ix_web_anon holds SELECT (b) on TABLE side.t (granted by ix)",
        "ix_web_anon holds SELECT on DEFAULT PRIVILEGES FOR ROLE ix IN SCHEMA marts ON TABLES",
        "ix_web_anon holds SELECT on TABLE marts.places",
        "ix_web_anon holds SET on PARAMETER work_mem",
        "ix_web_anon holds USAGE on SCHEMA marts",
        "ix_authenticator holds CONNECT on DATABASE ix_elsewhere",
        "iy_web_anon holds SELECT on TABLE marts.places (granted by ix)",
        "in database ix_elsewhere",
    ] {
        assert!(
            drift.contains(expected),
            "verify does not name {expected:?}:\n{drift}"
        );
    }
    // A database's ACL is in a catalog every database shares: the grant of CONNECT on ix_db
    // to iy's authenticator is iy's verify's to report (and iy's apply's to revoke), from
    // iy_db; ix's run does not read the ACL through for other apps' roles.
    let drift_iy = pg
        .try_file("iy_db", &file(&ws, "iy", "verify.sql"))
        .unwrap_err();
    assert!(
        drift_iy.contains("iy_authenticator holds CONNECT on DATABASE ix_db (granted by ix)"),
        "iy's verify does not name the grant on ix_db:\n{drift_iy}"
    );
    assert!(
        !drift.contains("iy_authenticator"),
        "ix's verify names another app's grant on its database:\n{drift}"
    );

    let warned = pg
        .try_file_output(db, &file(&ws, "ix", "apply.sql"))
        .unwrap();
    assert!(
        warned.contains("ix_elsewhere"),
        "apply does not name the other database:\n{warned}"
    );
    pg.file("iy_db", &file(&ws, "iy", "apply.sql"));
    let left = pg.sql(
        db,
        "SELECT concat_ws(',',
           NULLIF(has_column_privilege('ix_web_anon', 'side.t', 'b', 'SELECT'), false)::text,
           (SELECT 'default acl' FROM pg_default_acl d, aclexplode(d.defaclacl) g
             WHERE g.grantee = 'ix_web_anon'::regrole AND d.defaclnamespace = 'marts'::regnamespace),
           NULLIF(has_table_privilege('ix_third', 'marts.places', 'SELECT'), false)::text,
           NULLIF(has_table_privilege('ix_web_anon', 'marts.places', 'SELECT'), false)::text,
           (SELECT 'parameter' FROM pg_parameter_acl p, aclexplode(p.paracl) g WHERE g.grantee = 'ix_web_anon'::regrole),
           (SELECT 'elsewhere' FROM pg_database d, aclexplode(d.datacl) g
             WHERE d.datname = 'ix_elsewhere' AND g.grantee = 'ix_authenticator'::regrole),
           NULLIF(has_table_privilege('iy_web_anon', 'marts.places', 'SELECT'), false)::text,
           (SELECT 'iy connect' FROM pg_database d, aclexplode(d.datacl) g
             WHERE d.datname = 'ix_db' AND g.grantee = 'iy_authenticator'::regrole))",
    );
    assert_eq!(left, "", "apply left entries naming the roles");
    // What it holds in the other database is that database's to change; then verify is clean.
    pg.sql("ix_elsewhere", "REVOKE SELECT ON t FROM ix_web_anon");
    pg.file(db, &file(&ws, "ix", "verify.sql"));
    pg.file("iy_db", &file(&ws, "iy", "verify.sql"));
}

/// A co-tenant that owns the database makes a schema, plants a composite type in it, and the
/// schema is then handed to another app's owner. Like a table, view, routine, enum or
/// operator, a type another role owns in an exposed schema must be refused (README: "a table,
/// view, routine, type or operator another role owns there"): its owner can `DROP TYPE ...
/// CASCADE`, taking the app's columns and routines that use it, or change its attributes under
/// the API. The owner check before the index lookups found it (pg_class scan, relkind 'c');
/// the lookup through pg_depend misses it: a composite type's pg_class row records no
/// namespace dependency, and the pg_type branch skips typrelid <> 0. (A multirange type placed
/// there, its range elsewhere, is still found: checked alongside.)
#[test]
fn composite_and_multirange_types_planted_in_another_apps_schema_are_refused_live() {
    let pg = Pg::require();
    let db = "plantc_db";
    let ws = Workspace::new(
        "[apps.plantc]\ndatabase = \"plantc_db\"\n\n[apps.plantd]\ndatabase = \"plantc_db\"\nschema = \"api_d\"\n",
    );
    ws.ok(&["build"]);
    tenant(&pg, db, "plantc");
    pg.sql(
        "postgres",
        &format!(
            "DROP ROLE IF EXISTS plantd; CREATE ROLE plantd LOGIN PASSWORD {}",
            lit(TENANT_PW)
        ),
    );
    pg.file(db, &file(&ws, "plantc", "apply.sql"));
    as_tenant(
        &pg,
        "plantc",
        db,
        "CREATE SCHEMA api_d; CREATE SCHEMA mine;
         CREATE TYPE api_d.pair AS (a int, b int);
         CREATE TYPE mine.span AS RANGE (subtype = int4, multirange_type_name = api_d.spans);",
    );
    pg.sql(db, "ALTER SCHEMA api_d OWNER TO plantd");
    let err = pg
        .try_file(db, &file(&ws, "plantd", "verify.sql"))
        .unwrap_err();
    let applied = pg.try_file(db, &file(&ws, "plantd", "apply.sql"));
    for what in [
        "schema api_d holds type api_d.pair owned by plantc",
        "schema api_d holds type api_d.spans owned by plantc",
    ] {
        assert!(err.contains(what), "verify: {what}\n{err}");
        let applied = applied.as_ref().map_err(|e| e.as_str());
        assert!(
            matches!(applied, Err(e) if e.contains(what)),
            "apply: {what}\n{applied:?}"
        );
    }
}

/// The owner's lock key (a pair) of `owner`, from the steps apply.sql defines.
fn owner_lock_key(ws: &Workspace, owner: &str) -> String {
    let steps = std::fs::read_to_string(ws.out("sql/apply-write-functions.sql")).unwrap();
    let args = steps
        .split("PERFORM pg_advisory_xact_lock(")
        .nth(1)
        .unwrap()
        .split(");")
        .next()
        .unwrap();
    args.replace(
        "coalesce(owner, 0)::int4",
        &format!("{}::regrole::oid::int4", lit(owner)),
    )
}

/// Runs `app`'s apply.sql in the background while the tenant holds the owner's lock; once the
/// apply waits for it, runs `meanwhile` (the tenant's or another administrator's moves), then
/// ends the holder and returns the apply's outcome.
fn apply_across_a_held_lock(
    pg: &Pg,
    ws: &Workspace,
    app: &str,
    owner: &str,
    db: &str,
    meanwhile: impl FnOnce(),
) -> Result<String, String> {
    let holder = pg.spawn_as(
        owner,
        TENANT_PW,
        db,
        &format!(
            "SELECT pg_advisory_lock({}); SELECT pg_sleep(120);",
            owner_lock_key(ws, owner)
        ),
    );
    let guard = KillOnDrop(holder);
    wait_for(
        pg,
        db,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
    );
    let apply = file(ws, app, "apply.sql");
    let db_owned = db.to_string();
    let run = std::thread::spawn(move || Pg.try_file_output(&db_owned, &apply));
    // apply.sql's checks have run (and looked the app's oids up); its first step waits.
    wait_for(
        pg,
        db,
        "SELECT (count(*) > 0)::int FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
    );
    meanwhile();
    drop(guard);
    pg.sql(
        db,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted",
    );
    run.join().unwrap()
}

/// The tenant holds its owner's lock (anyone may), so apply.sql's checks run and then wait;
/// meanwhile it renames the exposed schema and makes a new one of the same name. The steps must
/// act on the schema that is exposed when they run, not on the one the checks saw: an apply
/// that reports success has to leave the app converged (verify ok), with nothing granted on the
/// renamed schema, which PostgREST does not expose.
#[test]
fn schema_renamed_during_the_lock_wait_is_not_granted_by_stale_oid_live() {
    let pg = Pg::require();
    let db = "stale_db";
    let ws = Workspace::new("[apps.stale]\ndatabase = \"stale_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "stale");
    pg.file(db, &file(&ws, "stale", "apply.sql"));
    pg.file(db, &file(&ws, "stale", "verify.sql"));
    // Drift, so that the next apply runs its steps.
    as_tenant(
        &pg,
        "stale",
        db,
        "REVOKE SELECT ON api_v1.places FROM stale_web_anon",
    );
    let applied = apply_across_a_held_lock(&pg, &ws, "stale", "stale", db, || {
        as_tenant(
            &pg,
            "stale",
            db,
            "ALTER SCHEMA api_v1 RENAME TO stash; CREATE SCHEMA api_v1;
             CREATE VIEW api_v1.places AS SELECT id, name FROM marts.places;",
        );
    });
    if let Ok(out) = applied {
        let verify = pg.try_file(db, &file(&ws, "stale", "verify.sql"));
        assert!(
            verify.is_ok(),
            "apply.sql succeeded ({out}) but left the app drifted:\n{}",
            verify.unwrap_err()
        );
    }
    assert_eq!(
        pg.sql(
            db,
            "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) g
              WHERE n.nspname = 'stash' AND g.grantee = 'stale_web_anon'::regrole"
        ),
        "0",
        "nothing granted on the renamed schema"
    );
}

/// A new app (none of its roles exists when apply.sql's checks run) takes the fresh path.
/// While its first step waits for the owner's lock (which the tenant holds), another
/// administrator makes a role with one of the app's names, owning a table here and holding
/// grants here and in another database. The preflight must still refuse such a role, as it
/// does when the role existed before the run (preexisting_roles_with_holdings_are_refused_...):
/// never adopt it (mark it), never revoke what it was granted, never report success.
#[test]
fn fresh_path_adopts_a_role_made_during_the_lock_wait_live() {
    let pg = Pg::require();
    let db = "late_db";
    let ws = Workspace::new("[apps.late]\ndatabase = \"late_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "late");
    pg.seed("late_other_db", "late_other", "api_v1");
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS late_web_anon; DROP ROLE IF EXISTS late_authenticator",
    );
    let applied = apply_across_a_held_lock(&pg, &ws, "late", "late", db, || {
        pg.sql("postgres", "CREATE ROLE late_web_anon NOLOGIN");
        pg.sql(
            db,
            "GRANT SELECT ON marts.places TO late_web_anon;
             CREATE TABLE public.history (x int); INSERT INTO public.history VALUES (1), (2);
             ALTER TABLE public.history OWNER TO late_web_anon;",
        );
        pg.sql(
            "late_other_db",
            "GRANT SELECT ON marts.places TO late_web_anon",
        );
    });
    assert!(
        applied.is_err(),
        "apply.sql adopted a role that owns a table and holds grants: {applied:?}\nverify says: {:?}",
        pg.try_file(db, &file(&ws, "late", "verify.sql"))
    );
    let err = applied.unwrap_err();
    assert!(
        err.contains("role late_web_anon owns table public.history"),
        "{err}"
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_shdescription WHERE objoid = 'late_web_anon'::regrole"
        ),
        "0",
        "not adopted"
    );
    assert_eq!(
        pg.sql(
            db,
            "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) g
              WHERE c.oid = 'marts.places'::regclass AND g.grantee = 'late_web_anon'::regrole"
        ),
        "1",
        "its grant was not revoked"
    );
}

/// The same race with every role: another administrator (or a second apply of the same new
/// app, started at once) makes both of the app's roles in the window. The roles step creates
/// none, so the steps after it keep the oids the checks cached (none): they grant nothing and
/// look for nothing, yet apply.sql reports success.
#[test]
fn fresh_path_with_every_role_made_during_the_lock_wait_grants_nothing_live() {
    let pg = Pg::require();
    let db = "both_db";
    let ws = Workspace::new("[apps.both]\ndatabase = \"both_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, db, "both");
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS both_web_anon; DROP ROLE IF EXISTS both_authenticator",
    );
    let applied = apply_across_a_held_lock(&pg, &ws, "both", "both", db, || {
        pg.sql(
            "postgres",
            "CREATE ROLE both_web_anon NOLOGIN; CREATE ROLE both_authenticator LOGIN",
        );
        pg.sql(db, "GRANT SELECT ON marts.places TO both_web_anon");
    });
    if let Ok(out) = applied {
        let verify = pg.try_file(db, &file(&ws, "both", "verify.sql"));
        assert!(
            verify.is_ok(),
            "apply.sql succeeded ({out}) but left the app drifted:\n{}",
            verify.unwrap_err()
        );
    }
}

/// The grant on the host's database reaches the grantee through a grant
/// option of pg_database_owner (which the host is, in its database only): the grantor is
/// neither the host nor an app role. The grantee app's verify must name it, and its apply, run
/// by a superuser and by a hosted administrator from the grantee's own database, must revoke it.
#[test]
fn cotenant_database_grant_through_pg_database_owner_is_revoked_by_the_grantee_live() {
    let pg = Pg::require();
    let pg16 = pg.version_at_least(160000);
    let admin_pw = "platform-admin-pw-1";
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS pd_admin; CREATE ROLE pd_admin LOGIN CREATEROLE CREATEDB PASSWORD 'platform-admin-pw-1'",
    );
    let ws =
        Workspace::new("[apps.pdv]\ndatabase = \"pdv_db\"\n[apps.pdh]\ndatabase = \"pdh_db\"\n");
    ws.ok(&["build"]);
    tenant(&pg, "pdv_db", "pdv");
    tenant(&pg, "pdh_db", "pdh");
    let opts = if pg16 {
        " WITH INHERIT TRUE, SET TRUE"
    } else {
        ""
    };
    for o in ["pdv", "pdh"] {
        pg.sql("postgres", &format!("GRANT {o} TO pd_admin{opts}"));
    }
    let as_admin = |db: &str, f: &std::path::Path| pg.try_file_as("pd_admin", admin_pw, db, f);
    // Hosted first: the roles are then the hosted administrator's (PostgreSQL 16+ gives ADMIN to
    // their creator only).
    for hosted in [true, false] {
        for (app, db) in [("pdv", "pdv_db"), ("pdh", "pdh_db")] {
            if hosted {
                as_admin(db, &file(&ws, app, "apply.sql"))
                    .unwrap_or_else(|e| panic!("hosted apply of {app}: {e}"));
            } else {
                pg.file(db, &file(&ws, app, "apply.sql"));
            }
        }
        as_tenant(
            &pg,
            "pdh",
            "pdh_db",
            "GRANT CONNECT, TEMPORARY ON DATABASE pdh_db TO pg_database_owner WITH GRANT OPTION;
             SET ROLE pg_database_owner;
             GRANT CONNECT, TEMPORARY ON DATABASE pdh_db TO pdv_authenticator, pdv_web_anon;
             RESET ROLE;",
        );
        let drift = pg
            .try_file("pdv_db", &file(&ws, "pdv", "verify.sql"))
            .unwrap_err();
        for e in [
            "pdv_authenticator holds CONNECT on DATABASE pdh_db (granted by pg_database_owner)",
            "pdv_web_anon holds TEMPORARY on DATABASE pdh_db (granted by pg_database_owner)",
        ] {
            assert!(
                drift.contains(e),
                "hosted={hosted}: verify misses {e:?}:\n{drift}"
            );
        }
        if hosted {
            as_admin("pdv_db", &file(&ws, "pdv", "apply.sql"))
                .unwrap_or_else(|e| panic!("hosted apply of the grantee: {e}"));
        } else {
            pg.file("pdv_db", &file(&ws, "pdv", "apply.sql"));
        }
        pg.file("pdv_db", &file(&ws, "pdv", "verify.sql"));
        pg.file("pdh_db", &file(&ws, "pdh", "verify.sql"));
        let left = entries_on_database(&pg, "pdh_db", "pdv%");
        assert_eq!(left, "0", "hosted={hosted}");
        as_tenant(
            &pg,
            "pdh",
            "pdh_db",
            "REVOKE ALL ON DATABASE pdh_db FROM pg_database_owner CASCADE",
        );
    }
}

/// One database shared by three apps, owned by the tenant of one of them (A). A grants on the database itself to co-tenant B's roles (with grant option) and to
/// another database's app X's authenticator; then a new app C (the fresh path, which no longer
/// reads the database's ACL) is applied there. Every app's verify must report exactly its own
/// roles' entries, C must converge, and B's and X's applies must leave the ACL with only what
/// apply grants.
#[test]
fn tenant_owned_shared_database_grants_to_cotenants_and_a_new_app_live() {
    let pg = Pg::require();
    let db = "tsh_db";
    for d in [db, "tsx_db"] {
        pg.sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {d} WITH (FORCE)"),
        );
    }
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS tsb_own, tsc_own; CREATE ROLE tsb_own NOLOGIN; CREATE ROLE tsc_own NOLOGIN",
    );
    tenant(&pg, db, "tsa_own");
    tenant(&pg, "tsx_db", "tsx_own");
    pg.sql(
        db,
        "CREATE SCHEMA api_b AUTHORIZATION tsb_own; CREATE SCHEMA api_c AUTHORIZATION tsc_own;",
    );
    let ws = Workspace::new(
        "[apps.tsa]\ndatabase = \"tsh_db\"\nowner = \"tsa_own\"\nschemas = [\"api_v1\"]\n\n\
         [apps.tsb]\ndatabase = \"tsh_db\"\nowner = \"tsb_own\"\nschemas = [\"api_b\"]\n\n\
         [apps.tsc]\ndatabase = \"tsh_db\"\nowner = \"tsc_own\"\nschemas = [\"api_c\"]\n\n\
         [apps.tsx]\ndatabase = \"tsx_db\"\nowner = \"tsx_own\"\n",
    );
    ws.ok(&["build"]);
    for (app, d) in [("tsa", db), ("tsb", db), ("tsx", "tsx_db")] {
        pg.file(d, &file(&ws, app, "apply.sql"));
    }
    as_tenant(
        &pg,
        "tsa_own",
        db,
        "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE tsh_db TO tsb_authenticator WITH GRANT OPTION;
         GRANT CREATE, TEMPORARY ON DATABASE tsh_db TO tsb_web_anon;
         GRANT CONNECT, TEMPORARY ON DATABASE tsh_db TO tsx_authenticator, tsx_web_anon;",
    );
    // C is new: its roles appear only now; the fresh path must still converge.
    pg.file(db, &file(&ws, "tsc", "apply.sql"));
    pg.file(db, &file(&ws, "tsc", "verify.sql"));
    pg.file(db, &file(&ws, "tsa", "verify.sql"));
    let b = pg
        .try_file(db, &file(&ws, "tsb", "verify.sql"))
        .unwrap_err();
    assert!(
        b.contains("tsb_web_anon holds CREATE on DATABASE tsh_db"),
        "{b}"
    );
    assert!(
        b.contains("tsb_authenticator holds CREATE on DATABASE tsh_db"),
        "{b}"
    );
    let x = pg
        .try_file("tsx_db", &file(&ws, "tsx", "verify.sql"))
        .unwrap_err();
    assert!(
        x.contains("tsx_authenticator holds CONNECT on DATABASE tsh_db"),
        "{x}"
    );
    assert!(
        x.contains("tsx_web_anon holds TEMPORARY on DATABASE tsh_db"),
        "{x}"
    );
    pg.file(db, &file(&ws, "tsb", "apply.sql"));
    pg.file("tsx_db", &file(&ws, "tsx", "apply.sql"));
    for (app, d) in [("tsa", db), ("tsb", db), ("tsc", db), ("tsx", "tsx_db")] {
        pg.file(d, &file(&ws, app, "verify.sql"));
    }
    let acl = pg.sql(
        "postgres",
        "SELECT string_agg(e, ',' ORDER BY e) FROM (
           SELECT g.grantee::regrole::text || ':' || g.privilege_type || ':' || g.is_grantable AS e
             FROM pg_database d, aclexplode(d.datacl) g
            WHERE d.datname = 'tsh_db' AND g.grantee::regrole::text ~ '^ts[abcx]_(authenticator|web_anon)$') s",
    );
    assert_eq!(
        acl,
        "tsa_authenticator:CONNECT:false,tsb_authenticator:CONNECT:false,tsc_authenticator:CONNECT:false"
    );
}

/// Hosted PostgreSQL: app V lives in a database the platform owns (its authenticator's
/// CONNECT is in place, so the administrator no longer acts as that database's owner). Tenant
/// H, in its own database, grants itself (as pg_database_owner, which it is there) a grant
/// option on CONNECT and passes CONNECT on to V's authenticator. Only V's own run looks at that
/// entry (the database's ACL is in a shared catalog), and it cannot act as pg_database_owner
/// outside H's database: it revokes pg_database_owner's grant option as H instead, whose
/// CASCADE takes the entry along. V's apply converges; nothing of H's is needed from a
/// superuser.
#[test]
fn cotenant_database_grant_through_pg_database_owner_on_a_platform_database_is_revoked_by_the_hosted_apply_live(
) {
    let pg = Pg::require();
    let pg16 = pg.version_at_least(160000);
    let admin_pw = "platform-admin-pw-1";
    pg.sql("postgres", "DROP DATABASE IF EXISTS pds_db WITH (FORCE)");
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS pdsv_authenticator, pdsv_web_anon, pdsh_authenticator, pdsh_web_anon, pds_admin, pds_dbowner, pdsv_own;
         CREATE ROLE pds_admin LOGIN CREATEROLE CREATEDB PASSWORD 'platform-admin-pw-1';
         CREATE ROLE pds_dbowner NOLOGIN; CREATE ROLE pdsv_own NOLOGIN;",
    );
    pg.sql("postgres", "CREATE DATABASE pds_db OWNER pds_dbowner");
    pg.sql(
        "pds_db",
        "CREATE SCHEMA api_v1 AUTHORIZATION pdsv_own; SET ROLE pdsv_own;
         CREATE VIEW api_v1.v AS SELECT 1 AS x; RESET ROLE;",
    );
    tenant(&pg, "pdsh_db", "pdsh");
    let opts = if pg16 {
        " WITH INHERIT TRUE, SET TRUE"
    } else {
        ""
    };
    for o in ["pdsv_own", "pdsh", "pds_dbowner"] {
        pg.sql("postgres", &format!("GRANT {o} TO pds_admin{opts}"));
    }
    let ws = Workspace::new(
        "[apps.pdsv]\ndatabase = \"pds_db\"\nowner = \"pdsv_own\"\n[apps.pdsh]\ndatabase = \"pdsh_db\"\n",
    );
    ws.ok(&["build"]);
    let as_admin = |db: &str, f: &std::path::Path| pg.try_file_as("pds_admin", admin_pw, db, f);
    for (app, db) in [("pdsv", "pds_db"), ("pdsh", "pdsh_db")] {
        as_admin(db, &file(&ws, app, "apply.sql"))
            .unwrap_or_else(|e| panic!("hosted apply of {app}: {e}"));
    }
    // CONNECT is in place: the platform takes back the administrator's use of its database's
    // owner, and app V still converges without it.
    pg.sql("postgres", "REVOKE pds_dbowner FROM pds_admin");
    as_admin("pds_db", &file(&ws, "pdsv", "apply.sql"))
        .unwrap_or_else(|e| panic!("converged hosted apply of pdsv: {e}"));
    as_tenant(
        &pg,
        "pdsh",
        "pdsh_db",
        "GRANT CONNECT ON DATABASE pdsh_db TO pg_database_owner WITH GRANT OPTION;
         SET ROLE pg_database_owner;
         GRANT CONNECT ON DATABASE pdsh_db TO pdsv_authenticator;
         RESET ROLE;",
    );
    // The host's own verify and apply are clean (the entry is no longer theirs)...
    as_admin("pdsh_db", &file(&ws, "pdsh", "apply.sql")).unwrap();
    as_admin("pdsh_db", &file(&ws, "pdsh", "verify.sql")).unwrap();
    // ...and the grantee's apply, the only run that looks at it, revokes it as H.
    let applied = as_admin("pds_db", &file(&ws, "pdsv", "apply.sql"));
    let left = entries_on_database(&pg, "pdsh_db", "pdsv_authenticator");
    // Clean up the cluster-wide state before asserting.
    as_tenant(
        &pg,
        "pdsh",
        "pdsh_db",
        "REVOKE ALL ON DATABASE pdsh_db FROM pg_database_owner CASCADE",
    );
    assert!(
        applied.is_ok() && left == "0",
        "tenant pdsh's grant on its own database holds back app pdsv's hosted apply (entries left: {left}):\n{}",
        applied.err().unwrap_or_default()
    );
}

/// pg_database_owner's grant option on the host's database comes from a second grantor, the
/// host's own request role (the tenant makes it so through a function its PostgREST runs as
/// that role; SET ROLE here), and pg_database_owner passes CONNECT on to the victim app's
/// authenticator. Revoking that grant option as the database's owner would revoke nothing, so
/// a superuser's apply of the victim acts as pg_database_owner itself and converges. (A hosted
/// administrator cannot act as pg_database_owner outside that database: its run stops naming
/// the entry until the host's own apply, which revokes what its roles passed on, clears it.)
#[test]
fn cotenant_pg_database_owner_grant_option_from_a_second_grantor_is_revoked_by_a_superusers_apply_live(
) {
    let pg = Pg::require();
    for d in ["r19v_db", "r19h_db"] {
        pg.sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {d} WITH (FORCE)"),
        );
    }
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS r19v_authenticator, r19v_web_anon, r19h_authenticator, r19h_web_anon",
    );
    let ws = Workspace::new(
        "[apps.r19v]\ndatabase = \"r19v_db\"\n[apps.r19h]\ndatabase = \"r19h_db\"\n",
    );
    ws.ok(&["build"]);
    tenant(&pg, "r19v_db", "r19v");
    tenant(&pg, "r19h_db", "r19h");
    pg.file("r19v_db", &file(&ws, "r19v", "apply.sql"));
    pg.file("r19h_db", &file(&ws, "r19h", "apply.sql"));
    as_tenant(
        &pg,
        "r19h",
        "r19h_db",
        "GRANT CONNECT ON DATABASE r19h_db TO r19h_web_anon WITH GRANT OPTION",
    );
    // What an /rpc call of a tenant's SECURITY INVOKER function runs as r19h_web_anon.
    pg.sql(
        "r19h_db",
        "SET ROLE r19h_web_anon; GRANT CONNECT ON DATABASE r19h_db TO pg_database_owner WITH GRANT OPTION",
    );
    as_tenant(
        &pg,
        "r19h",
        "r19h_db",
        "SET ROLE pg_database_owner; GRANT CONNECT ON DATABASE r19h_db TO r19v_authenticator; RESET ROLE;",
    );
    let drift = pg
        .try_file("r19v_db", &file(&ws, "r19v", "verify.sql"))
        .unwrap_err();
    assert!(
        drift.contains("r19v_authenticator holds CONNECT on DATABASE r19h_db"),
        "{drift}"
    );
    let applied = pg.try_file("r19v_db", &file(&ws, "r19v", "apply.sql"));
    let left = entries_on_database(&pg, "r19h_db", "r19v_authenticator");
    as_tenant(
        &pg,
        "r19h",
        "r19h_db",
        "REVOKE ALL ON DATABASE r19h_db FROM r19h_web_anon CASCADE; REVOKE ALL ON DATABASE r19h_db FROM pg_database_owner CASCADE",
    );
    assert!(
        applied.is_ok() && left == "0",
        "tenant r19h holds back app r19v's apply (entries left: {left}):\n{}",
        applied.err().unwrap_or_default()
    );
}
