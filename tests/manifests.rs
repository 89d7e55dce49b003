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

/// Oldest and newest Kubernetes versions the manifests are validated against (1.30: the
/// first with the preStop `sleep` action on by default).
const K8S_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

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

fn in_namespace<'a>(objs: &'a [Value], kind: &str, namespace: &Value) -> Vec<&'a Value> {
    objs.iter()
        .filter(|o| o["kind"] == kind && &o["metadata"]["namespace"] == namespace)
        .collect()
}

fn seq(v: &Value) -> &[Value] {
    v.as_sequence().map_or(&[], |s| s.as_slice())
}

/// The container port a Service port's `targetPort` names (or numbers).
fn target_container_port<'a>(container: &'a Value, svc_port: &Value) -> &'a Value {
    let target = &svc_port["targetPort"];
    seq(&container["ports"])
        .iter()
        .find(|p| &p["name"] == target || &p["containerPort"] == target)
        .unwrap_or_else(|| panic!("targetPort {target:?} is no container port"))
}

fn env_value<'a>(container: &'a Value, name: &str) -> &'a str {
    seq(&container["env"])
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("no env {name}"))
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
    check_references_prefixed(objs, sealed, "");
}

/// As `check_references`, for a user overlay that adds `prefix` to every name it knows; an
/// unsealed Secret is made outside it and keeps the generated name.
fn check_references_prefixed(objs: &[Value], sealed: bool, prefix: &str) {
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
        // Scale: a fixed count, or an autoscaler that owns it (HPA -> Deployment).
        let ns = &dep["metadata"]["namespace"];
        let hpas: Vec<&Value> = in_namespace(objs, "HorizontalPodAutoscaler", ns)
            .into_iter()
            .filter(|h| h["spec"]["scaleTargetRef"]["name"] == name)
            .collect();
        let min_pods = match hpas.as_slice() {
            [] => dep["spec"]["replicas"]
                .as_u64()
                .expect("replicas without an HPA"),
            [hpa] => {
                let target = &hpa["spec"]["scaleTargetRef"];
                assert_eq!(target["kind"], "Deployment");
                assert_eq!(target["apiVersion"], "apps/v1");
                assert!(
                    dep["spec"].get("replicas").is_none(),
                    "{name}: an autoscaled Deployment must leave replicas to the HPA"
                );
                let (min, max) = (
                    hpa["spec"]["minReplicas"].as_u64().unwrap(),
                    hpa["spec"]["maxReplicas"].as_u64().unwrap(),
                );
                assert!(1 <= min && min <= max, "{name}: HPA bounds {min}..{max}");
                min
            }
            more => panic!("{name}: {} HPAs target it", more.len()),
        };
        let pdb = find(objs, "PodDisruptionBudget", name);
        assert_eq!(
            pdb.is_some(),
            min_pods > 1,
            "{name}: PDB exactly when min pods > 1"
        );
        if let Some(pdb) = pdb {
            assert!(matches(&pdb["spec"]["selector"]["matchLabels"], pod_labels));
        }
        // Rollouts: never below the desired count, one surge pod, and a preStop sleep that
        // ends before the grace period does.
        let strategy = &dep["spec"]["strategy"];
        assert_eq!(strategy["type"], "RollingUpdate");
        assert_eq!(strategy["rollingUpdate"]["maxUnavailable"], 0);
        assert_eq!(strategy["rollingUpdate"]["maxSurge"], 1);
        let pod = &dep["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
        if let Some(sleep) = container["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64() {
            assert!(
                sleep > 0 && sleep < grace,
                "{name}: sleep {sleep}s, grace {grace}s"
            );
        }
        // Ports: the admin server's port is the container port named `admin`.
        let admin = seq(&container["ports"])
            .iter()
            .find(|p| p["name"] == "admin")
            .expect("admin container port");
        assert_eq!(
            env_value(container, "PGRST_ADMIN_SERVER_PORT"),
            admin["containerPort"].as_u64().unwrap().to_string()
        );
        let http = seq(&container["ports"])
            .iter()
            .find(|p| p["name"] == "http")
            .expect("http container port");
        // The database CA: the URI's sslrootcert lies in a read-only mount of a ConfigMap key.
        let uri = env_value(container, "PGRST_DB_URI");
        if let Some(root) = uri.split("sslrootcert=").nth(1) {
            let root = root.split('&').next().unwrap();
            assert!(
                uri.contains("sslmode=verify-"),
                "{name}: sslrootcert without verify-*"
            );
            let mount = seq(&container["volumeMounts"])
                .iter()
                .find(|m| root.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())))
                .unwrap_or_else(|| panic!("{name}: {root} is not mounted"));
            assert_eq!(mount["readOnly"], true);
            let volume = seq(&pod["volumes"])
                .iter()
                .find(|v| v["name"] == mount["name"])
                .expect("volume of the mount");
            let file = root.rsplit('/').next().unwrap();
            assert!(
                seq(&volume["configMap"]["items"])
                    .iter()
                    .any(|i| i["path"] == file),
                "{name}: the ConfigMap volume does not provide {file}"
            );
        } else {
            assert!(!uri.contains("verify-"), "{name}: verify-* without a CA");
        }
        // Metrics: the Service names the admin port only when something may scrape it; then
        // either a ServiceMonitor scrapes that port or the pods carry scrape annotations.
        let svc_admin = seq(&svc["spec"]["ports"])
            .iter()
            .find(|p| p["name"] == "admin");
        let monitors: Vec<&Value> = in_namespace(objs, "ServiceMonitor", ns)
            .into_iter()
            .filter(|m| {
                matches(
                    &m["spec"]["selector"]["matchLabels"],
                    &svc["metadata"]["labels"],
                )
            })
            .collect();
        let annotations = &dep["spec"]["template"]["metadata"]["annotations"];
        let scrape = annotations.get("prometheus.io/scrape").is_some();
        for m in &monitors {
            // ServiceMonitor -> Service: it selects exactly this Service in its namespace and
            // scrapes a port the Service names, which is the pod's admin port.
            let selected: Vec<&Value> = in_namespace(objs, "Service", &m["metadata"]["namespace"])
                .into_iter()
                .filter(|s| {
                    matches(
                        &m["spec"]["selector"]["matchLabels"],
                        &s["metadata"]["labels"],
                    )
                })
                .collect();
            assert_eq!(selected.len(), 1, "ServiceMonitor selects one Service");
            for ep in seq(&m["spec"]["endpoints"]) {
                let port = seq(&svc["spec"]["ports"])
                    .iter()
                    .find(|p| p["name"] == ep["port"])
                    .unwrap_or_else(|| {
                        panic!("ServiceMonitor port {:?} not on Service", ep["port"])
                    });
                assert_eq!(target_container_port(container, port), admin);
                assert_eq!(ep["path"], "/metrics");
            }
        }
        match svc_admin {
            None => assert!(
                monitors.is_empty() && !scrape,
                "{name}: scraping a closed port"
            ),
            Some(port) => {
                assert_eq!(target_container_port(container, port), admin);
                assert!(
                    monitors.len() + usize::from(scrape) == 1,
                    "{name}: scraped one way"
                );
                if scrape {
                    assert_eq!(
                        annotations["prometheus.io/port"].as_str().unwrap(),
                        admin["containerPort"].as_u64().unwrap().to_string()
                    );
                }
            }
        }
        // NetworkPolicy ports: the ingress controller reaches the API port only; the admin
        // port is admitted from one other namespace, and only when the Service names it.
        let mut admin_from = Vec::new();
        for rule in seq(&np["spec"]["ingress"]) {
            let from: Vec<&Value> = seq(&rule["from"])
                .iter()
                .map(|f| &f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
                .collect();
            assert_eq!(from.len(), 1, "{name}: one namespace per ingress rule");
            let ports: Vec<&Value> = seq(&rule["ports"]).iter().map(|p| &p["port"]).collect();
            assert_eq!(ports.len(), 1, "{name}: one port per ingress rule");
            if ports[0] == &admin["containerPort"] {
                admin_from.push(from[0].clone());
            } else {
                assert_eq!(
                    ports[0], &http["containerPort"],
                    "{name}: unknown port admitted"
                );
            }
        }
        let ingress_ns: Vec<Value> = seq(&np["spec"]["ingress"])
            .iter()
            .filter(|r| r["ports"][0]["port"] == http["containerPort"])
            .map(|r| {
                r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    .clone()
            })
            .collect();
        assert_eq!(
            ingress_ns.len(),
            1,
            "{name}: the API port from the ingress controller"
        );
        assert!(
            !admin_from.contains(&ingress_ns[0]),
            "{name}: the admin port is reachable from the ingress controller"
        );
        assert_eq!(
            admin_from.len(),
            usize::from(svc_admin.is_some()),
            "{name}: admin port admitted"
        );
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
                format!("{prefix}{secret_ref}"),
                name,
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
            let port = seq(&s["spec"]["ports"])
                .iter()
                .find(|p| p["port"] == svc["port"])
                .expect("IngressRoute port on the Service");
            assert_eq!(
                port["targetPort"], "http",
                "IngressRoute reaches the API port only"
            );
        }
        // Explicit hosts replace the wildcard; TLS names one source of certificates.
        let rule = route["spec"]["routes"][0]["match"].as_str().unwrap();
        assert!(
            rule.starts_with("Host(`") ^ rule.starts_with("HostRegexp("),
            "{rule}"
        );
        if let Some(tls) = route["spec"].get("tls") {
            let keys = tls.as_mapping().unwrap().len();
            assert_eq!(keys, 1, "tls: certResolver or secretName, one of them");
            if tls.get("certResolver").is_some() {
                assert!(
                    rule.starts_with("Host("),
                    "an ACME resolver needs Host() rules"
                );
            }
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

/// Every production key of issue 14: autoscaling, metrics both ways, TLS both ways, explicit
/// hosts, per-app sizing, shutdown delays, TLS to the database.
#[test]
fn production() {
    let (_, root) = scenario("production", None);
    let objs = docs(&root);
    for kind in ["HorizontalPodAutoscaler", "ServiceMonitor"] {
        assert_eq!(
            objs.iter().filter(|o| o["kind"] == kind).count(),
            2,
            "{kind}"
        );
    }
    let billing = find(&objs, "Deployment", "billing-postgrest").unwrap();
    assert_eq!(billing["spec"]["replicas"], 3);
    assert_eq!(
        billing["spec"]["template"]["spec"]["terminationGracePeriodSeconds"],
        90
    );
    let ledger = find(&objs, "Deployment", "ledger-postgrest").unwrap();
    assert!(ledger["spec"]["template"]["spec"]["containers"][0]
        .get("lifecycle")
        .is_none());
    insta::assert_snapshot!("rendered_production", root);
}

#[test]
fn api_surface() {
    let (_, root) = scenario("api", None);
    let objs = docs(&root);
    let env = |name: &str| -> std::collections::BTreeMap<String, String> {
        let dep = find(&objs, "Deployment", name).unwrap();
        dep["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|e| {
                Some((
                    e["name"].as_str()?.to_owned(),
                    e["value"].as_str()?.to_owned(),
                ))
            })
            .collect()
    };
    let atlas = env("atlas-postgrest");
    assert_eq!(atlas["PGRST_DB_SCHEMAS"], "api_v1,api_v2");
    assert_eq!(atlas["PGRST_DB_ANON_ROLE"], "atlas_web_anon");
    assert_eq!(atlas["PGRST_JWT_AUD"], "atlas-api");
    assert_eq!(atlas["PGRST_JWT_ROLE_CLAIM_KEY"], ".app_role");
    let idp = env("idp-postgrest");
    let jwks: serde_json::Value = serde_json::from_str(&idp["PGRST_JWT_SECRET"]).unwrap();
    assert_eq!(
        jwks["keys"][0]["kid"], "idp-2026",
        "the JWKS is the env value"
    );
    let closed = env("closed-postgrest");
    assert!(
        !closed.contains_key("PGRST_DB_ANON_ROLE"),
        "anonymous = false"
    );
    insta::assert_snapshot!("rendered_api", root);
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
    // Bootstrap app atlas: its owner SealedSecret is part of the validated render, with every
    // key sealed, and no workload reads it (PostgREST logs in as the authenticator only).
    let owner = find(&objs, "SealedSecret", "atlas-db-owner")
        .expect("the owner SealedSecret of bootstrap app atlas");
    assert_eq!(owner["metadata"]["namespace"], "postgrest");
    assert_eq!(
        owner["spec"]["template"]["metadata"]["name"],
        "atlas-db-owner"
    );
    let keys: Vec<&str> = owner["spec"]["encryptedData"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "DATABASE_URL",
            "PGDATABASE",
            "PGHOST",
            "PGPASSWORD",
            "PGPORT",
            "PGUSER"
        ]
    );
    assert!(
        find(&objs, "SealedSecret", "paused-db-owner").is_none(),
        "no bootstrap, no owner Secret"
    );
    assert!(
        !serde_yaml::to_string(
            &objs
                .iter()
                .filter(|o| o["kind"] != "SealedSecret")
                .collect::<Vec<_>>()
        )
        .unwrap()
        .contains("atlas-db-owner"),
        "only the SealedSecret names the owner Secret"
    );
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

/// The same with the new kinds: the HPA's target and the IngressRoute's Service follow the
/// prefix and a namespace change, the ServiceMonitor still selects the Service by label (it
/// names no namespace), and user-made objects (the CA ConfigMap, the TLS Secret) keep their
/// names.
#[test]
fn user_overlay_with_name_prefix_keeps_production_references() {
    let ws = Workspace::fixture("production");
    ws.ok(&["build"]);
    for app in ["atlas", "billing"] {
        let mine = ws.path().join("mine").join(app);
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(
            mine.join("kustomization.yaml"),
            format!(
                "resources:\n  - ../../out/apps/{app}\nnamePrefix: team-\nnamespace: team-apis\n"
            ),
        )
        .unwrap();
        let objs = docs(&kustomize(&mine));
        check_references_prefixed(&objs, false, "team-");
        let name = format!("team-{app}-postgrest");
        let dep = find(&objs, "Deployment", &name).expect("prefixed Deployment");
        assert_eq!(dep["metadata"]["namespace"], "team-apis");
        if app == "atlas" {
            let hpa = find(&objs, "HorizontalPodAutoscaler", &name).expect("prefixed HPA");
            assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], name.as_str());
            assert!(find(&objs, "ServiceMonitor", &name).is_some());
            let volumes = &dep["spec"]["template"]["spec"]["volumes"];
            assert_eq!(volumes[0]["configMap"]["name"], "pg-ca");
        } else {
            let route = find(&objs, "IngressRoute", &name).unwrap();
            assert_eq!(route["spec"]["tls"]["secretName"], "wildcard-example-no");
        }
    }
}
