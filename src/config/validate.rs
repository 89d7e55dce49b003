//! Validate stage: raw mirror to the validated model, pure, applying defaults once.
//!
//! Invariant: every problem is collected (never stop at the first), each pointing at the
//! offending value; a `Config` is returned only when there are none.

use std::collections::{BTreeMap, HashMap};

use toml::Spanned;

use super::load::{RawConfig, Source};
use super::model::{Api, App, Config, Database, Ensure, Kube, Scope, Sealing};
use super::names::{printable, AppName, DnsLabel, HostName, IdentKind, Image, Origin, PgIdent};
use super::raw::{RawApp, S};

mod kube;
use crate::error::Diagnostic;
use kube::{db_ssl, exclusive_pairs, kube_side};

pub const DEFAULT_IMAGE: &str = "postgrest/postgrest:v14.10";

struct Ctx<'a> {
    src: &'a Source<'a>,
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

pub fn validate(src: &Source<'_>, raw: &RawConfig) -> Result<Config, Vec<Diagnostic>> {
    let mut cx = Ctx {
        src,
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

    let mut diags = cx.diags;
    if diags.is_empty() {
        Ok(Config {
            namespace: namespace.expect("checked"),
            ingress_namespace: ingress_namespace.expect("checked"),
            db_cidrs,
            sealing,
            apps,
        })
    } else {
        diags.sort();
        diags.dedup();
        Err(diags)
    }
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
    let schema = match pick(&a.schema, &d.schema) {
        Some(v) => cx.check(v, |s| PgIdent::parse(s, IdentKind::Schema)),
        None => Some(PgIdent::parse("api_v1", IdentKind::Schema).expect("default")),
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
        },
        api: Api {
            public_url,
            schema: schema?,
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
    for app in apps.values() {
        if let Some(other) = generated.get(app.db.owner.as_str()) {
            let pos = at(&app.name, |a| a.owner.as_ref().map(|o| o.span().start));
            cx.err(pos, format!(
                "owner `{}` of app `{}` is a role this tool generates for app `{other}`; the owner must be a role of its own that exists already",
                app.db.owner, app.name
            ));
        }
    }
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
    for app in in_file_order.filter(|a| a.present()) {
        let key = (app.db.database.as_str(), app.api.schema.as_str());
        if let Some(first) = exposed.get(&key) {
            let pos = at(&app.name, |r| r.schema.as_ref().map(|s| s.span().start));
            let first_line = cx
                .src
                .diag(at(first, |r| r.schema.as_ref().map(|s| s.span().start)), "")
                .line;
            cx.err(pos, format!(
                "app `{}` exposes schema `{}` of database `{}`, which app `{first}` (line {first_line}) exposes already; each app's anonymous role could read the other's views: give one of them its own `schema`",
                app.name,
                app.api.schema,
                printable(app.db.database.as_str())
            ));
        } else {
            exposed.insert(key, &app.name);
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
        match validate(&src, &raw) {
            Ok(_) => Vec::new(),
            Err(d) => d.into_iter().map(|d| d.to_string()).collect(),
        }
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
