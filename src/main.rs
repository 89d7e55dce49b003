//! `main`: the command line. The workspace reads the inputs, the pure stages plan and render,
//! `emit` writes; `main` only wires them and adds the clock and the CSPRNG.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use postgrest_gen::config::{self, names::AppName};
use postgrest_gen::emit::Durability;
use postgrest_gen::error::{Error, Result, EXIT_DRIFT};
use postgrest_gen::workspace::{Gathered, Workspace};
use postgrest_gen::{emit, plan, render, report};

/// Compiles apps.toml into role SQL, secrets and Kustomize overlays for one PostgREST per app.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// The declarative input; locks/, secrets/, overlays/ and out/ live beside it.
    #[arg(short, long, global = true, default_value = "apps.toml")]
    config: PathBuf,
    /// The generated tree (commit it) [default: out/ beside apps.toml].
    #[arg(short, long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Clone)]
enum Command {
    /// Start a GitOps repository in DIR (default: here): apps.toml, Makefile, .gitignore,
    /// .gitattributes, a CI pipeline example, overlays/. Never overwrites a file.
    Init {
        /// The repository folder (created if missing).
        dir: Option<PathBuf>,
    },
    /// Render and write out/ (only changed files), the lock, and new plaintext into secrets/.
    Build,
    /// Render in memory and compare with out/ and the lock; exit 1 with a diff on drift.
    Check,
    /// Validate apps.toml only; report every problem with file:line:col.
    Validate,
    /// Issue a new password for each APP: new verifier, sealed value and generation (rolls pods).
    /// With --jwt-secret: a new JWT secret instead (tokens signed with the old one stop working).
    /// With --owner: a new password for the owner role that bootstrap made (`bootstrap = true`).
    Rotate {
        /// The apps whose password (or JWT secret) to rotate.
        #[arg(required = true)]
        apps: Vec<String>,
        /// Rotate the generated JWT secret (`[apps.<app>.jwt] secret = "generate"`), not the
        /// password.
        #[arg(long, conflicts_with = "owner")]
        jwt_secret: bool,
        /// Rotate the owner role's password (`bootstrap = true`): bootstrap.sql sets it, the
        /// owner Secret `<app>-db-owner` carries it; the authenticator's stays.
        #[arg(long)]
        owner: bool,
    },
}

fn main() -> ExitCode {
    // `postgrest-gen check | head` should end quietly like any Unix tool, not panic on EPIPE.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e @ Error::Config(_)) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(cli: &Cli) -> Result<i32> {
    if let Command::Init { dir } = &cli.command {
        let dir = dir.clone().unwrap_or_else(|| PathBuf::from("."));
        for f in emit::create_new(&dir, &render::scaffold::scaffold())? {
            println!("wrote {}", dir.join(f).display());
        }
        println!(
            "next: edit {}, then `make build`, review and commit out/ and locks/ (see `make help`)",
            dir.join("apps.toml").display()
        );
        return Ok(0);
    }
    let ws = Workspace::new(&cli.config, cli.out.as_deref());
    let shown = cli.config.display().to_string();
    let text = ws.read_config()?;
    let read_beside = |rel: &str| ws.read_beside(rel);
    let config = config::parse_with(&shown, &text, &read_beside)?;
    let command = cli.command.clone();
    if let Command::Validate = command {
        println!("{shown}: valid ({} apps)", config.apps.len());
        for server in config.connection_budget() {
            let of = config
                .db_max_connections
                .map_or(String::new(), |max| format!(" of db-max-connections {max}"));
            println!(
                "server {}: {} connections at most{of}, present apps: {}",
                server.server,
                server.total,
                server.apps.len()
            );
        }
        return Ok(0);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let g = ws.gather(&config, now)?;
    let (rotate, rotate_jwt, rotate_owner) = match &command {
        Command::Rotate {
            apps,
            jwt_secret,
            owner,
        } => {
            let apps = apps
                .iter()
                .map(|a| AppName::parse(a).map_err(Error::Input))
                .collect::<Result<Vec<_>>>()?;
            if *jwt_secret {
                (Vec::new(), apps, Vec::new())
            } else if *owner {
                (Vec::new(), Vec::new(), apps)
            } else {
                (apps, Vec::new(), Vec::new())
            }
        }
        _ => (Vec::new(), Vec::new(), Vec::new()),
    };
    let mode = if let Command::Check = command {
        plan::Mode::Check
    } else {
        plan::Mode::Build
    };
    let inputs = plan::Inputs {
        locks: g.locks.clone(),
        recorded: g.recorded.clone(),
        recorded_jwt: g.recorded_jwt.clone(),
        sealing_key: g.sealing_key.as_ref(),
        secret_files: g.secret_files.clone(),
        secrets_dir: ws.secrets_dir().display().to_string(),
        previously_emitted: g.previously_emitted.clone(),
        rotate,
        rotate_jwt,
        recorded_owner: g.recorded_owner.clone(),
        rotate_owner,
        overlays: g.overlays.clone(),
        mode,
    };
    // A CSPRNG seeded once from the OS: one getrandom call instead of one per character.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    let plan = plan::plan(&config, inputs, &mut rng)?;
    let source = ws.source();
    let files = render::render(&plan, &source);
    let locks = render::lock_files(&plan);
    match command {
        Command::Check => {
            let secrets = render::secret_files(&plan, &source);
            check(&ws, &plan, &g, &locks, &files, &secrets)
        }
        _ => {
            let secrets = render::secret_files(&plan, &source);
            build(&ws, &plan, &g, &secrets, &locks, &files)
        }
    }
}

fn check(
    ws: &Workspace,
    plan: &plan::Plan<'_>,
    g: &Gathered,
    locks: &BTreeMap<String, String>,
    files: &BTreeMap<String, String>,
    secrets: &BTreeMap<String, String>,
) -> Result<i32> {
    let out = ws.read_out(files)?;
    let lock_names = g.lock_files.keys().cloned().collect();
    let locks_label = format!("{}/", ws.locks_dir().display());
    let out_label = format!("{}/", ws.out.display());
    let lock_drift = report::drift(&g.lock_files, locks, &lock_names, &locks_label);
    let drift = report::drift(&out.files, files, &out.previous, &out_label);
    // The plan a reviewer reads first: one line per app, then what build would still decide.
    for line in report::summary(plan.config, plan, &out.files, files) {
        println!("{line}");
    }
    for p in &plan.pending {
        println!("pending: {p}");
    }
    let mut drifted = !plan.pending.is_empty() || !lock_drift.is_empty() || !drift.is_empty();
    if let Some(legacy) = &g.legacy_lock {
        println!(
            "migrate: {} is replaced by {}/<app>.lock by `postgrest-gen build`",
            legacy.display(),
            ws.locks_dir().display()
        );
        drifted = true;
    }
    print!("{}{}", lock_drift.diff, drift.diff);
    for (dir, d) in [(ws.locks_dir(), &lock_drift), (ws.out.clone(), &drift)] {
        for m in &d.missing {
            println!("add: {}/{m}", dir.display());
        }
        for s in &d.stale {
            println!("remove: {}/{s}", dir.display());
        }
        for c in &d.changed {
            println!("change: {}/{c}", dir.display());
        }
    }
    // secrets/ too (never committed, so not drift), by name only: it holds plaintext.
    let secrets_dir = ws.secrets_dir();
    // (What is in secrets/ was read by the gather step.)
    let new_secrets: BTreeSet<&String> = secrets
        .keys()
        .filter(|n| !g.secret_files.contains_key(*n))
        .chain(&plan.pending_secret_files)
        .collect();
    for name in new_secrets {
        println!(
            "secrets: write {}/{name} (plaintext, gitignored; not shown)",
            secrets_dir.display()
        );
    }
    // (The plan lists only files the gather step found.)
    for name in &plan.secrets_to_remove {
        println!(
            "secrets: remove {}/{name} (the only copy of a plaintext password: copy it first if it is still needed)",
            secrets_dir.display()
        );
    }
    if drifted {
        println!(
            "{} is out of date: run `postgrest-gen build` and commit the result",
            ws.out.display()
        );
        Ok(EXIT_DRIFT)
    } else {
        println!(
            "{} is up to date ({} files, {} locks)",
            ws.out.display(),
            files.len(),
            locks.len()
        );
        Ok(0)
    }
}

fn build(
    ws: &Workspace,
    plan: &plan::Plan<'_>,
    g: &Gathered,
    secrets: &BTreeMap<String, String>,
    locks: &BTreeMap<String, String>,
    files: &BTreeMap<String, String>,
) -> Result<i32> {
    let secrets_dir = &ws.secrets_dir();
    // Order matters: plaintext first (a new password must survive a later failure), then the
    // lock that records its verifier, then out/. A crash in between is recovered next run.
    if !secrets.is_empty() {
        fs::create_dir_all(secrets_dir).map_err(|e| Error::io(secrets_dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(secrets_dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io(secrets_dir, e))?;
        }
        emit::write_if_changed(
            &secrets_dir.join(".gitignore"),
            "# Plaintext credentials: never commit.\n*\n",
            None,
            Durability::Durable,
        )?;
        for (name, contents) in secrets {
            emit::write_if_changed(
                &secrets_dir.join(name),
                contents,
                Some(0o600),
                Durability::Durable,
            )?;
        }
    }
    for name in &plan.secrets_to_remove {
        emit::remove_file(&secrets_dir.join(name))?;
    }
    let lock_outcome = emit::write_files(
        &ws.locks_dir(),
        locks,
        &g.lock_files.keys().cloned().collect(),
    )?;
    if let Some(legacy) = &g.legacy_lock {
        emit::remove_file(legacy)?;
        println!(
            "migrated {} to {}/<app>.lock (commit both the removal and the new files)",
            legacy.display(),
            ws.locks_dir().display()
        );
    }
    let outcome = emit::write_tree(&ws.out, files)?;
    for note in &plan.notes {
        println!("{note}");
    }
    // Name each change when there are few; a large rebuild is summarised (see `check`).
    if outcome.written.len() + outcome.removed.len() <= 40 {
        for w in &outcome.written {
            println!("wrote {}/{w}", ws.out.display());
        }
        for r in &outcome.removed {
            println!("removed {}/{r}", ws.out.display());
        }
    }
    for w in &lock_outcome.written {
        println!("wrote {}/{w}", ws.locks_dir().display());
    }
    for r in &lock_outcome.removed {
        println!("removed {}/{r}", ws.locks_dir().display());
    }
    println!(
        "{}: {} written, {} removed, {} unchanged",
        ws.out.display(),
        outcome.written.len(),
        outcome.removed.len(),
        outcome.unchanged
    );
    Ok(0)
}
