//! kubeseal-compatible sealing: what the Sealed Secrets controller can unseal.
//!
//! Format per value (see field notes): base64( u16be(len(rsa)) || RSA-OAEP-SHA256(label,
//! session key) || AES-256-GCM(session key, zero nonce, plaintext) ). A fresh session key per
//! value makes the zero nonce safe. Pure: the certificate bytes, the clock and the RNG come in.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::{CryptoRng, Rng};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{Oaep, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

use crate::config::Scope;

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// The controller's public key, checked once.
#[derive(Debug, Clone)]
pub struct SealingKey {
    key: RsaPublicKey,
    /// Hex SHA-256 of the certificate's DER: recorded in the lock so that a new controller
    /// certificate re-seals every value.
    pub fingerprint: String,
}

impl SealingKey {
    /// Parses a PEM certificate; refuses non-RSA keys and certificates not valid at `now`
    /// (seconds since the Unix epoch). Errors name `path` and say what to do.
    pub fn from_pem(path: &str, pem: &[u8], now: u64) -> Result<Self, String> {
        let cert = Certificate::from_pem(pem).map_err(|e| {
            format!("{path}: not a PEM X.509 certificate ({e}); fetch the controller's with `kubeseal --fetch-cert > {path}`")
        })?;
        let tbs = &cert.tbs_certificate;
        let not_after = tbs.validity.not_after.to_unix_duration().as_secs();
        let not_before = tbs.validity.not_before.to_unix_duration().as_secs();
        if now > not_after {
            return Err(format!(
                "{path}: the sealing certificate expired ({}); fetch the controller's current one with `kubeseal --fetch-cert`",
                tbs.validity.not_after
            ));
        }
        if now < not_before {
            return Err(format!(
                "{path}: the sealing certificate is not valid before {}",
                tbs.validity.not_before
            ));
        }
        let spki = &tbs.subject_public_key_info;
        if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
            return Err(format!(
                "{path}: the certificate's key is not RSA (algorithm {}); Sealed Secrets controllers use RSA keys",
                spki.algorithm.oid
            ));
        }
        let key = RsaPublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes())
            .map_err(|e| format!("{path}: unreadable RSA public key: {e}"))?;
        let der = cert.to_der().map_err(|e| format!("{path}: {e}"))?;
        Ok(Self {
            key,
            fingerprint: hex(&Sha256::digest(der)),
        })
    }

    pub fn seal(&self, label: &str, plaintext: &[u8], rng: &mut (impl Rng + CryptoRng)) -> String {
        let mut session = [0u8; 32];
        rng.fill(&mut session);
        let wrapped = self
            .key
            .encrypt(rng, Oaep::new_with_label::<Sha256, _>(label), &session)
            .expect("a 32-byte key fits any RSA modulus of 1024 bits or more");
        let cipher = Aes256Gcm::new_from_slice(&session).expect("32-byte key");
        let sealed = cipher
            .encrypt(Nonce::from_slice(&[0u8; 12]), plaintext)
            .expect("AES-GCM encrypts any length we use");
        let mut out = Vec::with_capacity(2 + wrapped.len() + sealed.len());
        out.extend_from_slice(&(wrapped.len() as u16).to_be_bytes());
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }
}

/// The OAEP label that binds a sealed value to where it may be unsealed.
pub fn label(scope: Scope, namespace: &str, name: &str) -> String {
    match scope {
        Scope::Strict => format!("{namespace}/{name}"),
        Scope::NamespaceWide => namespace.to_owned(),
        Scope::ClusterWide => String::new(),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = include_bytes!("../../tests/fixtures/sealed/sealing-cert.pem");
    const YEAR: u64 = 365 * 24 * 3600;

    #[test]
    fn certificate_validity_is_checked_against_the_given_clock() {
        let now = 1_800_000_000; // 2027-01, after the fixture was made
        let key = SealingKey::from_pem("c.pem", CERT, now).unwrap();
        assert_eq!(key.fingerprint.len(), 64);
        let err = SealingKey::from_pem("c.pem", CERT, now + 200 * YEAR).unwrap_err();
        assert!(
            err.contains("expired") && err.contains("kubeseal --fetch-cert"),
            "{err}"
        );
        let err = SealingKey::from_pem("c.pem", CERT, 0).unwrap_err();
        assert!(err.contains("not valid before"), "{err}");
    }

    #[test]
    fn sealed_value_layout() {
        let key = SealingKey::from_pem("c.pem", CERT, 1_800_000_000).unwrap();
        let a = key.seal("ns/name", b"secret", &mut rand::rngs::OsRng);
        let b = key.seal("ns/name", b"secret", &mut rand::rngs::OsRng);
        assert_ne!(a, b, "randomised");
        let raw = B64.decode(a).unwrap();
        let rsa_len = u16::from_be_bytes([raw[0], raw[1]]) as usize;
        assert_eq!(rsa_len, 512, "4096-bit RSA block");
        assert_eq!(
            raw.len(),
            2 + rsa_len + b"secret".len() + 16,
            "ciphertext plus GCM tag"
        );
        assert_eq!(label(Scope::Strict, "ns", "n"), "ns/n");
        assert_eq!(label(Scope::NamespaceWide, "ns", "n"), "ns");
        assert_eq!(label(Scope::ClusterWide, "ns", "n"), "");
    }
}
