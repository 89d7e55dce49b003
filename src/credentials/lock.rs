//! The lock: what `out/` needs from past runs, and nothing secret. One file per app,
//! `locks/<app>.lock`, so two branches that add or rotate different apps never touch the same
//! file and merge without conflicts.
//!
//! Invariants: serialisation is deterministic (fixed field order), so an unchanged lock is
//! rewritten byte for byte or not at all; a file holds one app's credentials, one table per
//! credential. The single `postgrest-gen.lock` of earlier versions is still read, once, and
//! replaced by the per-app files on the next `build`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;

/// Folder of the per-app lock files, beside apps.toml.
pub const DIR: &str = "locks";
/// The one lock file of postgrest-gen 0.1 (migrated on the next build).
pub const LEGACY_FILE: &str = "postgrest-gen.lock";
const VERSION: u32 = 2;

/// `locks/<app>.lock`.
pub fn file_name(app: &str) -> String {
    format!("{app}.lock")
}

/// One app's lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppLock {
    pub version: u32,
    /// The authenticator's login password.
    pub authenticator: Entry,
    /// The generated JWT secret (`[apps.<app>.jwt] secret = "generate"`): its own table, so a
    /// rotation of one credential leaves the other's lines alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<SecretEntry>,
    /// The owner role's login password (`bootstrap = true`): its own table, like the JWT
    /// secret, so rotating one credential leaves the other's lines alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerEntry>,
}

impl AppLock {
    pub fn new(authenticator: Entry) -> Self {
        Self {
            version: VERSION,
            authenticator,
            jwt_secret: None,
            owner: None,
        }
    }
}

/// The owner's password (made by bootstrap): generation and verifier like the
/// authenticator's, and the sealed values of its Secret `<app>-db-owner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OwnerEntry {
    pub generation: u32,
    pub verifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<OwnerSealed>,
}

/// The sealed keys of the owner's Secret. Every key is sealed (the password is inside
/// `DATABASE_URL` too), so they are re-made together when the generation, the binding or the
/// connection parameters (`params-sha256`: host, port, database, user, sslmode) change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OwnerSealed {
    pub generation: u32,
    pub cert_sha256: String,
    pub scope: String,
    pub namespace: String,
    pub name: String,
    pub params_sha256: String,
    /// Secret key -> kubeseal ciphertext (base64).
    pub values: BTreeMap<String, String>,
}

/// A secret this tool issued that no database needs to verify (the JWT secret): its
/// generation, a digest (to tell which value the cluster has and to roll the pods when it
/// changes; the secret has 288 random bits, so the digest reveals nothing), its sealed value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretEntry {
    /// Bumped by every rotation.
    pub generation: u32,
    /// Hex SHA-256 of the secret.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

/// Hex SHA-256 of a secret, as the lock records it.
pub fn digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    super::seal::hex(&Sha256::digest(secret.as_bytes()))
}

/// A password this tool issued: its generation, its verifier, and its sealed value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entry {
    /// Bumped by every rotation; rolls the pods through a pod-template annotation.
    pub generation: u32,
    /// SCRAM-SHA-256 verifier of the current password.
    pub verifier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

/// A sealed value and everything it is bound to. Re-made when its generation, scope,
/// namespace or name changes; kept across a renewed sealing certificate (the controller keeps
/// its old keys), so `cert-sha256` records the certificate it was sealed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Sealed {
    pub generation: u32,
    pub cert_sha256: String,
    pub scope: String,
    pub namespace: String,
    pub name: String,
    /// The kubeseal ciphertext (base64).
    pub value: String,
}

fn header(app: &str) -> String {
    format!(
        "# locks/{app}.lock: generated by postgrest-gen from apps.toml; commit it.\n\
# It holds no plaintext: SCRAM verifiers, digests and sealed values only. Do not edit by hand;\n\
# on a merge conflict here, keep one side (two branches rotated `{app}`) and rebuild.\n"
    )
}

fn unreadable(file: &str, text: &str, e: &toml::de::Error) -> Diagnostic {
    let at = e.span().map_or(0, |s| s.start);
    Diagnostic::at(
        file,
        text,
        at,
        format!(
            "unreadable lock file: {}; restore it from Git (`git checkout -- {file}`)",
            e.message().trim_end()
        ),
    )
}

fn check_entry(file: &str, text: &str, app: &str, e: &Entry) -> Option<Diagnostic> {
    (e.generation == 0 || !super::scram::is_verifier(&e.verifier)).then(|| {
        Diagnostic::at(file, text, 0, format!(
            "lock of `{app}` has no valid generation or SCRAM verifier; restore it from Git or run `postgrest-gen rotate {app}`"
        ))
    })
}

impl AppLock {
    pub fn parse(file: &str, app: &str, text: &str) -> Result<Self, Vec<Diagnostic>> {
        let lock: AppLock = toml::from_str(text).map_err(|e| vec![unreadable(file, text, &e)])?;
        if lock.version != VERSION {
            return Err(vec![Diagnostic::at(
                file,
                text,
                0,
                format!(
                    "lock version {} is not supported by this postgrest-gen (expects {VERSION}); upgrade postgrest-gen",
                    lock.version
                ),
            )]);
        }
        if let Some(d) = check_entry(file, text, app, &lock.authenticator) {
            return Err(vec![d]);
        }
        if let Some(o) = &lock.owner {
            if o.generation == 0 || !super::scram::is_verifier(&o.verifier) {
                return Err(vec![Diagnostic::at(file, text, text.find("[owner]").unwrap_or(0), format!(
                    "lock of `{app}` has an [owner] without a valid generation or SCRAM verifier; restore it from Git or run `postgrest-gen rotate {app} --owner`"
                ))]);
            }
        }
        if let Some(j) = &lock.jwt_secret {
            let hex64 = j.sha256.len() == 64 && j.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if j.generation == 0 || !hex64 {
                return Err(vec![Diagnostic::at(file, text, text.find("[jwt-secret]").unwrap_or(0), format!(
                    "lock of `{app}` has a [jwt-secret] without a valid generation or sha256; restore it from Git or run `postgrest-gen rotate {app} --jwt-secret`"
                ))]);
            }
        }
        Ok(lock)
    }

    pub fn render(&self, app: &str) -> String {
        let body = toml::to_string(self).expect("the lock serialises");
        format!("{}\n{body}", header(app))
    }
}

/// The 0.1 lock: `[apps.<app>]` tables in one file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Legacy {
    version: u32,
    #[serde(default)]
    apps: BTreeMap<String, LegacyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LegacyEntry {
    generation: u32,
    verifier: String,
    sealed: Option<LegacySealed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LegacySealed {
    generation: u32,
    cert_sha256: String,
    scope: String,
    namespace: String,
    name: String,
    password: String,
}

/// Reads a `postgrest-gen.lock` of version 1 into per-app entries.
pub fn parse_legacy(file: &str, text: &str) -> Result<BTreeMap<String, Entry>, Vec<Diagnostic>> {
    let legacy: Legacy = toml::from_str(text).map_err(|e| vec![unreadable(file, text, &e)])?;
    if legacy.version != 1 {
        return Err(vec![Diagnostic::at(
            file,
            text,
            0,
            format!(
                "{file} has version {}; only version 1 is read (newer locks live in {DIR}/)",
                legacy.version
            ),
        )]);
    }
    let mut out = BTreeMap::new();
    let mut diags = Vec::new();
    for (app, e) in legacy.apps {
        let entry = Entry {
            generation: e.generation,
            verifier: e.verifier,
            sealed: e.sealed.map(|s| Sealed {
                generation: s.generation,
                cert_sha256: s.cert_sha256,
                scope: s.scope,
                namespace: s.namespace,
                name: s.name,
                value: s.password,
            }),
        };
        match check_entry(file, text, &app, &entry) {
            Some(d) => diags.push(d),
            None => {
                out.insert(app, entry);
            }
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "SCRAM-SHA-256$4096:uKShMYvLD4WGmUlpIzmjaA==$XQMSqx7FAL2/np7mGtJ8uRTRKq5r2A3kAraMZ+GcDQ0=:wSKPVV2NxBAXaXTEfBcGreBPP8C/T96ZnAGLYuD7yh0=";

    #[test]
    fn app_lock_round_trips() {
        let lock = AppLock::new(Entry {
            generation: 3,
            verifier: V.to_owned(),
            sealed: None,
        });
        let text = lock.render("atlas");
        assert!(text.starts_with("# locks/atlas.lock"));
        assert_eq!(AppLock::parse("f", "atlas", &text).unwrap(), lock);
    }

    #[test]
    fn jwt_secret_is_its_own_table() {
        let mut lock = AppLock::new(Entry {
            generation: 1,
            verifier: V.to_owned(),
            sealed: None,
        });
        lock.jwt_secret = Some(SecretEntry {
            generation: 2,
            sha256: digest("s"),
            sealed: None,
        });
        let text = lock.render("atlas");
        assert!(
            text.contains("[jwt-secret]\ngeneration = 2\nsha256 = "),
            "{text}"
        );
        assert_eq!(AppLock::parse("f", "atlas", &text).unwrap(), lock);
        let bad = text.replace(&digest("s"), "xyz");
        assert!(AppLock::parse("f", "atlas", &bad).unwrap_err()[0]
            .message
            .contains("--jwt-secret"));
    }

    #[test]
    fn legacy_lock_is_read_with_its_sealed_values() {
        let text = format!(
            "version = 1\n[apps.atlas]\ngeneration = 2\nverifier = \"{V}\"\n[apps.atlas.sealed]\ngeneration = 2\ncert-sha256 = \"ab\"\nscope = \"strict\"\nnamespace = \"n\"\nname = \"atlas-postgrest\"\npassword = \"c2VhbGVk\"\n"
        );
        let apps = parse_legacy("postgrest-gen.lock", &text).unwrap();
        assert_eq!(apps["atlas"].generation, 2);
        assert_eq!(apps["atlas"].sealed.as_ref().unwrap().value, "c2VhbGVk");
    }

    #[test]
    fn a_broken_verifier_is_refused() {
        let text = "version = 2\n[authenticator]\ngeneration = 1\nverifier = \"md5abc\"\n";
        let e = AppLock::parse("locks/atlas.lock", "atlas", text).unwrap_err();
        assert!(e[0].message.contains("rotate atlas"), "{:?}", e);
    }
}
