//! Validate stage output: the configuration every later stage reads.
//!
//! Invariant: defaults are applied (once, in `validate`), every name is a checked newtype,
//! cross-app collisions are excluded. Later stages never see raw input.

use std::collections::BTreeMap;

use super::names::{AppName, DnsLabel, HostName, Image, Origin, PgIdent};

#[derive(Debug, Clone)]
pub struct Config {
    pub namespace: DnsLabel,
    pub ingress_namespace: DnsLabel,
    /// CIDRs for NetworkPolicy egress to the database; empty = any address.
    pub db_cidrs: Vec<String>,
    pub resources: Resources,
    pub sealing: Option<Sealing>,
    pub apps: BTreeMap<AppName, App>,
}

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
}

/// The API surface PostgREST exposes and how it bounds requests.
#[derive(Debug, Clone)]
pub struct Api {
    pub schema: PgIdent,
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

/// The Kubernetes side: the workload and how traffic reaches it.
#[derive(Debug, Clone)]
pub struct Kube {
    pub image: Image,
    pub replicas: u32,
    pub url_prefix: HostName,
    pub entry_points: Vec<String>,
}

impl App {
    pub fn present(&self) -> bool {
        self.ensure == Ensure::Present
    }
    /// Workloads are rendered only for present, deployed apps.
    pub fn runs(&self) -> bool {
        self.present() && self.deployed
    }
}
