//! Every scenario's overlays rendered by `kubectl kustomize`, then proven offline: strict
//! schemas (kubernetes-validate at the oldest and newest supported versions, and
//! shared/tools/validate-manifests for core kinds and the CRDs), checkov, and the
//! cross-references between objects. Tools come from scripts/setup-tools.sh.
#![cfg(feature = "integration")]

mod common;
use common::{kustomize, run_ok, Workspace};
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Oldest and newest Kubernetes versions the manifests are validated against.
const K8S_VERSIONS: [&str; 2] = ["1.28.0", "1.37.0"];

fn tool(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/venv/bin")
        .join(name);
    assert!(
        p.exists(),
        "{} missing: run scripts/setup-tools.sh",
        p.display()
    );
    p
}

fn docs(stream: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(stream)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

fn matches(selector: &Value, labels: &Value) -> bool {
    selector
        .as_mapping()
        .unwrap()
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
}

/// Each object's references point at objects in the same render, selectors select exactly
/// their own app's pods.
fn check_references(objs: &[Value], sealed: bool) {
    let deployments: Vec<&Value> = objs.iter().filter(|o| o["kind"] == "Deployment").collect();
    for dep in &deployments {
        let name = dep["metadata"]["name"].as_str().unwrap();
        let pod_labels = &dep["spec"]["template"]["metadata"]["labels"];
        assert!(matches(&dep["spec"]["selector"]["matchLabels"], pod_labels));
        let svc = find(objs, "Service", name).unwrap_or_else(|| panic!("no Service {name}"));
        let np =
            find(objs, "NetworkPolicy", name).unwrap_or_else(|| panic!("no NetworkPolicy {name}"));
        for (what, sel) in [
            ("Service", &svc["spec"]["selector"]),
            ("NetworkPolicy", &np["spec"]["podSelector"]["matchLabels"]),
        ] {
            assert!(
                matches(sel, pod_labels),
                "{what} {name} does not select its pods"
            );
            for other in deployments.iter().filter(|d| d["metadata"]["name"] != name) {
                assert!(
                    !matches(sel, &other["spec"]["template"]["metadata"]["labels"]),
                    "{what} {name} selects other pods"
                );
            }
        }
        if dep["spec"]["replicas"].as_u64().unwrap() > 1 {
            let pdb = find(objs, "PodDisruptionBudget", name).expect("PDB when replicas > 1");
            assert!(matches(&pdb["spec"]["selector"]["matchLabels"], pod_labels));
        }
        let env = dep["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_sequence()
            .unwrap();
        let secret_ref = env
            .iter()
            .find_map(|e| e["valueFrom"]["secretKeyRef"]["name"].as_str())
            .unwrap();
        if sealed {
            let ss = find(objs, "SealedSecret", secret_ref)
                .unwrap_or_else(|| panic!("no SealedSecret {secret_ref}"));
            assert_eq!(ss["spec"]["template"]["metadata"]["name"], secret_ref);
        } else {
            assert_eq!(
                secret_ref, name,
                "the expected Secret is named after the instance"
            );
        }
    }
    for route in objs.iter().filter(|o| o["kind"] == "IngressRoute") {
        for svc in route["spec"]["routes"][0]["services"]
            .as_sequence()
            .unwrap()
        {
            let target = svc["name"].as_str().unwrap();
            let s = find(objs, "Service", target)
                .unwrap_or_else(|| panic!("IngressRoute points at missing Service {target}"));
            assert!(s["spec"]["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .any(|p| p["port"] == svc["port"]));
        }
    }
}

fn validate_all(dir: &Path, rendered: &Path) {
    for k in K8S_VERSIONS {
        run_ok(
            Command::new(tool("kubernetes-validate"))
                .args(["--strict", "--quiet", "--no-warn", "-k", k])
                .arg(rendered),
        );
    }
    let validator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/validate-manifests");
    assert!(
        validator.exists(),
        "{} missing: shared/ must sit beside the repo",
        validator.display()
    );
    let out = run_ok(Command::new(tool("python")).arg(&validator).arg(rendered));
    assert!(out.contains(" 0 failed"), "{out}");
    // checkov: no failed check; each skipped one carries its reason in the manifest.
    let out = Command::new(tool("checkov"))
        .args(["-d"])
        .arg(dir)
        .args([
            "--framework",
            "kubernetes",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov output: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let reports = if report.is_array() {
        report.as_array().unwrap().clone()
    } else {
        vec![report]
    };
    for r in reports {
        let failed = &r["results"]["failed_checks"];
        assert!(
            failed.as_array().is_none_or(|f| f.is_empty()),
            "checkov failed checks: {failed:#}"
        );
        assert!(
            r["summary"]["passed"].as_u64().unwrap_or(0) > 0 && r["summary"]["parsing_errors"] == 0,
            "checkov checked nothing: {:#}",
            r["summary"]
        );
        for skip in r["results"]["skipped_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let why = skip["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or("");
            assert!(why.len() > 20, "skip without a reason: {skip:#}");
        }
    }
}

fn scenario(name: &str, cert_dir: Option<&Path>) -> (Workspace, String) {
    let ws = Workspace::fixture(name);
    if let Some(d) = cert_dir {
        std::fs::copy(d.join("tls.crt"), ws.path().join("sealing-cert.pem")).unwrap();
    }
    ws.ok(&["build"]);
    let apps = std::fs::read_dir(ws.out("apps")).unwrap();
    let scan = ws.path().join("rendered");
    std::fs::create_dir_all(&scan).unwrap();
    for app in apps {
        let dir = app.unwrap().path();
        let app_name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if dir.join("kustomization.yaml").exists() {
            std::fs::write(scan.join(format!("{app_name}.yaml")), kustomize(&dir)).unwrap();
        }
    }
    let root = kustomize(&ws.out(""));
    std::fs::write(scan.join("all.yaml"), &root).unwrap();
    check_references(&docs(&root), name == "sealed");
    validate_all(&scan, &scan.join("all.yaml"));
    (ws, root)
}

#[test]
fn basic() {
    let (_, root) = scenario("basic", None);
    insta::assert_snapshot!("rendered_basic", root);
}

#[test]
fn overrides() {
    let (_, root) = scenario("overrides", None);
    insta::assert_snapshot!("rendered_overrides", root);
}

#[test]
fn lifecycle() {
    let (ws, root) = scenario("lifecycle", None);
    let objs = docs(&root);
    assert!(find(&objs, "Deployment", "live-postgrest").is_some());
    assert!(
        objs.iter()
            .all(|o| o["metadata"]["name"] != "paused-postgrest"),
        "undeployed renders no workloads"
    );
    assert!(
        objs.iter()
            .all(|o| o["metadata"]["name"] != "retired-postgrest"),
        "absent renders nothing"
    );
    assert!(!ws.out("apps/retired/kustomization.yaml").exists());
    insta::assert_snapshot!("rendered_lifecycle", root);
}

#[test]
fn sealed_and_the_example() {
    let (_, root) = scenario("sealed", None);
    let objs = docs(&root);
    assert!(
        find(&objs, "SealedSecret", "paused-postgrest").is_some(),
        "undeployed keeps its secret"
    );
    assert!(find(&objs, "Deployment", "paused-postgrest").is_none());
    insta::assert_snapshot!("rendered_sealed", root);
    // The committed example renders and validates too.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("out");
    let scan = tempfile::Builder::new().prefix("pgen-").tempdir().unwrap();
    std::fs::write(scan.path().join("all.yaml"), kustomize(&example)).unwrap();
    check_references(
        &docs(&std::fs::read_to_string(scan.path().join("all.yaml")).unwrap()),
        false,
    );
    validate_all(scan.path(), &scan.path().join("all.yaml"));
}

/// A user's own overlay on top (the documented way to customise) with a namePrefix keeps
/// the IngressRoute -> Service and Deployment -> SealedSecret references intact.
#[test]
fn user_overlay_with_name_prefix_keeps_references() {
    let ws = Workspace::fixture("sealed");
    ws.ok(&["build"]);
    let mine = ws.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("kustomization.yaml"),
        "resources:\n  - ../out/apps/atlas\nnamePrefix: team-\npatches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 4\n",
    )
    .unwrap();
    let objs = docs(&kustomize(&mine));
    let dep = find(&objs, "Deployment", "team-atlas-postgrest").expect("prefixed Deployment");
    assert_eq!(dep["spec"]["replicas"], 4);
    check_references(&objs, true);
}
