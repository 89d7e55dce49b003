//! Plan stage: decides each app's credential from the validated config, the lock, and what
//! is at hand (plaintext in `secrets/`, the sealing key), pure but for the injected RNG.
//!
//! Invariants: a recorded credential (the app's lock, or else the verifier in its committed
//! `out/` SQL) is reused unless the app is rotated; a password is created only for an app
//! that never had one; a sealed value is re-made only when its generation, scope, name or
//! namespace changed (a renewed certificate keeps existing sealed values: the controller
//! keeps its old keys). `check` mode never creates: it renders a marked placeholder and
//! reports what build would do as `pending`.

use std::collections::{BTreeMap, BTreeSet};

use rand::{CryptoRng, Rng};

use crate::config::names::AppName;
use crate::config::{App, Config};
use crate::credentials::lock::{self, AppLock, Entry, Sealed};
use crate::credentials::seal::{self, SealingKey};
use crate::credentials::{new_password, scram, secret_file};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Build,
    Check,
}

/// What the plan reads besides the config; `main` gathers it from the disk.
pub struct Inputs<'a> {
    /// Each app's lock (`locks/<app>.lock`, or an entry of the legacy `postgrest-gen.lock`).
    pub locks: BTreeMap<String, AppLock>,
    /// Credentials recorded in the committed `out/` (the verifier in `apply.sql`, the
    /// generation on the Deployment, the sealed value), for apps whose lock is missing: a
    /// merge resolved by taking one side must not re-issue a password.
    pub recorded: BTreeMap<String, Entry>,
    pub sealing_key: Option<&'a SealingKey>,
    /// Contents of `secrets/<file>` per app, where present.
    pub secret_files: BTreeMap<String, String>,
    /// The `secrets/` folder as shown in messages (beside apps.toml).
    pub secrets_dir: String,
    /// Apps that have output in `out/` from an earlier build.
    pub previously_emitted: BTreeSet<String>,
    /// Apps whose password to replace.
    pub rotate: Vec<AppName>,
    pub overlays: BTreeMap<String, Overlay>,
    pub mode: Mode,
}

/// A user's overlay of one app, `overlays/<app>/kustomization.yaml`.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// Its path, for messages.
    pub file: String,
    pub text: String,
    /// The overlay's folder as seen from `out/`.
    pub from_out: String,
    /// The generated base as the overlay must reference it.
    pub base_from_overlay: String,
}

#[derive(Debug, Clone)]
pub struct Credential {
    pub generation: u32,
    pub verifier: String,
    pub sealed: Option<Sealed>,
}

#[derive(Debug)]
pub struct Plan<'c> {
    pub config: &'c Config,
    /// Credential of every present app (absent apps have none).
    pub credentials: BTreeMap<AppName, Credential>,
    /// The lock of every present app with a credential.
    pub locks: BTreeMap<AppName, AppLock>,
    /// New or rotated plaintext passwords; render turns them into `secrets/` manifests.
    pub new_passwords: BTreeMap<AppName, String>,
    /// `secrets/` files of purged apps, to remove.
    pub secrets_to_remove: Vec<String>,
    /// Apps rendered through the user's overlay: app -> the overlay's folder from `out/`.
    pub overlays: BTreeMap<AppName, String>,
    /// What this run decided, for the summary.
    pub notes: Vec<String>,
    /// Check mode: what build would still have to do; any entry is drift.
    pub pending: Vec<String>,
}

pub fn plan<'c>(
    config: &'c Config,
    inputs: Inputs<'_>,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<Plan<'c>> {
    for r in &inputs.rotate {
        match config.apps.get(r) {
            Some(app) if app.present() => {}
            Some(_) => {
                return Err(Error::Input(format!(
                    "cannot rotate `{r}`: it is `ensure = \"absent\"`"
                )))
            }
            None => {
                return Err(Error::Input(format!(
                    "cannot rotate `{r}`: no such app in apps.toml"
                )))
            }
        }
    }
    let mut p = Plan {
        config,
        credentials: BTreeMap::new(),
        locks: BTreeMap::new(),
        new_passwords: BTreeMap::new(),
        secrets_to_remove: Vec::new(),
        overlays: BTreeMap::new(),
        notes: Vec::new(),
        pending: Vec::new(),
    };
    let mut errors = Vec::new();
    for app in config.apps.values() {
        if !app.present() {
            // Purge drops the lock with the plaintext and the cluster's Secret: once purge.sql
            // has run, nothing can log in with that password again, so an app declared present
            // again gets a new one (and check shows it as such).
            if inputs.locks.contains_key(app.name.as_str()) {
                p.notes
                    .push(format!("{}: purged; its lock is dropped", app.name));
            }
            let file = secret_file::file_name(app.name.as_str());
            if inputs.secret_files.contains_key(&file) {
                p.secrets_to_remove.push(file);
            }
            continue;
        }
        match credential(config, app, &inputs, &mut p, rng) {
            Ok(c) => {
                p.locks.insert(
                    app.name.clone(),
                    AppLock::new(Entry {
                        generation: c.generation,
                        verifier: c.verifier.clone(),
                        sealed: c.sealed.clone(),
                    }),
                );
                p.credentials.insert(app.name.clone(), c);
            }
            Err(e) => errors.push(e),
        }
    }
    for app in config.apps.values() {
        let Some(o) = inputs.overlays.get(app.name.as_str()) else {
            continue;
        };
        if !app.runs() {
            p.notes.push(format!(
                "{}: {} is not used: the app has no instance (deployed = false or absent)",
                app.name, o.file
            ));
            continue;
        }
        match overlay_includes_base(o) {
            Ok(()) => {
                p.overlays.insert(app.name.clone(), o.from_out.clone());
            }
            Err(e) => {
                // Point at the `resources` key when there is one: that is where the fix goes.
                let line = o
                    .text
                    .lines()
                    .position(|l| l.starts_with("resources"))
                    .map_or(1, |i| i + 1);
                errors.push(format!("{}:{line}:1: {e}", o.file))
            }
        }
    }
    let declared: BTreeSet<&str> = config.apps.keys().map(|k| k.as_str()).collect();
    for gone in inputs
        .locks
        .keys()
        .filter(|a| !declared.contains(a.as_str()))
    {
        p.notes.push(format!(
            "{gone}: no longer in apps.toml; its lock is dropped, but its roles stay in the database (declare it with `ensure = \"absent\"` to purge them)"
        ));
    }
    if errors.is_empty() {
        Ok(p)
    } else {
        Err(Error::Input(errors.join("\n")))
    }
}

fn credential(
    config: &Config,
    app: &App,
    inputs: &Inputs<'_>,
    p: &mut Plan<'_>,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<Credential, String> {
    let name = app.name.as_str();
    let file = secret_file::file_name(name);
    let on_disk = inputs
        .secret_files
        .get(&file)
        .and_then(|t| secret_file::read_password(t));
    let sd = &inputs.secrets_dir;
    let recorded = inputs.recorded.get(name);
    let existing = match inputs.locks.get(name) {
        Some(l) => Some(&l.authenticator),
        None => recorded,
    };
    if existing.is_some() && recorded.is_some() && !inputs.locks.contains_key(name) {
        p.notes.push(format!(
            "{name}: lock recovered from the committed out/apps/{name} (no password issued)"
        ));
    }
    let rotating = inputs.rotate.contains(&app.name);
    let check = inputs.mode == Mode::Check;

    let (generation, verifier, mut plaintext) = match existing {
        Some(e) if !rotating => {
            // Plaintext left from an abandoned rotation, or from the other side of a merge,
            // must never be sealed or applied in place of the password the lock records.
            let plaintext = match on_disk {
                Some(pw) if scram::matches(&pw, &e.verifier) => Some(pw),
                Some(_) => {
                    let msg = format!(
                        "{name}: {secrets}/{file} does not hold the password {lock} records (left from an abandoned rotation, or from the other side of a merge); it is not used, and `make apply-secrets` would apply a wrong password: delete it, or run `postgrest-gen rotate {name}`",
                        secrets = inputs.secrets_dir,
                        lock = format_args!("{}/{}", lock::DIR, lock::file_name(name)),
                    );
                    if check {
                        p.pending.push(msg);
                    } else {
                        p.notes.push(format!("warning: {msg}"));
                    }
                    None
                }
                None => None,
            };
            (e.generation, e.verifier.clone(), plaintext)
        }
        _ if check => {
            let what = if rotating { "rotated" } else { "new" };
            p.pending.push(format!(
                "{name}: {what} password, made by `postgrest-gen build` (shown below as {PLACEHOLDER})"
            ));
            return Ok(placeholder(
                config,
                existing.map_or(1, |e| e.generation + 1),
            ));
        }
        Some(e) => {
            let pw = new_password(rng);
            p.notes.push(format!("{name}: password rotated (generation {}); apply {}/{file} or the sealed value, then the SQL", e.generation + 1, inputs.secrets_dir));
            (e.generation + 1, scram::verifier(&pw, rng), Some(pw))
        }
        None if rotating => {
            let pw = new_password(rng);
            p.notes.push(format!("{name}: new password issued (the lock had no entry); apply {sd}/{file} or the sealed value, then the SQL"));
            (1, scram::verifier(&pw, rng), Some(pw))
        }
        None => match on_disk {
            // The lock entry was lost but we still have the password the cluster uses:
            // recover it rather than issue a new one behind the cluster's back.
            Some(pw) => {
                p.notes
                    .push(format!("{name}: lock entry recovered from {sd}/{file}"));
                (1, scram::verifier(&pw, rng), Some(pw))
            }
            None if inputs.previously_emitted.contains(name) => {
                return Err(format!(
                    "{name}: out/ has output for this app but neither {dir}/{lock} nor its committed apply.sql records a password, and {sd}/{file} is missing; restore {dir}/{lock} from Git, or run `postgrest-gen rotate {name}` to issue a new password deliberately",
                    dir = lock::DIR, lock = lock::file_name(name)
                ));
            }
            None => {
                let pw = new_password(rng);
                p.notes.push(format!(
                    "{name}: new password; plaintext in {sd}/{file} (gitignored)"
                ));
                (1, scram::verifier(&pw, rng), Some(pw))
            }
        },
    };
    if rotating || existing.is_none() {
        let pw = plaintext.as_deref().expect("made above");
        p.new_passwords.insert(app.name.clone(), pw.to_owned());
    }

    let sealed = match (&config.sealing, inputs.sealing_key) {
        (Some(s), Some(key)) => {
            let object = app.name.object_name().to_string();
            let binding = Sealed {
                generation,
                cert_sha256: key.fingerprint.clone(),
                scope: s.scope.as_str().to_owned(),
                namespace: config.namespace.to_string(),
                name: object.clone(),
                value: String::new(),
            };
            // The certificate is not part of the binding: after a renewal the controller
            // still holds the old key, so existing values stay and only new ones use the new
            // certificate (`rotate` re-seals with it).
            let reuse = existing.and_then(|e| e.sealed.as_ref()).filter(|old| {
                Sealed {
                    value: String::new(),
                    cert_sha256: binding.cert_sha256.clone(),
                    ..(*old).clone()
                } == binding
            });
            match reuse {
                Some(old) => Some(old.clone()),
                // Without the plaintext, build would stop: check says so rather than plan it.
                None if check && plaintext.is_some() => {
                    p.pending.push(format!(
                        "{name}: password to re-seal, by `postgrest-gen build` (shown below as {PLACEHOLDER})"
                    ));
                    Some(Sealed {
                        value: PLACEHOLDER.to_owned(),
                        ..binding
                    })
                }
                None => {
                    let Some(pw) = plaintext.take().filter(|_| !check) else {
                        return Err(format!(
                            "{name}: the sealed password must be re-made (its scope, namespace or name changed) but its plaintext is not in {sd}/{file}; run `postgrest-gen rotate {name}` to issue and seal a new password"
                        ));
                    };
                    let label = seal::label(s.scope, config.namespace.as_str(), &object);
                    p.notes.push(format!(
                        "{name}: password sealed ({} scope)",
                        s.scope.as_str()
                    ));
                    Some(Sealed {
                        value: key.seal(&label, pw.as_bytes(), rng),
                        ..binding
                    })
                }
            }
        }
        _ => None,
    };
    Ok(Credential {
        generation,
        verifier,
        sealed,
    })
}

/// An overlay must build on the generated base, or the app's instance would lose what
/// postgrest-gen renders (its roles' Secret reference, the hardening, the labels prune uses).
fn overlay_includes_base(o: &Overlay) -> Result<(), String> {
    let docs =
        yaml_rust2::YamlLoader::load_from_str(&o.text).map_err(|e| format!("not YAML: {e}"))?;
    let resources = docs
        .first()
        .and_then(|d| d["resources"].as_vec())
        .cloned()
        .unwrap_or_default();
    let norm = |s: &str| s.trim_start_matches("./").trim_end_matches('/').to_owned();
    if resources
        .iter()
        .filter_map(|r| r.as_str())
        .any(|r| norm(r) == o.base_from_overlay)
    {
        Ok(())
    } else {
        Err(format!(
            "the overlay does not build on the generated base; add `{}` to its `resources`",
            o.base_from_overlay
        ))
    }
}

/// Marks, in `check`'s diff, values only `build` can make (a password's verifier, its sealed
/// value): the plan shows every file with these in their place.
pub const PLACEHOLDER: &str = "<made by postgrest-gen build>";

fn placeholder(config: &Config, generation: u32) -> Credential {
    Credential {
        generation,
        verifier: PLACEHOLDER.to_owned(),
        sealed: config.sealing.as_ref().map(|s| Sealed {
            generation,
            cert_sha256: PLACEHOLDER.to_owned(),
            scope: s.scope.as_str().to_owned(),
            namespace: config.namespace.to_string(),
            name: String::new(),
            value: PLACEHOLDER.to_owned(),
        }),
    }
}
