//! Plan stage, step 0 (`bootstrap = true`): the owner role's password and its Secret
//! `<app>-db-owner`, decided like the authenticator's password (see the parent module).
//!
//! Invariants: the password is made once, reused while the lock (or the committed
//! `bootstrap.sql`) records it, replaced only by `rotate <app> --owner`, recovered from
//! `secrets/` when the lock lost it; its plaintext goes only into `secrets/`. Every key of the
//! Secret is sealed (the password is inside `DATABASE_URL`), and the sealed values are re-made
//! together only when the generation, the sealing binding or the connection parameters change.

use std::collections::BTreeMap;

use rand::{CryptoRng, Rng};

use super::{Inputs, Mode, Plan, PLACEHOLDER};
use crate::config::{App, Config};
use crate::credentials::lock::{self, OwnerEntry, OwnerSealed};
use crate::credentials::seal::{self, hex};
use crate::credentials::{new_password, scram, secret_file};
use crate::render::views::percent_encode;

/// The owner's Secret name: `<app>-db-owner`.
pub fn secret_name(app: &App) -> String {
    format!("{}-db-owner", app.name)
}

/// The owner's credential as out/ needs it.
#[derive(Debug, Clone)]
pub struct OwnerCredential {
    pub generation: u32,
    pub verifier: String,
    pub sealed: Option<OwnerSealed>,
}

/// The keys of `<app>-db-owner`, what UIS's `configure --json` hands a data pipeline: libpq's
/// variables and one URL (names and password percent-encoded, `sslmode` from `db-sslmode`).
pub fn secret_values(app: &App, password: &str) -> BTreeMap<String, String> {
    let db = &app.db;
    let mut url = format!(
        "postgresql://{}:{}@{}:{}/{}",
        percent_encode(db.owner.as_str()),
        percent_encode(password),
        db.host,
        db.port,
        percent_encode(db.database.as_str())
    );
    let mut values = BTreeMap::from([
        ("PGHOST".to_owned(), db.host.to_string()),
        ("PGPORT".to_owned(), db.port.to_string()),
        ("PGDATABASE".to_owned(), db.database.to_string()),
        ("PGUSER".to_owned(), db.owner.to_string()),
        ("PGPASSWORD".to_owned(), password.to_owned()),
    ]);
    if let Some(ssl) = &db.ssl {
        url.push_str(&format!("?sslmode={}", ssl.mode.as_str()));
        values.insert("PGSSLMODE".to_owned(), ssl.mode.as_str().to_owned());
    }
    values.insert("DATABASE_URL".to_owned(), url);
    values
}

/// What the sealed values depend on besides the password: re-sealed when it changes.
fn params_sha256(app: &App) -> String {
    let mut v = secret_values(app, "");
    v.remove("PGPASSWORD");
    v.remove("DATABASE_URL");
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(
        serde_json::to_string(&v).expect("strings serialise"),
    ))
}

/// The owner credential of a present app with `bootstrap = true`; records a new or recovered
/// plaintext in `p.owner_secrets` (written to `secrets/`).
pub(super) fn owner(
    config: &Config,
    app: &App,
    inputs: &Inputs<'_>,
    p: &mut Plan<'_>,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<OwnerCredential, String> {
    let name = app.name.as_str();
    let file = secret_file::owner_file_name(name);
    let sd = &inputs.secrets_dir;
    let text = inputs.secret_files.get(&file);
    let on_disk = text.and_then(|t| secret_file::read_owner_password(t));
    // The lock's [owner], else what the committed out/ records (the whole lock or only its
    // [owner] table lost): a recorded password is never re-issued.
    let recorded = inputs.recorded_owner.get(name);
    let existing = inputs
        .locks
        .get(name)
        .and_then(|l| l.owner.as_ref())
        .or(recorded);
    if let Some(e) = existing
        .filter(|_| recorded.is_some() && inputs.locks.get(name).is_none_or(|l| l.owner.is_none()))
    {
        p.notes.push(format!(
            "{name}: owner password (generation {}) recovered from the committed out/apps/{name}/sql/bootstrap.sql; no new password issued",
            e.generation
        ));
    }
    let rotating = inputs.rotate_owner.contains(&app.name);
    let check = inputs.mode == Mode::Check;
    let (generation, verifier, mut plaintext, new) = match existing {
        Some(e) if !rotating => {
            let pw = match on_disk {
                Some(pw)
                    if text
                        .and_then(|t| secret_file::belongs_to(t, &e.verifier))
                        .unwrap_or_else(|| scram::matches(&pw, &e.verifier)) =>
                {
                    Some(pw)
                }
                Some(_) => {
                    let msg = format!(
                        "{name}: {sd}/{file} does not hold the owner password {dir}/{lock} records (left from an abandoned rotation, or from the other side of a merge); it is not used: delete it, or run `postgrest-gen rotate {name} --owner`",
                        dir = lock::DIR,
                        lock = lock::file_name(name)
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
            (e.generation, e.verifier.clone(), pw, false)
        }
        _ if check => {
            let what = if rotating { "rotated" } else { "new" };
            p.pending.push(format!(
                "{name}: {what} owner password, made by `postgrest-gen build` (shown below as {PLACEHOLDER})"
            ));
            p.pending_secret_files
                .insert(crate::credentials::secret_file::owner_file_name(name));
            let generation = existing.map_or(1, |e| e.generation + 1);
            return Ok(OwnerCredential {
                generation,
                verifier: PLACEHOLDER.to_owned(),
                sealed: config.sealing.as_ref().map(|s| OwnerSealed {
                    generation,
                    cert_sha256: PLACEHOLDER.to_owned(),
                    scope: s.scope.as_str().to_owned(),
                    namespace: config.namespace.to_string(),
                    name: secret_name(app),
                    params_sha256: params_sha256(app),
                    values: secret_values(app, PLACEHOLDER)
                        .into_keys()
                        .map(|k| (k, PLACEHOLDER.to_owned()))
                        .collect(),
                }),
            });
        }
        Some(e) => {
            let pw = new_password(rng);
            p.notes.push(format!(
                "{name}: owner password rotated (generation {}); apply {sd}/{file} or the sealed value, then the SQL (bootstrap.sql sets it)",
                e.generation + 1
            ));
            (e.generation + 1, scram::verifier(&pw, rng), Some(pw), true)
        }
        None if !rotating && on_disk.is_some() => {
            let pw = on_disk.expect("checked");
            p.notes.push(format!(
                "{name}: owner password recorded again from {sd}/{file}"
            ));
            (1, scram::verifier(&pw, rng), Some(pw), false)
        }
        None => {
            let pw = new_password(rng);
            p.notes.push(format!(
                "{name}: new owner password; plaintext in {sd}/{file} (gitignored)"
            ));
            (1, scram::verifier(&pw, rng), Some(pw), true)
        }
    };
    let sealed = match (&config.sealing, inputs.sealing_key) {
        (Some(s), Some(key)) => {
            let binding = OwnerSealed {
                generation,
                cert_sha256: key.fingerprint.clone(),
                scope: s.scope.as_str().to_owned(),
                namespace: config.namespace.to_string(),
                name: secret_name(app),
                params_sha256: params_sha256(app),
                values: BTreeMap::new(),
            };
            // As for the password: a renewed certificate keeps the values sealed before.
            let reuse = existing.and_then(|e| e.sealed.as_ref()).filter(|old| {
                OwnerSealed {
                    values: BTreeMap::new(),
                    cert_sha256: binding.cert_sha256.clone(),
                    ..(*old).clone()
                } == binding
            });
            match reuse {
                Some(old) => Some(old.clone()),
                None if check => {
                    p.pending.push(format!(
                        "{name}: owner Secret to re-seal, by `postgrest-gen build` (shown below as {PLACEHOLDER})"
                    ));
                    Some(OwnerSealed {
                        values: secret_values(app, PLACEHOLDER)
                            .into_keys()
                            .map(|k| (k, PLACEHOLDER.to_owned()))
                            .collect(),
                        ..binding
                    })
                }
                None => {
                    let Some(pw) = plaintext
                        .as_ref()
                        .filter(|pw| new || scram::matches(pw, &verifier))
                    else {
                        return Err(format!(
                            "{name}: the sealed owner Secret must be re-made (its connection details, scope, namespace or name changed) but the owner password is not in {sd}/{file}; run `postgrest-gen rotate {name} --owner` to issue and seal a new one"
                        ));
                    };
                    let label = seal::label(s.scope, config.namespace.as_str(), &binding.name);
                    let values = secret_values(app, pw)
                        .into_iter()
                        .map(|(k, v)| (k, key.seal(&label, v.as_bytes(), rng)))
                        .collect();
                    p.notes.push(format!(
                        "{name}: owner Secret sealed ({} scope)",
                        s.scope.as_str()
                    ));
                    Some(OwnerSealed { values, ..binding })
                }
            }
        }
        _ => None,
    };
    // The plaintext file is kept current (connection details included) whenever the password
    // is at hand; without sealing it is what `make apply-secrets` gives the cluster.
    // (Every plaintext left here is the recorded one: checked above, or the verifier's source.)
    if let Some(pw) = plaintext.take() {
        p.owner_secrets.insert(app.name.clone(), pw);
    }
    Ok(OwnerCredential {
        generation,
        verifier,
        sealed,
    })
}

impl OwnerCredential {
    pub fn entry(&self) -> OwnerEntry {
        OwnerEntry {
            generation: self.generation,
            verifier: self.verifier.clone(),
            sealed: self.sealed.clone(),
        }
    }
}
