//! Render stage: the plan to the complete `out/` tree in memory (path -> contents), pure.
//!
//! Invariants: templates are embedded and rendered with strict undefined variables; output
//! uses `\n` only, ends with a newline and starts with a "generated" comment; the file set
//! is a function of the plan alone, so `build` and `check` share it.

mod blocks;
mod filters;
pub mod k8s;
pub mod scaffold;
pub mod views;

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::config::{App, Config};
use crate::plan::Plan;
use views::*;

/// File inside `out/` listing what the generator wrote, so a later build removes exactly the
/// files it made and nothing else.
pub const MANIFEST: &str = ".postgrest-gen-manifest";
/// Apps per chunk kustomization.
pub const CHUNK: usize = 50;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "sql/_header.sql.j2",
    "sql/_preamble.sql.j2",
    "sql/_settings.sql.j2",
    "sql/_lock_take.sql.j2",
    "sql/_lock.sql.j2",
    "sql/_lock_wait.sql.j2",
    "sql/_vars_fn.sql.j2",
    "sql/_vars.sql.j2",
    "sql/_acl.sql.j2",
    "sql/_acl_call.sql.j2",
    "sql/_connect_granted.sql.j2",
    "sql/_owned.sql.j2",
    "sql/_holdings.sql.j2",
    "sql/_check_database.sql.j2",
    "sql/_owner_checks.sql.j2",
    "sql/_admin_grant.sql.j2",
    "sql/_admin_rights.sql.j2",
    "sql/_preflight.sql.j2",
    "sql/_roles.sql.j2",
    "sql/_shdepend_of.sql.j2",
    "sql/_membership.sql.j2",
    "sql/_revoke_passes.sql.j2",
    "sql/_privileges.sql.j2",
    "sql/_database.sql.j2",
    "sql/_defaults.sql.j2",
    "sql/_leftovers.sql.j2",
    "sql/_leftover_entries.sql.j2",
    "sql/_verify_checks.sql.j2",
    "sql/_functions.sql.j2",
    "sql/_run_steps.sql.j2",
    "sql/_define.sql.j2",
    "sql/_drop_roles.sql.j2",
    "sql/apply.sql.j2",
    "sql/purge.sql.j2",
    "sql/verify.sql.j2",
    "sql/_steps_header.sql.j2",
    "sql/app.sql.j2",
    "sql/_bootstrap_settings.sql.j2",
    "sql/bootstrap.sql.j2",
    "k8s/_header.yaml.j2",
    "k8s/_labels.yaml.j2",
    "k8s/deployment.yaml.j2",
    "k8s/service.yaml.j2",
    "k8s/ingressroute.yaml.j2",
    "k8s/pdb.yaml.j2",
    "k8s/hpa.yaml.j2",
    "k8s/servicemonitor.yaml.j2",
    "k8s/networkpolicy.yaml.j2",
    "k8s/sealedsecret.yaml.j2",
    "k8s/secret.yaml.j2",
    "k8s/sealedsecret-db-owner.yaml.j2",
    "k8s/secret-db-owner.yaml.j2",
    "k8s/kustomization.yaml.j2",
    "k8s/kustomizeconfig.yaml.j2",
    "smoke.sh.j2",
    "bin/apply-k8s.sh.j2",
);

/// What the user's repository runs, written verbatim into `out/bin/` (not templates: shell's
/// `${#...}` would read as a template comment). Shipping them in `out/` means an upgrade of the
/// tool upgrades them in the same reviewed diff, and `check` covers them.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "bin/apply-sql.sh",
        include_str!("../../templates/bin/apply-sql.sh"),
    ),
    (
        "bin/render.sh",
        include_str!("../../templates/bin/render.sh"),
    ),
];

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("sql_ident", |v: &str| filters::sql_ident(v));
    env.add_filter("sql_literal", |v: &str| filters::sql_literal(v));
    env.add_filter("yaml", |v: &str| filters::yaml(v));
    env.add_filter("sh", |v: &str| filters::sh(v));
    env.add_filter("fn_name", |v: &str| blocks::fn_name(v));
    env.add_filter("fn_create", |v: &str| blocks::fn_create(v));
    env.add_filter("fn_sig", |v: &str| blocks::fn_sig(v));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("embedded templates parse");
    }
    env
}

pub(crate) fn render_one(env: &Environment<'_>, template: &str, view: impl Serialize) -> String {
    let mut out = env
        .get_template(template)
        .and_then(|t| t.render(view))
        .unwrap_or_else(|e| panic!("template {template} failed to render: {e:#}"));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The whole `out/` tree: relative path -> contents.
pub fn render(plan: &Plan<'_>, source: &str) -> BTreeMap<String, String> {
    let env = env();
    let config = plan.config;
    let mut files = BTreeMap::new();
    let mut root_resources = Vec::new();
    let mut any_sql = false;
    for app in config.apps.values() {
        let dir = format!("apps/{}", app.name);
        let cred = plan.credentials.get(&app.name);
        if app.present() && cred.is_none() {
            continue; // check mode with a missing credential: reported as pending instead
        }
        let sql = SqlView::new(app, cred, source);
        let kinds: &[&str] = if app.present() {
            &["apply", "purge", "verify"]
        } else {
            &["purge", "verify"]
        };
        for &kind in kinds {
            let view = AppSqlView { kind, sql: &sql };
            files.insert(
                format!("{dir}/sql/{kind}.sql"),
                render_one(&env, "sql/app.sql.j2", view),
            );
        }
        any_sql = true;
        let owner = plan.owners.get(&app.name);
        if let Some(o) = owner {
            let view = BootstrapView::new(app, o.generation, &o.verifier, source);
            files.insert(
                format!("{dir}/sql/bootstrap.sql"),
                render_one(&env, "sql/bootstrap.sql.j2", view),
            );
        }
        let Some(cred) = cred else { continue };

        let mut resources = Vec::new();
        let meta = || Meta::new(config, app, source);
        if let (Some(sealed), Some(sealing)) = (&cred.sealed, &config.sealing) {
            let view = SealedSecretView {
                meta: meta(),
                scope_annotation: scope_annotation(sealing.scope),
                sealed_password: sealed.value.clone(),
                sealed_jwt_secret: cred
                    .jwt_secret
                    .as_ref()
                    .and_then(|j| j.sealed.as_ref())
                    .map(|s| s.value.clone()),
            };
            files.insert(
                format!("{dir}/sealedsecret.yaml"),
                render_one(&env, "k8s/sealedsecret.yaml.j2", view),
            );
            resources.push("sealedsecret.yaml".to_owned());
        }
        if let (Some(sealed), Some(sealing)) =
            (owner.and_then(|o| o.sealed.as_ref()), &config.sealing)
        {
            let view = OwnerSealedSecretView {
                meta: Meta::owner_secret(config, app, source),
                scope_annotation: scope_annotation(sealing.scope),
                generation: sealed.generation,
                params_sha256: sealed.params_sha256.clone(),
                values: sealed.values.clone(),
            };
            files.insert(
                format!("{dir}/sealedsecret-db-owner.yaml"),
                render_one(&env, "k8s/sealedsecret-db-owner.yaml.j2", view),
            );
            resources.push("sealedsecret-db-owner.yaml".to_owned());
        }
        if app.runs() {
            for (file, text) in k8s::workload(&env, config, app, cred, source) {
                files.insert(format!("{dir}/{file}"), text);
                resources.push(file.to_owned());
            }
            files.insert(
                format!("{dir}/smoke.sh"),
                render_one(&env, "smoke.sh.j2", smoke_view(app, source)),
            );
        }
        resources.sort();
        if !resources.is_empty() {
            // The user's overlay, when there is one, is what the cluster gets for this app.
            root_resources.push(match plan.overlays.get(&app.name) {
                Some(from_out) => from_out.clone(),
                None => dir.clone(),
            });
        }
        let configurations = app.runs().then(|| "kustomizeconfig.yaml".to_owned());
        if configurations.is_some() {
            let view = KustomizationView {
                source: source.to_owned(),
                resources: vec![],
                configurations: None,
            };
            files.insert(
                format!("{dir}/kustomizeconfig.yaml"),
                render_one(&env, "k8s/kustomizeconfig.yaml.j2", view),
            );
        }
        let text = kustomization(&env, source, resources, configurations);
        files.insert(format!("{dir}/kustomization.yaml"), text);
    }
    // The steps every app's SQL runs, once: each app's file holds only its values (settings)
    // and includes these, so a template change is one reviewed diff, not one per app.
    if any_sql {
        // Each kind's steps are functions: `-define.sql` (read by each app's file before its
        // transaction) defines them from `-functions.sql` when the session lacks them, and
        // `-steps.sql` calls them (see templates/sql/_functions.sql.j2).
        // apply's steps that change something have a define and functions file of their
        // own: a converged app (most of a re-apply) never reads or defines them.
        for kind in ["apply", "purge", "verify"] {
            let parts: &[&'static str] = if kind == "apply" {
                &[
                    "steps",
                    "define",
                    "functions",
                    "write-define",
                    "write-functions",
                ]
            } else {
                &["steps", "define", "functions"]
            };
            for &part in parts {
                files.insert(
                    format!("sql/{kind}-{part}.sql"),
                    render_one(
                        &env,
                        &format!("sql/{kind}.sql.j2"),
                        StepsView::new(source, part),
                    ),
                );
            }
        }
    }
    // Chunks of CHUNK apps: `make render` builds them separately, in parallel, because one
    // kustomization over hundreds of overlays is super-linear (see BENCHMARKS.md).
    for (i, chunk) in root_resources.chunks(CHUNK).enumerate() {
        let resources = chunk.iter().map(|d| format!("../../{d}")).collect();
        let text = kustomization(&env, source, resources, None);
        files.insert(format!("chunks/{i:03}/kustomization.yaml"), text);
    }
    let text = kustomization(&env, source, root_resources, None);
    files.insert("kustomization.yaml".to_owned(), text);
    files.insert("sql-plan.tsv".to_owned(), sql_plan(config, source));
    for (path, text) in SCRIPTS {
        files.insert((*path).to_owned(), (*text).to_owned());
    }
    let view = BinView {
        source: source.to_owned(),
        namespace: config.namespace.to_string(),
    };
    files.insert(
        "bin/apply-k8s.sh".to_owned(),
        render_one(&env, "bin/apply-k8s.sh.j2", view),
    );
    let ignore =
        "# Generated by postgrest-gen: `make render` output, never committed.\n.rendered.yaml*\n";
    files.insert(".gitignore".to_owned(), ignore.to_owned());
    // The one file naming the version: an upgrade changes this line (and whatever the
    // upgrade really changes), not every file of the tree.
    let mut manifest = format!(
        "# Generated by postgrest-gen {}: the files it wrote here (it removes only these).\n",
        env!("CARGO_PKG_VERSION")
    );
    for path in files.keys() {
        manifest.push_str(path);
        manifest.push('\n');
    }
    files.insert(MANIFEST.to_owned(), manifest);
    files
}

fn kustomization(
    env: &Environment<'_>,
    source: &str,
    resources: Vec<String>,
    configurations: Option<String>,
) -> String {
    let view = KustomizationView {
        source: source.to_owned(),
        resources,
        configurations,
    };
    render_one(env, "k8s/kustomization.yaml.j2", view)
}

/// What `make apply` runs where: `app<TAB>present|absent<TAB>database<TAB>secret`, one line
/// per app (`secret`: the name of its Secret, deleted from the cluster once purged). Names
/// cannot hold tabs or newlines (validation refuses control characters).
fn sql_plan(config: &Config, source: &str) -> String {
    let mut out = format!(
        "# Generated by postgrest-gen from {source}: app, ensure, database, secret (read by make apply).\n"
    );
    for app in config.apps.values() {
        let ensure = if app.present() { "present" } else { "absent" };
        out.push_str(&format!(
            "{}\t{ensure}\t{}\t{}\n",
            app.name,
            app.db.database,
            app.name.object_name()
        ));
    }
    out
}

/// The exposed schemas as PostgREST's comma-separated list (plain identifiers hold no comma).
pub(crate) fn join(schemas: &[crate::config::names::PgIdent]) -> String {
    let names: Vec<&str> = schemas.iter().map(|s| s.as_str()).collect();
    names.join(",")
}

#[derive(Serialize)]
struct SmokeView {
    source: String,
    app: String,
    postgrest_version: String,
    public_url: String,
    sample_path: String,
    hidden_path: String,
    origin: String,
    /// Exposed schemas after the first (the default profile), space-separated.
    profiles: String,
    anonymous: bool,
}

fn smoke_view(app: &App, source: &str) -> SmokeView {
    SmokeView {
        source: source.to_owned(),
        app: app.name.to_string(),
        postgrest_version: app.kube.image.tag().trim_start_matches('v').to_owned(),
        public_url: app.api.public_url.clone().unwrap_or_default(),
        sample_path: app
            .api
            .smoke_view
            .as_ref()
            .map(|v| percent_encode(v.as_str()))
            .unwrap_or_default(),
        hidden_path: app
            .api
            .smoke_hidden
            .as_ref()
            .map(|v| percent_encode(v.as_str()))
            .unwrap_or_default(),
        origin: app
            .api
            .cors_allowed_origins
            .first()
            .map(|o| o.to_string())
            .unwrap_or_default(),
        profiles: join(&app.api.schemas[1..]).replace(',', " "),
        anonymous: app.api.anonymous,
    }
}

/// Every present app's lock file, by file name in `locks/`.
pub fn lock_files(plan: &Plan<'_>) -> BTreeMap<String, String> {
    plan.locks
        .iter()
        .map(|(app, lock)| {
            (
                crate::credentials::lock::file_name(app.as_str()),
                lock.render(app.as_str()),
            )
        })
        .collect()
}

/// The plaintext Secret manifests of apps with a new or rotated credential (password or JWT
/// secret), by file name in `secrets/`: each holds every plaintext of the app that is known.
pub fn secret_files(plan: &Plan<'_>, source: &str) -> BTreeMap<String, String> {
    let env = env();
    let owners = plan.owner_secrets.iter().map(|(name, password)| {
        let app = &plan.config.apps[name];
        let file = crate::credentials::secret_file::owner_file_name(name.as_str());
        let view = OwnerSecretView {
            meta: Meta::owner_secret(plan.config, app, source),
            app: name.to_string(),
            file: file.clone(),
            verifier_sha256: crate::credentials::secret_file::verifier_fingerprint(
                &plan.owners[name].verifier,
            ),
            values: crate::plan::owner_secret_values(app, password),
        };
        (file, render_one(&env, "k8s/secret-db-owner.yaml.j2", view))
    });
    plan.secret_manifests
        .iter()
        .map(|(name, values)| {
            let app = &plan.config.apps[name];
            let file = crate::credentials::secret_file::file_name(name.as_str());
            let view = SecretView {
                meta: Meta::new(plan.config, app, source),
                app: name.to_string(),
                file: file.clone(),
                password: values.password.clone(),
                verifier_sha256: values.password.as_ref().and_then(|_| {
                    plan.locks.get(name).map(|l| {
                        crate::credentials::secret_file::verifier_fingerprint(
                            &l.authenticator.verifier,
                        )
                    })
                }),
                jwt_secret: values.jwt_secret.clone(),
            };
            (file, render_one(&env, "k8s/secret.yaml.j2", view))
        })
        .chain(owners.collect::<Vec<_>>())
        .collect()
}
