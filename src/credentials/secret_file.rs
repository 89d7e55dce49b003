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
