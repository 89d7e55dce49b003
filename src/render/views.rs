//! Render stage: one small view struct per template, built from the plan.
//!
//! Invariant: templates see only these views (never the config), and every value in them is
//! already validated; the filters then quote it for its language.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{App, Config, Scope};
use crate::plan::Credential;

/// One advisory lock for every apply and purge: GRANTs of different apps can touch the same
/// catalog rows (a shared database's ACL), so they are serialised across apps too. Advisory
/// locks are per database, so this serialises the apps of one database only.
pub const LOCK_KEY: i64 = 0x7067_7274_6765_6e00;
/// How long apply and purge wait for that lock, or for any other lock (a tenant can hold one
/// in its own database), before failing with the app named. `lock_timeout` syntax.
pub const LOCK_WAIT: &str = "10s";

pub type Labels = BTreeMap<&'static str, String>;

#[derive(Serialize)]
pub struct Meta {
    pub source: String,
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub selector: Labels,
}

impl Meta {
    pub fn new(config: &Config, app: &App, source: &str) -> Self {
        let selector: Labels = [
            ("app.kubernetes.io/name", "postgrest".to_owned()),
            (
                "app.kubernetes.io/instance",
                app.name.object_name().to_string(),
            ),
        ]
        .into();
        let mut labels = selector.clone();
        labels.insert("app.kubernetes.io/version", app.kube.image.tag().to_owned());
        labels.insert("app.kubernetes.io/component", "api".to_owned());
        labels.insert("app.kubernetes.io/part-of", app.name.to_string());
        labels.insert("app.kubernetes.io/managed-by", "postgrest-gen".to_owned());
        Self {
            source: source.to_owned(),
            name: app.name.object_name().to_string(),
            namespace: config.namespace.to_string(),
            labels,
            selector,
        }
    }
}

#[derive(Serialize)]
pub struct SqlView {
    pub source: String,
    pub app: String,
    pub database: String,
    /// The exposed schemas, comma-separated (plain identifiers hold no comma).
    pub schemas: String,
    pub owner: String,
    pub authenticator: String,
    pub anon: String,
    /// Each role PostgREST switches to and its privileges, as a JSON object (sorted keys).
    pub grants: String,
    /// Empty for an absent app (purge and verify do not use it).
    pub verifier: String,
    pub statement_timeout: String,
    /// The authenticator's `CONNECTION LIMIT` (see `App::connection_limit`).
    pub connection_limit: u32,
    /// `lock_timeout` pinned by the preamble.
    pub lock_wait: &'static str,
    /// The role comment that marks a role as converged by postgrest-gen for this app.
    pub marker: String,
    pub absent: bool,
}

impl SqlView {
    pub fn new(app: &App, cred: Option<&Credential>, source: &str) -> Self {
        Self {
            source: source.to_owned(),
            app: app.name.to_string(),
            database: app.db.database.to_string(),
            schemas: schemas_setting(app),
            owner: app.db.owner.to_string(),
            authenticator: app.name.authenticator().to_string(),
            anon: app.name.anon_role().to_string(),
            grants: grants_json(app),
            verifier: cred.map(|c| c.verifier.clone()).unwrap_or_default(),
            statement_timeout: app.api.statement_timeout.clone(),
            connection_limit: app.connection_limit(),
            lock_wait: LOCK_WAIT,
            marker: format!(
                "postgrest-gen: app {} in database {}",
                app.name, app.db.database
            ),
            absent: !app.present(),
        }
    }
}

/// One app's `apply.sql`, `purge.sql` or `verify.sql` (`kind`): the app's values and the
/// include of the shared steps.
#[derive(Serialize)]
pub struct AppSqlView<'a> {
    pub kind: &'a str,
    #[serde(flatten)]
    pub sql: &'a SqlView,
}

/// The shared steps (`out/sql/<kind>-steps.sql`): nothing of any app, only constants.
#[derive(Serialize)]
pub struct StepsView {
    pub source: String,
    pub lock_key: i64,
    /// The first of the two int4 keys of an owner's lock (the second is the owner's oid).
    pub owner_lock_space: i32,
    pub lock_wait: &'static str,
    /// `steps`, `define` or `functions`: which file of a kind's steps.
    pub part: &'static str,
}

impl StepsView {
    pub fn new(source: &str, part: &'static str) -> Self {
        Self {
            source: source.to_owned(),
            lock_key: LOCK_KEY,
            owner_lock_space: (LOCK_KEY >> 32) as i32,
            lock_wait: LOCK_WAIT,
            part,
        }
    }
}

/// The exposed schemas as the SQL settings carry them: comma-separated (plain identifiers hold
/// no comma).
fn schemas_setting(app: &App) -> String {
    app.api
        .schemas
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// `{"<role>": ["SELECT", ...], ...}` for every role PostgREST switches to; `USAGE` (on
/// sequences) goes with `INSERT`.
fn grants_json(app: &App) -> String {
    let map: BTreeMap<String, Vec<&str>> = app
        .api
        .request_roles(&app.name)
        .into_iter()
        .map(|(role, privs)| {
            let mut sql: Vec<&str> = privs.iter().map(|p| p.sql()).collect();
            // An insert through a serial column calls nextval(): INSERT brings USAGE on the
            // owner's sequences in the exposed schemas (the templates grant it on sequences only).
            if sql.contains(&"INSERT") {
                sql.push("USAGE");
            }
            (role.to_string(), sql)
        })
        .collect();
    serde_json::to_string(&map).expect("strings serialise")
}

#[derive(Serialize)]
pub struct ResourcesView {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

#[derive(Serialize)]
pub struct DeploymentView {
    #[serde(flatten)]
    pub meta: Meta,
    /// `None` with an autoscaler: the HPA owns `spec.replicas`.
    pub replicas: Option<u32>,
    /// Spread pods over nodes (more than one pod can run).
    pub spread: bool,
    pub max_surge: u32,
    /// 0 = no preStop hook.
    pub shutdown_delay_s: u32,
    pub termination_grace_s: u32,
    /// `prometheus.io/*` pod annotations (metrics on, no ServiceMonitor).
    pub scrape_annotations: bool,
    pub admin_port: u16,
    pub image: String,
    pub digest: bool,
    pub generation: u32,
    pub credential_hash: String,
    /// The generated JWT secret (PGRST_JWT_SECRET from the Secret), when there is one.
    pub jwt_secret: Option<JwtSecretView>,
    pub db_uri: String,
    /// ConfigMap with the database CA, mounted at `db_ca_dir`.
    pub db_ca_configmap: Option<String>,
    pub db_ca_dir: &'static str,
    pub db_ca_key: &'static str,
    /// PostgREST settings by variable name (sorted: stable output).
    pub settings: BTreeMap<&'static str, String>,
    pub resources: ResourcesView,
}

#[derive(Serialize)]
pub struct JwtSecretView {
    pub generation: u32,
    /// Hex SHA-256 of the secret (also in the lock): lets a lost lock be recovered from out/.
    pub sha256: String,
}

#[derive(Serialize)]
pub struct ServiceView {
    #[serde(flatten)]
    pub meta: Meta,
    /// The admin port, named `admin`, when metrics are scraped.
    pub admin_port: Option<u16>,
}

#[derive(Serialize)]
pub struct IngressRouteView {
    #[serde(flatten)]
    pub meta: Meta,
    pub entry_points: Vec<String>,
    pub rule: String,
    pub tls_cert_resolver: Option<String>,
    pub tls_secret: Option<String>,
}

#[derive(Serialize)]
pub struct NetworkPolicyView {
    #[serde(flatten)]
    pub meta: Meta,
    pub ingress_namespace: String,
    /// Admitted on `admin_port` only.
    pub metrics_namespace: Option<String>,
    pub admin_port: u16,
    pub db_port: u16,
    pub db_cidrs: Vec<String>,
}

#[derive(Serialize)]
pub struct HpaView {
    #[serde(flatten)]
    pub meta: Meta,
    pub min: u32,
    pub max: u32,
    pub cpu_percent: u32,
}

#[derive(Serialize)]
pub struct SealedSecretView {
    #[serde(flatten)]
    pub meta: Meta,
    pub scope_annotation: Option<&'static str>,
    pub sealed_password: String,
    pub sealed_jwt_secret: Option<String>,
}

pub fn scope_annotation(scope: Scope) -> Option<&'static str> {
    match scope {
        Scope::Strict => None,
        Scope::NamespaceWide => Some("sealedsecrets.bitnami.com/namespace-wide"),
        Scope::ClusterWide => Some("sealedsecrets.bitnami.com/cluster-wide"),
    }
}

#[derive(Serialize)]
pub struct SecretView {
    #[serde(flatten)]
    pub meta: Meta,
    pub app: String,
    pub file: String,
    /// `None` only with sealing, when the plaintext is not at hand (the sealed value is kept).
    pub password: Option<String>,
    /// Short SHA-256 of the password's verifier (see `secret_file::VERIFIER_ANNOTATION`).
    pub verifier_sha256: Option<String>,
    pub jwt_secret: Option<String>,
}

#[derive(Serialize)]
pub struct KustomizationView {
    pub source: String,
    pub resources: Vec<String>,
    pub configurations: Option<String>,
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and so also `$(`, which
/// Kubernetes would otherwise expand).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `out/bin/apply-k8s.sh`: the namespace it deletes in when no instance is left.
#[derive(Serialize)]
pub struct BinView {
    pub source: String,
    pub namespace: String,
}

/// `sql/bootstrap.sql` (`bootstrap = true`): the owner role, the database, the schemas.
#[derive(Serialize)]
pub struct BootstrapView {
    pub source: String,
    pub app: String,
    pub database: String,
    /// The exposed schemas, comma-separated (plain identifiers hold no comma).
    pub schemas: String,
    pub owner: String,
    pub verifier: String,
    pub generation: u32,
    /// The owner role's comment: made by this app's bootstrap, with the password's verifier
    /// (a short hash), so a re-run tells a rotation without reading `pg_authid`.
    pub marker: String,
    /// What every marker of this app's bootstrap starts with.
    pub marker_prefix: String,
    pub lock_wait: &'static str,
}

impl BootstrapView {
    pub fn new(app: &App, generation: u32, verifier: &str, source: &str) -> Self {
        let marker_prefix = format!("postgrest-gen bootstrap: owner of app {};", app.name);
        Self {
            source: source.to_owned(),
            app: app.name.to_string(),
            database: app.db.database.to_string(),
            schemas: schemas_setting(app),
            owner: app.db.owner.to_string(),
            verifier: verifier.to_owned(),
            generation,
            // In check, a password build has yet to make is a placeholder: so is its hash.
            marker: if verifier == crate::plan::PLACEHOLDER {
                format!("{marker_prefix} password {verifier}")
            } else {
                format!(
                    "{marker_prefix} password {}",
                    crate::credentials::secret_file::verifier_fingerprint(verifier)
                )
            },
            marker_prefix,
            lock_wait: LOCK_WAIT,
        }
    }
}

/// The owner's SealedSecret `<app>-db-owner`: every key sealed.
#[derive(Serialize)]
pub struct OwnerSealedSecretView {
    #[serde(flatten)]
    pub meta: Meta,
    pub scope_annotation: Option<&'static str>,
    pub generation: u32,
    pub params_sha256: String,
    pub values: BTreeMap<String, String>,
}

/// The owner's plaintext Secret in `secrets/` (applied by `make apply-secrets`).
#[derive(Serialize)]
pub struct OwnerSecretView {
    #[serde(flatten)]
    pub meta: Meta,
    pub app: String,
    pub file: String,
    pub verifier_sha256: String,
    pub values: BTreeMap<String, String>,
}

impl Meta {
    /// The owner Secret's metadata: its own name and component, the app's other labels.
    pub fn owner_secret(config: &Config, app: &App, source: &str) -> Self {
        let mut meta = Meta::new(config, app, source);
        meta.name = crate::plan::owner_secret_name(app);
        meta.labels
            .insert("app.kubernetes.io/component", "database".to_owned());
        meta
    }
}
