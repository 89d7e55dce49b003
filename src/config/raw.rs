//! Load stage, layer 1: a serde mirror of `apps.toml`, exactly as written.
//!
//! Invariant: nothing here is validated or defaulted; every value keeps its source span so
//! that the validate stage can point at it. Unknown keys are refused (`deny_unknown_fields`).
//! The `///` lines on these fields are the user documentation of `apps.toml`.

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Option<Spanned<T>>;

/// `[defaults]`: values every app inherits unless it sets its own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawDefaults {
    /// Kubernetes namespace of all instances. Default `postgrest`.
    pub namespace: S<String>,
    /// PostgREST image with a pinned tag (`latest` is refused), optionally `@sha256:` digest.
    /// The tag becomes label `app.kubernetes.io/version`, so it must also be a label value:
    /// at most 63 characters, beginning and ending with a letter or digit.
    /// Default `postgrest/postgrest:v14.10`.
    pub image: S<String>,
    /// Curated schemas PostgREST exposes, in order; the first is the default profile, clients
    /// pick another with `Accept-Profile` (reads) or `Content-Profile` (writes). Each is a plain
    /// lowercase identifier (a-z, 0-9, '_', not starting with a digit), because the list is
    /// also a comma-separated PostgREST setting and a Kubernetes env value; each must exist and
    /// belong to the app's owner. Two present apps on one database cannot expose one schema.
    /// A schema dropped from the list loses every grant on the next apply. Default `["api_v1"]`.
    pub schemas: S<Vec<Spanned<String>>>,
    /// One schema: the same as `schemas = ["<schema>"]` (kept for existing files); set either
    /// `schema` or `schemas` in a table, not both.
    pub schema: S<String>,
    /// What the anonymous role may do on every object of every exposed schema, any of
    /// `select` (tables, views, materialized views), `insert`, `update`, `delete` (tables and
    /// updatable views) and `execute` (functions and procedures: PostgREST's `/rpc/...`).
    /// Everything else is revoked on each apply. Default `["select"]`.
    pub anon_privileges: S<Vec<Spanned<String>>>,
    /// `false`: no anonymous access: `PGRST_DB_ANON_ROLE` is unset, so PostgREST answers a
    /// request without a token with 401, and the `<app>_web_anon` role is revoked and dropped on
    /// the next apply (it carries postgrest-gen's marker). Default `true`.
    pub anonymous: S<bool>,
    /// Host name of the shared PostgreSQL. Default `postgresql.default.svc.cluster.local`.
    pub db_host: S<String>,
    /// Port of the shared PostgreSQL. Default 5432.
    pub db_port: S<i64>,
    /// Connections the PostgreSQL server at one `db-host`:`db-port` gives all instances
    /// together (1 to 262143). Each app's authenticator gets `CONNECTION LIMIT` = most pods x
    /// (`db-pool` + 1), most pods being `replicas` (or `autoscale`'s `max`) + 1 for a rolling update's extra pod;
    /// `build` refuses when the present apps of one server add up to more. Unset: no budget
    /// is checked (each app's limit still applies).
    pub db_max_connections: S<i64>,
    /// Pods per instance (1 to 100). Not together with `autoscale` in the same table.
    /// Default 2.
    pub replicas: S<i64>,
    /// Origins allowed by CORS; empty means PostgREST's default (any origin). Default `[]`.
    pub cors_allowed_origins: S<Vec<Spanned<String>>>,
    /// Upper bound of every request, anonymous or JWT (`ALTER ROLE ... SET statement_timeout` on
    /// each role PostgREST switches to),
    /// a PostgreSQL duration such as `5s`, `500ms`, `1min` (units ms, s, min, h), at most
    /// PostgreSQL's 2147483647 ms (`2147483s`, `35791min`, `596h`). Default `5s`.
    pub statement_timeout: S<String>,
    /// Connections per PostgREST pod (`PGRST_DB_POOL`, 1 to 1000). Default 10.
    pub db_pool: S<i64>,
    /// Rows a single request can return at most (`PGRST_DB_MAX_ROWS`); unset = unlimited.
    pub db_max_rows: S<i64>,
    /// Traefik entry points the IngressRoute listens on. Default `["websecure"]`.
    pub entry_points: S<Vec<Spanned<String>>>,
    /// Domain appended to `url-prefix` to form the public URL
    /// (`https://<url-prefix>.<public-domain>`), advertised in the OpenAPI document
    /// and used by smoke checks. Unset: no public URL is advertised.
    pub public_domain: S<String>,
    /// Namespace of the ingress controller, the only source the NetworkPolicy admits.
    /// Default `traefik`.
    pub ingress_namespace: S<String>,
    /// CIDRs the database is reachable at, for NetworkPolicy egress; empty = any address
    /// on `db-port`. Default `[]`.
    pub db_cidrs: S<Vec<Spanned<String>>>,
    /// CPU request per pod (Kubernetes quantity); also the basis of `autoscale`'s
    /// `cpu-percent`. Default `50m`.
    pub cpu_request: S<String>,
    /// CPU limit per pod. Default `1`.
    pub cpu_limit: S<String>,
    /// Memory request per pod. Default `64Mi`.
    pub memory_request: S<String>,
    /// Memory limit per pod. Default `256Mi`.
    pub memory_limit: S<String>,
    /// How long a terminating pod keeps serving before it is sent SIGTERM: a `preStop`
    /// `sleep` (Kubernetes 1.30+), so requests the ingress still sends while it learns the pod
    /// is gone are answered (PostgREST 14 stops at once on SIGTERM).
    /// `terminationGracePeriodSeconds` is this plus 30 s. Whole seconds, `<n>s` or `<n>min`,
    /// at most `300s`; `0s` = no preStop hook (clusters before 1.30). Default `10s`.
    pub shutdown_delay: S<String>,
    /// Namespace of the Prometheus that scrapes `/metrics`: the NetworkPolicy admits it on
    /// the admin port (3001) only, and the Service names that port `admin`. Unset: the admin
    /// port is reachable from no namespace and nothing is scraped. Default unset.
    pub metrics_namespace: S<String>,
    /// `true`: a Prometheus Operator ServiceMonitor (`monitoring.coreos.com/v1`) per app
    /// scrapes the Service's `admin` port; `false`: the pods carry `prometheus.io/scrape`,
    /// `prometheus.io/port` and `prometheus.io/path` annotations instead. Needs
    /// `metrics-namespace`. Default `false`.
    pub service_monitor: S<bool>,
    /// Traefik certificate resolver (ACME) that issues the IngressRoute's certificate
    /// (`spec.tls.certResolver`). Needs `hosts` on every app that uses it (ACME takes the
    /// names from `Host()` rules). Not together with `tls-secret`. Default unset.
    pub tls_cert_resolver: S<String>,
    /// A `kubernetes.io/tls` Secret in the instance's namespace that Traefik serves
    /// (`spec.tls.secretName`). Not together with `tls-cert-resolver`. Default unset
    /// (no `spec.tls`: Traefik's default certificate on TLS entry points).
    pub tls_secret: S<String>,
    /// A HorizontalPodAutoscaler (`autoscaling/v2`) instead of a fixed `replicas`:
    /// `{ min = 2, max = 6, cpu-percent = 70 }` (1 <= min <= max <= 100; `cpu-percent`,
    /// 1 to 1000, of the CPU request, default 70). The Deployment then leaves `replicas` to
    /// the autoscaler; the PodDisruptionBudget exists when `min` > 1. Not together with
    /// `replicas` in the same table. Default unset.
    pub autoscale: S<RawAutoscale>,
    /// libpq `sslmode` in `PGRST_DB_URI`: `disable`, `allow`, `prefer`, `require`,
    /// `verify-ca` or `verify-full`. The verifying modes need `db-ca-configmap`.
    /// Default unset (libpq's `prefer`).
    pub db_sslmode: S<String>,
    /// ConfigMap in the instance's namespace whose key `ca.crt` holds the database server's
    /// CA certificate (PEM); mounted read-only and named in `sslrootcert`. Required with,
    /// and only with, `db-sslmode` `verify-ca` or `verify-full`. Default unset.
    pub db_ca_configmap: S<String>,
    /// Step 0: `out/apps/<app>/sql/bootstrap.sql`, run by `make apply-sql` before anything
    /// else, creates the app's owner role (LOGIN, with its own generated password, handled like
    /// the authenticator's), its database (`OWNER <owner>`) and every exposed schema
    /// (`AUTHORIZATION <owner>`) where they are missing, and never changes what it did not
    /// create. The owner's connection details go into the Secret `<app>-db-owner`.
    /// Default `false`.
    pub bootstrap: S<bool>,
}

/// `autoscale = { min = 2, max = 6, cpu-percent = 70 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAutoscale {
    /// Fewest pods (1 to 100). Required.
    pub min: S<i64>,
    /// Most pods (`min` to 100). Required.
    pub max: S<i64>,
    /// Target average CPU utilisation, percent of `cpu-request` (1 to 1000). Default 70.
    pub cpu_percent: S<i64>,
}

/// `[sealing]`: seal each app's Secret into a SealedSecret with the controller's certificate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSealing {
    /// Path of the controller's PEM certificate, relative to apps.toml (`kubeseal --fetch-cert`).
    pub cert: Spanned<String>,
    /// `strict` (default: bound to name and namespace), `namespace-wide` or `cluster-wide`.
    pub scope: S<String>,
}

/// `[apps.<name>]`: one PostgREST instance. The table name is the app name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawApp {
    /// Database the app's roles are created in. Required.
    pub database: S<String>,
    /// Role owning the curated schema's views (must exist). Default: app name, '-' -> '_'.
    /// Written or derived, it must not be `pg_*`, a reserved name (`public`, `current_user`,
    /// ...), `postgres`, a hosted service's administrator role, or a role this tool generates.
    pub owner: S<String>,
    /// Curated schemas (same rules as in `[defaults]`). Default from `[defaults]`.
    pub schemas: S<Vec<Spanned<String>>>,
    /// One curated schema, the same as `schemas = ["<schema>"]`. Default from `[defaults]`.
    pub schema: S<String>,
    /// Overrides `[defaults]`.
    pub anon_privileges: S<Vec<Spanned<String>>>,
    /// Overrides `[defaults]`.
    pub anonymous: S<bool>,
    /// `[apps.<name>.jwt]`: the table's presence enables authenticated requests (JWT).
    pub jwt: S<RawJwt>,
    /// Host prefix the IngressRoute answers (`<url-prefix>.<any domain>`). Default `api-<app>`.
    pub url_prefix: S<String>,
    /// Origins allowed by CORS. Default from `[defaults]`.
    pub cors_allowed_origins: S<Vec<Spanned<String>>>,
    /// `false` = undeploy: workloads go, roles and Secret stay. Default `true`.
    pub deployed: S<bool>,
    /// `present` (default) or `absent` (purge: drop the role pair and the Secret).
    pub ensure: S<String>,
    /// Overrides `[defaults]`.
    pub image: S<String>,
    /// Overrides `[defaults]`.
    pub db_host: S<String>,
    /// Overrides `[defaults]`.
    pub db_port: S<i64>,
    /// Overrides `[defaults]`.
    pub replicas: S<i64>,
    /// Overrides `[defaults]`.
    pub statement_timeout: S<String>,
    /// Overrides `[defaults]`.
    pub db_pool: S<i64>,
    /// Overrides `[defaults]`.
    pub db_max_rows: S<i64>,
    /// Overrides `[defaults]`.
    pub entry_points: S<Vec<Spanned<String>>>,
    /// Overrides `[defaults]`.
    pub public_domain: S<String>,
    /// Overrides `[defaults]`.
    pub cpu_request: S<String>,
    /// Overrides `[defaults]`.
    pub cpu_limit: S<String>,
    /// Overrides `[defaults]`.
    pub memory_request: S<String>,
    /// Overrides `[defaults]`.
    pub memory_limit: S<String>,
    /// Overrides `[defaults]`.
    pub shutdown_delay: S<String>,
    /// Overrides `[defaults]`.
    pub metrics_namespace: S<String>,
    /// Overrides `[defaults]`.
    pub service_monitor: S<bool>,
    /// Overrides `[defaults]`; the app's `tls-cert-resolver`/`tls-secret` replace both of
    /// `[defaults]`' as a pair.
    pub tls_cert_resolver: S<String>,
    /// Overrides `[defaults]` (see `tls-cert-resolver`).
    pub tls_secret: S<String>,
    /// Host names the IngressRoute answers, as `Host()` matchers, instead of the
    /// `HostRegexp` wildcard on `url-prefix` (which answers `<url-prefix>.` on every domain
    /// pointed at the cluster). The first is also the public URL. No two apps may share a
    /// host. Per app only. Default unset (the wildcard).
    pub hosts: S<Vec<Spanned<String>>>,
    /// Overrides `[defaults]`; the app's `replicas`/`autoscale` replace both of
    /// `[defaults]`' as a pair.
    pub autoscale: S<RawAutoscale>,
    /// Overrides `[defaults]`; the app's `db-sslmode`/`db-ca-configmap` replace both of
    /// `[defaults]`' as a pair (an app with `db-sslmode = "require"` drops the default CA).
    pub db_sslmode: S<String>,
    /// Overrides `[defaults]` (see `db-sslmode`).
    pub db_ca_configmap: S<String>,
    /// Overrides `[defaults]`.
    pub bootstrap: S<bool>,
    /// A view in the curated schema that returns rows; the smoke check reads it.
    pub smoke_view: S<String>,
    /// A name that must stay hidden (e.g. an internal table); the smoke check expects 404.
    pub smoke_hidden: S<String>,
}

/// `[apps.<name>.jwt]`: authenticated requests. A token's role claim names one of the app's
/// JWT roles; PostgREST verifies the token and switches to that role for the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawJwt {
    /// `"generate"` (the default): a random HMAC secret (48 characters, 288 bits), made once
    /// and handled like the password: in the app's Secret under key `jwt-secret`, plaintext only
    /// in `secrets/` for whoever issues tokens, sealed with `[sealing]`, never in Git in
    /// plaintext; `postgrest-gen rotate <app> --jwt-secret` replaces it.
    pub secret: S<String>,
    /// Instead of `secret`: an identity provider's public JWKS (JSON with `keys`, each with
    /// `kty`; private members such as `d` and symmetric `oct` keys are refused), relative to
    /// apps.toml. It is public, so it goes into the Deployment (`PGRST_JWT_SECRET`), not a Secret.
    pub jwks_file: S<String>,
    /// Audience a token's `aud` must contain (`PGRST_JWT_AUD`). Default: the app name.
    pub audience: S<String>,
    /// Where the role is in a token's claims (`PGRST_JWT_ROLE_CLAIM_KEY`, a PostgREST JSPath
    /// starting with `.`). Default `.role`.
    pub role_claim_key: S<String>,
    /// `[apps.<name>.jwt.roles.<role>]`: the roles a token may name. Each becomes the PostgreSQL
    /// role `<app>_<role>` (app '-' as '_'), granted to the authenticator; a token's role claim
    /// names that full role. A role removed here is revoked and dropped by the next apply.
    /// Default: one role `web_user` with `["select"]`.
    pub roles: S<std::collections::BTreeMap<String, Spanned<RawJwtRole>>>,
}

/// `[apps.<name>.jwt.roles.<role>]`: one role a token may name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawJwtRole {
    /// What the role may do on every object of every exposed schema (the same words as
    /// `anon-privileges`). Default `["select"]`.
    pub privileges: S<Vec<Spanned<String>>>,
}
