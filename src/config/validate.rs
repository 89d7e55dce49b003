//! Validate stage: raw mirror to the validated model, pure, applying defaults once.
//!
//! Invariant: every problem is collected (never stop at the first), each pointing at the
//! offending value; a `Config` is returned only when there are none.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use toml::Spanned;

use super::load::{RawConfig, Source};
use super::model::{
    Api, App, Config, Database, Ensure, Jwt, JwtRole, JwtSecret, Kube, Privilege, Scope, Sealing,
};
use super::names::{printable, AppName, DnsLabel, HostName, IdentKind, Image, Origin, PgIdent};
use super::raw::{RawApp, RawDefaults, RawJwt, S};

mod kube;
use crate::error::Diagnostic;
use kube::{db_ssl, exclusive_pairs, kube_side};

pub const DEFAULT_IMAGE: &str = "postgrest/postgrest:v14.10";

/// Reads a file named in apps.toml (relative to its folder); `Err` says why not. Injected by
/// the caller, so this stage stays pure.
pub type ReadFile<'a> = &'a dyn Fn(&str) -> Result<String, String>;

struct Ctx<'a> {
    src: &'a Source<'a>,
    read: ReadFile<'a>,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn err(&mut self, at: usize, msg: impl Into<String>) {
        self.diags.push(self.src.diag(at, msg));
    }
    /// Checks a spanned value with `parse`, reporting at its position; `None` if bad.
    fn check<T, R>(
        &mut self,
        v: &Spanned<T>,
        parse: impl FnOnce(&T) -> Result<R, String>,
    ) -> Option<R> {
        parse(v.get_ref())
            .map_err(|m| self.err(v.span().start, m))
            .ok()
    }
    fn int(&mut self, v: &Spanned<i64>, key: &str, min: i64, max: i64) -> Option<i64> {
        self.check(v, |n| {
            if (min..=max).contains(n) {
                Ok(*n)
            } else {
                Err(format!(
                    "`{key}` is {n}; it must be between {min} and {max}"
                ))
            }
        })
    }
}

fn pick<'a, T>(app: &'a S<T>, default: &'a S<T>) -> Option<&'a Spanned<T>> {
    app.as_ref().or(default.as_ref())
}

pub fn validate(
    src: &Source<'_>,
    raw: &RawConfig,
    read: ReadFile<'_>,
) -> Result<Config, Vec<Diagnostic>> {
    let mut cx = Ctx {
        src,
        read,
        diags: Vec::new(),
    };
    let d = &raw.defaults;

    let namespace = opt_or(&mut cx, &d.namespace, "postgrest", |s| {
        DnsLabel::parse(s, "namespace")
    });
    let ingress_namespace = opt_or(&mut cx, &d.ingress_namespace, "traefik", |s| {
        DnsLabel::parse(s, "ingress-namespace")
    });
    let db_cidrs = list(&mut cx, &d.db_cidrs, &[], |s| cidr(s));
    // Pairs that exclude each other are checked in [defaults] even when every app overrides
    // them (the per-app check repeats this for inheriting apps; duplicates are dropped).
    exclusive_pairs(
        &mut cx,
        "defaults",
        &d.replicas,
        &d.autoscale,
        &d.tls_cert_resolver,
        &d.tls_secret,
    );
    let sealing = raw.sealing.as_ref().and_then(|s| {
        let scope = match s.scope.as_ref() {
            None => Some(Scope::Strict),
            Some(v) => cx.check(v, |s| match s.as_str() {
                "strict" => Ok(Scope::Strict),
                "namespace-wide" => Ok(Scope::NamespaceWide),
                "cluster-wide" => Ok(Scope::ClusterWide),
                other => Err(format!(
                    "sealing scope `{}` is unknown; use `strict`, `namespace-wide` or `cluster-wide`",
                    printable(other)
                )),
            }),
        };
        let cert = cx.check(&s.cert, |c| {
            if c.is_empty() || c.contains('\0') {
                Err("sealing `cert` must be the path of the controller's PEM certificate".into())
            } else {
                Ok(c.clone())
            }
        });
        Some(Sealing { cert: cert?, scope: scope? })
    });

    let mut apps = BTreeMap::new();
    for (name, table) in &raw.apps {
        let Some(app_name) = cx.check(name, |n| AppName::parse(n)) else {
            continue;
        };
        if let Some(app) = validate_app(&mut cx, raw, app_name.clone(), table) {
            apps.insert(app_name, app);
        }
    }
    collisions(&mut cx, raw, &apps);
    let db_max_connections = d
        .db_max_connections
        .as_ref()
        .and_then(|v| cx.int(v, "db-max-connections", 1, 262_143))
        .map(|n| n as u32);

    let mut diags = cx.diags;
    if diags.is_empty() {
        let config = Config {
            namespace: namespace.expect("checked"),
            ingress_namespace: ingress_namespace.expect("checked"),
            db_cidrs,
            sealing,
            db_max_connections,
            apps,
        };
        let diags = budget(src, raw, &config);
        if diags.is_empty() {
            Ok(config)
        } else {
            Err(diags)
        }
    } else {
        diags.sort();
        diags.dedup();
        Err(diags)
    }
}

/// Largest consumers named when a server's budget is exceeded.
const BUDGET_NAMED: usize = 5;

/// `db-max-connections`: the limits of the present apps of each server must fit in it. Checked
/// once everything else is valid (the limits need every app's replicas and pool).
fn budget(src: &Source<'_>, raw: &RawConfig, config: &Config) -> Vec<Diagnostic> {
    let (Some(max), Some(key)) = (
        config.db_max_connections,
        raw.defaults.db_max_connections.as_ref(),
    ) else {
        return Vec::new();
    };
    config
        .connection_budget()
        .into_iter()
        .filter(|s| s.total > u64::from(max))
        .map(|s| {
            let named: Vec<String> = s
                .apps
                .iter()
                .take(BUDGET_NAMED)
                .map(|(app, n)| format!("{app} {n}"))
                .collect();
            let more = s.apps.len().saturating_sub(BUDGET_NAMED);
            src.diag(key.span().start, format!(
                "`db-max-connections` is {max}, but the present apps on server {} may open {} connections together (each app: (replicas, or autoscale max, + 1) x (db-pool + 1)); largest: {}{}; lower `replicas`, `autoscale` max or `db-pool` of some apps, or raise `db-max-connections` to what the server allows (its max_connections minus what others use)",
                printable(&s.server),
                s.total,
                named.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ))
        })
        .collect()
}

fn opt_or<R>(
    cx: &mut Ctx<'_>,
    v: &S<String>,
    default: &str,
    parse: impl FnOnce(&String) -> Result<R, String>,
) -> Option<R> {
    match v {
        Some(v) => cx.check(v, parse),
        None => Some(parse(&default.to_owned()).expect("built-in default is valid")),
    }
}

fn list<R>(
    cx: &mut Ctx<'_>,
    v: &S<Vec<Spanned<String>>>,
    default: &[&str],
    parse: impl Fn(&String) -> Result<R, String>,
) -> Vec<R> {
    match v {
        Some(items) => items
            .get_ref()
            .iter()
            .filter_map(|i| cx.check(i, &parse))
            .collect(),
        None => default
            .iter()
            .map(|s| parse(&(*s).to_owned()).expect("default valid"))
            .collect(),
    }
}

fn validate_app(
    cx: &mut Ctx<'_>,
    raw: &RawConfig,
    name: AppName,
    table: &Spanned<RawApp>,
) -> Option<App> {
    let a = table.get_ref();
    let d = &raw.defaults;
    let database = match &a.database {
        Some(v) => cx.check(v, |s| PgIdent::parse(s, IdentKind::Database)),
        None if raw.unreadable.contains(&format!("apps.{name}.database")) => None,
        None => {
            cx.err(table.span().start, format!("[apps.{name}] is missing the required key `database`; add `database = \"<name of the app's database>\"`"));
            None
        }
    };
    let owner = match &a.owner {
        Some(v) => cx.check(v, |s| PgIdent::parse(s, IdentKind::Role)),
        // The derived default is held to the same rules as a written owner: an app named
        // `postgres` or `current-user` must not silently get a superuser or keyword as owner.
        None => match PgIdent::parse(name.default_owner().as_str(), IdentKind::Role) {
            Ok(owner) => Some(owner),
            Err(why) => {
                cx.err(table.span().start, format!(
                    "[apps.{name}] sets no `owner`, so the owner defaults to role `{}`: {why}; set `owner = \"<role that owns the app's views>\"`",
                    name.default_owner()
                ));
                None
            }
        },
    };
    let schemas = schemas(cx, a, d);
    let anonymous = pick(&a.anonymous, &d.anonymous).is_none_or(|v| *v.get_ref());
    let anon_privileges = match pick(&a.anon_privileges, &d.anon_privileges) {
        Some(v) => privileges(cx, v, "anon-privileges"),
        None => Some(BTreeSet::from([Privilege::Select])),
    };
    let jwt = match &a.jwt {
        Some(j) => jwt(cx, &name, j).map(Some),
        None => Some(None),
    };
    let url_prefix = match &a.url_prefix {
        Some(v) => cx.check(v, |s| HostName::parse(s, "url-prefix")),
        None => Some(name.default_url_prefix()),
    };
    let cors = match a
        .cors_allowed_origins
        .as_ref()
        .or(d.cors_allowed_origins.as_ref())
    {
        Some(v) => list(cx, &Some(v.clone()), &[], |s| Origin::parse(s)),
        None => Vec::new(),
    };
    let ensure = match &a.ensure {
        None => Some(Ensure::Present),
        Some(v) => cx.check(v, |s| match s.as_str() {
            "present" => Ok(Ensure::Present),
            "absent" => Ok(Ensure::Absent),
            other => Err(format!(
                "`ensure` is `{}`; use `present` or `absent`",
                printable(other)
            )),
        }),
    };
    let image = match pick(&a.image, &d.image) {
        Some(v) => cx.check(v, |s| Image::parse(s)),
        None => Image::parse(DEFAULT_IMAGE).ok(),
    };
    let db_host = match pick(&a.db_host, &d.db_host) {
        Some(v) => cx.check(v, |s| HostName::parse(s, "db-host")),
        None => HostName::parse("postgresql.default.svc.cluster.local", "db-host").ok(),
    };
    let mut int =
        |app: &S<i64>, def: &S<i64>, key: &str, min: i64, max: i64, dflt: i64| match pick(app, def)
        {
            Some(v) => cx.int(v, key, min, max),
            None => Some(dflt),
        };
    let db_port = int(&a.db_port, &d.db_port, "db-port", 1, 65535, 5432);
    let db_pool = int(&a.db_pool, &d.db_pool, "db-pool", 1, 1000, 10);
    let db_max_rows = match pick(&a.db_max_rows, &d.db_max_rows) {
        Some(v) => cx.int(v, "db-max-rows", 1, i64::from(u32::MAX)).map(Some),
        None => Some(None),
    };
    let statement_timeout = match pick(&a.statement_timeout, &d.statement_timeout) {
        Some(v) => cx.check(v, |s| duration(s)),
        None => Some("5s".to_owned()),
    };
    let entry_points = list(
        cx,
        &a.entry_points.clone().or(d.entry_points.clone()),
        &["websecure"],
        |s| {
            if !s.is_empty()
                && s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                Ok(s.clone())
            } else {
                Err(format!("entry point `{}` is not a Traefik entry point name (letters, digits, '-', '_')", printable(s)))
            }
        },
    );
    let public_domain = match pick(&a.public_domain, &d.public_domain) {
        Some(v) => cx
            .check(v, |s| HostName::parse(s, "public-domain"))
            .map(Some),
        None => Some(None),
    };
    let smoke = |cx: &mut Ctx<'_>, v: &S<String>| match v {
        Some(v) => cx
            .check(v, |s| PgIdent::parse(s, IdentKind::Relation))
            .map(Some),
        None => Some(None),
    };
    let smoke_view = smoke(cx, &a.smoke_view);
    let smoke_hidden = smoke(cx, &a.smoke_hidden);
    // Only a deployed, present app is routed: the resolver-needs-hosts rule applies to it.
    let routed = a.deployed.as_ref().is_none_or(|v| *v.get_ref())
        && a.ensure.as_ref().is_none_or(|v| v.get_ref() != "absent");
    let kube = kube_side(cx, d, a, &name, table.span().start, routed);
    let db_ssl = db_ssl(cx, d, a);
    let url_prefix = url_prefix?;
    let (replicas, resources, shutdown_delay_s, metrics, tls, hosts) = kube?;
    let public_url = match (hosts.first(), public_domain?) {
        (Some(host), _) => Some(format!("https://{host}")),
        (None, Some(d)) => Some(format!("https://{url_prefix}.{d}")),
        (None, None) => None,
    };
    Some(App {
        ensure: ensure?,
        deployed: a.deployed.as_ref().is_none_or(|v| *v.get_ref()),
        db: Database {
            database: database?,
            owner: owner?,
            host: db_host?,
            port: u16::try_from(db_port?).ok()?,
            ssl: db_ssl?,
            bootstrap: pick(&a.bootstrap, &d.bootstrap).is_some_and(|v| *v.get_ref()),
        },
        api: Api {
            public_url,
            schemas: schemas?,
            anonymous,
            anon_privileges: anon_privileges?,
            jwt: jwt?,
            cors_allowed_origins: cors,
            statement_timeout: statement_timeout?,
            db_pool: u32::try_from(db_pool?).ok()?,
            db_max_rows: db_max_rows?.map(|n| n as u32),
            smoke_view: smoke_view?,
            smoke_hidden: smoke_hidden?,
        },
        kube: Kube {
            image: image?,
            replicas,
            url_prefix,
            entry_points,
            resources,
            shutdown_delay_s,
            metrics,
            tls,
            hosts,
        },
        name,
    })
}

/// Cross-app rules: role names, exposed schemas, url prefixes (including one shadowing
/// another's hosts).
fn collisions(cx: &mut Ctx<'_>, raw: &RawConfig, apps: &BTreeMap<AppName, App>) {
    let raw_by_name: HashMap<&str, (&Spanned<String>, &Spanned<RawApp>)> = raw
        .apps
        .iter()
        .map(|(k, t)| (k.get_ref().as_str(), (k, t)))
        .collect();
    let at = |name: &AppName, pick: fn(&RawApp) -> Option<usize>| {
        raw_by_name
            .get(name.as_str())
            .map(|(k, t)| pick(t.get_ref()).unwrap_or(k.span().start))
            .unwrap_or(0)
    };
    let mut generated: HashMap<String, &AppName> = HashMap::new();
    for app in apps.values() {
        generated.insert(app.name.authenticator().to_string(), &app.name);
        generated.insert(app.name.anon_role().to_string(), &app.name);
    }
    // JWT roles: `<app>_<name>` can spell another app's role (`a` + `b_web_anon` is the
    // anonymous role of app `a-b`), and two apps' JWT roles can spell one role.
    for app in apps.values() {
        let Some(jwt) = &app.api.jwt else { continue };
        for (name, role) in &jwt.roles {
            let pos = raw_by_name
                .get(app.name.as_str())
                .and_then(|(_, t)| {
                    let jwt = t.get_ref().jwt.as_ref()?;
                    let role = jwt
                        .get_ref()
                        .roles
                        .as_ref()
                        .and_then(|m| m.get_ref().get(name));
                    Some(role.map_or(jwt.span().start, |r| r.span().start))
                })
                .unwrap_or(0);
            match generated.get(role.role.as_str()) {
                Some(other) => cx.err(pos, format!(
                    "JWT role `{name}` of app `{}` gives role `{}`, which is a role postgrest-gen makes for app `{other}`; choose another role name",
                    app.name, role.role
                )),
                None => {
                    generated.insert(role.role.to_string(), &app.name);
                }
            }
        }
    }
    for app in apps.values() {
        if let Some(other) = generated.get(app.db.owner.as_str()) {
            let pos = at(&app.name, |a| a.owner.as_ref().map(|o| o.span().start));
            let must = if app.db.bootstrap {
                "bootstrap would give it the owner's login password while apply manages it as that app's role; the owner must be a role of its own"
            } else {
                "the owner must be a role of its own that exists already"
            };
            cx.err(
                pos,
                format!(
                "owner `{}` of app `{}` is a role this tool generates for app `{other}`; {must}",
                app.db.owner, app.name
            ),
            );
        }
    }
    bootstrap_collisions(cx, raw, apps);
    // apply.sql grants the anonymous role SELECT on every table and view of its schema, so two
    // apps exposing one schema of one database would each serve the other's data. Absent apps
    // are being purged and expose nothing; undeployed ones keep their grants, so they count.
    let mut exposed: HashMap<(&str, &str), &AppName> = HashMap::new();
    let by_name: HashMap<&str, &App> = apps.values().map(|a| (a.name.as_str(), a)).collect();
    // In file order, so the later declaration is the one reported, pointing back at the first
    // (`raw.apps` is in key order: the TOML table is a sorted map).
    let mut keys: Vec<&Spanned<String>> = raw.apps.iter().map(|(k, _)| k).collect();
    keys.sort_by_key(|k| k.span().start);
    let in_file_order = keys
        .into_iter()
        .filter_map(|k| by_name.get(k.get_ref().as_str()).copied());
    let schemas_at = |r: &RawApp| {
        r.schemas
            .as_ref()
            .map(|s| s.span().start)
            .or(r.schema.as_ref().map(|s| s.span().start))
    };
    for app in in_file_order.filter(|a| a.present()) {
        for schema in &app.api.schemas {
            let key = (app.db.database.as_str(), schema.as_str());
            if let Some(first) = exposed.get(&key) {
                let pos = at(&app.name, schemas_at);
                let first_line = cx.src.diag(at(first, schemas_at), "").line;
                cx.err(pos, format!(
                    "app `{}` exposes schema `{schema}` of database `{}`, which app `{first}` (line {first_line}) exposes already; each app's roles could use the other's objects: give each app its own `schemas`",
                    app.name,
                    printable(app.db.database.as_str())
                ));
            } else {
                exposed.insert(key, &app.name);
            }
        }
    }
    // A prefix shadows another when it is a whole-label prefix of it (`api` answers
    // `api.eu.<domain>`): look every label-prefix up instead of comparing all pairs.
    let mut by_prefix: HashMap<&str, &AppName> = HashMap::new();
    for app in apps.values() {
        let p = app.kube.url_prefix.as_str();
        if let Some(first) = by_prefix.insert(p, &app.name) {
            by_prefix.insert(p, first);
            let pos = at(&app.name, |r| r.url_prefix.as_ref().map(|u| u.span().start));
            cx.err(pos, format!(
                "url-prefix `{p}` of app `{}` is also the url-prefix of app `{first}`; give each app its own `url-prefix`",
                app.name
            ));
        }
    }
    // Explicit hosts: one app per host, and none inside another app's wildcard (its
    // `HostRegexp` would answer the host too).
    let host_at = |name: &AppName, host: &HostName| {
        raw_by_name
            .get(name.as_str())
            .and_then(|(_, t)| {
                let hosts = t.get_ref().hosts.as_ref()?;
                hosts
                    .get_ref()
                    .iter()
                    .find(|h| h.get_ref() == host.as_str())
                    .map(|h| h.span().start)
            })
            .unwrap_or(0)
    };
    let mut by_host: HashMap<&str, &AppName> = HashMap::new();
    for app in apps.values().filter(|a| a.runs()) {
        for host in &app.kube.hosts {
            if let Some(first) = by_host.get(host.as_str()) {
                cx.err(host_at(&app.name, host), format!(
                    "host `{host}` of app `{}` is also a host of app `{first}`; each host routes to one app",
                    app.name
                ));
                continue;
            }
            by_host.insert(host.as_str(), &app.name);
            let h = host.as_str();
            for (i, _) in h.match_indices('.') {
                let wild = by_prefix.get(&h[..i]).filter(|o| {
                    apps.get(**o)
                        .is_some_and(|o| o.runs() && o.kube.hosts.is_empty())
                });
                if let Some(other) = wild.filter(|o| ***o != app.name) {
                    cx.err(host_at(&app.name, host), format!(
                        "host `{h}` of app `{}` is also answered by app `{other}`'s wildcard rule (`{}.` on any domain); give app `{other}` explicit `hosts`, or pick another host",
                        app.name, &h[..i]
                    ));
                }
            }
        }
    }
    for app in apps.values() {
        let p = app.kube.url_prefix.as_str();
        for (i, _) in p.match_indices('.') {
            if let Some(other) = by_prefix.get(&p[..i]) {
                let pos = at(&app.name, |r| r.url_prefix.as_ref().map(|u| u.span().start));
                cx.err(pos, format!(
                    "url-prefix `{p}` of app `{}` is shadowed by url-prefix `{}` of app `{other}` (its rule would answer these hosts too); give each app its own `url-prefix`",
                    app.name, &p[..i]
                ));
            }
        }
    }
}

/// Step 0 (`bootstrap = true`) across apps, per database server (`db-host:db-port`, where role
/// and database names are unique): `bootstrap.sql` creates the owner role with the app's own
/// password and the database `OWNER` it, so
/// - two bootstrap apps naming one owner role would each hold a password for it (only the
///   first to run marks the role as its own; the other's Secret `<app>-db-owner` never works);
/// - a bootstrap app's database used by a present app with another owner would make one
///   tenant the owner of the database holding the other's schemas (a database owner can drop
///   it and set its parameters for every session), or leave the bootstrap app's database to
///   another role, which apply then refuses;
/// - `postgres`, the maintenance database `bootstrap.sql` runs from, always exists and is not
///   the app's own.
///
/// Absent apps have no `bootstrap.sql` and are left out.
fn bootstrap_collisions(cx: &mut Ctx<'_>, raw: &RawConfig, apps: &BTreeMap<AppName, App>) {
    let raw_by_name: HashMap<&str, (&Spanned<String>, &Spanned<RawApp>)> = raw
        .apps
        .iter()
        .map(|(k, t)| (k.get_ref().as_str(), (k, t)))
        .collect();
    // The app's own key, else the app's table (a value inherited from [defaults] is reported
    // at the app it applies to).
    let at = |name: &AppName, pick: &dyn Fn(&RawApp) -> Option<usize>| {
        raw_by_name
            .get(name.as_str())
            .map(|(k, t)| pick(t.get_ref()).unwrap_or(k.span().start))
            .unwrap_or(0)
    };
    let owner_at = |a: &RawApp| {
        a.owner
            .as_ref()
            .map(|v| v.span().start)
            .or(a.bootstrap.as_ref().map(|v| v.span().start))
    };
    let database_at = |a: &RawApp| {
        a.bootstrap
            .as_ref()
            .map(|v| v.span().start)
            .or(a.database.as_ref().map(|v| v.span().start))
    };
    // In file order: the later declaration is reported, pointing back at the first.
    let mut keys: Vec<&Spanned<String>> = raw.apps.iter().map(|(k, _)| k).collect();
    keys.sort_by_key(|k| k.span().start);
    let by_name: HashMap<&str, &App> = apps.values().map(|a| (a.name.as_str(), a)).collect();
    let present: Vec<&App> = keys
        .into_iter()
        .filter_map(|k| by_name.get(k.get_ref().as_str()).copied())
        .filter(|a| a.present())
        .collect();
    let line_of = |cx: &Ctx<'_>, app: &AppName| cx.src.diag(at(app, &|_| None), "").line;
    let server = |a: &App| format!("{}:{}", a.db.host, a.db.port);

    let mut owners: HashMap<(String, &str), &AppName> = HashMap::new();
    for app in present.iter().filter(|a| a.db.bootstrap) {
        let key = (server(app), app.db.owner.as_str());
        if let Some(first) = owners.get(&key) {
            let first_line = line_of(cx, first);
            cx.err(at(&app.name, &owner_at), format!(
                "app `{}` bootstraps owner role `{}` on server {}, which app `{first}` (line {first_line}) bootstraps already; each app issues the owner its own password and only one can be the role's (the other's Secret `{}-db-owner` would never log in): set `bootstrap = true` on one of them only, or give each app its own `owner`",
                app.name, app.db.owner, key.0, app.name
            ));
        } else {
            owners.insert(key, &app.name);
        }
    }
    for (i, app) in present.iter().enumerate() {
        let other = present[..i].iter().find(|e| {
            (app.db.bootstrap || e.db.bootstrap)
                && server(e) == server(app)
                && e.db.database == app.db.database
                && e.db.owner != app.db.owner
        });
        let Some(other) = other else { continue };
        let first_line = line_of(cx, &other.name);
        let database = printable(app.db.database.as_str());
        if app.db.bootstrap {
            let pos = at(&app.name, &database_at);
            cx.err(pos, format!(
                "app `{}` bootstraps database `{database}` with owner `{}`, but app `{}` (line {first_line}) {} that database with owner `{}`; a database has one owner, who can drop it and set parameters for every session in it: give app `{}` its own `database`, or the same `owner` as app `{}`",
                app.name, app.db.owner, other.name,
                if other.db.bootstrap { "bootstraps" } else { "uses" },
                other.db.owner, app.name, other.name
            ));
        } else {
            let pos = at(&app.name, &|a: &RawApp| {
                a.owner.as_ref().map(|v| v.span().start)
            });
            cx.err(pos, format!(
                "app `{}` uses database `{database}` with owner `{}`, but app `{}` (line {first_line}) bootstraps that database with owner `{}`, who would own the database holding this app's schemas (a database owner can drop it and set parameters for every session in it): give one of the apps its own `database`, or both the same `owner`",
                app.name, app.db.owner, other.name, other.db.owner
            ));
        }
    }
    for app in present.iter().filter(|a| a.db.bootstrap) {
        if app.db.database.as_str() == "postgres" {
            let pos = at(&app.name, &|a: &RawApp| {
                a.database.as_ref().map(|v| v.span().start)
            });
            cx.err(pos, format!(
                "app `{}` has `bootstrap = true` and database `postgres`, the maintenance database bootstrap.sql runs from, which always exists and is not the app's own; name the app's own `database`, or set `bootstrap = false`",
                app.name
            ));
        }
    }
}

/// The exposed schemas: the app's `schemas` or `schema`, else the defaults', else `api_v1`.
fn schemas(cx: &mut Ctx<'_>, a: &RawApp, d: &RawDefaults) -> Option<Vec<PgIdent>> {
    let both = |cx: &mut Ctx<'_>, at: usize, table: &str| {
        cx.err(at, format!(
            "{table} sets both `schema` and `schemas`; keep only `schemas = [...]` (`schema` is the one-element form)"
        ));
    };
    if let (Some(s), Some(_)) = (&a.schema, &a.schemas) {
        both(cx, s.span().start, "this app");
        return None;
    }
    let one = |cx: &mut Ctx<'_>, v: &Spanned<String>| {
        cx.check(v, |s| PgIdent::parse(s, IdentKind::Schema))
            .map(|s| vec![s])
    };
    if let Some(v) = &a.schema {
        return one(cx, v);
    }
    if let (None, Some(s), Some(_)) = (&a.schemas, &d.schema, &d.schemas) {
        both(cx, s.span().start, "[defaults]");
        return None;
    }
    let list = match a.schemas.as_ref().or(d.schemas.as_ref()) {
        Some(list) => list,
        None => {
            return match &d.schema {
                Some(v) => one(cx, v),
                None => Some(vec![
                    PgIdent::parse("api_v1", IdentKind::Schema).expect("default")
                ]),
            }
        }
    };
    if list.get_ref().is_empty() {
        cx.err(
            list.span().start,
            "`schemas` is empty; list at least one schema, e.g. `schemas = [\"api_v1\"]`",
        );
        return None;
    }
    let mut out: Vec<PgIdent> = Vec::new();
    let mut ok = true;
    for item in list.get_ref() {
        match cx.check(item, |s| PgIdent::parse(s, IdentKind::Schema)) {
            Some(s) if out.contains(&s) => {
                cx.err(
                    item.span().start,
                    format!("schema `{s}` is listed twice in `schemas`; list each schema once"),
                );
                ok = false;
            }
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A privilege list (`anon-privileges`, a JWT role's `privileges`): known words, each once.
fn privileges(
    cx: &mut Ctx<'_>,
    v: &Spanned<Vec<Spanned<String>>>,
    key: &str,
) -> Option<BTreeSet<Privilege>> {
    let mut out = BTreeSet::new();
    let mut ok = true;
    for item in v.get_ref() {
        let word = item.get_ref();
        match Privilege::ALL.iter().find(|p| p.key() == word.as_str()) {
            Some(p) if !out.insert(*p) => {
                cx.err(
                    item.span().start,
                    format!("`{key}` lists `{word}` twice; list each privilege once"),
                );
                ok = false;
            }
            Some(_) => {}
            None => {
                let words: Vec<&str> = Privilege::ALL.iter().map(|p| p.key()).collect();
                cx.err(item.span().start, format!(
                    "`{key}` has `{}`, which is not a privilege postgrest-gen grants; use any of: {}",
                    printable(word),
                    words.join(", ")
                ));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// Longest JWKS file read: an identity provider's key set is a few kilobytes.
const JWKS_MAX_BYTES: usize = 64 * 1024;

fn jwt(cx: &mut Ctx<'_>, app: &AppName, j: &Spanned<RawJwt>) -> Option<Jwt> {
    let raw = j.get_ref();
    let secret = match (&raw.secret, &raw.jwks_file) {
        (Some(s), Some(_)) => {
            cx.err(s.span().start, "[jwt] sets both `secret` and `jwks-file`; keep `secret = \"generate\"` (an HMAC secret this tool makes) or `jwks-file` (an identity provider's public keys), not both");
            None
        }
        (Some(s), None) => cx.check(s, |v| {
            if v == "generate" {
                Ok(JwtSecret::Generate)
            } else {
                // The value is not echoed: it may be a real secret pasted in by mistake.
                Err("jwt `secret` must be `\"generate\"` (a secret never belongs in apps.toml: remove it from the file and its Git history if it is a real one); for an identity provider's keys set `jwks-file` instead".to_owned())
            }
        }),
        (None, Some(f)) => jwks(cx, f),
        (None, None) => Some(JwtSecret::Generate),
    };
    let audience = match &raw.audience {
        Some(v) => cx.check(v, |s| {
            if s.is_empty() || s.len() > 255 || s.chars().any(|c| c.is_control() || is_space(c)) {
                Err(format!(
                    "jwt `audience` `{}` must be 1 to 255 characters without spaces or control characters (it is compared with a token's `aud`)",
                    printable(s)
                ))
            } else {
                Ok(s.clone())
            }
        }),
        None => Some(app.to_string()),
    };
    let role_claim_key = match &raw.role_claim_key {
        Some(v) => cx.check(v, |s| {
            if s.starts_with('.') && s.len() <= 255 && !s.chars().any(char::is_control) {
                Ok(s.clone())
            } else {
                Err(format!(
                    "jwt `role-claim-key` `{}` is not a PostgREST JSPath such as `.role` or `.\"https://example.com/role\"` (starting with '.', at most 255 characters)",
                    printable(s)
                ))
            }
        }),
        None => Some(".role".to_owned()),
    };
    let mut roles = BTreeMap::new();
    let mut roles_ok = true;
    match &raw.roles {
        Some(table) if table.get_ref().is_empty() => {
            cx.err(table.span().start, "[jwt.roles] declares no role; add `[apps.<app>.jwt.roles.web_user]` or remove the empty table to get the default `web_user`");
            roles_ok = false;
        }
        Some(table) => {
            for (name, role) in table.get_ref() {
                let pg_role = match app.jwt_role(name) {
                    Ok(r) => Some(r),
                    Err(why) => {
                        cx.err(role.span().start, why);
                        None
                    }
                };
                let privs = match &role.get_ref().privileges {
                    Some(v) => privileges(cx, v, "privileges"),
                    None => Some(BTreeSet::from([Privilege::Select])),
                };
                match (pg_role, privs) {
                    (Some(role), Some(privileges)) => {
                        roles.insert(name.clone(), JwtRole { role, privileges });
                    }
                    _ => roles_ok = false,
                }
            }
        }
        None => {
            let role = app.jwt_role("web_user");
            match role {
                Ok(role) => {
                    roles.insert(
                        "web_user".to_owned(),
                        JwtRole {
                            role,
                            privileges: BTreeSet::from([Privilege::Select]),
                        },
                    );
                }
                Err(why) => {
                    cx.err(
                        j.span().start,
                        format!(
                            "the default JWT role: {why}; declare `[apps.{app}.jwt.roles.<name>]`"
                        ),
                    );
                    roles_ok = false;
                }
            }
        }
    }
    Some(Jwt {
        secret: secret?,
        audience: audience?,
        role_claim_key: role_claim_key?,
        roles: roles_ok.then_some(roles)?,
    })
}

fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Reads and checks a JWKS file: JSON with a non-empty `keys` array, each key an object with a
/// string `kty`, none carrying private or symmetric key material (the JWKS lands in the
/// Deployment, in Git, in plain text). Returns it compacted.
fn jwks(cx: &mut Ctx<'_>, f: &Spanned<String>) -> Option<JwtSecret> {
    let path = f.get_ref();
    if path.is_empty() || path.contains('\0') {
        cx.err(
            f.span().start,
            "jwt `jwks-file` must be the path of a JWKS JSON file, relative to apps.toml",
        );
        return None;
    }
    let text = match (cx.read)(path) {
        Ok(t) => t,
        Err(why) => {
            cx.err(f.span().start, format!("jwt `jwks-file` `{}` cannot be read: {why}; save the identity provider's JWKS there (e.g. from its `jwks_uri`)", printable(path)));
            return None;
        }
    };
    match check_jwks(&text) {
        Ok(json) => Some(JwtSecret::Jwks {
            file: path.clone(),
            json,
        }),
        Err(why) => {
            cx.err(
                f.span().start,
                format!("jwt `jwks-file` `{}`: {why}", printable(path)),
            );
            None
        }
    }
}

/// Members of a JWK that hold private or secret key material (RFC 7518 section 6).
const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

pub fn check_jwks(text: &str) -> Result<String, String> {
    if text.len() > JWKS_MAX_BYTES {
        return Err(format!(
            "is {} bytes; a JWKS of public keys is a few kilobytes (at most {JWKS_MAX_BYTES} accepted)",
            text.len()
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("is not JSON ({e}); it must be a JWKS: {{\"keys\": [...]}}"))?;
    let keys = value
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("is not a JWKS: it needs a `keys` array (a single JWK is not accepted; wrap it as {\"keys\": [<jwk>]})")?;
    if keys.is_empty() {
        return Err("has an empty `keys` array; it needs at least one public key".into());
    }
    for (i, key) in keys.iter().enumerate() {
        let Some(obj) = key.as_object() else {
            return Err(format!("key {i} is not a JSON object"));
        };
        let Some(kty) = obj.get("kty").and_then(|k| k.as_str()) else {
            return Err(format!(
                "key {i} has no string `kty` (key type such as `RSA` or `EC`)"
            ));
        };
        if let Some(m) = PRIVATE_JWK_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
            return Err(format!(
                "key {i} ({kty}) has the private member `{m}`: this is a private key, and the JWKS is rendered into the Deployment in plain text; export only the public keys"
            ));
        }
        if kty == "oct" || obj.contains_key("k") {
            return Err(format!(
                "key {i} is a symmetric (`oct`) key: its `k` is a secret, and the JWKS is rendered into the Deployment in plain text; use `secret = \"generate\"` for an HMAC secret"
            ));
        }
    }
    Ok(serde_json::to_string(&value).expect("a JSON value serialises"))
}

/// Longest `statement_timeout` PostgreSQL accepts: the setting is an `int` of milliseconds, and
/// `ALTER ROLE ... SET` refuses more ("exceeds integer range") only when apply.sql runs.
const STATEMENT_TIMEOUT_MAX_MS: u64 = i32::MAX as u64;

/// Milliseconds per unit `duration` accepts (PostgreSQL's own unit names for time settings).
const DURATION_UNITS: &[(&str, u64)] =
    &[("ms", 1), ("s", 1_000), ("min", 60_000), ("h", 3_600_000)];

fn duration(s: &str) -> Result<String, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at(digits);
    let per_unit = DURATION_UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, ms)| *ms);
    let Some(per_unit) = per_unit.filter(|_| digits > 0 && !s.starts_with('0')) else {
        return Err(format!("`statement-timeout` is `{}`; write a positive duration such as `5s`, `500ms`, `1min` or `1h`", printable(s)));
    };
    // A number too long for u64 is out of range just the same.
    let ms = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(per_unit));
    if ms.is_some_and(|ms| ms <= STATEMENT_TIMEOUT_MAX_MS) {
        return Ok(s.to_owned());
    }
    let limits: Vec<String> = DURATION_UNITS
        .iter()
        .map(|(u, ms)| format!("{}{u}", STATEMENT_TIMEOUT_MAX_MS / ms))
        .collect();
    Err(format!(
        "`statement-timeout` is `{}`, longer than PostgreSQL allows: statement_timeout is an integer number of milliseconds, at most {STATEMENT_TIMEOUT_MAX_MS} ms (about 24.8 days); write at most {}",
        printable(s),
        limits.join(", ")
    ))
}

fn quantity(key: &str, s: &str) -> Result<String, String> {
    let num = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[num.len()..];
    let ok = !num.is_empty()
        && num.len() <= 12
        && num.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && num.matches('.').count() <= 1
        && !num.starts_with('.')
        && !num.ends_with('.')
        && matches!(unit, "" | "m" | "k" | "M" | "G" | "Ki" | "Mi" | "Gi");
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{key}` is `{}`; write a Kubernetes quantity such as `100m`, `1`, `64Mi` or `1Gi`",
            printable(s)
        ))
    }
}

fn cidr(s: &str) -> Result<String, String> {
    let ok = s.split_once('/').is_some_and(|(ip, bits)| {
        (ip.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32))
            || (ip.parse::<std::net::Ipv6Addr>().is_ok()
                && bits.parse::<u8>().is_ok_and(|b| b <= 128))
    }) && !s.contains(' ');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`db-cidrs` entry `{}` is not a CIDR such as `10.0.0.0/16`",
            printable(s)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_up_to_postgresql_int_range() {
        for ok in ["1ms", "5s", "2147483647ms", "2147483s", "35791min", "596h"] {
            assert_eq!(duration(ok).as_deref(), Ok(ok));
        }
        for over in [
            "2147483648ms",
            "2147484s",
            "35792min",
            "597h",
            "99999999999999999999999ms",
        ] {
            let err = duration(over).unwrap_err();
            assert!(err.contains("at most 2147483647 ms"), "{over}: {err}");
        }
        for bad in ["", "0s", "05s", "5", "5 s", "1d", "-1s", "1.5s", "5S"] {
            assert!(
                duration(bad).unwrap_err().contains("positive duration"),
                "{bad:?}"
            );
        }
    }

    pub(super) fn errors(toml: &str) -> Vec<String> {
        let src = Source {
            file: "apps.toml",
            text: toml,
        };
        let (raw, load_errors) = crate::config::load::load(&src).expect("loads");
        assert!(load_errors.is_empty(), "{load_errors:?}");
        let read = |p: &str| match p {
            "public.json" => {
                Ok(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"k1"}]}"#.to_owned())
            }
            _ => Err("no such file".to_owned()),
        };
        match validate(&src, &raw, &read) {
            Ok(_) => Vec::new(),
            Err(d) => d.into_iter().map(|d| d.to_string()).collect(),
        }
    }

    fn config(toml: &str) -> Config {
        let src = Source {
            file: "apps.toml",
            text: toml,
        };
        let (raw, load_errors) = crate::config::load::load(&src).expect("loads");
        assert!(load_errors.is_empty(), "{load_errors:?}");
        let read = |_: &str| Err("no files".to_owned());
        validate(&src, &raw, &read).expect("valid")
    }

    #[test]
    fn schema_is_a_one_element_schemas_and_defaults_apply_once() {
        let names = |c: &Config, app: &str| -> Vec<String> {
            let app = AppName::parse(app).unwrap();
            c.apps[&app]
                .api
                .schemas
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        let c = config(
            "[defaults]\nschemas = [\"api_v2\", \"api_v1\"]\n[apps.a]\ndatabase = \"d\"\n[apps.b]\ndatabase = \"e\"\nschema = \"x\"\n[apps.c]\ndatabase = \"f\"\nschemas = [\"y\"]\n",
        );
        assert_eq!(names(&c, "a"), ["api_v2", "api_v1"], "order kept");
        assert_eq!(names(&c, "b"), ["x"]);
        assert_eq!(names(&c, "c"), ["y"]);
        let c = config("[defaults]\nschema = \"old\"\n[apps.a]\ndatabase = \"d\"\n");
        assert_eq!(names(&c, "a"), ["old"]);
        let c = config("[apps.a]\ndatabase = \"d\"\n");
        assert_eq!(names(&c, "a"), ["api_v1"]);
        let api = &c.apps[&AppName::parse("a").unwrap()].api;
        assert!(api.anonymous && api.jwt.is_none());
        assert_eq!(api.anon_privileges, BTreeSet::from([Privilege::Select]));
    }

    #[test]
    fn jwt_defaults_and_jwks() {
        let c = config("[apps.my-app]\ndatabase = \"d\"\nanonymous = false\n[apps.my-app.jwt]\n");
        let api = &c.apps[&AppName::parse("my-app").unwrap()].api;
        let jwt = api.jwt.as_ref().unwrap();
        assert_eq!(jwt.secret, JwtSecret::Generate);
        assert_eq!(jwt.audience, "my-app");
        assert_eq!(jwt.role_claim_key, ".role");
        assert_eq!(jwt.roles["web_user"].role.as_str(), "my_app_web_user");
        let roles = api.request_roles(&AppName::parse("my-app").unwrap());
        assert_eq!(roles.len(), 1, "no anonymous role when anonymous = false");
        assert!(errors("[apps.a]\ndatabase = \"d\"\njwt.jwks-file = \"public.json\"\n").is_empty());
        assert!(check_jwks(r#"{"keys":[{"kty":"EC","d":"x"}]}"#)
            .unwrap_err()
            .contains("`d`"));
        assert!(check_jwks(r#"{"keys":[{"kty":"RSA","n":"a","e":"b","qi":"x"}]}"#).is_err());
        assert!(check_jwks(r#"{"keys":[{"kty":"oct","k":"x"}]}"#).is_err());
        assert!(check_jwks(r#"{"keys":[]}"#).is_err());
        assert_eq!(
            check_jwks("{ \"keys\" : [ {\"kty\":\"RSA\",\"n\":\"a\",\"e\":\"b\"} ] }\n").unwrap(),
            r#"{"keys":[{"e":"b","kty":"RSA","n":"a"}]}"#
        );
    }

    #[test]
    fn bootstrap_owners_and_databases_are_per_server() {
        // One owner name on two servers is two roles; an app without bootstrap may share the
        // bootstrapped owner and database; an absent app has no bootstrap.sql.
        assert_eq!(
            errors(
                "[defaults]\nbootstrap = true\n[apps.a]\ndatabase = \"d\"\nowner = \"o\"\n[apps.b]\ndatabase = \"d\"\nowner = \"o\"\ndb-host = \"other\"\nschema = \"b_api\"\n[apps.c]\ndatabase = \"d\"\nowner = \"o\"\nbootstrap = false\nschema = \"c_api\"\n[apps.e]\ndatabase = \"e\"\nowner = \"o\"\nensure = \"absent\"\n"
            ),
            Vec::<String>::new()
        );
        // The same on one server (another port is another server).
        let e = errors(
            "[defaults]\nbootstrap = true\n[apps.a]\ndatabase = \"d\"\nowner = \"o\"\n[apps.b]\ndatabase = \"e\"\nowner = \"o\"\n[apps.c]\ndatabase = \"f\"\nowner = \"o\"\ndb-port = 5433\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("apps.toml:8:9: app `b` bootstraps owner role `o` on server postgresql.default.svc.cluster.local:5432, which app `a` (line 3)"),
            "{e:?}"
        );
        // Two apps of one database, one of them bootstrapping it, need one owner.
        let e = errors(
            "[apps.a]\ndatabase = \"d\"\nowner = \"o\"\n[apps.b]\ndatabase = \"d\"\nowner = \"p\"\nschema = \"b_api\"\nbootstrap = true\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("apps.toml:8:13: app `b` bootstraps database `d` with owner `p`, but app `a` (line 1) uses that database with owner `o`"),
            "{e:?}"
        );
    }

    #[test]
    fn derived_owner_is_checked() {
        let e = errors("[apps.postgres]\ndatabase = \"d\"\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("owner defaults to role `postgres`"), "{e:?}");
        assert!(
            errors("[apps.postgres]\ndatabase = \"d\"\nowner = \"pg_owner_x\"\n")[0]
                .contains("pg_")
        );
        assert!(errors("[apps.postgres]\ndatabase = \"d\"\nowner = \"app_owner\"\n").is_empty());
    }

    #[test]
    fn shared_schema_needs_same_database_and_presence() {
        let two = |extra: &str| {
            errors(&format!(
                "[apps.a]\ndatabase = \"d\"\n[apps.b]\ndatabase = \"d\"\n{extra}"
            ))
        };
        let e = two("");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("apps.toml:3:7: app `b` exposes schema `api_v1`"),
            "{e:?}"
        );
        assert!(e[0].contains("app `a` (line 1)"), "{e:?}");
        assert!(two("schema = \"api_v2\"\n").is_empty());
        assert!(two("ensure = \"absent\"\n").is_empty());
        assert_eq!(two("deployed = false\n").len(), 1);
        assert!(errors("[apps.a]\ndatabase = \"d\"\n[apps.b]\ndatabase = \"D\"\n").is_empty());
    }
}
