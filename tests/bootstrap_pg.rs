//! Step 0 (`bootstrap = true`) on a real PostgreSQL server (15 and 17 through
//! scripts/with-pg.sh): the owner role, database and schemas made by a non-superuser
//! CREATEROLE/CREATEDB administrator and by a superuser, the owner's password from `secrets/`,
//! and what bootstrap must leave alone.
#![cfg(feature = "integration")]

mod common;
use common::{as_postgrest, Pg, Workspace};
use std::process::Command;

const ADMIN: &str = "platform_admin";
const ADMIN_PW: &str = "platform-admin-pw";

fn toml(app: &str, db: &str) -> String {
    format!(
        "[apps.{app}]\ndatabase = \"{db}\"\nbootstrap = true\nschemas = [\"api_v1\", \"api_v2\"]\n"
    )
}

/// The hosted-PostgreSQL administrator: CREATEROLE and CREATEDB, no SUPERUSER.
fn admin(pg: &Pg) {
    pg.sql("postgres", &format!(
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ADMIN}') THEN CREATE ROLE {ADMIN} LOGIN CREATEROLE CREATEDB PASSWORD '{ADMIN_PW}'; END IF; END$$"));
}

/// Runs bootstrap.sql from the maintenance database, as the administrator or (None) as the
/// superuser of the environment; Ok/Err carry stderr (notices and warnings).
fn bootstrap(ws: &Workspace, app: &str, as_admin: bool) -> Result<String, String> {
    let mut c = Command::new("psql");
    c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f"])
        .arg(ws.out(&format!("apps/{app}/sql/bootstrap.sql")));
    if as_admin {
        c.env("PGUSER", ADMIN).env("PGPASSWORD", ADMIN_PW);
    }
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok(stderr)
    } else {
        Err(stderr)
    }
}

fn owner_password(ws: &Workspace, app: &str) -> String {
    let text = ws.read(&format!("secrets/{app}-db-owner.secret.yaml"));
    text.lines()
        .find_map(|l| l.trim().strip_prefix("PGPASSWORD: "))
        .expect("PGPASSWORD in the owner Secret")
        .trim_matches('"')
        .to_owned()
}

/// The rows bootstrap could write, with their row versions: equal means nothing was written.
fn versions(pg: &Pg, db: &str, owner: &str) -> String {
    pg.sql(db, &format!(
        "SELECT string_agg(x, ',' ORDER BY x) FROM (
           SELECT 'authid' || xmin::text FROM pg_authid WHERE rolname = '{owner}' UNION ALL
           SELECT 'member' || xmin::text FROM pg_auth_members WHERE roleid = '{owner}'::regrole UNION ALL
           SELECT 'db' || xmin::text FROM pg_database WHERE datname = current_database() UNION ALL
           SELECT 'nsp' || xmin::text FROM pg_namespace WHERE nspowner = '{owner}'::regrole) s(x)"))
}

fn lifecycle(app: &str, as_admin: bool) {
    let pg = Pg::require();
    admin(&pg);
    let db = format!("{app}_db");
    let ws = Workspace::new(&toml(app, &db));
    ws.ok(&["build"]);
    bootstrap(&ws, app, as_admin).expect("bootstrap from nothing");
    assert_eq!(
        pg.sql(&db, &format!(
            "SELECT concat_ws(' ', rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, \
             (SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()), \
             (SELECT string_agg(nspname || ':' || nspowner::regrole::text, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'api_v_')) \
             FROM pg_roles WHERE rolname = '{app}'")),
        format!("t f f f f f {app} api_v1:{app},api_v2:{app}")
    );
    // The administrator may act as the owner (16+: SET, not INHERIT: its own statements
    // never carry a tenant's rights); the owner got nothing back.
    if as_admin {
        assert_eq!(pg.sql("postgres", &format!(
            "SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
                    THEN pg_has_role('{ADMIN}', '{app}', 'SET') AND NOT pg_has_role('{ADMIN}', '{app}', 'USAGE')
                    ELSE pg_has_role('{ADMIN}', '{app}', 'MEMBER') END")), "t");
    }
    assert_eq!(
        pg.sql(
            "postgres",
            &format!("SELECT count(*) FROM pg_auth_members WHERE member = '{app}'::regrole")
        ),
        "0"
    );
    // Re-running writes nothing.
    let before = versions(&pg, &db, app);
    bootstrap(&ws, app, as_admin).expect("second bootstrap");
    assert_eq!(versions(&pg, &db, app), before);

    // The tenant logs in over TCP with the password from secrets/ and makes its API.
    let owner_pw = owner_password(&ws, app);
    pg.sql_as(app, &owner_pw, &db,
        "CREATE TABLE api_v2.places (id int, name text); INSERT INTO api_v2.places VALUES (1, 'Oslo'); \
         CREATE VIEW api_v1.places AS SELECT id, name FROM api_v2.places")
        .expect("the owner logs in with its password and owns its schemas");
    // apply (as the superuser: apply's non-superuser mode is not this test's), then a
    // PostgREST-style request as the anonymous role.
    pg.file(&db, &ws.out(&format!("apps/{app}/sql/apply.sql")));
    let pw = ws.password(app);
    assert_eq!(
        as_postgrest(&pg, app, &pw, &db, "api_v1", "SELECT name FROM places").unwrap(),
        "Oslo"
    );

    // Rotation: a new owner password, set by the next bootstrap; the old one stops working.
    ws.ok(&["rotate", app, "--owner"]);
    let rotated = owner_password(&ws, app);
    assert_ne!(rotated, owner_pw);
    let out = bootstrap(&ws, app, as_admin).expect("bootstrap after rotation");
    assert!(out.contains("password set (rotated)"), "{out}");
    pg.sql_as(app, &rotated, &db, "SELECT 1")
        .expect("the new password works");
    assert!(
        pg.sql_as(app, &owner_pw, &db, "SELECT 1").is_err(),
        "the old password is refused"
    );

    // Purge: the app's roles go; the database, the owner and the schemas stay.
    ws.write(
        "apps.toml",
        &format!("{}ensure = \"absent\"\n", toml(app, &db)),
    );
    ws.ok(&["build"]);
    assert!(!ws.out(&format!("apps/{app}/sql/bootstrap.sql")).exists());
    pg.file(&db, &ws.out(&format!("apps/{app}/sql/purge.sql")));
    assert_eq!(pg.sql(&db, &format!(
        "SELECT concat_ws(' ', (SELECT count(*) FROM pg_roles WHERE rolname IN ('{app}_authenticator', '{app}_web_anon')), \
         (SELECT rolname FROM pg_roles WHERE rolname = '{app}'), \
         (SELECT count(*) FROM pg_namespace WHERE nspname IN ('api_v1', 'api_v2')), \
         (SELECT count(*) FROM api_v1.places))")), format!("0 {app} 2 1"));
}

#[test]
fn bootstrap_as_a_createrole_createdb_administrator() {
    lifecycle("bootadmin", true);
}

#[test]
fn bootstrap_as_a_superuser() {
    lifecycle("bootsuper", false);
}

/// A role with the owner's name made by someone else, and a database someone else owns: left
/// alone, reported; the owner Secret's password does not open the foreign role.
#[test]
fn foreign_owner_and_database_are_left_alone() {
    let pg = Pg::require();
    admin(&pg);
    pg.sql(
        "postgres",
        "DROP DATABASE IF EXISTS boot_foreign_db WITH (FORCE)",
    );
    pg.sql(
        "postgres",
        "DROP DATABASE IF EXISTS boot_db2_db WITH (FORCE)",
    );
    pg.sql("postgres", "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'boot_foreign') THEN CREATE ROLE boot_foreign LOGIN PASSWORD 'theirs'; END IF; END$$");
    pg.sql("postgres", "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'someone') THEN CREATE ROLE someone; END IF; END$$");
    pg.sql("postgres", "CREATE DATABASE boot_db2_db OWNER someone");
    let ws = Workspace::new(&format!(
        "{}{}",
        toml("boot-foreign", "boot_foreign_db"),
        toml("boot-db2", "boot_db2_db")
    ));
    ws.ok(&["build"]);
    let out = bootstrap(&ws, "boot-foreign", true).expect("bootstrap reports, does not fail");
    assert!(
        out.contains("was not made by this app's bootstrap"),
        "{out}"
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'boot_foreign_db'"
        ),
        "0"
    );
    assert_eq!(
        pg.sql(
            "postgres",
            "SELECT count(*) FROM pg_auth_members WHERE roleid = 'boot_foreign'::regrole"
        ),
        "0"
    );
    pg.sql_as("boot_foreign", "theirs", "postgres", "SELECT 1")
        .expect("its own password still works");
    assert!(pg
        .sql_as(
            "boot_foreign",
            &owner_password(&ws, "boot-foreign"),
            "postgres",
            "SELECT 1"
        )
        .is_err());

    let out = bootstrap(&ws, "boot-db2", true).expect("bootstrap of an existing foreign database");
    assert!(out.contains("belongs to another role"), "{out}");
    assert_eq!(pg.sql("boot_db2_db", "SELECT datdba::regrole::text || ' ' || (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'api_v_') FROM pg_database WHERE datname = current_database()"), "someone 0");
}
