//! Report stage of `check`: how what is on disk (read by the workspace) differs from what
//! `build` would write, pure. Produces the plan a reviewer reads: a per-app summary first,
//! then every added, changed and removed file as a unified diff.
//!
//! Invariant: `build` writes exactly the files this reports, and nothing it does not.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;
use yaml_rust2::{Yaml, YamlLoader};

use crate::config::Config;
use crate::plan::Plan;

/// How a folder differs from the rendered files.
#[derive(Debug, Default)]
pub struct Drift {
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    pub changed: Vec<String>,
    /// Unified diffs (`a/` on disk, `b/` what build would write; `/dev/null` for an added
    /// file, shown whole; a removed file is named with its line count).
    pub diff: String,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.stale.is_empty() && self.changed.is_empty()
    }
}

/// `have`: the files on disk (those of `previous`, ours, and any rendered path that exists);
/// `label` prefixes paths in the diff headers (the folder as the user named it: `out/`).
pub fn drift(
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
    previous: &BTreeSet<String>,
    label: &str,
) -> Drift {
    let mut d = Drift::default();
    let mut unified = |old: &str, new: &str, a: String, b: String| {
        let diff = TextDiff::from_lines(old, new);
        d.diff
            .push_str(&diff.unified_diff().header(&a, &b).to_string());
    };
    let (mut missing, mut changed) = (Vec::new(), Vec::new());
    for (rel, new) in want {
        match have.get(rel) {
            Some(old) if old == new => {}
            Some(old) => {
                unified(
                    old,
                    new,
                    format!("a/{label}{rel}"),
                    format!("b/{label}{rel}"),
                );
                changed.push(rel.clone());
            }
            None => {
                unified("", new, "/dev/null".into(), format!("b/{label}{rel}"));
                missing.push(rel.clone());
            }
        }
    }
    let mut stale = Vec::new();
    for rel in previous.iter().filter(|p| !want.contains_key(*p)) {
        if let Some(old) = have.get(rel) {
            // Removed whole: what it held is in Git; the plan says how much goes.
            d.diff.push_str(&format!(
                "--- a/{label}{rel}\n+++ /dev/null\n@@ removed: {} lines @@\n",
                old.lines().count()
            ));
            stale.push(rel.clone());
        }
    }
    d.missing = missing;
    d.changed = changed;
    d.stale = stale;
    d
}

/// One line per app that changes: `+ app beta: ...`, `~ app atlas: replicas 2 -> 3`,
/// `- app legacy: purge`. Read from the files themselves (old on disk, new rendered), so
/// every setting that reaches a file is covered without a list to keep in step.
pub fn summary(
    config: &Config,
    plan: &Plan<'_>,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut lines = Vec::new();
    // One pass over each tree, grouped by app: the summary stays linear in the number of apps.
    // Borrowed, not cloned: the trees hold every generated file.
    fn by_app(tree: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeMap<&str, &str>> {
        let mut apps: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for (path, text) in tree {
            if let Some((app, rel)) = path.strip_prefix("apps/").and_then(|p| p.split_once('/')) {
                apps.entry(app).or_default().insert(rel, text.as_str());
            }
        }
        apps
    }
    let (mut have_by, mut want_by) = (by_app(have), by_app(want));
    let mut names: BTreeSet<String> = config.apps.keys().map(|a| a.to_string()).collect();
    names.extend(have_by.keys().map(|k| (*k).to_owned()));
    // Apps rendered through an overlay: the root kustomization names `../overlays/<app>`.
    let overlaid = |tree: &BTreeMap<String, String>| -> BTreeSet<String> {
        tree.get("kustomization.yaml")
            .map(|t| {
                t.lines()
                    .filter_map(|l| l.split("overlays/").nth(1))
                    .map(|rest| rest.trim_end_matches('"').to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (old_overlaid, new_overlaid) = (overlaid(have), overlaid(want));
    let pending_password: BTreeSet<&str> = plan
        .pending
        .iter()
        .filter(|p| p.contains(": new password") || p.contains(": rotated password"))
        .filter_map(|p| p.split(':').next())
        .collect();
    // The owner's password (`bootstrap = true`), new or rotated: (app, rotated).
    let pending_owner: BTreeMap<&str, bool> = plan
        .pending
        .iter()
        .filter(|p| p.contains(": new owner password") || p.contains(": rotated owner password"))
        .filter_map(|p| Some((p.split(':').next()?, p.contains(": rotated owner password"))))
        .collect();
    for name in names {
        // An overlay switched on or off shows in the root kustomization, not the app's files.
        let overlay = match (old_overlaid.contains(&name), new_overlaid.contains(&name)) {
            (false, true) => Some(format!(
                "~ app {name}: rendered through its overlay (overlays/{name})"
            )),
            (true, false) => Some(format!(
                "~ app {name}: no longer rendered through overlays/{name}"
            )),
            _ => None,
        };
        let old = have_by.remove(name.as_str()).unwrap_or_default();
        let new = want_by.remove(name.as_str()).unwrap_or_default();
        if old == new {
            lines.extend(overlay);
            continue;
        }
        let owned = |m: BTreeMap<&str, &str>| -> BTreeMap<String, String> {
            m.into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let (old, new) = (owned(old), owned(new));
        let app = config.apps.iter().find(|(k, _)| k.as_str() == name);
        let new_password = pending_password.contains(name.as_str());
        let line = match app {
            None => format!(
                "- app {name}: no longer in apps.toml: its {} files are removed; its roles stay in the database",
                old.len()
            ),
            Some((_, a)) if !a.present() => {
                if old.contains_key("sql/apply.sql") {
                    format!("- app {name}: purge (purge.sql drops its roles, the cluster step removes its objects and Secret)")
                } else {
                    format!("~ app {name}: (absent) {}", changes(&old, &new).join(", "))
                }
            }
            Some((_, a)) if old.contains_key("deployment.yaml") && !new.contains_key("deployment.yaml") && !a.deployed => {
                format!("~ app {name}: undeployed (its workloads are removed; roles and Secret stay)")
            }
            // New, or declared present again after a purge (only purge.sql was left).
            Some(_) if !old.contains_key("sql/apply.sql") => format!(
                "+ app {name}: new role pair{}{}, {} files",
                if new_password { ", new password" } else { "" },
                if !new.contains_key("sql/bootstrap.sql") {
                    ""
                } else if pending_owner.contains_key(name.as_str()) {
                    ", bootstrap (owner role, database, schemas where missing) with a new owner password"
                } else {
                    ", bootstrap (owner role, database, schemas where missing)"
                },
                new.len()
            ),
            Some((_, a)) if !old.contains_key("deployment.yaml") && new.contains_key("deployment.yaml") && a.deployed && !old.is_empty() => {
                format!("~ app {name}: deployed (Deployment, Service, IngressRoute, NetworkPolicy and the rest are added)")
            }
            Some(_) => {
                let mut c = changes(&old, &new);
                match pending_owner.get(name.as_str()) {
                    Some(true) => c.insert(0, "owner password rotated".to_owned()),
                    Some(false) => c.insert(0, "new owner password".to_owned()),
                    None => {}
                }
                if new_password {
                    c.insert(0, "password rotated".to_owned());
                }
                format!("~ app {name}: {}", c.join(", "))
            }
        };
        lines.push(line);
        lines.extend(overlay);
    }
    lines
}

/// What changed between two versions of one app's files, as short phrases.
fn changes(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (settings(old), settings(new));
    // Long values (sealed ciphertext, certificates) are named, not printed.
    let shown = |v: &str| {
        if v.chars().count() > 48 {
            "<changed>".to_owned()
        } else {
            v.to_owned()
        }
    };
    for (k, v) in &b {
        match a.get(k) {
            Some(o) if o == v => {}
            Some(o) if o.chars().count() > 48 || v.chars().count() > 48 => {
                out.push(format!("{k} changed"))
            }
            Some(o) => out.push(format!("{k} {o} -> {v}")),
            None => out.push(format!("{k} = {}", shown(v))),
        }
    }
    for k in a.keys().filter(|k| !b.contains_key(*k)) {
        out.push(format!("{k} unset"));
    }
    for f in new.keys().filter(|f| !old.contains_key(*f)) {
        out.push(format!("+{f}"));
    }
    for f in old.keys().filter(|f| !new.contains_key(*f)) {
        out.push(format!("-{f}"));
    }
    let other: Vec<&str> = new
        .iter()
        .filter(|(f, t)| old.get(*f).is_some_and(|o| o != *t))
        .map(|(f, _)| f.as_str())
        .filter(|f| !f.ends_with(".yaml") || *f == "kustomization.yaml")
        .collect();
    if out.is_empty() || !other.is_empty() {
        for f in other {
            out.push(format!("{f} changed"));
        }
    }
    if out.is_empty() {
        out.push("files changed".to_owned());
    }
    out
}

/// The settings a reviewer recognises, read from an app's rendered files: the Deployment's
/// replicas, image, resources and environment, and any other scalar under a `spec`.
fn settings(files: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (file, text) in files.iter().filter(|(f, _)| f.ends_with(".yaml")) {
        let Ok(docs) = YamlLoader::load_from_str(text) else {
            continue;
        };
        let Some(doc) = docs.first() else { continue };
        let kind = doc["kind"].as_str().unwrap_or(file.as_str()).to_owned();
        if kind == "Kustomization" || kind == "Configuration" {
            continue;
        }
        flatten(&kind, &doc["spec"], &mut out);
    }
    out
}

fn flatten(path: &str, y: &Yaml, out: &mut BTreeMap<String, String>) {
    match y {
        Yaml::Hash(h) => {
            // Labels and selectors repeat what the summary already names (image, app).
            for (k, v) in h {
                if let Some(k) = k.as_str().filter(|k| !matches!(*k, "labels" | "selector")) {
                    flatten(&format!("{path}.{k}"), v, out);
                }
            }
        }
        Yaml::Array(items) => {
            // Named items (containers, env vars, ports) are keyed by name, so a reordering
            // or an insertion does not read as every later item changing.
            for (i, v) in items.iter().enumerate() {
                let key = v["name"].as_str().map_or(i.to_string(), str::to_owned);
                if let Some(value) = v["value"].as_str().filter(|_| v["name"].as_str().is_some()) {
                    out.insert(key, value.to_owned());
                    continue;
                }
                flatten(&format!("{path}[{key}]"), v, out);
            }
        }
        Yaml::String(s) => {
            out.insert(short(path), s.clone());
        }
        Yaml::Integer(n) => {
            out.insert(short(path), n.to_string());
        }
        Yaml::Boolean(b) => {
            out.insert(short(path), b.to_string());
        }
        _ => {}
    }
}

/// `Deployment.spec.replicas` -> `replicas`; deeper paths keep their last two parts.
fn short(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [_, last] => (*last).to_owned(),
        [.., a, b] => format!("{a}.{b}"),
        _ => path.to_owned(),
    }
}
