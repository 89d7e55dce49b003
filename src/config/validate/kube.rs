//! Validate stage, the production keys of the Kubernetes side (scale, sizing, shutdown delay,
//! metrics, TLS and hosts) and the database's TLS: raw values to model parts, pure.
//!
//! Invariant: keys that come in pairs (`replicas`/`autoscale`, `tls-cert-resolver`/
//! `tls-secret`, `db-sslmode`/`db-ca-configmap`) are inherited as a pair; every problem is
//! reported at the value that causes it, like the rest of validation.

use toml::Spanned;

use super::{pick, quantity, Ctx};
use crate::config::model::{Autoscale, DbSsl, Metrics, Replicas, Resources, SslMode, Tls};
use crate::config::names::{printable, AppName, DnsLabel, HostName, ObjectName};
use crate::config::raw::{RawApp, RawAutoscale, RawDefaults, S};

type KubeSide = (
    Replicas,
    Resources,
    u32,
    Option<Metrics>,
    Option<Tls>,
    Vec<HostName>,
);

/// Where an app's value of a pair came from: its own table if it sets either key of the
/// pair, otherwise `[defaults]` (so an app's `tls-secret` replaces a default resolver).
pub(super) fn pair<'a, A, B>(
    app: (&'a S<A>, &'a S<B>),
    def: (&'a S<A>, &'a S<B>),
) -> (&'a S<A>, &'a S<B>) {
    if app.0.is_some() || app.1.is_some() {
        app
    } else {
        def
    }
}

pub(super) fn exclusive_pairs(
    cx: &mut Ctx<'_>,
    table: &str,
    replicas: &S<i64>,
    autoscale: &S<RawAutoscale>,
    resolver: &S<String>,
    secret: &S<String>,
) {
    if let (Some(_), Some(auto)) = (replicas, autoscale) {
        cx.err(auto.span().start, format!(
            "[{table}] sets both `replicas` and `autoscale`; keep one: with `autoscale` the HorizontalPodAutoscaler decides the number of pods"
        ));
    }
    if let (Some(_), Some(secret)) = (resolver, secret) {
        cx.err(secret.span().start, format!(
            "[{table}] sets both `tls-cert-resolver` and `tls-secret`; keep one: the IngressRoute takes its certificate either from a Traefik resolver or from a Secret"
        ));
    }
}

/// The Kubernetes keys of one app: scale, sizing, shutdown, metrics, TLS and hosts.
pub(super) fn kube_side(
    cx: &mut Ctx<'_>,
    d: &RawDefaults,
    a: &RawApp,
    name: &AppName,
    table_at: usize,
    routed: bool,
) -> Option<KubeSide> {
    let table = format!("apps.{name}");
    exclusive_pairs(
        cx,
        &table,
        &a.replicas,
        &a.autoscale,
        &a.tls_cert_resolver,
        &a.tls_secret,
    );
    let (replicas, autoscale) = pair((&a.replicas, &a.autoscale), (&d.replicas, &d.autoscale));
    let replicas = match (autoscale, replicas) {
        (Some(auto), _) => autoscale_bounds(cx, auto).map(Replicas::Auto),
        (None, Some(n)) => cx
            .int(n, "replicas", 1, 100)
            .map(|n| Replicas::Fixed(n as u32)),
        (None, None) => Some(Replicas::Fixed(2)),
    };
    let mut quantity = |app: &S<String>, def: &S<String>, key: &'static str, dflt: &str| {
        let v = app.as_ref().or(def.as_ref());
        match v {
            Some(v) => cx.check(v, |s| quantity(key, s)),
            None => Some(dflt.to_owned()),
        }
    };
    let cpu_request = quantity(&a.cpu_request, &d.cpu_request, "cpu-request", "50m");
    let cpu_limit = quantity(&a.cpu_limit, &d.cpu_limit, "cpu-limit", "1");
    let memory_request = quantity(
        &a.memory_request,
        &d.memory_request,
        "memory-request",
        "64Mi",
    );
    let memory_limit = quantity(&a.memory_limit, &d.memory_limit, "memory-limit", "256Mi");
    // The API server refuses a request above its limit; say so here, not at `make apply`.
    for (req, lim, rkey, lkey, rv, lv) in [
        (
            &cpu_request,
            &cpu_limit,
            "cpu-request",
            "cpu-limit",
            &a.cpu_request,
            &d.cpu_request,
        ),
        (
            &memory_request,
            &memory_limit,
            "memory-request",
            "memory-limit",
            &a.memory_request,
            &d.memory_request,
        ),
    ] {
        if let (Some(r), Some(l)) = (req, lim) {
            if quantity_value(r) > quantity_value(l) {
                let at = rv
                    .as_ref()
                    .or(lv.as_ref())
                    .map_or(table_at, |v| v.span().start);
                cx.err(at, format!(
                    "app `{name}`: `{rkey}` {r} is above `{lkey}` {l}; Kubernetes refuses a request above its limit: lower the request or raise the limit"
                ));
            }
        }
    }
    // Utilisation is a percentage of the request, and a pod never uses more than its limit.
    if let (Some(Replicas::Auto(auto)), Some(r), Some(l)) = (&replicas, &cpu_request, &cpu_limit) {
        let ceiling = 100.0 * quantity_value(l) / quantity_value(r).max(f64::MIN_POSITIVE);
        if f64::from(auto.cpu_percent) > ceiling {
            let at = a
                .autoscale
                .as_ref()
                .or(d.autoscale.as_ref())
                .map_or(table_at, |v| v.span().start);
            cx.err(at, format!(
                "app `{name}`: `autoscale.cpu-percent` {} can never be reached: utilisation is a percentage of `cpu-request` {r}, and the pod is capped at `cpu-limit` {l} ({ceiling:.0}%); lower cpu-percent or the request",
                auto.cpu_percent
            ));
        }
    }
    let shutdown_delay = match pick(&a.shutdown_delay, &d.shutdown_delay) {
        Some(v) => cx.check(v, |s| shutdown_delay(s)),
        None => Some(10),
    };
    // NetworkPolicy rules add up: a metrics namespace that is the ingress controller's would
    // open the admin port (metrics, schema cache) to the controller.
    let ingress = d
        .ingress_namespace
        .as_ref()
        .map_or("traefik", |v| v.get_ref().as_str());
    let metrics_namespace = match pick(&a.metrics_namespace, &d.metrics_namespace) {
        Some(v) => cx
            .check(v, |s| {
                if s == ingress {
                    return Err(format!(
                        "`metrics-namespace` is `{s}`, the `ingress-namespace`: the NetworkPolicy would admit the ingress controller to the admin port (metrics, schema cache); scrape from the namespace Prometheus runs in"
                    ));
                }
                DnsLabel::parse(s, "metrics-namespace")
            })
            .map(Some),
        None => Some(None),
    };
    let service_monitor = pick(&a.service_monitor, &d.service_monitor);
    let metrics = match (metrics_namespace, service_monitor) {
        (None, _) => None,
        (Some(Some(namespace)), sm) => Some(Some(Metrics {
            namespace,
            service_monitor: sm.is_some_and(|v| *v.get_ref()),
        })),
        (Some(None), Some(sm)) if *sm.get_ref() => {
            cx.err(sm.span().start, format!(
                "app `{name}`: `service-monitor = true` needs `metrics-namespace` (the namespace Prometheus scrapes from): without it the NetworkPolicy admits no scrape of the admin port; set `metrics-namespace = \"monitoring\"` (or yours)"
            ));
            None
        }
        (Some(None), _) => Some(None),
    };
    let hosts = hosts(cx, &a.hosts);
    let (resolver, secret) = pair(
        (&a.tls_cert_resolver, &a.tls_secret),
        (&d.tls_cert_resolver, &d.tls_secret),
    );
    let tls = match (resolver, secret) {
        (Some(r), _) => cx
            .check(r, |s| cert_resolver(s))
            .map(|r| Some(Tls::CertResolver(r))),
        (None, Some(s)) => cx
            .check(s, |s| ObjectName::parse(s, "tls-secret"))
            .map(|s| Some(Tls::Secret(s))),
        (None, None) => Some(None),
    };
    if let (Some(Some(Tls::CertResolver(r))), Some(h)) = (&tls, &hosts) {
        if h.is_empty() && routed {
            cx.err(table_at, format!(
                "app `{name}` uses `tls-cert-resolver` `{r}` but sets no `hosts`: an ACME resolver takes the names to certify from `Host()` rules, and the `HostRegexp` wildcard names none; add `hosts = [\"<public host name>\"]`, or use `tls-secret`"
            ));
        }
    }
    Some((
        replicas?,
        Resources {
            cpu_request: cpu_request?,
            cpu_limit: cpu_limit?,
            memory_request: memory_request?,
            memory_limit: memory_limit?,
        },
        shutdown_delay?,
        metrics?,
        tls?,
        hosts?,
    ))
}

fn autoscale_bounds(cx: &mut Ctx<'_>, v: &Spanned<RawAutoscale>) -> Option<Autoscale> {
    let raw = v.get_ref();
    let at = v.span().start;
    let need = |cx: &mut Ctx<'_>, f: &S<i64>, key: &str, max: i64| match f {
        Some(n) => cx.int(n, &format!("autoscale.{key}"), 1, max),
        None => {
            cx.err(at, format!(
                "`autoscale` needs `{key}`; write `autoscale = {{ min = 2, max = 6, cpu-percent = 70 }}`"
            ));
            None
        }
    };
    let min = need(cx, &raw.min, "min", 100);
    let max = need(cx, &raw.max, "max", 100);
    let cpu = match &raw.cpu_percent {
        Some(n) => cx.int(n, "autoscale.cpu-percent", 1, 1000),
        None => Some(70),
    };
    let (min, max) = (min?, max?);
    if min > max {
        let pos = raw.min.as_ref().map_or(at, |m| m.span().start);
        cx.err(
            pos,
            format!(
                "`autoscale` has `min` {min} above `max` {max}; the autoscaler needs min <= max"
            ),
        );
        return None;
    }
    Some(Autoscale {
        min: min as u32,
        max: max as u32,
        cpu_percent: cpu? as u32,
    })
}

fn hosts(cx: &mut Ctx<'_>, v: &S<Vec<Spanned<String>>>) -> Option<Vec<HostName>> {
    let Some(items) = v else {
        return Some(Vec::new());
    };
    if items.get_ref().is_empty() {
        cx.err(items.span().start, "`hosts` is empty; name at least one host, or remove the key to answer the `HostRegexp` wildcard on `url-prefix`");
        return None;
    }
    let mut out: Vec<HostName> = Vec::new();
    let mut ok = true;
    for item in items.get_ref() {
        match cx.check(item, |s| HostName::parse_dns_name(s, "host")) {
            Some(h) if out.contains(&h) => {
                cx.err(
                    item.span().start,
                    format!("host `{h}` is listed twice in `hosts`"),
                );
                ok = false;
            }
            Some(h) => out.push(h),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(super) fn db_ssl(cx: &mut Ctx<'_>, d: &RawDefaults, a: &RawApp) -> Option<Option<DbSsl>> {
    let (mode, ca_raw) = pair(
        (&a.db_sslmode, &a.db_ca_configmap),
        (&d.db_sslmode, &d.db_ca_configmap),
    );
    let mode = match mode {
        Some(v) => cx
            .check(v, |s| {
                SslMode::ALL
                    .into_iter()
                    .find(|m| m.as_str() == s)
                    .ok_or_else(|| {
                        format!(
                            "`db-sslmode` is `{}`; use one of disable, allow, prefer, require, verify-ca, verify-full",
                            printable(s)
                        )
                    })
            })
            .map(|m| Some((m, v.span().start))),
        None => Some(None),
    }?;
    let ca = match ca_raw {
        Some(v) => Some(cx.check(v, |s| ObjectName::parse(s, "db-ca-configmap"))?),
        None => None,
    };
    match (mode, ca) {
        (Some((m, at)), None) if m.verifies() => {
            cx.err(at, format!(
                "`db-sslmode = \"{}\"` checks the server's certificate against its CA, which the pod does not have: set `db-ca-configmap = \"<ConfigMap whose key ca.crt holds the CA>\"`, or use `require` (encrypted, unverified)",
                m.as_str()
            ));
            None
        }
        (mode, Some(_)) if !mode.is_some_and(|(m, _)| m.verifies()) => {
            let at = ca_raw.as_ref().map_or(0, |v| v.span().start);
            cx.err(at, "`db-ca-configmap` is used only with `db-sslmode` `verify-ca` or `verify-full`; set one of those, or remove `db-ca-configmap`");
            None
        }
        (None, _) => Some(None),
        (Some((mode, _)), ca_configmap) => Some(Some(DbSsl { mode, ca_configmap })),
    }
}

/// Longest `shutdown-delay`: beyond a few minutes a rollout (and every node drain) stalls.
const SHUTDOWN_DELAY_MAX_S: u32 = 300;

/// A Kubernetes quantity in base units (cores, bytes), for comparisons; validated before.
fn quantity_value(q: &str) -> f64 {
    let num = q.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let scale = match &q[num.len()..] {
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        _ => 1.0,
    };
    num.parse::<f64>().unwrap_or(0.0) * scale
}

fn shutdown_delay(s: &str) -> Result<u32, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at(digits);
    let per_unit = match unit {
        "s" => Some(1),
        "min" => Some(60),
        _ => None,
    };
    let canonical = digits > 0 && (number == "0" || !number.starts_with('0'));
    let seconds = per_unit
        .filter(|_| canonical)
        .and_then(|u| number.parse::<u32>().ok().and_then(|n| n.checked_mul(u)));
    match seconds {
        Some(n) if n <= SHUTDOWN_DELAY_MAX_S => Ok(n),
        Some(_) => Err(format!(
            "`shutdown-delay` is `{}`, longer than {SHUTDOWN_DELAY_MAX_S}s; every rollout and node drain waits this long per pod: write at most `{SHUTDOWN_DELAY_MAX_S}s` (`5min`)",
            printable(s)
        )),
        None => Err(format!(
            "`shutdown-delay` is `{}`; write whole seconds such as `10s` or `1min` (`0s` = no preStop sleep)",
            printable(s)
        )),
    }
}

fn cert_resolver(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`tls-cert-resolver` `{}` is not a Traefik certificate resolver name (letters, digits, '-', '_')",
            printable(s)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::errors;
    use super::*;

    #[test]
    fn shutdown_delays_in_whole_seconds_up_to_five_minutes() {
        for (ok, secs) in [
            ("0s", 0),
            ("10s", 10),
            ("1min", 60),
            ("300s", 300),
            ("5min", 300),
        ] {
            assert_eq!(shutdown_delay(ok), Ok(secs), "{ok}");
        }
        for over in ["301s", "6min", "99999999999s"] {
            let e = shutdown_delay(over).unwrap_err();
            assert!(
                e.contains("longer than 300s") || e.contains("whole seconds"),
                "{over}: {e}"
            );
        }
        for bad in ["", "10", "010s", "1.5s", "500ms", "1h", "-1s", "10 s", "s"] {
            assert!(
                shutdown_delay(bad).unwrap_err().contains("whole seconds"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn app_pairs_replace_the_defaults_pair() {
        let base = "[defaults]\nautoscale = { min = 2, max = 4 }\ntls-cert-resolver = \"le\"\ndb-sslmode = \"verify-full\"\ndb-ca-configmap = \"pg-ca\"\n";
        // An app's replicas, tls-secret and sslmode replace the defaults' pairs whole.
        let e = errors(&format!(
            "{base}[apps.a]\ndatabase = \"d\"\nreplicas = 3\ntls-secret = \"t\"\ndb-sslmode = \"require\"\n"
        ));
        assert!(e.is_empty(), "{e:?}");
        // Inheriting the resolver needs hosts.
        let e = errors(&format!("{base}[apps.a]\ndatabase = \"d\"\n"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("sets no `hosts`"), "{e:?}");
        // ... unless the app is not routed at all.
        assert!(errors(&format!(
            "{base}[apps.a]\ndatabase = \"d\"\ndeployed = false\n"
        ))
        .is_empty());
        assert!(errors(&format!(
            "{base}[apps.a]\ndatabase = \"d\"\nhosts = [\"a.example.no\"]\n"
        ))
        .is_empty());
    }
}
