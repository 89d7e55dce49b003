//! The plaintext Secret manifests in the gitignored `secrets/` folder: rendered here, and
//! read back (a password we made ourselves) when a value must be re-sealed.

/// File name of an app's plaintext Secret inside `secrets/`.
pub fn file_name(app: &str) -> String {
    format!("{app}-postgrest.secret.yaml")
}

/// Finds the password in a Secret manifest this tool wrote (`password: "<value>"` line).
pub fn read_password(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("password:"))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .find(|v| super::is_password(v))
}

/// Finds the JWT secret in a Secret manifest this tool wrote (`jwt-secret: "<value>"` line).
pub fn read_jwt_secret(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("jwt-secret:"))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .find(|v| super::is_jwt_secret(v))
}

/// Annotation naming the verifier a file's password belongs to: a short SHA-256 of the verifier
/// (public: the verifier itself is in Git). Comparing it with the lock costs a hash, where
/// re-deriving the SCRAM verifier costs 4,096 PBKDF2 rounds per app and build.
pub const VERIFIER_ANNOTATION: &str = "postgrest-gen/verifier-sha256";

pub fn verifier_fingerprint(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::credentials::seal::hex(&Sha256::digest(verifier.as_bytes()))[..16].to_owned()
}

/// Whether the file's password belongs to `verifier`, by its annotation; `None` for a file
/// without one (written by an earlier version), which the caller checks the slow way.
pub fn belongs_to(text: &str, verifier: &str) -> Option<bool> {
    let prefix = format!("{VERIFIER_ANNOTATION}:");
    text.lines()
        .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .map(|v| v.trim().trim_matches('"') == verifier_fingerprint(verifier))
}

/// File name of an app's owner Secret (`<app>-db-owner`, `bootstrap = true`) inside `secrets/`.
pub fn owner_file_name(app: &str) -> String {
    format!("{app}-db-owner.secret.yaml")
}

/// Finds the owner's password in an owner Secret manifest this tool wrote (`PGPASSWORD:` line).
pub fn read_owner_password(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("PGPASSWORD:"))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .find(|v| super::is_password(v))
}
