//! The one error type of every stage, and the exit codes `main` maps it to.
//!
//! Invariant: every message says what is wrong, where (file, and line:col when known) and
//! how to fix it; `Display` prints it ready for the terminal.

use std::fmt;
use std::path::PathBuf;

/// Exit codes: 0 ok, 1 `check` found drift, 2 invalid input or usage (and failed I/O).
pub const EXIT_DRIFT: i32 = 1;
pub const EXIT_INVALID: i32 = 2;

/// A problem at a place in an input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl Diagnostic {
    /// Locates byte offset `at` of `text` as 1-based line and column (in characters).
    pub fn at(file: &str, text: &str, at: usize, message: impl Into<String>) -> Self {
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        Self {
            file: file.to_owned(),
            line,
            col,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

#[derive(Debug)]
pub enum Error {
    /// `apps.toml` (or the lock file) is invalid; all problems found, sorted by position.
    Config(Vec<Diagnostic>),
    /// Other invalid input: certificate, secrets folder, command-line usage.
    Input(String),
    /// Reading or writing a file failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
    pub fn exit_code(&self) -> i32 {
        EXIT_INVALID
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(diags) => {
                for d in diags {
                    writeln!(f, "error: {d}")?;
                }
                let n = diags.len();
                write!(
                    f,
                    "{n} error{} found; nothing was written",
                    if n == 1 { "" } else { "s" }
                )
            }
            Error::Input(msg) => f.write_str(msg),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
