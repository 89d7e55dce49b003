//! Plan stage: decides each app's credential from the validated config, the lock, and what
//! is at hand (plaintext in `secrets/`, the sealing key), pure but for the injected RNG.
//!
//! Invariants: a recorded credential (the app's lock, or else the verifier in its committed
//! `out/` SQL) is reused unless the app is rotated; a password is created only for an app
//! that never had one; a sealed value is re-made only when its generation, scope, name or
//! namespace changed (a renewed certificate keeps existing sealed values: the controller
//! keeps its old keys). `check` mode never creates: it renders a marked placeholder and
//! reports what build would do as `pending`. The generated JWT secret is a second credential
//! of the same kind: recorded (generation and digest) in its own lock table, reused, rotated
//! only on request, sealed like the password.

mod owner;

use std::collections::{BTreeMap, BTreeSet};

use rand::{CryptoRng, Rng};

use crate::config::names::AppName;
use crate::config::{App, Config, JwtSecret};
use crate::credentials::lock::{self, AppLock, Entry, OwnerEntry, Sealed, SecretEntry};
use crate::credentials::seal::{self, SealingKey};
use crate::credentials::{new_jwt_secret, new_password, scram, secret_file};
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
    /// The same for the generated JWT secret (generation and digest on the Deployment).
    pub recorded_jwt: BTreeMap<String, SecretEntry>,
    pub sealing_key: Option<&'a SealingKey>,
    /// Contents of `secrets/<file>` per app, where present.
    pub secret_files: BTreeMap<String, String>,
    /// The `secrets/` folder as shown in messages (beside apps.toml).
    pub secrets_dir: String,
    /// Apps that have output in `out/` from an earlier build.
    pub previously_emitted: BTreeSet<String>,
    /// Apps whose password to replace.
    pub rotate: Vec<AppName>,
    /// Apps whose generated JWT secret to replace.
    pub rotate_jwt: Vec<AppName>,
    /// The owner credential the committed `out/` records (`bootstrap.sql`'s verifier and
    /// generation, the sealed owner Secret), for apps whose lock is missing.
    pub recorded_owner: BTreeMap<String, OwnerEntry>,
    /// Apps whose owner password (`bootstrap = true`) to replace.
    pub rotate_owner: Vec<AppName>,
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
    /// The generated JWT secret (`secret = "generate"`), recorded like the lock records it.
    pub jwt_secret: Option<SecretEntry>,
}

/// What one `secrets/<app>-postgrest.secret.yaml` holds: every plaintext of the app's Secret
/// that is known (new ones, and the others read back from the file).
#[derive(Debug, Clone, Default)]
pub struct SecretValues {
    pub password: Option<String>,
    pub jwt_secret: Option<String>,
}

#[derive(Debug)]
pub struct Plan<'c> {
    pub config: &'c Config,
    /// Credential of every present app (absent apps have none).
    pub credentials: BTreeMap<AppName, Credential>,
    /// The lock of every present app with a credential.
    pub locks: BTreeMap<AppName, AppLock>,
    /// New or rotated plaintext passwords.
    pub new_passwords: BTreeMap<AppName, String>,
    /// Apps with a new or rotated plaintext (password or JWT secret): render turns these into
    /// their `secrets/` manifests.
    pub secret_manifests: BTreeMap<AppName, SecretValues>,
    /// The owner credential of every present app with `bootstrap = true`.
    pub owners: BTreeMap<AppName, OwnerCredential>,
    /// Owner passwords at hand (new, rotated, or read back and matching the lock): render
    /// writes their `secrets/<app>-db-owner.secret.yaml`.
    pub owner_secrets: BTreeMap<AppName, String>,
    /// `secrets/` files of purged apps, to remove.
    pub secrets_to_remove: Vec<String>,
    /// Apps rendered through the user's overlay: app -> the overlay's folder from `out/`.
    pub overlays: BTreeMap<AppName, String>,
    /// What this run decided, for the summary.
    pub notes: Vec<String>,
    /// Check mode: what build would still have to do; any entry is drift.
    pub pending: Vec<String>,
    /// Check mode: the `secrets/` files build would write a new plaintext into (names only).
    pub pending_secret_files: BTreeSet<String>,
}

pub fn plan<'c>(
    config: &'c Config,
    inputs: Inputs<'_>,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<Plan<'c>> {
    for r in &inputs.rotate_jwt {
        let generated = config
            .apps
            .get(r)
            .and_then(|a| a.api.jwt.as_ref())
            .map(|j| &j.secret);
        if config.apps.get(r).is_some_and(|a| a.present())
            && generated != Some(&JwtSecret::Generate)
        {
            return Err(Error::Input(format!(
                "cannot rotate the JWT secret of `{r}`: it has no generated one (its [apps.{r}.jwt] is missing or names a jwks-file, whose keys the identity provider rotates)"
            )));
        }
    }
    for r in &inputs.rotate_owner {
        if config
            .apps
            .get(r)
            .is_some_and(|a| a.present() && !a.db.bootstrap)
        {
            return Err(Error::Input(format!(
                "cannot rotate the owner password of `{r}`: it has none (postgrest-gen makes one only with `bootstrap = true`)"
            )));
        }
    }
    for r in inputs
        .rotate
        .iter()
        .chain(&inputs.rotate_jwt)
        .chain(&inputs.rotate_owner)
    {
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
        secret_manifests: BTreeMap::new(),
        owners: BTreeMap::new(),
        owner_secrets: BTreeMap::new(),
        secrets_to_remove: Vec::new(),
        pending_secret_files: BTreeSet::new(),
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
            // The owner's password goes with it (the owner role keeps it: purge never touches
            // the owner; see the README).
            for file in [
                secret_file::file_name(app.name.as_str()),
                secret_file::owner_file_name(app.name.as_str()),
            ] {
                if inputs.secret_files.contains_key(&file) {
                    p.secrets_to_remove.push(file);
                }
            }
            continue;
        }
        let jwt = match jwt_secret(config, app, &inputs, &mut p, rng) {
            Ok(j) => j,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match credential(config, app, &inputs, &mut p, rng) {
            Ok(mut c) => {
                let (jwt_entry, new_jwt) = jwt.map_or((None, None), |(e, n)| (Some(e), n));
                c.jwt_secret = jwt_entry.clone();
                let mut lock = AppLock::new(Entry {
                    generation: c.generation,
                    verifier: c.verifier.clone(),
                    sealed: c.sealed.clone(),
                });
                lock.jwt_secret = jwt_entry;
                if app.db.bootstrap {
                    match owner::owner(config, app, &inputs, &mut p, rng) {
                        Ok(o) => {
                            lock.owner = Some(o.entry());
                            p.owners.insert(app.name.clone(), o);
                        }
                        Err(e) => errors.push(e),
                    }
                }
                p.locks.insert(app.name.clone(), lock);
                p.credentials.insert(app.name.clone(), c);
                if let Err(e) = secret_manifest(config, app, &inputs, &mut p, new_jwt) {
                    errors.push(e);
                }
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
                Some(pw)
                    if inputs
                        .secret_files
                        .get(&file)
                        .and_then(|t| secret_file::belongs_to(t, &e.verifier))
                        .unwrap_or_else(|| scram::matches(&pw, &e.verifier)) =>
                {
                    Some(pw)
                }
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
            p.pending_secret_files
                .insert(crate::credentials::secret_file::file_name(name));
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
                None if check
                    && plaintext
                        .as_ref()
                        .is_some_and(|pw| scram::matches(pw, &verifier)) =>
                {
                    p.pending.push(format!(
                        "{name}: password to re-seal, by `postgrest-gen build` (shown below as {PLACEHOLDER})"
                    ));
                    Some(Sealed {
                        value: PLACEHOLDER.to_owned(),
                        ..binding
                    })
                }
                None => {
                    // Sealing is where a wrong plaintext would do harm: check it the slow, sure way.
                    let Some(pw) = plaintext
                        .take()
                        .filter(|pw| !check && scram::matches(pw, &verifier))
                    else {
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
        jwt_secret: None,
    })
}

/// The generated JWT secret of `app` (None without `secret = "generate"`), and its plaintext
/// when this run made it. Like the password: reused while recorded, made once, re-made only by
/// `rotate --jwt-secret`, re-sealed only when its binding changed.
fn jwt_secret(
    config: &Config,
    app: &App,
    inputs: &Inputs<'_>,
    p: &mut Plan<'_>,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<Option<(SecretEntry, Option<String>)>, String> {
    if app.api.jwt.as_ref().map(|j| &j.secret) != Some(&JwtSecret::Generate) {
        return Ok(None);
    }
    let name = app.name.as_str();
    let file = secret_file::file_name(name);
    let on_disk = inputs
        .secret_files
        .get(&file)
        .and_then(|t| secret_file::read_jwt_secret(t));
    let existing = match inputs.locks.get(name) {
        Some(l) => l.jwt_secret.as_ref(),
        None => inputs.recorded_jwt.get(name),
    };
    let rotating = inputs.rotate_jwt.contains(&app.name);
    let check = inputs.mode == Mode::Check;
    let (generation, sha256, mut plaintext, new) = match existing {
        // Only the plaintext the lock records counts (for re-sealing).
        Some(e) if !rotating => (
            e.generation,
            e.sha256.clone(),
            on_disk.filter(|s| lock::digest(s) == e.sha256),
            false,
        ),
        _ if check => {
            let what = if rotating { "rotated" } else { "new" };
            p.pending.push(format!(
                "{name}: {what} JWT secret, made by `postgrest-gen build` (shown below as {PLACEHOLDER})"
            ));
            p.pending_secret_files
                .insert(crate::credentials::secret_file::file_name(name));
            let generation = existing.map_or(1, |e| e.generation + 1);
            let placeholder = placeholder(config, generation);
            return Ok(Some((
                SecretEntry {
                    generation,
                    sha256: PLACEHOLDER.to_owned(),
                    sealed: placeholder.sealed,
                },
                None,
            )));
        }
        Some(e) => {
            let s = new_jwt_secret(rng);
            p.notes.push(format!(
                "{name}: JWT secret rotated (generation {}): tokens signed with the old secret stop working once the pods roll; give the new one (secrets/{file}, key jwt-secret) to whoever issues tokens, and apply the Secret",
                e.generation + 1
            ));
            (e.generation + 1, lock::digest(&s), Some(s), true)
        }
        // The lock lost it but the plaintext the cluster uses is at hand: recover, not re-issue.
        None if !rotating && on_disk.is_some() => {
            let s = on_disk.expect("checked");
            p.notes.push(format!(
                "{name}: JWT secret recorded again from secrets/{file}"
            ));
            (1, lock::digest(&s), Some(s), false)
        }
        None => {
            let s = new_jwt_secret(rng);
            p.notes.push(format!(
                "{name}: new JWT secret; plaintext in secrets/{file} (key jwt-secret, gitignored) for whoever issues tokens"
            ));
            (1, lock::digest(&s), Some(s), true)
        }
    };
    let new_plaintext = new.then(|| plaintext.clone()).flatten();
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
            let reuse = existing.and_then(|e| e.sealed.as_ref()).filter(|old| {
                Sealed {
                    value: String::new(),
                    cert_sha256: binding.cert_sha256.clone(),
                    ..(*old).clone()
                } == binding
            });
            match reuse {
                Some(old) => Some(old.clone()),
                None if check => {
                    p.pending.push(format!(
                        "{name}: JWT secret to re-seal, by `postgrest-gen build` (shown below as {PLACEHOLDER})"
                    ));
                    Some(Sealed {
                        value: PLACEHOLDER.to_owned(),
                        ..binding
                    })
                }
                None => {
                    let Some(secret) = plaintext.take() else {
                        return Err(format!(
                            "{name}: the sealed JWT secret must be re-made (new scope, namespace or name) but its plaintext is not in secrets/{file}; run `postgrest-gen rotate {name} --jwt-secret` to issue and seal a new one"
                        ));
                    };
                    let label = seal::label(s.scope, config.namespace.as_str(), &object);
                    Some(Sealed {
                        value: key.seal(&label, secret.as_bytes(), rng),
                        ..binding
                    })
                }
            }
        }
        _ => None,
    };
    Ok(Some((
        SecretEntry {
            generation,
            sha256,
            sealed,
        },
        new_plaintext,
    )))
}

/// Rewrites `secrets/<app>-postgrest.secret.yaml` when a plaintext of the app is new: it holds
/// every key of the app's Secret, so applying it never drops the other one. Without sealing
/// that file is what the cluster gets, so a key whose plaintext is lost stops the run.
fn secret_manifest(
    config: &Config,
    app: &App,
    inputs: &Inputs<'_>,
    p: &mut Plan<'_>,
    new_jwt: Option<String>,
) -> Result<(), String> {
    let new_pw = p.new_passwords.get(&app.name).cloned();
    if new_pw.is_none() && new_jwt.is_none() {
        return Ok(());
    }
    let name = app.name.as_str();
    let file = secret_file::file_name(name);
    let on_disk = inputs.secret_files.get(&file);
    let recorded_jwt = p
        .locks
        .get(&app.name)
        .and_then(|l| l.jwt_secret.as_ref())
        .map(|e| e.sha256.clone());
    let values = SecretValues {
        // Only the plaintext the lock records counts: a stale file's is not written back.
        password: new_pw.or_else(|| {
            let verifier = &p.locks[&app.name].authenticator.verifier;
            on_disk
                .and_then(|t| secret_file::read_password(t))
                .filter(|pw| scram::matches(pw, verifier))
        }),
        jwt_secret: recorded_jwt.and_then(|sha| {
            new_jwt.or_else(|| {
                on_disk
                    .and_then(|t| secret_file::read_jwt_secret(t))
                    .filter(|s| lock::digest(s) == sha)
            })
        }),
    };
    if config.sealing.is_none() {
        let missing = if values.password.is_none() {
            Some(("password", format!("postgrest-gen rotate {name}")))
        } else if p.locks[&app.name].jwt_secret.is_some() && values.jwt_secret.is_none() {
            Some((
                "jwt-secret",
                format!("postgrest-gen rotate {name} --jwt-secret"),
            ))
        } else {
            None
        };
        if let Some((key, fix)) = missing {
            return Err(format!(
                "{name}: secrets/{file} must be rewritten with a new credential, but the plaintext of its `{key}` is not there, and applying the file without it would remove that key from the cluster's Secret; restore secrets/{file}, or run `{fix}` to issue that one anew too"
            ));
        }
    }
    p.secret_manifests.insert(app.name.clone(), values);
    Ok(())
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

pub use owner::{
    secret_name as owner_secret_name, secret_values as owner_secret_values, OwnerCredential,
};

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
        jwt_secret: None,
    }
}
