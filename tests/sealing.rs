//! Native sealing proven by unsealing with kubesealpy (an independent implementation) and
//! the test private key, for every scope and for a prefixed final name; certificate checks.
#![cfg(feature = "integration")]

mod common;
use common::{kustomize, run_ok, Workspace};
use std::path::Path;
use std::process::Command;

fn keypair(dir: &Path, extra: &[&str]) {
    run_ok(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:4096", "-nodes", "-keyout"])
            .arg(dir.join("tls.key"))
            .arg("-out")
            .arg(dir.join("tls.crt"))
            .args(["-subj", "/CN=sealed-secret"])
            .args(extra),
    );
}

/// `<namespace>/<name> password=<plaintext>` lines for each SealedSecret in `rendered`.
fn unseal(key: &Path, rendered: &str) -> String {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/kubeseal-venv/bin/python");
    assert!(
        py.exists(),
        "{} missing: run scripts/setup-tools.sh",
        py.display()
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), rendered).unwrap();
    run_ok(
        Command::new(py)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/tools/unseal.py"
            ))
            .arg(key)
            .arg(file.path()),
    )
}

fn sealed_ws(scope: &str) -> Workspace {
    let ws = Workspace::new(&format!(
        "[defaults]\nnamespace = \"apis\"\n[sealing]\ncert = \"tls.crt\"\nscope = \"{scope}\"\n\n[apps.atlas]\ndatabase = \"atlas_db\"\n\n[apps.billing]\ndatabase = \"billing\"\n"
    ));
    keypair(ws.path(), &["-days", "30"]);
    ws
}

#[test]
fn every_scope_unseals_to_the_plaintext() {
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let ws = sealed_ws(scope);
        ws.ok(&["build"]);
        let got = unseal(&ws.path().join("tls.key"), &kustomize(&ws.out("")));
        let want = format!(
            "apis/atlas-postgrest password={}\napis/billing-postgrest password={}\n",
            ws.password("atlas"),
            ws.password("billing")
        );
        assert_eq!(got, want, "scope {scope}");
        // The plaintext is nowhere in out/ or the lock.
        for (path, text) in ws.tree("out") {
            assert!(!text.contains(&ws.password("atlas")), "{path}");
        }
        assert!(!ws.locks().contains(&ws.password("atlas")));
    }
}

#[test]
fn a_strict_value_is_bound_to_name_and_namespace() {
    let ws = sealed_ws("strict");
    ws.ok(&["build"]);
    let rendered = kustomize(&ws.out("apps/atlas"));
    let moved = rendered.replace("namespace: apis", "namespace: elsewhere");
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/kubeseal-venv/bin/python");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), moved).unwrap();
    let out = Command::new(py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/tools/unseal.py"
        ))
        .arg(ws.path().join("tls.key"))
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a strict value unsealed in another namespace"
    );
}

/// A user overlay that prefixes names: with namespace-wide scope the value unseals under the
/// final, prefixed name.
#[test]
fn prefixed_final_name_unseals_with_namespace_wide_scope() {
    let ws = sealed_ws("namespace-wide");
    ws.ok(&["build"]);
    let mine = ws.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("kustomization.yaml"),
        "resources:\n  - ../out/apps/atlas\nnamePrefix: team-\n",
    )
    .unwrap();
    let got = unseal(&ws.path().join("tls.key"), &kustomize(&mine));
    assert_eq!(
        got,
        format!(
            "apis/team-atlas-postgrest password={}\n",
            ws.password("atlas")
        )
    );
}

#[test]
fn sealed_values_are_reused_and_remade_only_when_bound_inputs_change() {
    let ws = sealed_ws("strict");
    ws.ok(&["build"]);
    let first = ws.read("out/apps/atlas/sealedsecret.yaml");
    ws.ok(&["build"]);
    assert_eq!(
        ws.read("out/apps/atlas/sealedsecret.yaml"),
        first,
        "re-sealed without cause"
    );

    // Namespace change: re-sealed from secrets/, unseals under the new namespace.
    let toml = ws
        .read("apps.toml")
        .replace("namespace = \"apis\"", "namespace = \"apis2\"");
    ws.write("apps.toml", &toml);
    let out = ws.ok(&["build"]);
    assert!(out.contains("atlas: password sealed"), "{out}");
    assert_ne!(ws.read("out/apps/atlas/sealedsecret.yaml"), first);
    assert!(unseal(&ws.path().join("tls.key"), &kustomize(&ws.out("")))
        .contains("apis2/atlas-postgrest"));

    // Without the plaintext a needed re-seal is refused and points at rotate.
    std::fs::remove_dir_all(ws.path().join("secrets")).unwrap();
    let toml = ws
        .read("apps.toml")
        .replace("scope = \"strict\"", "scope = \"cluster-wide\"");
    ws.write("apps.toml", &toml);
    let tree = ws.tree("out");
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgrest-gen rotate atlas"));
    assert_eq!(ws.tree("out"), tree, "out/ untouched");
    ws.ok(&["rotate", "atlas", "billing"]);
    let got = unseal(&ws.path().join("tls.key"), &kustomize(&ws.out("")));
    assert!(got.contains(&format!(
        "atlas-postgrest password={}",
        ws.password("atlas")
    )));
}

#[test]
fn bad_certificates_are_clear_errors() {
    // (Expiry is a unit test of `SealingKey::from_pem`, which takes the clock.)
    let ws = sealed_ws("strict");
    // Not RSA.
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=ec",
        ])
        .arg("-keyout")
        .arg(ws.path().join("ec.key"))
        .arg("-out")
        .arg(ws.path().join("tls.crt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(ws.run(&["build"]).stderr).unwrap();
    assert!(err.contains("not RSA"), "{err}");
    // Garbage and missing.
    ws.write("tls.crt", "not a certificate");
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a PEM X.509 certificate"));
    std::fs::remove_file(ws.path().join("tls.crt")).unwrap();
    let err = String::from_utf8(ws.run(&["build"]).stderr).unwrap();
    assert!(err.contains("cannot read the sealing certificate"), "{err}");
    assert!(!ws.path().join("out").exists() && !ws.lock_exists());
}

#[test]
fn a_renewed_certificate_keeps_sealed_values_and_seals_new_ones_with_it() {
    let ws = sealed_ws("strict");
    ws.ok(&["build"]);
    let old_key = ws.path().join("old.key");
    std::fs::rename(ws.path().join("tls.key"), &old_key).unwrap();
    let (atlas_pw, billing_pw) = (ws.password("atlas"), ws.password("billing"));
    let sealed_before = ws.read("out/apps/atlas/sealedsecret.yaml");
    let atlas_lock = ws.read("locks/atlas.lock");
    // The controller renewed its key; the repository has no plaintext (a fresh clone).
    keypair(ws.path(), &["-days", "30"]);
    std::fs::remove_dir_all(ws.path().join("secrets")).unwrap();
    ws.write(
        "apps.toml",
        &format!(
            "{}\n[apps.gamma]\ndatabase = \"gamma_db\"\n",
            ws.read("apps.toml")
        ),
    );
    let out = ws.ok(&["build"]);
    assert!(!out.contains("rotate"), "{out}");
    assert_eq!(ws.read("out/apps/atlas/sealedsecret.yaml"), sealed_before);
    assert_eq!(ws.read("locks/atlas.lock"), atlas_lock, "no rotation");
    // Old values open with the old key (the controller keeps it), the new app's with the new.
    assert_eq!(
        unseal(&old_key, &kustomize(&ws.out("apps/atlas"))),
        format!("apis/atlas-postgrest password={atlas_pw}\n")
    );
    let new_key = ws.path().join("tls.key");
    assert_eq!(
        unseal(&new_key, &kustomize(&ws.out("apps/gamma"))),
        format!("apis/gamma-postgrest password={}\n", ws.password("gamma"))
    );
    // rotate re-seals with the current certificate.
    ws.ok(&["rotate", "billing"]);
    let rotated = ws.password("billing");
    assert_ne!(rotated, billing_pw);
    assert_eq!(
        unseal(&new_key, &kustomize(&ws.out("apps/billing"))),
        format!("apis/billing-postgrest password={rotated}\n")
    );
    assert!(ws.ok(&["check"]).contains("up to date"));
}

#[test]
fn a_wrong_plaintext_is_never_sealed() {
    let ws = sealed_ws("strict");
    ws.ok(&["build"]);
    let path = ws.path().join("secrets/atlas-postgrest.secret.yaml");
    let pw = ws.password("atlas");
    let other: String = pw.chars().rev().collect();
    std::fs::write(
        &path,
        std::fs::read_to_string(&path).unwrap().replace(&pw, &other),
    )
    .unwrap();
    // A new scope needs a re-seal; the plaintext at hand is not the recorded password.
    ws.write(
        "apps.toml",
        &ws.read("apps.toml")
            .replace("scope = \"strict\"", "scope = \"namespace-wide\""),
    );
    let tree = ws.tree("out");
    let check = ws.run(&["check"]);
    assert_eq!(check.status.code(), Some(2), "check says build would stop");
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("postgrest-gen rotate atlas"), "{err}");
    assert_eq!(ws.tree("out"), tree, "nothing sealed, nothing written");
}

#[test]
fn jwt_secret_is_sealed_beside_the_password_and_unseals_to_the_plaintext() {
    let ws = Workspace::new(
        "[defaults]\nnamespace = \"apis\"\n[sealing]\ncert = \"tls.crt\"\n\n[apps.atlas]\ndatabase = \"atlas_db\"\n[apps.atlas.jwt]\n",
    );
    keypair(ws.path(), &["-days", "30"]);
    ws.ok(&["build"]);
    let got = unseal(&ws.path().join("tls.key"), &kustomize(&ws.out("")));
    assert_eq!(
        got,
        format!(
            "apis/atlas-postgrest jwt-secret={}\napis/atlas-postgrest password={}\n",
            ws.jwt_secret("atlas"),
            ws.password("atlas")
        )
    );
    for (path, text) in ws.tree("out") {
        assert!(!text.contains(&ws.jwt_secret("atlas")), "{path}");
    }
    assert!(!ws.locks().contains(&ws.jwt_secret("atlas")));
    // Reused on rebuild; a rotation re-seals only the JWT secret.
    let first = ws.read("out/apps/atlas/sealedsecret.yaml");
    ws.ok(&["build"]);
    assert_eq!(ws.read("out/apps/atlas/sealedsecret.yaml"), first);
    let password_line = |y: &str| {
        y.lines()
            .find(|l| l.trim().starts_with("password:"))
            .unwrap()
            .to_owned()
    };
    ws.ok(&["rotate", "atlas", "--jwt-secret"]);
    let second = ws.read("out/apps/atlas/sealedsecret.yaml");
    assert_ne!(second, first);
    assert_eq!(password_line(&second), password_line(&first));
    assert!(unseal(&ws.path().join("tls.key"), &kustomize(&ws.out("")))
        .contains(&format!("jwt-secret={}", ws.jwt_secret("atlas"))));
}
