//! Workspace: the folder of `apps.toml` and what lives in it (`out/`, `locks/`, `secrets/`,
//! `overlays/`, the sealing certificate). Resolves every path from the config's folder, so
//! the tool behaves the same from any working directory, and reads what the pure stages
//! need: the mirror of `emit`, which writes.
//!
//! Invariant: reads only. Nothing here writes, and nothing outside this module and `emit`
//! (besides `main`'s command line) touches the disk.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::credentials::lock::{
    self, AppLock, Entry, OwnerEntry, OwnerSealed, Sealed, SecretEntry,
};
use crate::credentials::seal::SealingKey;
use crate::credentials::{scram, secret_file};
use crate::error::{Diagnostic, Error, Result};

/// Where everything is, resolved once.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// `apps.toml` as given on the command line (shown in messages).
    pub config: PathBuf,
    /// Its folder: `locks/`, `secrets/`, `overlays/` and (by default) `out/` live here.
    pub base: PathBuf,
    pub out: PathBuf,
}

/// What the plan needs from the disk besides apps.toml.
pub struct Gathered {
    pub locks: BTreeMap<String, AppLock>,
    /// Lock files in `locks/` now (file name -> text), to compare and prune.
    pub lock_files: BTreeMap<String, String>,
    /// The legacy single lock file, when one is still there (migrated by build).
    pub legacy_lock: Option<PathBuf>,
    pub recorded: BTreeMap<String, Entry>,
    pub recorded_jwt: BTreeMap<String, SecretEntry>,
    pub recorded_owner: BTreeMap<String, OwnerEntry>,
    pub secret_files: BTreeMap<String, String>,
    pub previously_emitted: BTreeSet<String>,
    pub sealing_key: Option<SealingKey>,
    /// Apps with a user overlay (`overlays/<app>/kustomization.yaml`).
    pub overlays: BTreeMap<String, crate::plan::Overlay>,
}

impl Workspace {
    /// `out` given on the command line is taken as given (relative to the working directory);
    /// by default it is `out/` beside apps.toml.
    pub fn new(config: &Path, out: Option<&Path>) -> Self {
        let base = config
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(PathBuf::new, Path::to_path_buf);
        let out = out.map_or_else(|| base.join("out"), Path::to_path_buf);
        Self {
            config: config.to_path_buf(),
            base,
            out,
        }
    }

    /// The name apps.toml is shown by inside generated files ("generated from apps.toml").
    pub fn source(&self) -> String {
        self.config
            .file_name()
            .map_or("apps.toml".into(), |n| n.to_string_lossy().into_owned())
    }

    pub fn locks_dir(&self) -> PathBuf {
        self.base.join(lock::DIR)
    }
    pub fn legacy_lock(&self) -> PathBuf {
        self.base.join(lock::LEGACY_FILE)
    }
    pub fn secrets_dir(&self) -> PathBuf {
        self.base.join("secrets")
    }
    pub fn overlays_dir(&self) -> PathBuf {
        self.base.join("overlays")
    }

    /// A file apps.toml names (a JWKS), relative to its folder; `Err` says why not.
    pub fn read_beside(&self, rel: &str) -> std::result::Result<String, String> {
        fs::read_to_string(self.base.join(rel)).map_err(|e| e.to_string())
    }

    pub fn read_config(&self) -> Result<String> {
        read(&self.config)
    }

    pub fn gather(&self, config: &Config, now: u64) -> Result<Gathered> {
        let (locks, lock_files, legacy_lock) = self.read_locks(config)?;
        let mut secret_files = BTreeMap::new();
        for app in config.apps.keys() {
            for name in [
                secret_file::file_name(app.as_str()),
                secret_file::owner_file_name(app.as_str()),
            ] {
                if let Some(t) = read_optional(&self.secrets_dir().join(&name))? {
                    secret_files.insert(name, t);
                }
            }
        }
        let sealing_key = match &config.sealing {
            Some(s) => {
                let path = self.base.join(&s.cert);
                let pem = fs::read(&path).map_err(|e| {
                    Error::Input(format!("{}: cannot read the sealing certificate ({e}); fetch it with `kubeseal --fetch-cert > {}`", path.display(), path.display()))
                })?;
                Some(
                    SealingKey::from_pem(&path.display().to_string(), &pem, now)
                        .map_err(Error::Input)?,
                )
            }
            None => None,
        };
        let previously_emitted: BTreeSet<String> = crate::emit::previous_manifest(&self.out)?
            .iter()
            // Only a present app (one with apply.sql) has a password in use.
            .filter_map(|p| {
                p.strip_prefix("apps/")?
                    .strip_suffix("/sql/apply.sql")
                    .map(str::to_owned)
            })
            .collect();
        let mut recorded = BTreeMap::new();
        let mut recorded_jwt = BTreeMap::new();
        let mut recorded_owner = BTreeMap::new();
        for app in config.apps.keys() {
            if !previously_emitted.contains(app.as_str()) {
                continue;
            }
            // The owner's table alone can be lost from a lock that is there (a merge resolved
            // the wrong way): the committed bootstrap.sql still records it.
            if locks.get(app.as_str()).is_none_or(|l| l.owner.is_none()) {
                if let Some(e) = self.recorded_owner(app.as_str())? {
                    recorded_owner.insert(app.to_string(), e);
                }
            }
            if locks.contains_key(app.as_str()) {
                continue;
            }
            if let Some(e) = self.recorded(app.as_str())? {
                recorded.insert(app.to_string(), e);
            }
            if let Some(e) = self.recorded_jwt(app.as_str())? {
                recorded_jwt.insert(app.to_string(), e);
            }
        }
        let mut overlays = BTreeMap::new();
        for app in config.apps.keys() {
            let dir = self.overlays_dir().join(app.as_str());
            // The names Kustomize itself accepts, in its order.
            for name in ["kustomization.yaml", "kustomization.yml", "Kustomization"] {
                let path = dir.join(name);
                if let Some(text) = read_optional(&path)? {
                    let base = self.out.join("apps").join(app.as_str());
                    overlays.insert(
                        app.to_string(),
                        crate::plan::Overlay {
                            file: path.display().to_string(),
                            text,
                            from_out: relative(&self.out, &dir)?,
                            base_from_overlay: relative(&dir, &base)?,
                        },
                    );
                    break;
                }
            }
        }
        Ok(Gathered {
            locks,
            lock_files,
            legacy_lock,
            recorded,
            recorded_jwt,
            recorded_owner,
            secret_files,
            previously_emitted,
            sealing_key,
            overlays,
        })
    }

    /// `locks/*.lock`, plus the legacy file's entries for apps that have no file yet.
    #[allow(clippy::type_complexity)]
    fn read_locks(
        &self,
        config: &Config,
    ) -> Result<(
        BTreeMap<String, AppLock>,
        BTreeMap<String, String>,
        Option<PathBuf>,
    )> {
        let dir = self.locks_dir();
        let mut files = BTreeMap::new();
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&dir, e))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.ends_with(".lock") {
                        files.insert(name, read(&entry.path())?);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(dir, e)),
        }
        let mut locks = BTreeMap::new();
        let mut diags: Vec<Diagnostic> = Vec::new();
        for (name, text) in &files {
            let app = name.trim_end_matches(".lock");
            let shown = format!("{}/{name}", dir.display());
            let declared = config.apps.keys().any(|a| a.as_str() == app);
            match AppLock::parse(&shown, app, text) {
                Ok(l) => {
                    locks.insert(app.to_owned(), l);
                }
                // An undeclared app's lock is dropped by build anyway; only a lock in use
                // must be readable.
                Err(d) if declared => diags.extend(d),
                Err(_) => {}
            }
        }
        let legacy_path = self.legacy_lock();
        let legacy = match read_optional(&legacy_path)? {
            Some(text) => {
                match lock::parse_legacy(&legacy_path.display().to_string(), &text) {
                    Ok(entries) => {
                        for (app, e) in entries {
                            locks.entry(app).or_insert_with(|| AppLock::new(e));
                        }
                    }
                    Err(d) => diags.extend(d),
                }
                Some(legacy_path)
            }
            None => None,
        };
        if diags.is_empty() {
            Ok((locks, files, legacy))
        } else {
            Err(Error::Config(diags))
        }
    }

    /// The JWT secret a committed `out/apps/<app>/` records: generation and digest on the
    /// Deployment, the sealed value in the SealedSecret.
    fn recorded_jwt(&self, app: &str) -> Result<Option<SecretEntry>> {
        let dir = self.out.join("apps").join(app);
        let deployment = read_optional(&dir.join("deployment.yaml"))?.unwrap_or_default();
        let (Some(generation), Some(sha256)) = (
            yaml_value(&deployment, "postgrest-gen/jwt-secret-generation")
                .and_then(|v| v.parse().ok()),
            yaml_value(&deployment, "postgrest-gen/jwt-secret-sha256"),
        ) else {
            return Ok(None);
        };
        let sealed = read_optional(&dir.join("sealedsecret.yaml"))?.and_then(|y| {
            Some(Sealed {
                generation,
                cert_sha256: String::from("recovered"),
                scope: if y.contains("sealedsecrets.bitnami.com/cluster-wide") {
                    "cluster-wide"
                } else if y.contains("sealedsecrets.bitnami.com/namespace-wide") {
                    "namespace-wide"
                } else {
                    "strict"
                }
                .to_owned(),
                namespace: yaml_value(&y, "namespace")?,
                name: yaml_value(&y, "name")?,
                value: yaml_value(&y, "jwt-secret")?,
            })
        });
        Ok(Some(SecretEntry {
            generation,
            sha256,
            sealed,
        }))
    }

    /// The owner credential a committed `out/apps/<app>/` records: verifier and generation in
    /// `sql/bootstrap.sql`, the sealed values (and what they were sealed for) in
    /// `sealedsecret-db-owner.yaml`.
    fn recorded_owner(&self, app: &str) -> Result<Option<OwnerEntry>> {
        let dir = self.out.join("apps").join(app);
        let Some(sql) = read_optional(&dir.join("sql/bootstrap.sql"))? else {
            return Ok(None);
        };
        let Some(verifier) = sql
            .split('\'')
            .find(|s| s.starts_with("SCRAM-SHA-256$") && scram::is_verifier(s))
        else {
            return Ok(None);
        };
        let generation = sql
            .lines()
            .find_map(|l| l.strip_prefix("-- owner password generation: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1);
        let sealed = read_optional(&dir.join("sealedsecret-db-owner.yaml"))?.and_then(|y| {
            let doc = yaml_rust2::YamlLoader::load_from_str(&y)
                .ok()?
                .into_iter()
                .next()?;
            let values = doc["spec"]["encryptedData"]
                .as_hash()?
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect();
            let meta = &doc["metadata"];
            let annotations = &meta["annotations"];
            Some(OwnerSealed {
                generation,
                cert_sha256: String::from("recovered"),
                scope: if annotations["sealedsecrets.bitnami.com/cluster-wide"]
                    .as_str()
                    .is_some()
                {
                    "cluster-wide"
                } else if annotations["sealedsecrets.bitnami.com/namespace-wide"]
                    .as_str()
                    .is_some()
                {
                    "namespace-wide"
                } else {
                    "strict"
                }
                .to_owned(),
                namespace: meta["namespace"].as_str()?.to_owned(),
                name: meta["name"].as_str()?.to_owned(),
                params_sha256: annotations["postgrest-gen/params-sha256"]
                    .as_str()?
                    .to_owned(),
                values,
            })
        });
        Ok(Some(OwnerEntry {
            generation,
            verifier: verifier.to_owned(),
            sealed,
        }))
    }

    /// The credential a committed `out/apps/<app>/` records: the verifier in `apply.sql`, the
    /// generation on the Deployment (1 without one), the sealed value in the SealedSecret.
    fn recorded(&self, app: &str) -> Result<Option<Entry>> {
        let dir = self.out.join("apps").join(app);
        let Some(sql) = read_optional(&dir.join("sql/apply.sql"))? else {
            return Ok(None);
        };
        let Some(verifier) = sql
            .split('\'')
            .find(|s| s.starts_with("SCRAM-SHA-256$") && scram::is_verifier(s))
        else {
            return Ok(None);
        };
        let deployment = read_optional(&dir.join("deployment.yaml"))?.unwrap_or_default();
        let generation = yaml_value(&deployment, "postgrest-gen/credential-generation")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let sealed = read_optional(&dir.join("sealedsecret.yaml"))?.and_then(|y| {
            Some(Sealed {
                generation,
                cert_sha256: String::from("recovered"),
                scope: if y.contains("sealedsecrets.bitnami.com/cluster-wide") {
                    "cluster-wide"
                } else if y.contains("sealedsecrets.bitnami.com/namespace-wide") {
                    "namespace-wide"
                } else {
                    "strict"
                }
                .to_owned(),
                namespace: yaml_value(&y, "namespace")?,
                name: yaml_value(&y, "name")?,
                value: yaml_value(&y, "password")?,
            })
        });
        Ok(Some(Entry {
            generation,
            verifier: verifier.to_owned(),
            sealed,
        }))
    }
}

impl Workspace {
    /// The files of `out/` that `check` compares: ours (the previous manifest) and any path
    /// `build` would write, where they exist.
    pub fn read_out(&self, rendered: &BTreeMap<String, String>) -> Result<OutTree> {
        let previous = crate::emit::previous_manifest(&self.out)?;
        let mut files = BTreeMap::new();
        for rel in previous.iter().chain(rendered.keys()) {
            if files.contains_key(rel) {
                continue;
            }
            if let Some(t) = read_optional(&self.out.join(rel))? {
                files.insert(rel.clone(), t);
            }
        }
        Ok(OutTree { previous, files })
    }
}

/// `out/` as it is on disk.
pub struct OutTree {
    /// The files the last build wrote (its manifest).
    pub previous: BTreeSet<String>,
    pub files: BTreeMap<String, String>,
}

/// The path from folder `from` to `to` (`/`-separated), both taken lexically from the working
/// directory: Kustomize resolves references relative to the kustomization's folder.
fn relative(from: &Path, to: &Path) -> Result<String> {
    use std::path::Component;
    let norm = |p: &Path| -> Result<Vec<String>> {
        let abs = std::path::absolute(p).map_err(|e| Error::io(p, e))?;
        let mut parts: Vec<String> = Vec::new();
        for c in abs.components() {
            match c {
                Component::ParentDir => {
                    parts.pop();
                }
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                _ => {}
            }
        }
        Ok(parts)
    };
    let (from, to) = (norm(from)?, norm(to)?);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel: Vec<String> = vec!["..".to_owned(); from.len() - common];
    rel.extend(to[common..].iter().cloned());
    Ok(rel.join("/"))
}

/// The first `key: value` in a YAML file this tool wrote, unquoted.
fn yaml_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.trim().strip_prefix(key)?.strip_prefix(':')?.trim();
        (!v.is_empty()).then(|| v.trim_matches('"').to_owned())
    })
}

pub fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

pub fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_config_folder() {
        let ws = Workspace::new(Path::new("envs/prod/apps.toml"), None);
        assert_eq!(ws.out, Path::new("envs/prod/out"));
        assert_eq!(ws.locks_dir(), Path::new("envs/prod/locks"));
        assert_eq!(ws.secrets_dir(), Path::new("envs/prod/secrets"));
        let ws = Workspace::new(Path::new("apps.toml"), Some(Path::new("/tmp/o")));
        assert_eq!(ws.out, Path::new("/tmp/o"));
        assert_eq!(ws.locks_dir(), Path::new("locks"));
    }

    #[test]
    fn relative_paths_between_folders() {
        assert_eq!(
            relative(Path::new("out"), Path::new("overlays/atlas")).unwrap(),
            "../overlays/atlas"
        );
        assert_eq!(
            relative(Path::new("overlays/atlas"), Path::new("out/apps/atlas")).unwrap(),
            "../../out/apps/atlas"
        );
        assert_eq!(
            relative(
                Path::new("envs/prod/./out"),
                Path::new("envs/prod/overlays/a")
            )
            .unwrap(),
            "../overlays/a"
        );
    }

    #[test]
    fn yaml_values_are_read_unquoted() {
        let y = "metadata:\n  name: \"atlas-postgrest\"\n  annotations:\n    postgrest-gen/credential-generation: \"3\"\n";
        assert_eq!(yaml_value(y, "name").as_deref(), Some("atlas-postgrest"));
        assert_eq!(
            yaml_value(y, "postgrest-gen/credential-generation").as_deref(),
            Some("3")
        );
    }
}
