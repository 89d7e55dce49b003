//! Whole generated trees per fixture scenario, and the error output per bad input, as insta
//! snapshots: a PR reviewer sees exactly what users would get.

mod common;
use common::{is_steps, tree_doc, Workspace};

fn scenario(name: &str) {
    let ws = Workspace::fixture(name);
    ws.ok(&["build"]);
    let tree = ws.tree("out");
    // Every YAML file parses (as a stream of documents).
    for (path, text) in tree.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        for doc in serde_yaml::Deserializer::from_str(text) {
            let value = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
                .unwrap_or_else(|e| panic!("{name}/{path} is not YAML: {e}"));
            assert!(!value.is_null(), "{name}/{path} has an empty document");
        }
    }
    // Every generated file says so at the top (after a shebang).
    for (path, text) in &tree {
        let head: String = text.lines().take(2).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("enerated by postgrest-gen"),
            "{name}/{path} lacks the generated header"
        );
    }
    // Building again rewrites nothing; the lock is untouched (the fixture's lock is complete).
    let second = ws.ok(&["build"]);
    assert!(second.contains(" 0 written, 0 removed"), "{second}");
    let fixture = Workspace::fixture(name);
    assert_eq!(ws.locks(), fixture.locks());
    // The shared SQL steps are the same whatever the scenario (snapshot sql_steps).
    let steps: Vec<_> = tree.iter().filter(|(p, _)| is_steps(p)).collect();
    if !steps.is_empty() {
        let reference = Workspace::fixture("basic");
        reference.ok(&["build"]);
        let reference = reference.tree("out");
        for (path, text) in steps {
            assert_eq!(
                Some(text),
                reference.get(path),
                "{name}/{path} differs from basic's"
            );
        }
    }
    insta::assert_snapshot!(format!("tree_{name}"), tree_doc(&tree));
}

/// The SQL steps every app's apply.sql, purge.sql and verify.sql include, once: per kind the
/// functions, the file that defines them when missing, and the calls (apply has a second pair
/// of define and functions files, for its steps that change something).
#[test]
fn sql_steps() {
    let ws = Workspace::fixture("basic");
    ws.ok(&["build"]);
    let tree = ws.tree("out");
    let steps: String = tree
        .iter()
        .filter(|(p, _)| is_steps(p))
        .map(|(p, c)| format!("===== {p}\n{c}"))
        .collect();
    assert_eq!(steps.matches("===== ").count(), 11);
    insta::assert_snapshot!("sql_steps", steps);
}

#[test]
fn tree_basic() {
    scenario("basic");
}

#[test]
fn tree_overrides() {
    scenario("overrides");
}

#[test]
fn tree_lifecycle() {
    scenario("lifecycle");
}

#[test]
fn tree_api() {
    scenario("api");
}

#[test]
fn tree_sealed() {
    scenario("sealed");
}

#[test]
fn tree_production() {
    scenario("production");
}

fn error_case(name: &str) {
    let ws = Workspace::new(&std::fs::read_to_string(format!("tests/errors/{name}.toml")).unwrap());
    // Files the case's apps.toml names (JWKS files) sit beside it.
    if let Ok(files) = std::fs::read_dir(format!("tests/errors/{name}.files")) {
        for f in files {
            let f = f.unwrap();
            std::fs::copy(f.path(), ws.path().join(f.file_name())).unwrap();
        }
    }
    let out = ws.run(&["build"]);
    assert_eq!(out.status.code(), Some(2), "{name}: exit code");
    assert!(out.stdout.is_empty(), "{name}: printed to stdout");
    assert!(!ws.path().join("out").exists(), "{name}: out/ was created");
    assert!(!ws.lock_exists(), "{name}: lock was written");
    let validate = ws.run(&["validate"]);
    assert_eq!(
        validate.stderr, out.stderr,
        "{name}: validate and build disagree"
    );
    insta::assert_snapshot!(
        format!("error_{name}"),
        String::from_utf8(out.stderr).unwrap()
    );
}

macro_rules! error_cases {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            error_case(stringify!($name));
        }
    )*};
}

error_cases!(
    malformed,
    one_round,
    kube_limits,
    unknown_keys,
    wrong_types,
    missing_database,
    bad_names,
    bad_values,
    collisions,
    hostile,
    schemas,
    durations,
    image_tags,
    reserved_roles,
    shared_schema,
    invisible,
    production_values,
    autoscale_keys,
    hosts_collide,
    api_surface,
    jwt_roles,
    jwks,
    connection_budget,
    bootstrap,
);
