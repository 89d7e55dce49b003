//! The command line through the built binary: exit codes, check's drift report, atomic and
//! minimal writes, stale-file removal, credential hygiene, determinism.

mod common;
use common::{Workspace, BIN};
use std::os::unix::fs::PermissionsExt;

const TWO_APPS: &str =
    "[apps.atlas]\ndatabase = \"atlas_db\"\n\n[apps.billing]\ndatabase = \"billing\"\n";

#[test]
fn help_and_version() {
    for args in [
        &["--help"][..],
        &["build", "--help"],
        &["check", "--help"],
        &["validate", "--help"],
        &["rotate", "--help"],
    ] {
        let out = std::process::Command::new(BIN).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    let out = std::process::Command::new(BIN)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("postgrest-gen {}", env!("CARGO_PKG_VERSION"))
    );
    let out = std::process::Command::new(BIN)
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn check_reports_drift_with_a_diff_and_exit_1() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    assert!(ws.ok(&["check"]).contains("up to date"));

    let dep = ws.out("apps/atlas/deployment.yaml");
    let edited = std::fs::read_to_string(&dep)
        .unwrap()
        .replace("replicas: 2", "replicas: 7");
    std::fs::write(&dep, edited).unwrap();
    std::fs::remove_file(ws.out("apps/billing/service.yaml")).unwrap();
    ws.write("apps.toml", "[apps.atlas]\ndatabase = \"atlas_db\"\n");
    let out = ws.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("--- a/out/apps/atlas/deployment.yaml")
            && stdout.contains("-  replicas: 7")
            && stdout.contains("+  replicas: 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("remove: out/apps/billing/deployment.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("change: out/apps/atlas/deployment.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("remove: locks/billing.lock"), "{stdout}");
    // check never writes.
    assert!(ws.out("apps/billing/deployment.yaml").exists());
    ws.ok(&["build"]);
    assert!(ws.ok(&["check"]).contains("up to date"));
}

#[test]
fn check_on_a_missing_lock_entry_is_drift_not_a_new_password() {
    let ws = Workspace::new(TWO_APPS);
    let out = ws.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("pending: atlas: new password, made by `postgrest-gen build`"));
    assert!(!ws.lock_exists() && !ws.path().join("secrets").exists());
}

#[test]
fn build_rewrites_nothing_unchanged_and_removes_only_its_own_stale_files() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let before = ws.tree("out");
    let mtime = |rel: &str| std::fs::metadata(ws.out(rel)).unwrap().modified().unwrap();
    let t0 = mtime("apps/atlas/deployment.yaml");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = ws.ok(&["build"]);
    assert!(
        second.ends_with("0 written, 0 removed, 27 unchanged\n")
            || second.contains(" 0 written, 0 removed"),
        "{second}"
    );
    assert_eq!(mtime("apps/atlas/deployment.yaml"), t0);
    assert_eq!(ws.tree("out"), before);

    // A file of the user's own inside out/ survives; the removed app's files go.
    std::fs::write(ws.out("apps/billing/my-patch.yaml"), "# mine\n").unwrap();
    ws.write("apps.toml", "[apps.atlas]\ndatabase = \"atlas_db\"\n");
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("removed out/apps/billing/deployment.yaml"),
        "{out}"
    );
    assert!(out.contains("billing: no longer in apps.toml"), "{out}");
    assert!(!ws.out("apps/billing/sql").exists());
    assert_eq!(
        std::fs::read_to_string(ws.out("apps/billing/my-patch.yaml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn invalid_input_leaves_out_and_lock_untouched() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let (tree, lock) = (ws.tree("out"), ws.locks());
    ws.write(
        "apps.toml",
        "[apps.atlas]\ndatabase = \"atlas_db\"\nreplicas = 0\n[apps.new-app]\ndatabase = \"n\"\n",
    );
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("apps.toml:3:12: `replicas` is 0"));
    assert_eq!(ws.tree("out"), tree);
    assert_eq!(ws.locks(), lock);
    assert!(!ws
        .path()
        .join("secrets/new-app-postgrest.secret.yaml")
        .exists());

    let out = ws.run(&["--config", "nope.toml", "build"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml"));
}

#[test]
fn plaintext_only_in_gitignored_0600_secrets() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let dir = ws.path().join("secrets");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*")
    );
    for app in ["atlas", "billing"] {
        let file = dir.join(format!("{app}-postgrest.secret.yaml"));
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let pw = ws.password(app);
        assert!(pw.len() >= 32, "at least 192 bits");
        let secret: serde_yaml::Value =
            serde_yaml::from_str(&ws.read(&format!("secrets/{app}-postgrest.secret.yaml")))
                .unwrap();
        assert_eq!(secret["kind"], "Secret");
        assert_eq!(
            secret["metadata"]["name"],
            format!("{app}-postgrest").as_str()
        );
        assert_eq!(secret["metadata"]["namespace"], "postgrest");
        assert_eq!(secret["stringData"]["password"], pw.as_str());
        for (path, text) in ws.tree("out") {
            assert!(!text.contains(&pw), "plaintext of {app} in out/{path}");
        }
        assert!(!ws.locks().contains(&pw));
    }
    // The repo's own .gitignore keeps secrets/ out of Git as well.
    let gitignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == "secrets/"));
}

#[test]
fn fresh_clone_builds_the_identical_tree_without_plaintext() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let clone = Workspace::new(TWO_APPS);
    common::copy_dir(&ws.path().join("locks"), &clone.path().join("locks"));
    assert_eq!(
        clone.run(&["check"]).status.code(),
        Some(1),
        "no out/ yet is drift"
    );
    clone.ok(&["build"]);
    assert_eq!(clone.tree("out"), ws.tree("out"));
    assert!(
        !clone.path().join("secrets").exists(),
        "no password was made"
    );
    // And `check` of the first tree passes from the clone's point of view.
    let out = std::process::Command::new(BIN)
        .args(["--out"])
        .arg(ws.path().join("out"))
        .arg("check")
        .current_dir(clone.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn lost_lock_is_recovered_from_committed_sql_or_secrets_or_refused() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let pw = ws.password("atlas");
    let locks = ws.locks();
    // A merge that lost the lock: the committed apply.sql still records the verifier.
    std::fs::remove_dir_all(ws.path().join("locks")).unwrap();
    std::fs::remove_dir_all(ws.path().join("secrets")).unwrap();
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("atlas: lock recovered from the committed out/apps/atlas"),
        "{out}"
    );
    assert_eq!(ws.locks(), locks, "the same lock, no password issued");
    assert!(!ws.path().join("secrets").exists());

    // Without out/ either, the plaintext in secrets/ is the record.
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let pw2 = ws.password("atlas");
    std::fs::remove_dir_all(ws.path().join("locks")).unwrap();
    std::fs::remove_dir_all(ws.path().join("out")).unwrap();
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("atlas: lock entry recovered from secrets/atlas-postgrest.secret.yaml"),
        "{out}"
    );
    assert_eq!(
        ws.password("atlas"),
        pw2,
        "the password the cluster uses is kept"
    );

    // Output but no record anywhere: refused, nothing written.
    std::fs::remove_dir_all(ws.path().join("locks")).unwrap();
    std::fs::remove_dir_all(ws.path().join("secrets")).unwrap();
    for app in ["atlas", "billing"] {
        std::fs::write(ws.out(&format!("apps/{app}/sql/apply.sql")), "-- edited\n").unwrap();
    }
    let tree = ws.tree("out");
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("restore locks/atlas.lock from Git")
            && err.contains("postgrest-gen rotate atlas"),
        "{err}"
    );
    assert_eq!(ws.tree("out"), tree);

    // Deliberate rotation recovers.
    ws.ok(&["rotate", "atlas", "billing"]);
    assert!(ws.ok(&["check"]).contains("up to date"));
    assert_ne!(ws.password("atlas"), pw2);
    assert_ne!(ws.password("atlas"), pw);
}

#[test]
fn rotate_bumps_generation_and_rolls_pods() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let billing = ws.read("out/apps/billing/deployment.yaml");
    let out = ws.ok(&["rotate", "atlas"]);
    assert!(
        out.contains("atlas: password rotated (generation 2)"),
        "{out}"
    );
    let dep = ws.read("out/apps/atlas/deployment.yaml");
    assert!(dep.contains("postgrest-gen/credential-generation: \"2\""));
    assert_eq!(
        ws.read("out/apps/billing/deployment.yaml"),
        billing,
        "other apps untouched"
    );
    let out = ws.run(&["rotate", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such app"));
}

#[test]
fn absent_apps_keep_only_purge_sql() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    ws.write("apps.toml", "[apps.atlas]\ndatabase = \"atlas_db\"\nensure = \"absent\"\n\n[apps.billing]\ndatabase = \"billing\"\ndeployed = false\n");
    ws.ok(&["build"]);
    let tree = ws.tree("out");
    let atlas: Vec<_> = tree
        .keys()
        .filter(|k| k.starts_with("apps/atlas/"))
        .collect();
    assert_eq!(
        atlas,
        ["apps/atlas/sql/purge.sql", "apps/atlas/sql/verify.sql"]
    );
    assert!(!tree.contains_key("apps/billing/deployment.yaml"));
    assert!(
        tree.contains_key("apps/billing/sql/apply.sql"),
        "undeployed keeps its roles"
    );
    assert!(
        !ws.read("out/kustomization.yaml").contains("apps/"),
        "nothing to deploy"
    );
}

#[test]
fn the_committed_example_is_up_to_date() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(BIN)
        .arg("check")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run `make build` and commit out/:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_is_the_plan_build_then_carries_out() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    ws.write(
        "apps.toml",
        &format!("{TWO_APPS}\n[apps.beta]\ndatabase = \"beta_db\"\n")
            .replace("[apps.billing]", "[apps.billing]\nensure = \"absent\"")
            .replace("[apps.atlas]", "[apps.atlas]\nreplicas = 3"),
    );
    let out = ws.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary: Vec<&str> = plan.lines().take_while(|l| !l.starts_with("---")).collect();
    // More replicas raise the authenticator's connection limit: the role SQL changes too.
    assert!(
        summary.contains(
            &"~ app atlas: replicas 2 -> 3, sql/apply.sql changed, sql/verify.sql changed"
        ),
        "{plan}"
    );
    assert!(
        summary
            .iter()
            .any(|l| l.starts_with("+ app beta: new role pair, new password, ")),
        "{plan}"
    );
    assert!(
        summary
            .iter()
            .any(|l| l.starts_with("- app billing: purge")),
        "{plan}"
    );
    // The new app's files are in the plan whole, with the password's values marked.
    assert!(plan.contains("+++ b/out/apps/beta/sql/apply.sql"), "{plan}");
    // secrets/ by name only: build writes the new plaintext there.
    assert!(
        plan.contains(
            "secrets: write secrets/beta-postgrest.secret.yaml (plaintext, gitignored; not shown)"
        ),
        "{plan}"
    );
    assert!(plan.contains("<made by postgrest-gen build>"), "{plan}");
    assert!(!ws
        .path()
        .join("secrets/beta-postgrest.secret.yaml")
        .exists());
    let listed = |prefix: &str| -> std::collections::BTreeSet<String> {
        plan.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(str::to_owned)
            .collect()
    };
    let (add, change, remove) = (listed("add: "), listed("change: "), listed("remove: "));
    // Build then writes and removes exactly what check listed.
    let built = ws.ok(&["build"]);
    let wrote: std::collections::BTreeSet<String> = built
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(str::to_owned)
        .collect();
    let removed: std::collections::BTreeSet<String> = built
        .lines()
        .filter_map(|l| l.strip_prefix("removed "))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        wrote,
        add.union(&change).cloned().collect(),
        "{plan}\n{built}"
    );
    assert_eq!(removed, remove, "{plan}\n{built}");
    assert!(ws.ok(&["check"]).contains("up to date"));
}

#[test]
fn a_platform_can_go_to_zero_apps() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    ws.write(
        "apps.toml",
        "# every app retired\n[defaults]\nreplicas = 2\n",
    );
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("removed out/apps/atlas/deployment.yaml"),
        "{out}"
    );
    assert!(!ws.path().join("locks/atlas.lock").exists());
    assert!(ws.ok(&["check"]).contains("up to date"));
    assert!(ws.ok(&["validate"]).contains("valid (0 apps)"));
    let root = ws.read("out/kustomization.yaml");
    assert!(
        root.contains("resources: []") || !root.contains("apps/"),
        "{root}"
    );
}

#[test]
fn an_overlay_must_build_on_the_generated_base() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let tree = ws.tree("out");
    std::fs::create_dir_all(ws.path().join("overlays/atlas")).unwrap();
    ws.write(
        "overlays/atlas/kustomization.yaml",
        "resources:\n  - ../../out/apps/billing\n",
    );
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("overlays/atlas/kustomization.yaml:1:1: the overlay does not build on the generated base; add `../../out/apps/atlas`"),
        "{err}"
    );
    assert_eq!(ws.tree("out"), tree, "nothing written");
    ws.write(
        "overlays/atlas/kustomization.yaml",
        "resources:\n  - ./../../out/apps/atlas/\n",
    );
    ws.ok(&["build"]);
    assert!(ws
        .read("out/chunks/000/kustomization.yaml")
        .contains("\"../../../overlays/atlas\""));
    assert!(ws
        .read("out/kustomization.yaml")
        .contains("\"../overlays/atlas\""));
}

/// The README's `[defaults]` block shows the built-in defaults: a platform that writes it out
/// gets byte for byte the tree of one that leaves it out.
#[test]
fn the_readme_defaults_are_the_defaults() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let reference = readme.split("## apps.toml reference").nth(1).unwrap();
    let block: String = reference
        .lines()
        .skip_while(|l| !l.starts_with("[defaults]"))
        .take_while(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(block.lines().count() > 10, "{block}");
    let app = "\n[apps.atlas]\ndatabase = \"atlas_db\"\n";
    let explicit = Workspace::new(&format!("{block}{app}"));
    let implicit = Workspace::new(app);
    explicit.ok(&["build"]);
    implicit.ok(&["build"]);
    // Same credential, so only the settings can differ.
    common::copy_dir(
        &explicit.path().join("locks"),
        &implicit.path().join("locks"),
    );
    implicit.ok(&["build"]);
    assert_eq!(explicit.tree("out"), implicit.tree("out"));
}

#[test]
fn plaintext_that_does_not_match_the_lock_is_never_used() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let lock = ws.read("locks/atlas.lock");
    let good = ws.read("secrets/atlas-postgrest.secret.yaml");
    // An abandoned rotation: rotate, then the lock is restored from Git; secrets/ keeps the
    // rotated plaintext, which the lock does not record.
    ws.ok(&["rotate", "atlas"]);
    ws.write("locks/atlas.lock", &lock);
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("warning: atlas: secrets/atlas-postgrest.secret.yaml does not hold the password locks/atlas.lock records"),
        "{out}"
    );
    let out = ws.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "a wrong plaintext is drift");
    // The matching plaintext is quiet again.
    ws.write("secrets/atlas-postgrest.secret.yaml", &good);
    assert!(!ws.ok(&["build"]).contains("warning"));
    assert!(ws.ok(&["check"]).contains("up to date"));
}

#[test]
fn a_purged_app_declared_again_gets_a_new_password_and_the_plan_says_so() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    let lock = ws.read("locks/billing.lock");
    ws.write(
        "apps.toml",
        &TWO_APPS.replace("[apps.billing]", "[apps.billing]\nensure = \"absent\""),
    );
    assert!(ws
        .ok(&["build"])
        .contains("billing: purged; its lock is dropped"));
    assert!(!ws.path().join("locks/billing.lock").exists());
    ws.write("apps.toml", TWO_APPS);
    let plan = String::from_utf8(ws.run(&["check"]).stdout).unwrap();
    assert!(
        plan.lines()
            .any(|l| l.starts_with("+ app billing: new role pair, new password")),
        "{plan}"
    );
    ws.ok(&["build"]);
    assert_ne!(ws.read("locks/billing.lock"), lock);
}

#[test]
fn the_plan_names_undeploy_and_overlays_in_one_line_each() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    ws.write(
        "apps.toml",
        &TWO_APPS.replace("[apps.billing]", "[apps.billing]\ndeployed = false"),
    );
    std::fs::create_dir_all(ws.path().join("overlays/atlas")).unwrap();
    ws.write(
        "overlays/atlas/kustomization.yml",
        "resources:\n  - ../../out/apps/atlas\n",
    );
    let plan = String::from_utf8(ws.run(&["check"]).stdout).unwrap();
    let summary: Vec<&str> = plan.lines().take_while(|l| !l.starts_with("---")).collect();
    assert_eq!(
        summary,
        [
            "~ app atlas: rendered through its overlay (overlays/atlas)",
            "~ app billing: undeployed (its workloads are removed; roles and Secret stay)",
        ],
        "{plan}"
    );
}

const JWT_APPS: &str = "[apps.atlas]\ndatabase = \"atlas_db\"\n[apps.atlas.jwt]\n\n[apps.billing]\ndatabase = \"billing\"\nanonymous = false\n[apps.billing.jwt]\nsecret = \"generate\"\n";

/// Every file of the workspace outside `secrets/` (out/, locks/, apps.toml).
fn outside_secrets(ws: &Workspace) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = ws.tree("out").into_iter().collect();
    files.extend(ws.tree("locks"));
    files.push(("apps.toml".into(), ws.read("apps.toml")));
    files
}

#[test]
fn jwt_secret_is_a_credential_like_the_password() {
    let ws = Workspace::new(JWT_APPS);
    let out = ws.ok(&["build"]);
    assert!(out.contains("atlas: new JWT secret"), "{out}");
    let secret = ws.jwt_secret("atlas");
    assert!(secret.len() >= 43, "at least 256 bits in a 6-bit alphabet");
    assert_ne!(secret, ws.jwt_secret("billing"));
    // Plaintext only in secrets/: never in out/ or the lock (which holds a digest).
    for (path, text) in outside_secrets(&ws) {
        for app in ["atlas", "billing"] {
            assert!(
                !text.contains(&ws.jwt_secret(app)),
                "JWT secret of {app} in {path}"
            );
        }
    }
    let lock = ws.read("locks/atlas.lock");
    assert!(
        lock.contains("[jwt-secret]\ngeneration = 1\nsha256 = "),
        "{lock}"
    );
    // The app's Secret carries it under `jwt-secret`; PostgREST reads it from there.
    let file: serde_yaml::Value =
        serde_yaml::from_str(&ws.read("secrets/atlas-postgrest.secret.yaml")).unwrap();
    assert_eq!(file["stringData"]["jwt-secret"], secret.as_str());
    assert_eq!(
        file["stringData"]["password"],
        ws.password("atlas").as_str()
    );
    let dep = ws.read("out/apps/atlas/deployment.yaml");
    assert!(
        dep.contains("- name: PGRST_JWT_SECRET\n              valueFrom:\n                secretKeyRef:\n                  name: \"atlas-postgrest\"\n                  key: jwt-secret"),
        "{dep}"
    );
    assert!(dep.contains("PGRST_DB_ANON_ROLE"));
    assert!(!ws
        .read("out/apps/billing/deployment.yaml")
        .contains("PGRST_DB_ANON_ROLE"));
    // Made once: a rebuild keeps it; a clone with the locks builds the same tree.
    let tree = ws.tree("out");
    ws.ok(&["build"]);
    assert_eq!(ws.jwt_secret("atlas"), secret);
    assert_eq!(ws.tree("out"), tree);
    let clone = Workspace::new(JWT_APPS);
    common::copy_dir(&ws.path().join("locks"), &clone.path().join("locks"));
    clone.ok(&["build"]);
    assert_eq!(
        clone.tree("out"),
        tree,
        "no JWT secret re-issued without secrets/"
    );

    // rotate --jwt-secret: a new secret, the password kept, the pods roll, a clear warning.
    let password = ws.password("atlas");
    let out = ws.ok(&["rotate", "atlas", "--jwt-secret"]);
    assert!(
        out.contains("tokens signed with the old secret stop working"),
        "{out}"
    );
    assert_ne!(ws.jwt_secret("atlas"), secret);
    assert_eq!(ws.password("atlas"), password);
    assert!(ws
        .read("locks/atlas.lock")
        .contains("[jwt-secret]\ngeneration = 2"));
    let rolled = ws.read("out/apps/atlas/deployment.yaml");
    assert!(rolled.contains("postgrest-gen/jwt-secret-generation: \"2\""));
    let hash = |d: &str| {
        d.lines()
            .find(|l| l.contains("credential-hash"))
            .unwrap()
            .to_owned()
    };
    assert_ne!(hash(&rolled), hash(&dep), "a new JWT secret rolls the pods");
    assert_eq!(
        ws.read("out/apps/atlas/sql/apply.sql"),
        tree["apps/atlas/sql/apply.sql"]
    );
    // Rotating the password keeps the JWT secret in the rewritten secrets/ file.
    let jwt = ws.jwt_secret("atlas");
    ws.ok(&["rotate", "atlas"]);
    assert_eq!(ws.jwt_secret("atlas"), jwt);
    assert_ne!(ws.password("atlas"), password);
    for (path, text) in outside_secrets(&ws) {
        assert!(!text.contains(&jwt), "JWT secret in {path}");
    }

    // A lost lock is recovered from secrets/ (or the committed out/) without re-issuing.
    std::fs::remove_dir_all(ws.path().join("locks")).unwrap();
    ws.ok(&["build"]);
    assert_eq!(ws.jwt_secret("atlas"), jwt);
    assert!(ws.read("locks/atlas.lock").contains("sha256"));

    // Only a generated secret can be rotated; a JWKS app has none.
    ws.write(
        "jwks.json",
        r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#,
    );
    ws.write(
        "apps.toml",
        &JWT_APPS.replace("secret = \"generate\"", "jwks-file = \"jwks.json\""),
    );
    ws.ok(&["build"]);
    let out = ws.run(&["rotate", "billing", "--jwt-secret"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no generated one"));
    let dep = ws.read("out/apps/billing/deployment.yaml");
    assert!(
        dep.contains("- name: PGRST_JWT_SECRET\n              value: \"{\\\"keys\\\""),
        "{dep}"
    );
    assert!(!ws.read("locks/billing.lock").contains("jwt-secret"));
}

#[test]
fn enabling_jwt_without_the_password_plaintext_is_refused_not_half_applied() {
    let ws = Workspace::new("[apps.atlas]\ndatabase = \"atlas_db\"\n");
    ws.ok(&["build"]);
    std::fs::remove_dir_all(ws.path().join("secrets")).unwrap();
    ws.write(
        "apps.toml",
        "[apps.atlas]\ndatabase = \"atlas_db\"\n[apps.atlas.jwt]\n",
    );
    let tree = ws.tree("out");
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the plaintext of its `password` is not there")
            && err.contains("postgrest-gen rotate atlas"),
        "{err}"
    );
    assert_eq!(ws.tree("out"), tree, "out/ untouched");
    // The documented way: rotate the password too, which writes both.
    ws.ok(&["rotate", "atlas"]);
    assert!(!ws.jwt_secret("atlas").is_empty() && !ws.password("atlas").is_empty());
}

const BOOT_APPS: &str = "[apps.atlas]\ndatabase = \"atlas_db\"\nbootstrap = true\n\n[apps.billing]\ndatabase = \"billing\"\n";

/// The owner's plaintext password build wrote for `app` (`bootstrap = true`).
fn owner_password(ws: &Workspace, app: &str) -> String {
    let text = ws.read(&format!("secrets/{app}-db-owner.secret.yaml"));
    postgrest_gen::credentials::secret_file::read_owner_password(&text)
        .expect("PGPASSWORD in secrets/")
}

/// A lock file split at its `[owner]` table: (everything before it, the table and its
/// sub-tables).
fn split_owner(lock: &str) -> (String, String) {
    let at = lock.find("\n[owner]").expect("[owner] in the lock") + 1;
    (lock[..at].to_owned(), lock[at..].to_owned())
}

/// `(generation, verifier)` of the lock's `[owner]` table.
fn owner_entry(lock: &str) -> (u32, String) {
    let table: toml::Table = toml::from_str(lock).unwrap();
    let owner = table["owner"].as_table().expect("[owner]");
    (
        owner["generation"].as_integer().unwrap() as u32,
        owner["verifier"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn rotate_owner_replaces_only_the_owner_password() {
    use postgrest_gen::credentials::scram;
    let ws = Workspace::new(BOOT_APPS);
    let out = ws.ok(&["build"]);
    assert!(out.contains("atlas: new owner password"), "{out}");
    let lock = ws.read("locks/atlas.lock");
    let (generation, verifier) = owner_entry(&lock);
    let password = owner_password(&ws, "atlas");
    assert_eq!(generation, 1);
    assert!(scram::matches(&password, &verifier));
    let sql = ws.read("out/apps/atlas/sql/bootstrap.sql");
    assert!(sql.contains(&format!("'{verifier}'")), "{sql}");
    assert!(sql.contains("-- owner password generation: 1\n"));
    assert!(!sql.contains(&password), "plaintext in bootstrap.sql");
    let secret: serde_yaml::Value =
        serde_yaml::from_str(&ws.read("secrets/atlas-db-owner.secret.yaml")).unwrap();
    assert_eq!(secret["metadata"]["name"], "atlas-db-owner");
    assert_eq!(secret["stringData"]["PGUSER"], "atlas");
    assert_eq!(
        secret["stringData"]["DATABASE_URL"],
        format!("postgresql://atlas:{password}@postgresql.default.svc.cluster.local:5432/atlas_db")
            .as_str()
    );
    let authenticator = ws.password("atlas");
    let before = ws.tree("out");
    let billing_lock = ws.read("locks/billing.lock");

    let out = ws.ok(&["rotate", "atlas", "--owner"]);
    assert!(
        out.contains("atlas: owner password rotated (generation 2)"),
        "{out}"
    );
    let rotated_lock = ws.read("locks/atlas.lock");
    let (generation2, verifier2) = owner_entry(&rotated_lock);
    let password2 = owner_password(&ws, "atlas");
    assert_eq!(generation2, 2);
    assert_ne!(password2, password);
    assert_ne!(verifier2, verifier);
    assert!(scram::matches(&password2, &verifier2));
    assert!(!scram::matches(&password, &verifier2));
    // The lock's authenticator part is byte-identical; only [owner] changed.
    assert_eq!(split_owner(&rotated_lock).0, split_owner(&lock).0);
    assert_eq!(ws.read("locks/billing.lock"), billing_lock);
    assert_eq!(ws.password("atlas"), authenticator, "authenticator kept");
    // Only bootstrap.sql changes in out/: new verifier and generation, the old one gone.
    let after = ws.tree("out");
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, t)| before.get(*p) != Some(*t))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(changed, ["apps/atlas/sql/bootstrap.sql"]);
    assert_eq!(after.len(), before.len());
    let sql = &after["apps/atlas/sql/bootstrap.sql"];
    assert!(sql.contains(&format!("'{verifier2}'")) && !sql.contains(&verifier));
    assert!(sql.contains("-- owner password generation: 2\n"));
    assert!(ws
        .read("secrets/atlas-db-owner.secret.yaml")
        .contains(&format!("postgresql://atlas:{password2}@")));
    assert!(ws.ok(&["check"]).contains("up to date"));

    // An app without bootstrap has no owner password: refused, nothing written.
    let locks = ws.locks();
    let out = ws.run(&["rotate", "billing", "--owner"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot rotate the owner password of `billing`")
            && err.contains("bootstrap = true"),
        "{err}"
    );
    assert_eq!(ws.tree("out"), after);
    assert_eq!(ws.locks(), locks);
    assert!(!ws
        .path()
        .join("secrets/billing-db-owner.secret.yaml")
        .exists());
}

#[test]
fn a_lost_owner_table_is_recovered_without_a_new_password() {
    use postgrest_gen::credentials::scram;
    // From the committed out/: the lock lost only its [owner] table, no plaintext at hand.
    let ws = Workspace::new(BOOT_APPS);
    ws.ok(&["build"]);
    ws.ok(&["rotate", "atlas", "--owner"]);
    let lock = ws.read("locks/atlas.lock");
    let tree = ws.tree("out");
    ws.write("locks/atlas.lock", &split_owner(&lock).0);
    std::fs::remove_dir_all(ws.path().join("secrets")).unwrap();
    let check = ws.run(&["check"]);
    assert_eq!(check.status.code(), Some(1), "the lock differs");
    let plan = String::from_utf8_lossy(&check.stdout);
    assert!(!plan.contains("new owner password"), "{plan}");
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("atlas: owner password (generation 2) recovered from the committed out/apps/atlas/sql/bootstrap.sql"),
        "{out}"
    );
    assert_eq!(ws.read("locks/atlas.lock"), lock, "the same [owner] table");
    assert_eq!(ws.tree("out"), tree, "out/ unchanged");
    assert!(!ws.path().join("secrets").exists(), "no password issued");
    // The whole lock lost: the same.
    std::fs::remove_dir_all(ws.path().join("locks")).unwrap();
    ws.ok(&["build"]);
    assert_eq!(ws.read("locks/atlas.lock"), lock);
    assert_eq!(ws.tree("out"), tree);

    // From secrets/: the lock lost its [owner] table and out/ is gone (a fresh checkout
    // without the committed tree): the plaintext the role has is recorded again.
    let ws = Workspace::new(BOOT_APPS);
    ws.ok(&["build"]);
    let password = owner_password(&ws, "atlas");
    let lock = ws.read("locks/atlas.lock");
    ws.write("locks/atlas.lock", &split_owner(&lock).0);
    std::fs::remove_dir_all(ws.path().join("out")).unwrap();
    let out = ws.ok(&["build"]);
    assert!(
        out.contains("atlas: owner password recorded again from")
            && out.contains("atlas-db-owner.secret.yaml"),
        "{out}"
    );
    assert!(!out.contains("new owner password"), "{out}");
    assert_eq!(owner_password(&ws, "atlas"), password, "no new password");
    let recovered = ws.read("locks/atlas.lock");
    assert_eq!(split_owner(&recovered).0, split_owner(&lock).0);
    let (_, verifier) = owner_entry(&recovered);
    assert!(scram::matches(&password, &verifier));
    assert!(ws
        .read("out/apps/atlas/sql/bootstrap.sql")
        .contains(&format!("'{verifier}'")));
    assert!(ws.ok(&["check"]).contains("up to date"));
}

#[test]
fn check_shows_a_new_bootstrap_app_as_additions_and_one_line() {
    let ws = Workspace::new(TWO_APPS);
    ws.ok(&["build"]);
    ws.write(
        "apps.toml",
        &format!("{TWO_APPS}\n[apps.gamma]\ndatabase = \"gamma_db\"\nbootstrap = true\n"),
    );
    let out = ws.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary: Vec<&str> = plan.lines().take_while(|l| !l.starts_with("---")).collect();
    let files = ws.tree("out").len();
    let gamma: Vec<&&str> = summary.iter().filter(|l| l.contains("app gamma")).collect();
    assert_eq!(gamma.len(), 1, "{plan}");
    assert!(
        gamma[0].starts_with("+ app gamma: new role pair, new password, bootstrap (owner role, database, schemas where missing) with a new owner password, "),
        "{plan}"
    );
    assert!(
        summary
            .iter()
            .all(|l| !l.contains("app atlas") && !l.contains("app billing")),
        "{plan}"
    );
    assert!(
        plan.contains("pending: gamma: new owner password, made by `postgrest-gen build`"),
        "{plan}"
    );
    let listed = |prefix: &str| -> std::collections::BTreeSet<String> {
        plan.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(str::to_owned)
            .collect()
    };
    let add = listed("add: ");
    assert!(add.contains("out/apps/gamma/sql/bootstrap.sql"), "{plan}");
    assert!(
        add.iter().all(|f| f.starts_with("out/apps/gamma/")
            || f == "out/kustomization.yaml"
            || f.starts_with("locks/gamma")),
        "{plan}"
    );
    // The whole new file is in the diff, the verifier shown as the placeholder.
    let boot = plan
        .split("+++ b/out/apps/gamma/sql/bootstrap.sql")
        .nth(1)
        .expect("bootstrap.sql in the diff");
    let boot = boot.split("\n--- ").next().unwrap();
    assert!(boot.contains("+-- owner password generation: 1"), "{boot}");
    assert!(boot.contains("<made by postgrest-gen build>"), "{boot}");
    assert!(
        plan.contains(
            "secrets: write secrets/gamma-db-owner.secret.yaml (plaintext, gitignored; not shown)"
        ),
        "{plan}"
    );
    // check writes nothing: no plaintext, no lock, no files.
    assert!(!ws
        .path()
        .join("secrets/gamma-db-owner.secret.yaml")
        .exists());
    assert!(!ws.path().join("locks/gamma.lock").exists());
    assert_eq!(ws.tree("out").len(), files);
    // Build writes what check listed, then nothing is pending.
    let built = ws.ok(&["build"]);
    let wrote: std::collections::BTreeSet<String> = built
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(str::to_owned)
        .collect();
    let change = listed("change: ");
    assert_eq!(
        wrote,
        add.union(&change).cloned().collect(),
        "{plan}\n{built}"
    );
    assert!(ws
        .path()
        .join("secrets/gamma-db-owner.secret.yaml")
        .exists());
    assert!(ws.ok(&["check"]).contains("up to date"));

    // Switching bootstrap on for an app that exists: one line naming the owner password
    // and the new file; the authenticator's password stays.
    ws.write(
        "apps.toml",
        &ws.read("apps.toml")
            .replace("[apps.atlas]\n", "[apps.atlas]\nbootstrap = true\n"),
    );
    let plan = String::from_utf8(ws.run(&["check"]).stdout).unwrap();
    let summary: Vec<&str> = plan.lines().take_while(|l| !l.starts_with("---")).collect();
    assert_eq!(
        summary
            .iter()
            .filter(|l| l.starts_with("~ app atlas:"))
            .collect::<Vec<_>>(),
        [&"~ app atlas: new owner password, +sql/bootstrap.sql"],
        "{plan}"
    );
    assert!(!plan.contains("pending: atlas: new password"), "{plan}");
}
