//! The generated role SQL on a real PostgreSQL server (run by `make test` on 15 and 17),
//! exercised the way PostgREST uses the roles. Assertions are on catalog state.
#![cfg(feature = "integration")]

mod common;
use common::{as_postgrest, as_role, lit, Pg, Workspace};

fn app_toml(app: &str, db: &str) -> String {
    format!("[apps.{app}]\ndatabase = \"{db}\"\n")
}

/// Everything the declared state consists of, as comparable text.
fn catalog_state(pg: &Pg, db: &str, app: &str) -> String {
    let stem = app.replace('-', "_");
    let roles = format!(
        "ARRAY[{}, {}]",
        lit(&format!("{stem}_authenticator")),
        lit(&format!("{stem}_web_anon"))
    );
    pg.sql(db, &format!("
      WITH r AS (SELECT oid, rolname FROM pg_roles WHERE rolname = ANY({roles}))
      SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
        SELECT format('role %s login=%s inherit=%s super=%s createdb=%s createrole=%s repl=%s bypassrls=%s pw=%s',
               rolname, rolcanlogin, rolinherit, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, left(rolpassword, 14))
          FROM pg_authid WHERE rolname = ANY({roles})
        UNION ALL SELECT format('member %s of %s admin=%s', m.rolname, g.rolname, am.admin_option)
          FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
         WHERE g.rolname = ANY({roles}) OR m.rolname = ANY({roles})
        UNION ALL SELECT format('setting %s %s', setrole::regrole, setconfig) FROM pg_db_role_setting WHERE setrole IN (SELECT oid FROM r)
        UNION ALL SELECT format('db %s %s %s', d.datname, g.grantee::regrole, g.privilege_type)
          FROM pg_database d, aclexplode(d.datacl) g WHERE g.grantee IN (SELECT oid FROM r)
        UNION ALL SELECT format('schema %s %s %s', n.nspname, g.grantee::regrole, g.privilege_type)
          FROM pg_namespace n, aclexplode(n.nspacl) g WHERE g.grantee IN (SELECT oid FROM r)
        UNION ALL SELECT format('rel %s %s %s', c.oid::regclass, g.grantee::regrole, g.privilege_type)
          FROM pg_class c, aclexplode(c.relacl) g WHERE g.grantee IN (SELECT oid FROM r)
        UNION ALL SELECT format('default %s %s %s %s %s', d.defaclrole::regrole, d.defaclnamespace::regnamespace, d.defaclobjtype, g.grantee::regrole, g.privilege_type)
          FROM pg_default_acl d, aclexplode(d.defaclacl) g WHERE g.grantee IN (SELECT oid FROM r)
      ) s(x)"))
}

/// Row versions of every catalog row apply.sql could write: equal before and after a run
/// means the run wrote nothing. A session's temporary schemas (pg_temp_N, made on first use
/// by the scripts' session-private functions) are not the app's state.
fn catalog_versions(pg: &Pg, db: &str) -> String {
    pg.sql(
        db,
        "SELECT string_agg(t || ':' || x, ',' ORDER BY t, x) FROM (
        SELECT 'authid', xmin::text || oid FROM pg_authid UNION ALL
        SELECT 'members', xmin::text || roleid || '-' || member FROM pg_auth_members UNION ALL
        SELECT 'setting', xmin::text || setrole FROM pg_db_role_setting UNION ALL
        SELECT 'database', xmin::text || oid FROM pg_database UNION ALL
        SELECT 'namespace', xmin::text || oid FROM pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_' UNION ALL
        SELECT 'class', xmin::text || oid FROM pg_class WHERE relnamespace > 16384 UNION ALL
        SELECT 'defacl', xmin::text || oid FROM pg_default_acl) s(t, x)",
    )
}

fn verify(pg: &Pg, ws: &Workspace, app: &str, db: &str) -> Result<String, String> {
    pg.try_file(db, &ws.out(&format!("apps/{app}/sql/verify.sql")))
}

fn apply(pg: &Pg, ws: &Workspace, app: &str, db: &str) {
    pg.file(db, &ws.out(&format!("apps/{app}/sql/apply.sql")));
}

#[test]
fn postgrest_reads_views_and_nothing_else() {
    let pg = Pg::require();
    let ws = Workspace::new(&app_toml("flow", "flow_db"));
    ws.ok(&["build"]);
    pg.seed("flow_db", "flow", "api_v1");
    pg.sql(
        "flow_db",
        "CREATE TABLE public.secret_stuff (x int); INSERT INTO public.secret_stuff VALUES (42)",
    );
    apply(&pg, &ws, "flow", "flow_db");
    verify(&pg, &ws, "flow", "flow_db").expect("converged database verifies");
    let pw = ws.password("flow");

    let rows = as_postgrest(
        &pg,
        "flow",
        &pw,
        "flow_db",
        "api_v1",
        "SELECT name FROM places ORDER BY id",
    )
    .unwrap();
    assert_eq!(rows, "Oslo\nBergen");
    for denied in [
        "SELECT * FROM marts.places",
        "SELECT * FROM public.secret_stuff",
        "INSERT INTO places VALUES (3, 'Tromsø')",
        "DELETE FROM places",
        "CREATE TABLE api_v1.t (x int)",
    ] {
        let err = as_postgrest(&pg, "flow", &pw, "flow_db", "api_v1", denied).unwrap_err();
        assert!(err.contains("permission denied"), "{denied}: {err}");
    }
    // The authenticator alone (no role switch) can read nothing.
    let err = pg
        .sql_as(
            "flow_authenticator",
            &pw,
            "flow_db",
            "SELECT * FROM api_v1.places",
        )
        .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    // A wrong password is refused.
    assert!(pg
        .sql_as("flow_authenticator", "wrong", "flow_db", "SELECT 1")
        .is_err());
    // A view the owner creates later is readable without re-applying.
    pg.sql(
        "flow_db",
        "SET ROLE flow; CREATE VIEW api_v1.later AS SELECT count(*) AS n FROM marts.places",
    );
    assert_eq!(
        as_postgrest(&pg, "flow", &pw, "flow_db", "api_v1", "SELECT n FROM later").unwrap(),
        "2"
    );
    // Anonymous requests are bounded by the statement timeout (5s default): PostgREST reads
    // the impersonated role's settings from pg_db_role_setting and applies them per request.
    let settings = pg.sql("flow_db", "SELECT setconfig FROM pg_db_role_setting WHERE setrole = 'flow_web_anon'::regrole AND setdatabase = 0");
    assert_eq!(settings, "{statement_timeout=5s}");
}

#[test]
fn verifier_is_what_the_server_stores() {
    let pg = Pg::require();
    let ws = Workspace::new(&app_toml("verif", "verif_db"));
    ws.ok(&["build"]);
    pg.seed("verif_db", "verif", "api_v1");
    apply(&pg, &ws, "verif", "verif_db");
    let lock = ws.locks();
    let stored = pg.sql(
        "verif_db",
        "SELECT rolpassword FROM pg_authid WHERE rolname = 'verif_authenticator'",
    );
    assert!(
        lock.contains(&format!("verifier = \"{stored}\"")),
        "pg_authid holds {stored}"
    );
    assert!(!lock.contains(&ws.password("verif")));
    pg.sql_as(
        "verif_authenticator",
        &ws.password("verif"),
        "verif_db",
        "SELECT 1",
    )
    .expect("login with the plaintext");
}

#[test]
fn rotation_replaces_the_password() {
    let pg = Pg::require();
    let ws = Workspace::new(&app_toml("rot", "rot_db"));
    ws.ok(&["build"]);
    pg.seed("rot_db", "rot", "api_v1");
    apply(&pg, &ws, "rot", "rot_db");
    let old = ws.password("rot");
    let gen1 = ws.read("out/apps/rot/deployment.yaml");
    ws.ok(&["rotate", "rot"]);
    let new = ws.password("rot");
    assert_ne!(old, new);
    verify(&pg, &ws, "rot", "rot_db").expect_err("verify sees the old verifier");
    apply(&pg, &ws, "rot", "rot_db");
    verify(&pg, &ws, "rot", "rot_db").unwrap();
    assert!(
        pg.sql_as("rot_authenticator", &old, "rot_db", "SELECT 1")
            .is_err(),
        "old password refused"
    );
    pg.sql_as("rot_authenticator", &new, "rot_db", "SELECT 1")
        .expect("new password accepted");
    assert!(ws.locks().contains("generation = 2"));
    let gen2 = ws.read("out/apps/rot/deployment.yaml");
    assert!(
        gen1.contains("credential-generation: \"1\"")
            && gen2.contains("credential-generation: \"2\"")
    );
}

#[test]
fn tenants_are_isolated() {
    let pg = Pg::require();
    let ws = Workspace::new(&format!(
        "{}{}",
        app_toml("iso-a", "iso_a_db"),
        app_toml("iso-b", "iso_b_db")
    ));
    ws.ok(&["build"]);
    pg.seed("iso_a_db", "iso_a", "api_v1");
    pg.seed("iso_b_db", "iso_b", "api_v1");
    apply(&pg, &ws, "iso-a", "iso_a_db");
    apply(&pg, &ws, "iso-b", "iso_b_db");
    let (pa, pb) = (ws.password("iso-a"), ws.password("iso-b"));
    // a's authenticator cannot become b's anonymous role (or b's authenticator).
    for role in ["iso_b_web_anon", "iso_b_authenticator"] {
        let err = pg
            .sql_as(
                "iso_a_authenticator",
                &pa,
                "iso_a_db",
                &format!("SET ROLE {role}"),
            )
            .unwrap_err();
        assert!(err.contains("permission denied"), "{role}: {err}");
    }
    // ... nor read b's data as its own anonymous role, even connected to b's database.
    let err = as_postgrest(
        &pg,
        "iso-a",
        &pa,
        "iso_b_db",
        "api_v1",
        "SELECT * FROM api_v1.places",
    )
    .unwrap_err();
    assert!(err.contains("permission denied"), "{err}");
    assert!(pg
        .sql_as("iso_a_authenticator", &pb, "iso_a_db", "SELECT 1")
        .is_err());
    assert_eq!(
        as_postgrest(
            &pg,
            "iso-b",
            &pb,
            "iso_b_db",
            "api_v1",
            "SELECT count(*) FROM places"
        )
        .unwrap(),
        "2"
    );
}

#[test]
fn one_apply_converges_every_drift_and_a_second_changes_nothing() {
    let pg = Pg::require();
    let ws = Workspace::new(&app_toml("drift", "drift_db"));
    ws.ok(&["build"]);
    pg.seed("drift_db", "drift", "api_v1");
    apply(&pg, &ws, "drift", "drift_db");
    let declared = catalog_state(&pg, "drift_db", "drift");
    let before = catalog_versions(&pg, "drift_db");
    apply(&pg, &ws, "drift", "drift_db");
    assert_eq!(
        catalog_versions(&pg, "drift_db"),
        before,
        "a re-apply wrote to the catalogs"
    );

    let drifts = [
        "DROP OWNED BY drift_web_anon; DROP ROLE drift_web_anon",
        "DROP OWNED BY drift_authenticator; DROP ROLE drift_authenticator",
        "ALTER ROLE drift_authenticator CREATEDB CREATEROLE INHERIT BYPASSRLS",
        "ALTER ROLE drift_authenticator PASSWORD 'hunter2'",
        "ALTER ROLE drift_authenticator CONNECTION LIMIT -1",
        "ALTER ROLE drift_web_anon LOGIN",
        "REVOKE drift_web_anon FROM drift_authenticator",
        "GRANT drift TO drift_web_anon",
        "GRANT drift_web_anon TO drift WITH ADMIN OPTION",
        "GRANT ALL ON marts.places TO drift_web_anon",
        "GRANT SELECT ON api_v1.places TO drift_authenticator",
        "GRANT UPDATE (name) ON marts.places TO drift_web_anon",
        "GRANT INSERT, DELETE ON api_v1.places TO drift_web_anon",
        "REVOKE SELECT ON api_v1.places FROM drift_web_anon",
        "GRANT USAGE, CREATE ON SCHEMA marts TO drift_web_anon",
        "REVOKE USAGE ON SCHEMA api_v1 FROM drift_web_anon",
        "GRANT CREATE, TEMPORARY ON DATABASE drift_db TO drift_authenticator",
        "REVOKE CONNECT ON DATABASE drift_db FROM drift_authenticator",
        "ALTER ROLE drift_web_anon SET statement_timeout = '1h'",
        "ALTER ROLE drift_web_anon RESET statement_timeout",
        "ALTER ROLE drift_authenticator SET work_mem = '1GB'",
        "ALTER ROLE drift_web_anon IN DATABASE drift_db SET search_path = marts",
        "ALTER DEFAULT PRIVILEGES FOR ROLE drift IN SCHEMA api_v1 REVOKE SELECT ON TABLES FROM drift_web_anon",
        "ALTER DEFAULT PRIVILEGES FOR ROLE drift IN SCHEMA marts GRANT SELECT ON TABLES TO drift_web_anon",
        "ALTER DEFAULT PRIVILEGES FOR ROLE drift GRANT ALL ON TABLES TO drift_authenticator",
        "GRANT EXECUTE ON FUNCTION pg_catalog.now() TO drift_web_anon",
    ];
    let mut drifts: Vec<&str> = drifts.to_vec();
    let pg16 = pg.version_at_least(160000);
    if pg16 {
        // PostgreSQL 16+ membership options: without SET the authenticator cannot switch role.
        drifts.push("REVOKE SET OPTION FOR drift_web_anon FROM drift_authenticator");
        drifts.push("GRANT drift_web_anon TO drift_authenticator WITH INHERIT TRUE");
    }
    for drift in drifts {
        pg.sql("drift_db", drift);
        let found =
            verify(&pg, &ws, "drift", "drift_db").expect_err(&format!("verify missed: {drift}"));
        assert!(
            found.contains("has drifted") || found.contains("does not exist"),
            "{drift}: {found}"
        );
        apply(&pg, &ws, "drift", "drift_db");
        verify(&pg, &ws, "drift", "drift_db")
            .unwrap_or_else(|e| panic!("not converged after {drift}: {e}"));
        assert_eq!(
            catalog_state(&pg, "drift_db", "drift"),
            declared,
            "after {drift}"
        );
        let settled = catalog_versions(&pg, "drift_db");
        apply(&pg, &ws, "drift", "drift_db");
        assert_eq!(
            catalog_versions(&pg, "drift_db"),
            settled,
            "second apply after {drift} wrote"
        );
    }
}

#[test]
fn precheck_failures_create_nothing() {
    let pg = Pg::require();
    let toml = "[apps.pre]\ndatabase = \"pre_db\"\nowner = \"pre_owner\"\n";
    let ws = Workspace::new(toml);
    ws.ok(&["build"]);
    let apply_sql = ws.out("apps/pre/sql/apply.sql");
    let no_roles = || {
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname IN ('pre_authenticator', 'pre_web_anon')",
        )
    };

    pg.sql("postgres", "DROP DATABASE IF EXISTS pre_db WITH (FORCE)");
    pg.sql("postgres", "DROP ROLE IF EXISTS pre_owner");
    pg.sql("postgres", "CREATE DATABASE pre_db");
    let err = pg.try_file("pre_db", &apply_sql).unwrap_err();
    assert!(
        err.contains("owner role pre_owner does not exist") && err.contains("CREATE ROLE"),
        "{err}"
    );
    assert_eq!(no_roles(), "0");

    pg.sql("postgres", "CREATE ROLE pre_owner NOLOGIN");
    let err = pg.try_file("pre_db", &apply_sql).unwrap_err();
    assert!(
        err.contains("schema api_v1 does not exist") && err.contains("CREATE SCHEMA"),
        "{err}"
    );
    assert_eq!(no_roles(), "0");

    let err = pg.try_file("postgres", &apply_sql).unwrap_err();
    assert!(err.contains("connected to database \"postgres\""), "{err}");
    assert_eq!(no_roles(), "0");

    pg.sql("pre_db", "CREATE SCHEMA api_v1 AUTHORIZATION pre_owner");
    pg.file("pre_db", &apply_sql);
    assert_eq!(no_roles(), "2");
}

#[test]
fn concurrent_applies_all_succeed() {
    let pg = Pg::require();
    let ws = Workspace::new(&format!(
        "{}{}",
        app_toml("conc-a", "conc_db"),
        "[apps.conc-b]\ndatabase = \"conc_db\"\nowner = \"conc_a\"\nschema = \"api_v2\"\n"
    ));
    ws.ok(&["build"]);
    pg.seed("conc_db", "conc_a", "api_v1");
    pg.sql("conc_db", "CREATE SCHEMA api_v2 AUTHORIZATION conc_a");
    let files: Vec<_> = (0..8)
        .map(|i| {
            ws.out(if i % 2 == 0 {
                "apps/conc-a/sql/apply.sql"
            } else {
                "apps/conc-b/sql/apply.sql"
            })
        })
        .collect();
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            std::process::Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "conc_db", "-f"])
                .arg(f)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "concurrent apply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    verify(&pg, &ws, "conc-a", "conc_db").unwrap();
    verify(&pg, &ws, "conc-b", "conc_db").unwrap();
}

#[test]
fn purge_drops_roles_keeps_owner_objects_and_is_idempotent() {
    let pg = Pg::require();
    let ws = Workspace::new(&app_toml("gone", "gone_db"));
    ws.ok(&["build"]);
    pg.seed("gone_db", "gone", "api_v1");
    apply(&pg, &ws, "gone", "gone_db");
    // Extra privileges the roles picked up must not block the purge.
    pg.sql("gone_db", "GRANT ALL ON marts.places TO gone_web_anon; GRANT CREATE ON DATABASE gone_db TO gone_authenticator");
    ws.write(
        "apps.toml",
        "[apps.gone]\ndatabase = \"gone_db\"\nensure = \"absent\"\n",
    );
    ws.ok(&["build"]);
    assert!(!ws.out("apps/gone/sql/apply.sql").exists());
    assert!(!ws.out("apps/gone/deployment.yaml").exists());
    assert!(!ws.path().join("locks/gone.lock").exists());
    assert!(!ws
        .path()
        .join("secrets/gone-postgrest.secret.yaml")
        .exists());
    let purge = ws.out("apps/gone/sql/purge.sql");
    pg.file("gone_db", &purge);
    pg.file("gone_db", &purge);
    verify(&pg, &ws, "gone", "gone_db").expect("absent app verifies once purged");
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'gone\\_%'"
        ),
        "0"
    );
    assert_eq!(
        pg.sql("gone_db", "SELECT count(*) FROM pg_default_acl"),
        "0"
    );
    assert_eq!(pg.sql("gone_db", "SELECT count(*) FROM api_v1.places"), "2");
    assert_eq!(
        pg.sql(
            "gone_db",
            "SELECT relowner::regrole FROM pg_class WHERE oid = 'api_v1.places'::regclass"
        ),
        "gone"
    );

    // Re-apply after purge: declared present again, a new credential, working login.
    ws.write("apps.toml", &app_toml("gone", "gone_db"));
    ws.ok(&["build"]);
    apply(&pg, &ws, "gone", "gone_db");
    verify(&pg, &ws, "gone", "gone_db").unwrap();
    let rows = as_postgrest(
        &pg,
        "gone",
        &ws.password("gone"),
        "gone_db",
        "api_v1",
        "SELECT count(*) FROM places",
    );
    assert_eq!(rows.unwrap(), "2");
}

#[test]
fn hostile_but_valid_names_are_quoted() {
    let pg = Pg::require();
    let toml = r#"
[apps.quoted]
database = "we\"ird db'; \\' --"
owner = "O'Brien \"Owner\" \\"
schema = "api_v1"
statement-timeout = "3s"
"#;
    let ws = Workspace::new(toml);
    ws.ok(&["build"]);
    let db = "we\"ird db'; \\' --";
    pg.seed(db, "O'Brien \"Owner\" \\", "api_v1");
    apply(&pg, &ws, "quoted", db);
    verify(&pg, &ws, "quoted", db).unwrap();
    let rows = as_postgrest(
        &pg,
        "quoted",
        &ws.password("quoted"),
        db,
        "api_v1",
        "SELECT count(*) FROM places",
    );
    assert_eq!(rows.unwrap(), "2");
    pg.file(db, &ws.out("apps/quoted/sql/purge.sql"));
}

/// The API surface of one app: two exposed schemas, an anonymous role that reads and calls
/// functions, a JWT role that also writes, and one that only reads.
const SURFACE: &str = r#"
[apps.surf]
database = "surf_db"
schemas = ["api_v1", "api_v2"]
anon-privileges = ["select", "execute"]

[apps.surf.jwt.roles.web_user]
privileges = ["select", "insert", "update", "delete", "execute"]

[apps.surf.jwt.roles.reader]

[apps.other]
database = "other_db"
[apps.other.jwt]
"#;

/// `surf_db`: the seed (marts.places, api_v1.places), plus in api_v2 a table and a function,
/// in api_v1 a function, and a schema `private` that is not exposed. The owner revokes
/// PostgreSQL's default EXECUTE for PUBLIC, so only declared roles may call its functions.
fn seed_surface(pg: &Pg) {
    pg.seed("surf_db", "surf", "api_v1");
    pg.seed("other_db", "other", "api_v1");
    pg.sql(
        "surf_db",
        "SET ROLE surf;
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
         CREATE SCHEMA api_v2; CREATE SCHEMA private;
         CREATE TABLE api_v2.notes (id int PRIMARY KEY, body text);
         INSERT INTO api_v2.notes VALUES (1, 'first');
         CREATE FUNCTION api_v1.answer() RETURNS int LANGUAGE sql AS 'SELECT 42';
         CREATE FUNCTION api_v2.twice(x int) RETURNS int LANGUAGE sql AS 'SELECT 2 * x';
         CREATE TABLE private.secrets (x int); INSERT INTO private.secrets VALUES (7);
         RESET ROLE;",
    );
}

fn denied(r: Result<String, String>, what: &str) {
    let err = r.expect_err(&format!("{what}: allowed"));
    assert!(
        err.contains("permission denied") || err.contains("does not exist"),
        "{what}: {err}"
    );
}

#[test]
fn anonymous_and_jwt_roles_do_exactly_their_declared_privileges_in_every_schema() {
    let pg = Pg::require();
    let ws = Workspace::new(SURFACE);
    ws.ok(&["build"]);
    seed_surface(&pg);
    apply(&pg, &ws, "surf", "surf_db");
    apply(&pg, &ws, "other", "other_db");
    verify(&pg, &ws, "surf", "surf_db").expect("converged");
    let pw = ws.password("surf");
    let q = |role: &str, schema: &str, sql: &str| {
        as_role(&pg, "surf", &pw, "surf_db", role, schema, sql)
    };
    let (anon, user, reader) = ("surf_web_anon", "surf_web_user", "surf_reader");

    // Reads in both schemas, for every role.
    for role in [anon, user, reader] {
        assert_eq!(
            q(role, "api_v1", "SELECT count(*) FROM places").unwrap(),
            "2",
            "{role}"
        );
        assert_eq!(
            q(role, "api_v2", "SELECT body FROM notes").unwrap(),
            "first",
            "{role}"
        );
        denied(q(role, "api_v1", "SELECT * FROM private.secrets"), role);
        denied(q(role, "api_v1", "SELECT * FROM marts.places"), role);
        denied(q(role, "api_v2", "TRUNCATE notes"), role);
        denied(q(role, "api_v2", "CREATE TABLE api_v2.t (x int)"), role);
    }
    // Functions: anon and web_user declared execute, reader did not.
    for role in [anon, user] {
        assert_eq!(
            q(role, "api_v1", "SELECT answer()").unwrap(),
            "42",
            "{role}"
        );
        assert_eq!(q(role, "api_v2", "SELECT twice(4)").unwrap(), "8", "{role}");
    }
    denied(q(reader, "api_v1", "SELECT answer()"), "reader executes");
    // Writes: only web_user, on a table and through an auto-updatable view.
    q(user, "api_v2", "INSERT INTO notes VALUES (2, 'second')").unwrap();
    q(
        user,
        "api_v2",
        "UPDATE notes SET body = 'changed' WHERE id = 2",
    )
    .unwrap();
    q(user, "api_v2", "DELETE FROM notes WHERE id = 2").unwrap();
    q(user, "api_v1", "INSERT INTO places VALUES (3, 'Tromsø')").unwrap();
    for role in [anon, reader] {
        denied(q(role, "api_v2", "INSERT INTO notes VALUES (9, 'x')"), role);
        denied(q(role, "api_v2", "UPDATE notes SET body = 'x'"), role);
        denied(q(role, "api_v2", "DELETE FROM notes"), role);
        denied(q(role, "api_v1", "DELETE FROM places"), role);
    }
    // The authenticator cannot switch to another app's roles, nor use its own alone.
    for role in ["other_web_anon", "other_web_user", "other_authenticator"] {
        denied(q(role, "api_v1", "SELECT 1"), role);
    }
    denied(
        pg.sql_as(
            "surf_authenticator",
            &pw,
            "surf_db",
            "SELECT * FROM api_v2.notes",
        ),
        "authenticator without a role switch",
    );
    // Objects the owner creates later follow the default privileges at once.
    pg.sql(
        "surf_db",
        "SET ROLE surf;
         CREATE VIEW api_v2.later AS SELECT id, body FROM api_v2.notes;
         CREATE FUNCTION api_v2.later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';",
    );
    for role in [anon, user, reader] {
        assert_eq!(
            q(role, "api_v2", "SELECT count(*) FROM later").unwrap(),
            "1",
            "{role}"
        );
    }
    q(user, "api_v2", "INSERT INTO later VALUES (5, 'via view')").unwrap();
    denied(
        q(reader, "api_v2", "INSERT INTO later VALUES (6, 'x')"),
        "reader writes a later view",
    );
    assert_eq!(q(user, "api_v2", "SELECT later_fn()").unwrap(), "1");
    denied(
        q(reader, "api_v2", "SELECT later_fn()"),
        "reader executes a later function",
    );
    verify(&pg, &ws, "surf", "surf_db").expect("later objects are converged already");

    // Removing a privilege and a schema: verify names the difference, apply revokes it.
    ws.write(
        "apps.toml",
        &SURFACE
            .replace(
                "schemas = [\"api_v1\", \"api_v2\"]",
                "schemas = [\"api_v1\"]",
            )
            .replace(
                "\"select\", \"insert\", \"update\", \"delete\", \"execute\"",
                "\"select\", \"update\"",
            ),
    );
    ws.ok(&["build"]);
    let drift = verify(&pg, &ws, "surf", "surf_db").expect_err("drift after narrowing");
    for expect in [
        "surf_web_user holds INSERT on TABLE api_v1.places",
        "surf_web_anon holds USAGE on SCHEMA api_v2",
        "surf_web_user holds EXECUTE on ROUTINE api_v1.answer()",
    ] {
        assert!(drift.contains(expect), "verify missed `{expect}`:\n{drift}");
    }
    apply(&pg, &ws, "surf", "surf_db");
    verify(&pg, &ws, "surf", "surf_db").expect("converged after narrowing");
    for role in [anon, user, reader] {
        denied(q(role, "api_v2", "SELECT * FROM api_v2.notes"), role);
    }
    denied(
        q(user, "api_v1", "INSERT INTO places VALUES (4, 'x')"),
        "insert after removal",
    );
    denied(
        q(user, "api_v1", "SELECT answer()"),
        "execute after removal",
    );
    q(user, "api_v1", "UPDATE places SET name = name WHERE id = 1").unwrap();
    assert_eq!(
        pg.sql(
            "surf_db",
            "SELECT count(*) FROM pg_default_acl WHERE defaclnamespace = 'api_v2'::regnamespace"
        ),
        "0",
        "default privileges in the dropped schema are gone"
    );

    // Removing a JWT role and anonymous access: apply revokes and drops the roles.
    ws.write(
        "apps.toml",
        &SURFACE
            .replace("[apps.surf.jwt.roles.reader]\n", "")
            .replace("anon-privileges", "anonymous = false\nanon-privileges"),
    );
    ws.ok(&["build"]);
    let drift = verify(&pg, &ws, "surf", "surf_db").expect_err("retired roles");
    assert!(
        drift.contains("role surf_reader is no longer declared"),
        "{drift}"
    );
    assert!(
        drift.contains("role surf_web_anon is no longer declared"),
        "{drift}"
    );
    apply(&pg, &ws, "surf", "surf_db");
    verify(&pg, &ws, "surf", "surf_db").expect("converged after retiring roles");
    assert_eq!(
        pg.sql("postgres", "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'surf\\_%'"),
        "surf_authenticator,surf_web_user"
    );
    denied(
        q(anon, "api_v1", "SELECT 1"),
        "anonymous after anonymous = false",
    );
    assert_eq!(
        q(user, "api_v2", "SELECT count(*) FROM notes").unwrap(),
        "2"
    );

    // Purge drops every role of the app, the JWT role included.
    pg.file("surf_db", &ws.out("apps/surf/sql/purge.sql"));
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'surf\\_%'"
        ),
        "0"
    );
    assert_eq!(
        pg.sql("surf_db", "SELECT count(*) FROM api_v2.notes"),
        "2",
        "no data dropped"
    );
}

#[test]
fn verify_reports_each_drift_of_jwt_roles_and_schemas_and_apply_converges_it() {
    let pg = Pg::require();
    let ws = Workspace::new(SURFACE);
    ws.ok(&["build"]);
    seed_surface(&pg);
    apply(&pg, &ws, "surf", "surf_db");
    let declared = pg.sql("surf_db", "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) g WHERE g.grantee IN ('surf_web_user'::regrole, 'surf_reader'::regrole, 'surf_web_anon'::regrole)");
    let mut drifts: Vec<(&str, &str)> = vec![
        ("DROP OWNED BY surf_reader; DROP ROLE surf_reader", "role surf_reader is missing"),
        ("ALTER ROLE surf_web_user LOGIN CREATEDB", "role surf_web_user: attributes differ"),
        ("REVOKE surf_web_user FROM surf_authenticator", "surf_web_user is not granted to surf_authenticator"),
        ("GRANT surf_web_user TO surf_web_anon", "unexpected membership: surf_web_anon in surf_web_user"),
        ("REVOKE INSERT ON api_v2.notes FROM surf_web_user", "surf_web_user lacks INSERT on api_v2.notes"),
        ("REVOKE EXECUTE ON FUNCTION api_v2.twice(int) FROM surf_web_anon", "surf_web_anon lacks EXECUTE on api_v2.twice(integer)"),
        ("GRANT INSERT ON api_v2.notes TO surf_reader", "surf_reader holds INSERT on TABLE api_v2.notes"),
        ("GRANT EXECUTE ON FUNCTION api_v1.answer() TO surf_reader", "surf_reader holds EXECUTE on ROUTINE api_v1.answer()"),
        ("REVOKE USAGE ON SCHEMA api_v2 FROM surf_reader", "surf_reader lacks USAGE on schema api_v2"),
        ("GRANT USAGE ON SCHEMA private TO surf_web_user", "surf_web_user holds USAGE on SCHEMA private"),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE surf IN SCHEMA api_v2 REVOKE INSERT ON TABLES FROM surf_web_user",
         "do not grant INSERT to surf_web_user"),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE surf IN SCHEMA api_v1 REVOKE EXECUTE ON FUNCTIONS FROM surf_web_anon",
         "do not grant EXECUTE to surf_web_anon"),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE surf IN SCHEMA private GRANT SELECT ON TABLES TO surf_reader",
         "surf_reader holds SELECT on DEFAULT PRIVILEGES FOR ROLE surf IN SCHEMA private"),
        ("ALTER ROLE surf_reader SET statement_timeout = '1h'", "role settings differ: surf_reader"),
        ("COMMENT ON ROLE surf_web_user IS NULL", "role surf_web_user lacks the postgrest-gen marker"),
    ];
    if pg.version_at_least(160000) {
        drifts.push((
            "REVOKE surf_reader FROM surf_authenticator; GRANT surf_reader TO surf_authenticator WITH INHERIT TRUE, SET TRUE",
            "membership of surf_authenticator in surf_reader must have SET and not INHERIT",
        ));
    }
    for (drift, message) in drifts {
        pg.sql("surf_db", drift);
        let found =
            verify(&pg, &ws, "surf", "surf_db").expect_err(&format!("verify missed: {drift}"));
        assert!(
            found.contains(message),
            "{drift}: expected `{message}` in:\n{found}"
        );
        apply(&pg, &ws, "surf", "surf_db");
        verify(&pg, &ws, "surf", "surf_db")
            .unwrap_or_else(|e| panic!("not converged after {drift}: {e}"));
        assert_eq!(
            pg.sql("surf_db", "SELECT count(*) FROM pg_class c, aclexplode(c.relacl) g WHERE g.grantee IN ('surf_web_user'::regrole, 'surf_reader'::regrole, 'surf_web_anon'::regrole)"),
            declared,
            "after {drift}"
        );
        let settled = catalog_versions(&pg, "surf_db");
        apply(&pg, &ws, "surf", "surf_db");
        assert_eq!(
            catalog_versions(&pg, "surf_db"),
            settled,
            "second apply after {drift} wrote"
        );
    }
    // Every schema must exist: all missing ones are named at once, and nothing is created.
    ws.write(
        "apps.toml",
        &SURFACE.replace(
            "schemas = [\"api_v1\", \"api_v2\"]",
            "schemas = [\"api_v1\", \"api_v3\", \"api_v4\"]",
        ),
    );
    ws.ok(&["build"]);
    let err = pg
        .try_file("surf_db", &ws.out("apps/surf/sql/apply.sql"))
        .unwrap_err();
    assert!(
        err.contains("schema api_v3 does not exist")
            && err.contains("schema api_v4 does not exist"),
        "{err}"
    );
}

#[test]
fn authenticator_connections_stop_at_its_limit() {
    let pg = Pg::require();
    // 1 replica + 1 rolling-update pod, each with db-pool 1 + 1 LISTEN connection: 4.
    let ws = Workspace::new("[apps.capped]\ndatabase = \"capped_db\"\nreplicas = 1\ndb-pool = 1\n");
    ws.ok(&["build"]);
    pg.seed("capped_db", "capped", "api_v1");
    apply(&pg, &ws, "capped", "capped_db");
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'capped_authenticator'"
        ),
        "4"
    );
    let password = ws.password("capped");
    let mut held: Vec<std::process::Child> = (0..4)
        .map(|_| {
            pg.spawn_as(
                "capped_authenticator",
                &password,
                "capped_db",
                "SELECT pg_sleep(60)",
            )
        })
        .collect();
    let count = "SELECT count(*) FROM pg_stat_activity WHERE usename = 'capped_authenticator'";
    let start = std::time::Instant::now();
    while pg.sql("postgres", count) != "4" {
        assert!(start.elapsed().as_secs() < 20, "4 sessions did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let fifth = pg.sql_as("capped_authenticator", &password, "capped_db", "SELECT 1");
    for child in &mut held {
        let _ = child.kill();
        let _ = child.wait();
    }
    let err = fifth.expect_err("a fifth connection was accepted");
    assert!(err.contains("too many connections for role"), "{err}");
    // A DBA's "unlimited" is drift: verify names it, apply restores the limit.
    pg.sql(
        "postgres",
        "ALTER ROLE capped_authenticator CONNECTION LIMIT -1",
    );
    let drift = verify(&pg, &ws, "capped", "capped_db").unwrap_err();
    assert!(drift.contains("CONNECTION LIMIT is -1, not 4"), "{drift}");
    apply(&pg, &ws, "capped", "capped_db");
    verify(&pg, &ws, "capped", "capped_db").unwrap();
}

/// Hosted PostgreSQL: an administrator with CREATEROLE only (no SUPERUSER) runs the scripts.
/// Each right it lacks stops the run before any change, naming the statement that gives it;
/// once given, apply converges, PostgREST reads, and verify passes (saying it could not
/// compare the password).
#[test]
fn createrole_administrator_lacking_a_right_changes_nothing_and_names_the_grant() {
    let pg = Pg::require();
    let pg16 = pg.sql(
        "postgres",
        "SELECT current_setting('server_version_num')::int >= 160000",
    ) == "t";
    let (admin, admin_pw) = ("hosted_admin", "hosted-admin-pw");
    pg.sql("postgres", "DROP ROLE IF EXISTS hosted_admin");
    pg.sql(
        "postgres",
        &format!(
            "CREATE ROLE {admin} LOGIN CREATEROLE CREATEDB PASSWORD {}",
            lit(admin_pw)
        ),
    );
    let ws = Workspace::new(&app_toml("hosted", "hosted_db"));
    ws.ok(&["build"]);
    pg.seed("hosted_db", "hosted", "api_v1");
    let apply_sql = ws.out("apps/hosted/sql/apply.sql");
    let roles = || {
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_roles WHERE rolname IN ('hosted_authenticator', 'hosted_web_anon')",
        )
    };

    // Not a member of the owner: nothing is created, the GRANT is named.
    let err = pg
        .try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
        .unwrap_err();
    let grant = if pg16 {
        "GRANT hosted TO hosted_admin WITH INHERIT FALSE, SET TRUE;"
    } else {
        "GRANT hosted TO hosted_admin;"
    };
    assert!(
        err.contains(grant) && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(roles(), "0");

    // With the owner's privileges: converged, PostgREST reads, verify passes.
    pg.sql("postgres", grant.trim_end_matches(';'));
    pg.try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
        .unwrap();
    let password = ws.password("hosted");
    assert_eq!(
        as_postgrest(
            &pg,
            "hosted",
            &password,
            "hosted_db",
            "api_v1",
            "SELECT name FROM places WHERE id = 1"
        ),
        Ok("Oslo".to_owned())
    );
    let verify_sql = ws.out("apps/hosted/sql/verify.sql");
    let notes = pg
        .try_file_as(admin, admin_pw, "hosted_db", &verify_sql)
        .unwrap();
    assert!(notes.contains("is not compared"), "{notes}");
    // A second apply changes nothing the catalog shows, and the superuser's verify (which
    // does compare the verifier) agrees.
    let before = catalog_state(&pg, "hosted_db", "hosted");
    pg.try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
        .unwrap();
    assert_eq!(catalog_state(&pg, "hosted_db", "hosted"), before);
    verify(&pg, &ws, "hosted", "hosted_db").unwrap();

    // Drift the administrator cannot revoke: a grant through another role's grant option,
    // and a parameter privilege (a superuser's). Both named, nothing changed.
    pg.sql(
        "postgres",
        "DROP ROLE IF EXISTS hosted_helper; CREATE ROLE hosted_helper NOLOGIN",
    );
    pg.sql(
        "hosted_db",
        "GRANT USAGE ON SCHEMA marts TO hosted_helper;
         GRANT SELECT ON marts.places TO hosted_helper WITH GRANT OPTION;
         SET ROLE hosted_helper; GRANT SELECT ON marts.places TO hosted_web_anon; RESET ROLE;
         GRANT SET ON PARAMETER work_mem TO hosted_web_anon;
         ALTER ROLE hosted_authenticator CONNECTION LIMIT 9",
    );
    let err = pg
        .try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
        .unwrap_err();
    let set_grant = if pg16 {
        "GRANT hosted_helper TO hosted_admin WITH INHERIT FALSE, SET TRUE;"
    } else {
        "GRANT hosted_helper TO hosted_admin;"
    };
    assert!(err.contains(set_grant), "{err}");
    assert!(
        err.contains("only a superuser may revoke") && err.contains("PARAMETER work_mem"),
        "{err}"
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'hosted_authenticator'"
        ),
        "9",
        "the preflight let a change through"
    );
    pg.sql(
        "hosted_db",
        "REVOKE SET ON PARAMETER work_mem FROM hosted_web_anon",
    );
    pg.sql("postgres", set_grant.trim_end_matches(';'));
    pg.try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
        .unwrap();
    verify(&pg, &ws, "hosted", "hosted_db").unwrap();
    assert_eq!(
        pg.sql(
            "hosted_db",
            "SELECT has_table_privilege('hosted_web_anon', 'marts.places', 'SELECT')"
        ),
        "f"
    );

    // The steps are session functions: without TEMPORARY on the database (its owner revoked
    // PUBLIC's) the run stops before anything, naming the GRANT.
    pg.sql(
        "hosted_db",
        "REVOKE TEMPORARY ON DATABASE hosted_db FROM PUBLIC; ALTER ROLE hosted_authenticator CONNECTION LIMIT 9",
    );
    // (On 15 the administrator's membership in the owner, which owns the database, inherits
    // TEMPORARY: no refusal there.)
    if pg16 {
        let err = pg
            .try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
            .unwrap_err();
        assert!(
            err.contains("GRANT TEMPORARY ON DATABASE hosted_db TO hosted_admin;"),
            "{err}"
        );
        assert_eq!(
            pg.sql(
                "postgres",
                "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'hosted_authenticator'"
            ),
            "9"
        );
        pg.sql(
            "hosted_db",
            "GRANT TEMPORARY ON DATABASE hosted_db TO hosted_admin",
        );
    }
    pg.try_file_as(admin, admin_pw, "hosted_db", &apply_sql)
        .unwrap();
    verify(&pg, &ws, "hosted", "hosted_db").unwrap();

    // Purge as the same administrator leaves no role of the app and the owner's data.
    std::fs::write(
        ws.path().join("apps.toml"),
        "[apps.hosted]\ndatabase = \"hosted_db\"\nensure = \"absent\"\n",
    )
    .unwrap();
    ws.ok(&["build"]);
    pg.try_file_as(
        admin,
        admin_pw,
        "hosted_db",
        &ws.out("apps/hosted/sql/purge.sql"),
    )
    .unwrap();
    assert_eq!(roles(), "0");
    assert_eq!(
        pg.sql("hosted_db", "SELECT count(*) FROM marts.places"),
        "2"
    );
}

/// `insert` covers a serial column: USAGE on the owner's sequences in the exposed schemas goes
/// with it (granted, defaulted for sequences made later, verified), and nothing more.
#[test]
fn insert_through_a_serial_column_gets_the_sequence_live() {
    let pg = Pg::require();
    let ws = Workspace::new(
        "[apps.seqd]\ndatabase = \"seqd_db\"\nanon-privileges = [\"select\", \"insert\"]\n",
    );
    ws.ok(&["build"]);
    pg.seed("seqd_db", "seqd", "api_v1");
    pg.sql(
        "seqd_db",
        "SET ROLE seqd; CREATE TABLE api_v1.notes (id serial PRIMARY KEY, body text); RESET ROLE;",
    );
    apply(&pg, &ws, "seqd", "seqd_db");
    let password = ws.password("seqd");
    let insert = "INSERT INTO notes (body) VALUES ('hi') RETURNING id";
    assert_eq!(
        as_postgrest(&pg, "seqd", &password, "seqd_db", "api_v1", insert),
        Ok("1".to_owned())
    );
    // A table made after the apply: the default privileges cover its sequence too.
    pg.sql(
        "seqd_db",
        "SET ROLE seqd; CREATE TABLE api_v1.later (id bigserial PRIMARY KEY, body text); RESET ROLE;",
    );
    assert_eq!(
        as_postgrest(
            &pg,
            "seqd",
            &password,
            "seqd_db",
            "api_v1",
            "INSERT INTO later (body) VALUES ('x') RETURNING id"
        ),
        Ok("1".to_owned())
    );
    verify(&pg, &ws, "seqd", "seqd_db").unwrap();
    // Only USAGE: not SELECT or UPDATE on the sequence (setval stays the owner's).
    assert_eq!(
        pg.sql(
            "seqd_db",
            "SELECT has_sequence_privilege('seqd_web_anon', 'api_v1.notes_id_seq', 'USAGE'),
                    has_sequence_privilege('seqd_web_anon', 'api_v1.notes_id_seq', 'UPDATE')"
        ),
        "t|f"
    );
    // Without insert declared, the sequence privileges are revoked.
    std::fs::write(
        ws.path().join("apps.toml"),
        "[apps.seqd]\ndatabase = \"seqd_db\"\n",
    )
    .unwrap();
    ws.ok(&["build"]);
    apply(&pg, &ws, "seqd", "seqd_db");
    verify(&pg, &ws, "seqd", "seqd_db").unwrap();
    assert_eq!(
        pg.sql(
            "seqd_db",
            "SELECT has_sequence_privilege('seqd_web_anon', 'api_v1.later_id_seq', 'USAGE')"
        ),
        "f"
    );
}
