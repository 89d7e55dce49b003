//! Credentials: passwords, SCRAM verifiers, kubeseal-compatible sealing and the lock file.
//!
//! Invariant: pure functions of their inputs and an injected CSPRNG; no plaintext ever goes
//! into the lock or into `out/`, only into the gitignored `secrets/` Secret manifests.

pub mod lock;
pub mod scram;
pub mod seal;
pub mod secret_file;

use rand::{CryptoRng, Rng};

/// URL-safe alphabet: a password needs no escaping in a URI, YAML or shell.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// 32 symbols of 6 bits: 192 bits of entropy.
pub const PASSWORD_LEN: usize = 32;

/// 48 symbols of 6 bits: 288 bits, above the 256 an HS256 key should have and PostgREST's
/// 32-character minimum.
pub const JWT_SECRET_LEN: usize = 48;

/// A random HMAC secret for PostgREST's `PGRST_JWT_SECRET`, from the same URL-safe alphabet.
pub fn new_jwt_secret(rng: &mut (impl Rng + CryptoRng)) -> String {
    (0..JWT_SECRET_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..64)] as char)
        .collect()
}

/// Whether `s` could be a JWT secret this tool made (used to read back `secrets/`).
pub fn is_jwt_secret(s: &str) -> bool {
    s.len() == JWT_SECRET_LEN && s.bytes().all(|b| ALPHABET.contains(&b))
}

pub fn new_password(rng: &mut (impl Rng + CryptoRng)) -> String {
    (0..PASSWORD_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..64)] as char)
        .collect()
}

/// Whether `s` could be a password this tool made (used to read back `secrets/`).
pub fn is_password(s: &str) -> bool {
    s.len() == PASSWORD_LEN && s.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_url_safe() {
        let mut rng = rand::rngs::OsRng;
        let a = new_password(&mut rng);
        let b = new_password(&mut rng);
        assert!(is_password(&a) && is_password(&b));
        assert_ne!(a, b);
        let j = new_jwt_secret(&mut rng);
        assert!(is_jwt_secret(&j) && !is_password(&j) && !is_jwt_secret(&a));
    }
}
