//! `main`: the command line, and the reads of every input the pure stages need
//! (apps.toml, the lock, `secrets/`, the sealing certificate, the clock, the CSPRNG).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use postgrest_gen::config::{self, names::AppName};
use postgrest_gen::credentials::lock::{self, Lock};
use postgrest_gen::credentials::seal::SealingKey;
use postgrest_gen::credentials::secret_file;
use postgrest_gen::emit::Durability;
use postgrest_gen::error::{Error, Result, EXIT_DRIFT};
use postgrest_gen::{emit, plan, render};

/// Compiles apps.toml into role SQL, secrets and Kustomize overlays for one PostgREST per app.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// The declarative input; the lock and secrets/ live beside it.
    #[arg(short, long, global = true, default_value = "apps.toml")]
    config: PathBuf,
    /// The generated tree (commit it).
    #[arg(short, long, global = true, default_value = "out")]
    out: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Clone)]
enum Command {
    /// Render and write out/ (only changed files), the lock, and new plaintext into secrets/.
    Build,
    /// Render in memory and compare with out/ and the lock; exit 1 with a diff on drift.
    Check,
    /// Validate apps.toml only; report every problem with file:line:col.
    Validate,
    /// Issue a new password for each APP: new verifier, sealed value and generation (rolls pods).
    Rotate {
        /// The apps whose password to rotate.
        #[arg(required = true)]
        apps: Vec<String>,
    },
}

fn main() -> ExitCode {
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

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn run(cli: &Cli) -> Result<i32> {
    let shown = cli.config.display().to_string();
    let text = read(&cli.config)?;
    let config = config::parse(&shown, &text)?;
    let command = cli.command.clone();
    if let Command::Validate = command {
        println!("{shown}: valid ({} apps)", config.apps.len());
        return Ok(0);
    }
    let base = cli
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let source = cli
        .config
        .file_name()
        .map_or("apps.toml".into(), |n| n.to_string_lossy().into_owned());
    let lock_path = base.join(lock::FILE_NAME);
    let lock_text = read_optional(&lock_path)?;
    let lock = match &lock_text {
        Some(t) => Lock::parse(&lock_path.display().to_string(), t).map_err(Error::Config)?,
        None => Lock::default(),
    };
    let secrets_dir = base.join("secrets");
    let mut secret_files = BTreeMap::new();
    for app in config.apps.keys() {
        let name = secret_file::file_name(app.as_str());
        if let Some(t) = read_optional(&secrets_dir.join(&name))? {
            secret_files.insert(name, t);
        }
    }
    let sealing_key = match &config.sealing {
        Some(s) => {
            let path = base.join(&s.cert);
            let pem = fs::read(&path).map_err(|e| {
                Error::Input(format!("{}: cannot read the sealing certificate ({e}); fetch it with `kubeseal --fetch-cert > {}`", path.display(), path.display()))
            })?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Some(
                SealingKey::from_pem(&path.display().to_string(), &pem, now)
                    .map_err(Error::Input)?,
            )
        }
        None => None,
    };
    let previously_emitted: BTreeSet<String> = emit::previous_manifest(&cli.out)?
        .iter()
        // Only a present app (one with apply.sql) has a password in use.
        .filter_map(|p| {
            p.strip_prefix("apps/")?
                .strip_suffix("/sql/apply.sql")
                .map(str::to_owned)
        })
        .collect();
    let rotate = match &command {
        Command::Rotate { apps } => apps
            .iter()
            .map(|a| AppName::parse(a).map_err(Error::Input))
            .collect::<Result<_>>()?,
        _ => Vec::new(),
    };
    let mode = if let Command::Check = command {
        plan::Mode::Check
    } else {
        plan::Mode::Build
    };
    let inputs = plan::Inputs {
        lock,
        sealing_key: sealing_key.as_ref(),
        secret_files,
        previously_emitted,
        rotate,
        mode,
    };
    // A CSPRNG seeded once from the OS: one getrandom call instead of one per character.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    let plan = plan::plan(&config, inputs, &mut rng)?;
    let files = render::render(&plan, &source);
    let secrets = render::secret_files(&plan, &source);
    match command {
        Command::Check => check(cli, &plan, &lock_text, &files),
        _ => build(
            cli,
            &plan,
            &secrets,
            &lock_path,
            &lock_text,
            &secrets_dir,
            &files,
        ),
    }
}

fn check(
    cli: &Cli,
    plan: &plan::Plan<'_>,
    lock_text: &Option<String>,
    files: &BTreeMap<String, String>,
) -> Result<i32> {
    let mut drifted = !plan.pending.is_empty();
    for p in &plan.pending {
        println!("pending: {p}");
    }
    if plan.pending.is_empty() && lock_text.as_deref() != Some(plan.lock.render().as_str()) {
        println!(
            "pending: {} is not what build would write; run `postgrest-gen build`",
            lock::FILE_NAME
        );
        drifted = true;
    }
    let drift = emit::diff_tree(&cli.out, files)?;
    print!("{}", drift.diff);
    for m in &drift.missing {
        println!("missing: {}/{m}", cli.out.display());
    }
    for s in &drift.stale {
        println!("stale: {}/{s}", cli.out.display());
    }
    for c in &drift.changed {
        println!("changed: {}/{c}", cli.out.display());
    }
    if drifted || !drift.is_empty() {
        println!(
            "{} is out of date: run `postgrest-gen build` and commit the result",
            cli.out.display()
        );
        Ok(EXIT_DRIFT)
    } else {
        println!(
            "{} is up to date ({} files)",
            cli.out.display(),
            files.len()
        );
        Ok(0)
    }
}

fn build(
    cli: &Cli,
    plan: &plan::Plan<'_>,
    secrets: &BTreeMap<String, String>,
    lock_path: &Path,
    lock_text: &Option<String>,
    secrets_dir: &Path,
    files: &BTreeMap<String, String>,
) -> Result<i32> {
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
    let new_lock = plan.lock.render();
    if lock_text.as_deref() != Some(new_lock.as_str()) {
        emit::write_if_changed(lock_path, &new_lock, None, Durability::Durable)?;
    }
    let outcome = emit::write_tree(&cli.out, files)?;
    for note in &plan.notes {
        println!("{note}");
    }
    // Name each change when there are few; a large rebuild is summarised (see `check`).
    if outcome.written.len() + outcome.removed.len() <= 40 {
        for w in &outcome.written {
            println!("wrote {}/{w}", cli.out.display());
        }
        for r in &outcome.removed {
            println!("removed {}/{r}", cli.out.display());
        }
    }
    println!(
        "{}: {} written, {} removed, {} unchanged",
        cli.out.display(),
        outcome.written.len(),
        outcome.removed.len(),
        outcome.unchanged
    );
    Ok(0)
}
