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

/// `(name, key) -> value` of every SealedSecret in `rendered`, unsealed by kubesealpy.
fn unsealed(key: &Path, rendered: &str) -> std::collections::BTreeMap<(String, String), String> {
    unseal(key, rendered)
        .lines()
        .map(|l| {
            let (secret, kv) = l.split_once(' ').unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            let name = secret.split_once('/').unwrap().1;
            ((name.to_owned(), k.to_owned()), v.to_owned())
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("%XX"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// `postgresql://user:password@host:port/database?query`, each part percent-decoded.
fn parse_url(url: &str) -> [String; 6] {
    let rest = url
        .strip_prefix("postgresql://")
        .expect("postgresql:// URL");
    let (userinfo, rest) = rest.rsplit_once('@').expect("userinfo");
    let (user, password) = userinfo.split_once(':').expect("user:password");
    let (hostport, rest) = rest.split_once('/').expect("/database");
    let (host, port) = hostport.rsplit_once(':').expect("host:port");
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    for raw in [user, password, database] {
        assert!(
            raw.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~%".contains(&c)),
            "{raw:?} is not percent-encoded in {url}"
        );
    }
    [
        percent_decode(user),
        percent_decode(password),
        host.to_owned(),
        port.to_owned(),
        percent_decode(database),
        query.to_owned(),
    ]
}

/// The owner Secret of a bootstrap app (`<app>-db-owner`): every key unseals to the plaintext
/// in secrets/, the password is the one the lock's verifier records, DATABASE_URL carries the
/// same values percent-encoded; a rebuild keeps every sealed byte; `rotate --owner` re-seals
/// the owner Secret only; new connection details re-seal it with the same password.
#[test]
fn owner_secret_unseals_to_the_plaintext_and_rotates_alone() {
    use postgrest_gen::credentials::scram;
    let ws = Workspace::new(
        "[defaults]\nnamespace = \"apis\"\n[sealing]\ncert = \"tls.crt\"\n\n[apps.atlas]\ndatabase = \"atlas data\"\nowner = \"Atlas-Owner\"\nbootstrap = true\ndb-sslmode = \"require\"\ndb-host = \"pg.example.no\"\n\n[apps.billing]\ndatabase = \"billing\"\n",
    );
    keypair(ws.path(), &["-days", "30"]);
    ws.ok(&["build"]);
    let key = ws.path().join("tls.key");
    let got = unsealed(&key, &kustomize(&ws.out("")));
    let owner = |k: &str| got[&("atlas-db-owner".to_owned(), k.to_owned())].clone();
    let keys: Vec<&str> = got
        .keys()
        .filter(|(n, _)| n == "atlas-db-owner")
        .map(|(_, k)| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "DATABASE_URL",
            "PGDATABASE",
            "PGHOST",
            "PGPASSWORD",
            "PGPORT",
            "PGSSLMODE",
            "PGUSER"
        ]
    );
    assert!(!got.keys().any(|(n, _)| n == "billing-db-owner"));
    // Every key is the plaintext the secrets/ file holds.
    let file: serde_yaml::Value =
        serde_yaml::from_str(&ws.read("secrets/atlas-db-owner.secret.yaml")).unwrap();
    let plain = file["stringData"].as_mapping().unwrap();
    assert_eq!(plain.len(), keys.len());
    for k in &keys {
        assert_eq!(plain[*k].as_str().unwrap(), owner(k), "{k}");
    }
    let password = owner("PGPASSWORD");
    let lock: toml::Table = toml::from_str(&ws.read("locks/atlas.lock")).unwrap();
    let verifier = lock["owner"]["verifier"].as_str().unwrap();
    assert!(scram::matches(&password, verifier), "the lock's verifier");
    assert!(ws
        .read("out/apps/atlas/sql/bootstrap.sql")
        .contains(&format!("'{verifier}'")));
    assert_eq!(owner("PGUSER"), "Atlas-Owner");
    assert_eq!(owner("PGDATABASE"), "atlas data");
    assert_eq!(owner("PGHOST"), "pg.example.no");
    assert_eq!(owner("PGPORT"), "5432");
    assert_eq!(owner("PGSSLMODE"), "require");
    let url = owner("DATABASE_URL");
    assert!(url.contains("/atlas%20data?"), "{url}");
    assert_eq!(
        parse_url(&url),
        [
            owner("PGUSER"),
            password.clone(),
            owner("PGHOST"),
            owner("PGPORT"),
            owner("PGDATABASE"),
            "sslmode=require".to_owned()
        ]
    );
    // The authenticator's Secret is its own password, not the owner's.
    let authenticator = got[&("atlas-postgrest".to_owned(), "password".to_owned())].clone();
    assert_eq!(authenticator, ws.password("atlas"));
    assert_ne!(authenticator, password);
    // No plaintext outside secrets/.
    for (path, text) in ws.tree("out").into_iter().chain(ws.tree("locks")) {
        assert!(!text.contains(&password), "owner password in {path}");
    }

    // A rebuild keeps every sealed value byte for byte.
    let owner_sealed = ws.read("out/apps/atlas/sealedsecret-db-owner.yaml");
    let auth_sealed = ws.read("out/apps/atlas/sealedsecret.yaml");
    let locks = ws.locks();
    let out = ws.ok(&["build"]);
    assert!(out.contains(" 0 written, 0 removed"), "{out}");
    assert_eq!(
        ws.read("out/apps/atlas/sealedsecret-db-owner.yaml"),
        owner_sealed
    );
    assert_eq!(ws.locks(), locks);

    // rotate --owner: the owner Secret's values are new (every key: the password is inside
    // DATABASE_URL), the authenticator's sealed value and everything else stay.
    let tree = ws.tree("out");
    ws.ok(&["rotate", "atlas", "--owner"]);
    let after = ws.tree("out");
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, t)| tree.get(*p) != Some(*t))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        changed,
        [
            "apps/atlas/sealedsecret-db-owner.yaml",
            "apps/atlas/sql/bootstrap.sql"
        ]
    );
    assert_eq!(ws.read("out/apps/atlas/sealedsecret.yaml"), auth_sealed);
    let sealed_values = |y: &str| -> std::collections::BTreeMap<String, String> {
        let doc: serde_yaml::Value = serde_yaml::from_str(y).unwrap();
        doc["spec"]["encryptedData"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap().to_owned(),
                    v.as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (old, new) = (
        sealed_values(&owner_sealed),
        sealed_values(&after["apps/atlas/sealedsecret-db-owner.yaml"]),
    );
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>()
    );
    for (k, v) in &new {
        assert_ne!(&old[k], v, "{k} re-sealed");
    }
    let rotated = unsealed(&key, &kustomize(&ws.out("")));
    let new_password = rotated[&("atlas-db-owner".to_owned(), "PGPASSWORD".to_owned())].clone();
    assert_ne!(new_password, password);
    assert_eq!(new_password, {
        let t = ws.read("secrets/atlas-db-owner.secret.yaml");
        postgrest_gen::credentials::secret_file::read_owner_password(&t).unwrap()
    });
    let lock: toml::Table = toml::from_str(&ws.read("locks/atlas.lock")).unwrap();
    assert!(scram::matches(
        &new_password,
        lock["owner"]["verifier"].as_str().unwrap()
    ));
    for ((name, k), v) in &got {
        let now = &rotated[&(name.clone(), k.clone())];
        match (name.as_str(), k.as_str()) {
            ("atlas-db-owner", "PGPASSWORD") => {}
            ("atlas-db-owner", "DATABASE_URL") => {
                assert_eq!(now, &v.replace(&password, &new_password))
            }
            _ => assert_eq!(now, v, "{name} {k} unchanged"),
        }
    }

    // New connection details re-seal the owner Secret with the same password; the
    // authenticator's sealed value is kept.
    ws.write(
        "apps.toml",
        &ws.read("apps.toml").replace(
            "db-host = \"pg.example.no\"",
            "db-host = \"pg2.example.no\"",
        ),
    );
    let out = ws.ok(&["build"]);
    assert!(out.contains("atlas: owner Secret sealed"), "{out}");
    assert_eq!(ws.read("out/apps/atlas/sealedsecret.yaml"), auth_sealed);
    let moved = unsealed(&key, &kustomize(&ws.out("")));
    let owner = |k: &str| moved[&("atlas-db-owner".to_owned(), k.to_owned())].clone();
    assert_eq!(owner("PGHOST"), "pg2.example.no");
    assert_eq!(owner("PGPASSWORD"), new_password);
    assert_eq!(parse_url(&owner("DATABASE_URL"))[1], new_password);
    assert_eq!(parse_url(&owner("DATABASE_URL"))[2], "pg2.example.no");
}
