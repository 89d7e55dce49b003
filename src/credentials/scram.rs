//! SCRAM-SHA-256 verifiers as PostgreSQL stores them (RFC 5802/7677), so that apply.sql can
//! set a password without the plaintext ever reaching SQL, server logs or Git.
//!
//! Derived here over RustCrypto's pbkdf2/hmac/sha2 rather than with `postgres-protocol`'s
//! `password::scram_sha_256` (0.6.12): that one draws the salt from its own thread RNG (the
//! salted variant is crate-private), so neither the caller's RNG nor deterministic tests are
//! possible, and it brings a second rand/hmac/sha2 major version into the binary. It is kept as
//! a dev-dependency instead: a test derives the same verifier from its output's salt.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, Rng};
use sha2::{Digest, Sha256};

pub const ITERATIONS: u32 = 4096;

/// `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`, no trailing newline (PostgreSQL
/// would take a verifier with one for a plaintext password).
///
/// The password is used as is: SASLprep is the identity on the ASCII alphabet we generate.
pub fn verifier(password: &str, rng: &mut (impl Rng + CryptoRng)) -> String {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    verifier_with_salt(password, &salt, ITERATIONS)
}

pub fn verifier_with_salt(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut salted);
    let hmac = |key: &[u8], msg: &[u8]| {
        let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(msg);
        m.finalize().into_bytes()
    };
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        B64.encode(salt),
        B64.encode(stored_key),
        B64.encode(server_key)
    )
}

/// Whether `password` is the one `verifier` was made from (same salt and iterations).
pub fn matches(password: &str, verifier: &str) -> bool {
    let parsed = (|| {
        let rest = verifier.strip_prefix("SCRAM-SHA-256$")?;
        let (iter_salt, _) = rest.split_once('$')?;
        let (iter, salt) = iter_salt.split_once(':')?;
        Some((iter.parse::<u32>().ok()?, B64.decode(salt).ok()?))
    })();
    parsed.is_some_and(|(iterations, salt)| {
        verifier_with_salt(password, &salt, iterations) == verifier
    })
}

/// Whether `s` has the shape of a verifier (used to validate the lock file).
pub fn is_verifier(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("SCRAM-SHA-256$") else {
        return false;
    };
    let Some((iter_salt, keys)) = rest.split_once('$') else {
        return false;
    };
    let Some((iter, salt)) = iter_salt.split_once(':') else {
        return false;
    };
    let Some((stored, server)) = keys.split_once(':') else {
        return false;
    };
    let b64 = |x: &str| B64.decode(x).ok();
    iter.parse::<u32>().is_ok_and(|i| i >= 4096)
        && b64(salt).is_some_and(|v| !v.is_empty())
        && b64(stored).is_some_and(|v| v.len() == 32)
        && b64(server).is_some_and(|v| v.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_only_its_own_verifier() {
        let mut rng = rand::rngs::OsRng;
        let v = verifier("correct-horse", &mut rng);
        assert!(matches("correct-horse", &v));
        assert!(!matches("correct-horsf", &v));
        assert!(!matches("correct-horse", "md5abc"));
    }

    /// Vector computed independently with Python's hashlib/hmac from the RFC 5802 formulas.
    #[test]
    fn known_vector() {
        let v = verifier_with_salt("pencil", b"0123456789abcdef", 4096);
        assert_eq!(
            v,
            include_str!("../../tests/data/scram-pencil.txt").trim_end()
        );
        assert!(is_verifier(&v));
        assert!(!is_verifier(&format!("{v}\n")));
    }

    /// Cross-check against the implementation tokio-postgres uses: for its verifiers (random
    /// salts), ours from the same salt is the same string, for generated-style and other passwords.
    #[test]
    fn same_as_postgres_protocol() {
        for password in [
            "pencil",
            "Zx9-q_Lr2mT8vKp4Wc7nYb3Hs6Jd1Fg5",
            "pä ß wörd",
            "",
        ] {
            for _ in 0..3 {
                let theirs = postgres_protocol::password::scram_sha_256(password.as_bytes());
                let salt = theirs
                    .split(['$', ':'])
                    .nth(2)
                    .and_then(|s| B64.decode(s).ok())
                    .expect("salt");
                assert_eq!(verifier_with_salt(password, &salt, ITERATIONS), theirs);
                assert!(is_verifier(&theirs));
            }
        }
    }
}
