//! Validate stage output: the configuration every later stage reads.
//!
//! Invariant: defaults are applied (once, in `validate`), every name is a checked newtype,
//! cross-app collisions are excluded. Later stages never see raw input.

use std::collections::{BTreeMap, BTreeSet};

use super::names::{AppName, DnsLabel, HostName, Image, ObjectName, Origin, PgIdent};

#[derive(Debug, Clone)]
pub struct Config {
    pub namespace: DnsLabel,
    pub ingress_namespace: DnsLabel,
    /// CIDRs for NetworkPolicy egress to the database; empty = any address.
    pub db_cidrs: Vec<String>,
    pub sealing: Option<Sealing>,
    /// `[defaults] db-max-connections`: the connection budget of each database server.
    pub db_max_connections: Option<u32>,
    pub apps: BTreeMap<AppName, App>,
}

impl Config {
    /// Present apps grouped by server (`db-host:db-port`), each with its authenticator's
    /// connection limit, the server's total first, largest consumers first.
    pub fn connection_budget(&self) -> Vec<ServerBudget<'_>> {
        let mut servers: BTreeMap<(&str, u16), Vec<(&AppName, u32)>> = BTreeMap::new();
        for app in self.apps.values().filter(|a| a.present()) {
            servers
                .entry((app.db.host.as_str(), app.db.port))
                .or_default()
                .push((&app.name, app.connection_limit()));
        }
        servers
            .into_iter()
            .map(|((host, port), mut apps)| {
                apps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                ServerBudget {
                    server: format!("{host}:{port}"),
                    total: apps.iter().map(|(_, n)| u64::from(*n)).sum(),
                    apps,
                }
            })
            .collect()
    }
}

/// One database server's share of `db-max-connections`.
#[derive(Debug)]
pub struct ServerBudget<'a> {
    /// `db-host:db-port`.
    pub server: String,
    pub total: u64,
    /// Apps with their limits, largest first.
    pub apps: Vec<(&'a AppName, u32)>,
}

/// CPU and memory of one pod (Kubernetes quantities).
#[derive(Debug, Clone)]
pub struct Resources {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

#[derive(Debug, Clone)]
pub struct Sealing {
    /// As written in apps.toml, relative to its folder; `main` reads it.
    pub cert: String,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Strict,
    NamespaceWide,
    ClusterWide,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensure {
    Present,
    Absent,
}

/// One app, grouped by concern so each template's view takes only its group.
#[derive(Debug, Clone)]
pub struct App {
    pub name: AppName,
    pub ensure: Ensure,
    /// `deployed = false`: roles and Secret stay, workloads are removed.
    pub deployed: bool,
    pub db: Database,
    pub api: Api,
    pub kube: Kube,
}

/// The database side: where the app's data lives and who owns it.
#[derive(Debug, Clone)]
pub struct Database {
    pub database: PgIdent,
    pub owner: PgIdent,
    pub host: HostName,
    pub port: u16,
    /// libpq `sslmode` put into `PGRST_DB_URI`; `None` leaves libpq's default (`prefer`).
    pub ssl: Option<DbSsl>,
    /// Step 0: create the owner role (with a generated password), the database and the
    /// schemas where missing (`sql/bootstrap.sql`), and hand out the owner's Secret.
    pub bootstrap: bool,
}

/// TLS to the database: the libpq `sslmode` and, for the verifying modes, the ConfigMap that
/// holds the server's CA (key `ca.crt`), mounted read-only and named in `sslrootcert`.
#[derive(Debug, Clone)]
pub struct DbSsl {
    pub mode: SslMode,
    pub ca_configmap: Option<ObjectName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub const ALL: [SslMode; 6] = [
        SslMode::Disable,
        SslMode::Allow,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
    /// The modes that check the server's certificate against a CA the client holds.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// The API surface PostgREST exposes and how it bounds requests.
#[derive(Debug, Clone)]
pub struct Api {
    /// Exposed schemas in order (never empty); the first is PostgREST's default profile.
    pub schemas: Vec<PgIdent>,
    /// Whether requests without a token are served, as the anonymous role.
    pub anonymous: bool,
    /// What the anonymous role may do in every exposed schema.
    pub anon_privileges: BTreeSet<Privilege>,
    /// Authenticated requests; `None` = no JWT accepted.
    pub jwt: Option<Jwt>,
    pub cors_allowed_origins: Vec<Origin>,
    /// A PostgreSQL duration literal, e.g. `5s`.
    pub statement_timeout: String,
    pub db_pool: u32,
    pub db_max_rows: Option<u32>,
    /// `https://<url-prefix>.<public-domain>` when a public domain is configured.
    pub public_url: Option<String>,
    pub smoke_view: Option<PgIdent>,
    pub smoke_hidden: Option<PgIdent>,
}

/// A privilege a role of the API may hold on the objects of the exposed schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Execute,
}

impl Privilege {
    pub const ALL: [Privilege; 5] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Execute,
    ];
    /// The word in apps.toml.
    pub fn key(self) -> &'static str {
        match self {
            Privilege::Select => "select",
            Privilege::Insert => "insert",
            Privilege::Update => "update",
            Privilege::Delete => "delete",
            Privilege::Execute => "execute",
        }
    }
    /// The privilege as PostgreSQL names it (`aclexplode`'s `privilege_type`).
    pub fn sql(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Execute => "EXECUTE",
        }
    }
}

/// `[apps.<name>.jwt]`, validated.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub secret: JwtSecret,
    /// `PGRST_JWT_AUD`.
    pub audience: String,
    /// `PGRST_JWT_ROLE_CLAIM_KEY`.
    pub role_claim_key: String,
    /// By the name a token uses in its role claim's suffix (the table key); never empty.
    pub roles: BTreeMap<String, JwtRole>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtSecret {
    /// A random HMAC secret, a credential like the password.
    Generate,
    /// A public JWKS: `file` as written in apps.toml, `json` its validated, compacted contents.
    Jwks { file: String, json: String },
}

#[derive(Debug, Clone)]
pub struct JwtRole {
    /// The PostgreSQL role, `<app stem>_<name>`.
    pub role: PgIdent,
    pub privileges: BTreeSet<Privilege>,
}

/// The Kubernetes side: the workload and how traffic reaches it.
#[derive(Debug, Clone)]
pub struct Kube {
    pub image: Image,
    pub replicas: Replicas,
    pub url_prefix: HostName,
    pub entry_points: Vec<String>,
    pub resources: Resources,
    /// Seconds a terminating pod keeps serving (preStop sleep) before it gets SIGTERM;
    /// 0 = no preStop hook.
    pub shutdown_delay_s: u32,
    /// `None`: the admin port (and so `/metrics`) is reachable from no namespace.
    pub metrics: Option<Metrics>,
    pub tls: Option<Tls>,
    /// Explicit `Host()` matchers; empty = the `HostRegexp` wildcard on `url-prefix`.
    pub hosts: Vec<HostName>,
}

/// How many pods run: a fixed count, or a HorizontalPodAutoscaler's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replicas {
    Fixed(u32),
    Auto(Autoscale),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation, percent of the CPU request.
    pub cpu_percent: u32,
}

/// Metrics scraping: the namespace Prometheus scrapes from, and whether a ServiceMonitor is
/// rendered (otherwise the pods carry `prometheus.io/*` scrape annotations).
#[derive(Debug, Clone)]
pub struct Metrics {
    pub namespace: DnsLabel,
    pub service_monitor: bool,
}

/// The IngressRoute's `spec.tls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// A Traefik certificate resolver (ACME) by name.
    CertResolver(String),
    /// A `kubernetes.io/tls` Secret in the instance's namespace.
    Secret(ObjectName),
}

/// Extra pods a rolling update may start above the desired count (`maxSurge`); with
/// `maxUnavailable: 0` no old pod stops before its replacement is ready.
pub const ROLLING_SURGE: u32 = 1;

/// Seconds a pod gets after its preStop sleep to stop on SIGTERM before SIGKILL (the
/// Kubernetes default grace period).
pub const STOP_GRACE_S: u32 = 30;

impl Kube {
    /// Fewest pods the instance runs when settled (the PodDisruptionBudget's basis).
    pub fn min_pods(&self) -> u32 {
        match self.replicas {
            Replicas::Fixed(n) => n,
            Replicas::Auto(a) => a.min,
        }
    }
    /// Most pods that can be ready or starting at once: `replicas` (or the autoscaler's `max`)
    /// plus the rolling update's surge. The connection budget multiplies this by a pod's
    /// connections. Pods that are terminating (inside their `shutdown-delay`) still hold
    /// their connections for that long and are not counted here.
    pub fn max_pods(&self) -> u32 {
        let most = match self.replicas {
            Replicas::Fixed(n) => n,
            Replicas::Auto(a) => a.max,
        };
        most + ROLLING_SURGE
    }
    /// `terminationGracePeriodSeconds`: the preStop sleep plus time to stop after SIGTERM.
    pub fn termination_grace_s(&self) -> u32 {
        self.shutdown_delay_s + STOP_GRACE_S
    }
}

impl Api {
    /// Every role PostgREST may switch to, with what it may do: the anonymous role (when
    /// `anonymous`), then the JWT roles, sorted by role name within each group.
    pub fn request_roles(
        &self,
        app: &super::names::AppName,
    ) -> Vec<(PgIdent, BTreeSet<Privilege>)> {
        let mut roles = Vec::new();
        if self.anonymous {
            roles.push((app.anon_role(), self.anon_privileges.clone()));
        }
        if let Some(jwt) = &self.jwt {
            let mut jwt_roles: Vec<_> = jwt
                .roles
                .values()
                .map(|r| (r.role.clone(), r.privileges.clone()))
                .collect();
            jwt_roles.sort();
            roles.extend(jwt_roles);
        }
        roles
    }
}

impl App {
    /// The authenticator's `CONNECTION LIMIT`: every pod holds `db-pool` connections plus one
    /// for PostgREST's LISTEN channel, and at most `max_pods` pods run at once.
    pub fn connection_limit(&self) -> u32 {
        self.kube.max_pods() * (self.api.db_pool + 1)
    }
    pub fn present(&self) -> bool {
        self.ensure == Ensure::Present
    }
    /// Workloads are rendered only for present, deployed apps.
    pub fn runs(&self) -> bool {
        self.present() && self.deployed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kube(replicas: Replicas) -> Kube {
        Kube {
            image: Image::parse("postgrest/postgrest:v14.10").unwrap(),
            replicas,
            url_prefix: HostName::parse("api-a", "url-prefix").unwrap(),
            entry_points: vec![],
            resources: Resources {
                cpu_request: "50m".into(),
                cpu_limit: "1".into(),
                memory_request: "64Mi".into(),
                memory_limit: "256Mi".into(),
            },
            shutdown_delay_s: 10,
            metrics: None,
            tls: None,
            hosts: vec![],
        }
    }

    #[test]
    fn max_pods_counts_the_surge_on_top_of_replicas_or_autoscale_max() {
        assert_eq!(kube(Replicas::Fixed(1)).max_pods(), 2);
        assert_eq!(kube(Replicas::Fixed(3)).max_pods(), 4);
        let auto = kube(Replicas::Auto(Autoscale {
            min: 2,
            max: 6,
            cpu_percent: 70,
        }));
        assert_eq!(auto.max_pods(), 7);
        assert_eq!(auto.min_pods(), 2);
        assert_eq!(auto.termination_grace_s(), 40);
    }
}
