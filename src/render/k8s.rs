//! Render stage: one running instance's Kubernetes objects (workload, traffic, metrics,
//! scaling), pure.
//!
//! Invariant: each object's view is built from the app's `Kube` group (plus the few database
//! and API values the Deployment's environment needs); the file set depends only on the
//! model, and every object carries the instance's labels.

use std::collections::BTreeMap;

use minijinja::Environment;
use sha2::{Digest, Sha256};

use super::render_one;
use super::views::*;
use crate::config::model::{Replicas, Tls, ROLLING_SURGE};
use crate::config::{App, Config, JwtSecret};
use crate::credentials::seal::hex;
use crate::plan::Credential;

/// The admin server's port: `/live`, `/ready`, `/metrics`.
pub const ADMIN_PORT: u16 = 3001;
/// Where the database CA ConfigMap is mounted; libpq's `sslrootcert` points inside it.
pub const DB_CA_DIR: &str = "/etc/postgrest/db-ca";
/// The ConfigMap key holding the CA certificate (the `kube-root-ca.crt` convention).
pub const DB_CA_KEY: &str = "ca.crt";

/// The files of a running instance, by file name inside its folder.
pub fn workload(
    env: &Environment<'_>,
    config: &Config,
    app: &App,
    cred: &Credential,
    source: &str,
) -> BTreeMap<&'static str, String> {
    let meta = || Meta::new(config, app, source);
    let kube = &app.kube;
    let mut files = BTreeMap::new();
    files.insert(
        "deployment.yaml",
        render_one(
            env,
            "k8s/deployment.yaml.j2",
            deployment_view(app, cred, meta()),
        ),
    );
    let view = ServiceView {
        meta: meta(),
        admin_port: kube.metrics.as_ref().map(|_| ADMIN_PORT),
    };
    files.insert("service.yaml", render_one(env, "k8s/service.yaml.j2", view));
    let rule = if kube.hosts.is_empty() {
        format!("HostRegexp(`^{}\\..+$`)", kube.url_prefix.regex_escaped())
    } else {
        let hosts: Vec<String> = kube.hosts.iter().map(|h| format!("Host(`{h}`)")).collect();
        hosts.join(" || ")
    };
    let view = IngressRouteView {
        meta: meta(),
        entry_points: kube.entry_points.clone(),
        rule,
        tls_cert_resolver: match &kube.tls {
            Some(Tls::CertResolver(r)) => Some(r.clone()),
            _ => None,
        },
        tls_secret: match &kube.tls {
            Some(Tls::Secret(s)) => Some(s.to_string()),
            _ => None,
        },
    };
    files.insert(
        "ingressroute.yaml",
        render_one(env, "k8s/ingressroute.yaml.j2", view),
    );
    let view = NetworkPolicyView {
        meta: meta(),
        ingress_namespace: config.ingress_namespace.to_string(),
        metrics_namespace: kube.metrics.as_ref().map(|m| m.namespace.to_string()),
        admin_port: ADMIN_PORT,
        db_port: app.db.port,
        db_cidrs: config.db_cidrs.clone(),
    };
    files.insert(
        "networkpolicy.yaml",
        render_one(env, "k8s/networkpolicy.yaml.j2", view),
    );
    if kube.min_pods() > 1 {
        files.insert("pdb.yaml", render_one(env, "k8s/pdb.yaml.j2", meta()));
    }
    if let Replicas::Auto(auto) = kube.replicas {
        let view = HpaView {
            meta: meta(),
            min: auto.min,
            max: auto.max,
            cpu_percent: auto.cpu_percent,
        };
        files.insert("hpa.yaml", render_one(env, "k8s/hpa.yaml.j2", view));
    }
    if kube.metrics.as_ref().is_some_and(|m| m.service_monitor) {
        files.insert(
            "servicemonitor.yaml",
            render_one(env, "k8s/servicemonitor.yaml.j2", meta()),
        );
    }
    files
}

/// An env value Kubernetes passes on unchanged: it expands `$(VAR)` and turns `$$` into `$`.
fn env_literal(s: &str) -> String {
    s.replace('$', "$$")
}

fn deployment_view(app: &App, cred: &Credential, meta: Meta) -> DeploymentView {
    let kube = &app.kube;
    let mut settings = BTreeMap::from([
        ("PGRST_ADMIN_SERVER_PORT", ADMIN_PORT.to_string()),
        ("PGRST_SERVER_PORT", "3000".to_owned()),
        ("PGRST_DB_SCHEMAS", super::join(&app.api.schemas)),
        ("PGRST_DB_POOL", app.api.db_pool.to_string()),
    ]);
    // Unset, PostgREST refuses requests without a token (401).
    if app.api.anonymous {
        settings.insert("PGRST_DB_ANON_ROLE", app.name.anon_role().to_string());
    }
    if let Some(jwt) = &app.api.jwt {
        settings.insert("PGRST_JWT_AUD", env_literal(&jwt.audience));
        settings.insert("PGRST_JWT_ROLE_CLAIM_KEY", env_literal(&jwt.role_claim_key));
        // A public JWKS is configuration, not a credential: PostgREST takes it as the value of
        // PGRST_JWT_SECRET (a JSON string holding a JWKS).
        if let JwtSecret::Jwks { json, .. } = &jwt.secret {
            settings.insert("PGRST_JWT_SECRET", env_literal(json));
        }
    }
    if !app.api.cors_allowed_origins.is_empty() {
        let origins: Vec<&str> = app
            .api
            .cors_allowed_origins
            .iter()
            .map(|o| o.as_str())
            .collect();
        settings.insert("PGRST_SERVER_CORS_ALLOWED_ORIGINS", origins.join(","));
    }
    if let Some(url) = &app.api.public_url {
        settings.insert("PGRST_OPENAPI_SERVER_PROXY_URI", url.clone());
    }
    if let Some(rows) = app.api.db_max_rows {
        settings.insert("PGRST_DB_MAX_ROWS", rows.to_string());
    }
    let mut db_uri = format!(
        "postgres://{}:$(DB_PASSWORD)@{}:{}/{}?application_name={}",
        app.name.authenticator(),
        app.db.host,
        app.db.port,
        percent_encode(app.db.database.as_str()),
        app.name.object_name()
    );
    let mut db_ca_configmap = None;
    if let Some(ssl) = &app.db.ssl {
        db_uri.push_str(&format!("&sslmode={}", ssl.mode.as_str()));
        if let Some(cm) = &ssl.ca_configmap {
            // A fixed path of URI-safe characters: no encoding needed.
            db_uri.push_str(&format!("&sslrootcert={DB_CA_DIR}/{DB_CA_KEY}"));
            db_ca_configmap = Some(cm.to_string());
        }
    }
    let (replicas, most) = match kube.replicas {
        Replicas::Fixed(n) => (Some(n), n),
        Replicas::Auto(a) => (None, a.max),
    };
    let metrics = kube.metrics.as_ref();
    DeploymentView {
        meta,
        replicas,
        spread: most > 1,
        max_surge: ROLLING_SURGE,
        shutdown_delay_s: kube.shutdown_delay_s,
        termination_grace_s: kube.termination_grace_s(),
        scrape_annotations: metrics.is_some_and(|m| !m.service_monitor),
        admin_port: ADMIN_PORT,
        image: kube.image.to_string(),
        digest: kube.image.as_str().contains('@'),
        generation: cred.generation,
        // A new password or JWT secret changes the pod template, so the pods roll.
        // (Without a JWT secret the hash is the verifier's alone, as before: no pods roll.)
        credential_hash: hex(&Sha256::digest(match &cred.jwt_secret {
            Some(j) => format!("{}\n{}", cred.verifier, j.sha256),
            None => cred.verifier.clone(),
        }))[..16]
            .to_owned(),
        jwt_secret: cred.jwt_secret.as_ref().map(|j| JwtSecretView {
            generation: j.generation,
            sha256: j.sha256.clone(),
        }),
        db_uri,
        db_ca_configmap,
        db_ca_dir: DB_CA_DIR,
        db_ca_key: DB_CA_KEY,
        settings,
        resources: ResourcesView {
            cpu_request: kube.resources.cpu_request.clone(),
            cpu_limit: kube.resources.cpu_limit.clone(),
            memory_request: kube.resources.memory_request.clone(),
            memory_limit: kube.resources.memory_limit.clone(),
        },
    }
}
