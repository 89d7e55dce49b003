//! Shared test helpers: a scratch workspace driven through the built binary, and psql.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_postgrest-gen");

/// Runs `cmd`, asserts it succeeded (showing its output otherwise) and returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `kubectl kustomize DIR`.
pub fn kustomize(dir: &Path) -> String {
    run_ok(Command::new("kubectl").arg("kustomize").arg(dir))
}

/// A temporary folder with an apps.toml, where the binary runs.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(apps_toml: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pgen-")
            .tempdir()
            .expect("tempdir");
        std::fs::write(dir.path().join("apps.toml"), apps_toml).unwrap();
        Self { dir }
    }
    /// A copy of `tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pgen-")
            .tempdir()
            .expect("tempdir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_dir(&src, dir.path());
        Self { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("run postgrest-gen")
    }
    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "postgrest-gen {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
    pub fn write(&self, rel: &str, contents: &str) {
        std::fs::write(self.path().join(rel), contents).unwrap();
    }
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    pub fn out(&self, rel: &str) -> PathBuf {
        self.path().join("out").join(rel)
    }
    /// The plaintext JWT secret build wrote for `app`.
    pub fn jwt_secret(&self, app: &str) -> String {
        let text = self.read(&format!("secrets/{app}-postgrest.secret.yaml"));
        postgrest_gen::credentials::secret_file::read_jwt_secret(&text)
            .expect("jwt-secret in secrets/")
    }
    /// The plaintext password build wrote for `app`.
    pub fn password(&self, app: &str) -> String {
        let text = self.read(&format!("secrets/{app}-postgrest.secret.yaml"));
        postgrest_gen::credentials::secret_file::read_password(&text).expect("password in secrets/")
    }
    /// Every lock file (`locks/<app>.lock`), concatenated in name order: the whole lock.
    pub fn locks(&self) -> String {
        self.tree("locks").into_values().collect()
    }
    pub fn lock_exists(&self) -> bool {
        self.path().join("locks").exists() || self.path().join("postgrest-gen.lock").exists()
    }
    /// Every file under `rel` as path -> contents.
    pub fn tree(&self, rel: &str) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        let root = self.path().join(rel);
        walk(&root, &root, &mut files);
        files
    }
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, files);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            files.insert(
                rel,
                std::fs::read_to_string(&p).unwrap_or_else(|_| "<binary>".into()),
            );
        }
    }
}

/// `sql/<kind>-{steps,define,functions}.sql`: the SQL every app's file includes, the same in
/// every tree built from an `apps.toml` (snapshot `sql_steps`).
pub fn is_steps(p: &str) -> bool {
    let p = p.strip_prefix("out/").unwrap_or(p);
    p.starts_with("sql/")
        && ["-steps.sql", "-define.sql", "-functions.sql"]
            .iter()
            .any(|s| p.ends_with(s))
}

/// Renders a tree as one reviewable document for snapshots.
/// The scripts `build` copies verbatim into `out/bin/` are checked to be exact copies and shown
/// by name only, and so are the shared SQL steps (each scenario checks them against
/// `sql_steps`), so each scenario's snapshot shows what the scenario changes.
pub fn tree_doc(files: &BTreeMap<String, String>) -> String {
    files
        .iter()
        .map(|(p, c)| {
            let source = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates")
                .join(p.strip_prefix("out/").unwrap_or(p));
            match std::fs::read_to_string(&source) {
                Ok(t) if p.starts_with("bin/") || p.starts_with("out/bin/") => {
                    assert_eq!(&t, c, "{p} is not a verbatim copy of {}", source.display());
                    format!("===== {p}\n<verbatim copy of templates/{p}>\n")
                }
                _ if is_steps(p) => format!("===== {p}\n<the shared steps: snapshot sql_steps>\n"),
                _ => format!("===== {p}\n{c}"),
            }
        })
        .collect()
}

/// psql as the admin from the PG* environment (set by scripts/with-pg.sh).
pub struct Pg;

impl Pg {
    pub fn require() -> Self {
        for var in ["PGHOST", "PGUSER", "PGPASSWORD"] {
            assert!(
                std::env::var_os(var).is_some(),
                "{var} is not set: run these tests through `make test` (scripts/with-pg.sh provides a server)"
            );
        }
        Pg
    }
    fn cmd(&self, db: &str) -> Command {
        let mut c = Command::new("psql");
        c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db]);
        c
    }
    /// Whether the server is at least this `server_version_num` (160000: PostgreSQL 16).
    pub fn version_at_least(&self, num: u32) -> bool {
        self.sql("postgres", "SHOW server_version_num")
            .parse::<u32>()
            .unwrap()
            >= num
    }
    /// Runs SQL as the admin; Err carries stderr.
    pub fn try_sql(&self, db: &str, sql: &str) -> Result<String, String> {
        result(self.cmd(db).arg("-c").arg(sql).output().unwrap())
    }
    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.try_sql(db, sql)
            .unwrap_or_else(|e| panic!("SQL failed on {db}: {sql}\n{e}"))
    }
    pub fn try_file(&self, db: &str, file: &Path) -> Result<String, String> {
        result(self.cmd(db).arg("-f").arg(file).output().unwrap())
    }
    /// Runs a file as the admin; Ok carries what it printed to stderr (warnings), Err too.
    pub fn try_file_output(&self, db: &str, file: &Path) -> Result<String, String> {
        let out = self.cmd(db).arg("-f").arg(file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            Ok(stderr)
        } else {
            Err(stderr)
        }
    }
    /// Starts `sql` logged in as `user` over TCP and leaves it running (a session that holds
    /// something); the caller kills it.
    pub fn spawn_as(&self, user: &str, password: &str, db: &str, sql: &str) -> std::process::Child {
        psql_as(user, password, db)
            .arg("-c")
            .arg(sql)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }
    pub fn file(&self, db: &str, file: &Path) -> String {
        self.try_file(db, file)
            .unwrap_or_else(|e| panic!("{} failed on {db}:\n{e}", file.display()))
    }
    /// Runs a file logged in as `user` over TCP (another administrator than PG*'s); Ok
    /// carries what it printed to stderr (notices), Err too.
    pub fn try_file_as(
        &self,
        user: &str,
        password: &str,
        db: &str,
        file: &Path,
    ) -> Result<String, String> {
        let out = psql_as(user, password, db)
            .arg("-f")
            .arg(file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            Ok(stderr)
        } else {
            Err(stderr)
        }
    }
    /// Runs SQL logged in as `user` with `password` over TCP (password authentication).
    pub fn sql_as(
        &self,
        user: &str,
        password: &str,
        db: &str,
        sql: &str,
    ) -> Result<String, String> {
        result(
            psql_as(user, password, db)
                .arg("-c")
                .arg(sql)
                .output()
                .unwrap(),
        )
    }
    /// A fresh database owned by `owner` (created if missing) with schemas `marts` (internal
    /// tables) and `schema` (views over them), all owned by the owner.
    pub fn seed(&self, db: &str, owner: &str, schema: &str) {
        let q = ident;
        self.sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", q(db)),
        );
        self.sql(
            "postgres",
            &format!("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN CREATE ROLE {} NOLOGIN; END IF; END$$",
                lit(owner), q(owner)),
        );
        self.sql(
            "postgres",
            &format!("CREATE DATABASE {} OWNER {}", q(db), q(owner)),
        );
        self.sql(
            db,
            &format!(
                "CREATE SCHEMA marts AUTHORIZATION {o}; CREATE SCHEMA {s} AUTHORIZATION {o};
                 SET ROLE {o};
                 CREATE TABLE marts.places (id int PRIMARY KEY, name text);
                 INSERT INTO marts.places VALUES (1, 'Oslo'), (2, 'Bergen');
                 CREATE VIEW {s}.places AS SELECT id, name FROM marts.places;
                 RESET ROLE;",
                o = q(owner),
                s = q(schema)
            ),
        );
    }
}

/// A quoted SQL identifier, for test SQL.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn result(out: Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// psql logged in as `user` over TCP, so the password is really checked.
fn psql_as(user: &str, password: &str, db: &str) -> Command {
    let mut c = Command::new("psql");
    c.args([
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-w",
        "-d",
        db,
        "-U",
        user,
        "-h",
    ])
    .arg(std::env::var("PGHOST").expect("PGHOST"))
    .env("PGPASSWORD", password);
    c
}

/// One PostgREST request: as the authenticator, switch to the anonymous role for one
/// transaction exactly as PostgREST does, set the search path, run `query`.
pub fn as_postgrest(
    pg: &Pg,
    app: &str,
    password: &str,
    db: &str,
    schema: &str,
    query: &str,
) -> Result<String, String> {
    let anon = format!("{}_web_anon", app.replace('-', "_"));
    as_role(pg, app, password, db, &anon, schema, query)
}

/// One PostgREST request as `role` (the anonymous role or a JWT role a token names): logged in
/// as the app's authenticator over TCP, inside one transaction `set_config('role', ..., true)`
/// (PostgREST's SET LOCAL ROLE) and the search path set to the profile's schema, then `query`.
pub fn as_role(
    _pg: &Pg,
    app: &str,
    password: &str,
    db: &str,
    role: &str,
    schema: &str,
    query: &str,
) -> Result<String, String> {
    let stem = app.replace('-', "_");
    let sql = format!(
        "BEGIN; SELECT set_config('role', {role}, true), set_config('search_path', {schema}, true) \\g /dev/null\n{query}; COMMIT;",
        role = lit(role),
        schema = lit(&format!("\"{schema}\""))
    );
    // -c cannot carry a meta-command with SQL; feed it on stdin.
    let mut child = psql_as(&format!("{stem}_authenticator"), password, db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    result(child.wait_with_output().unwrap())
}
