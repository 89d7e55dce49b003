//! Load and validate stages: `apps.toml` text in, validated `Config` out, no I/O.

pub mod load;
pub mod model;
pub mod names;
pub mod raw;
pub mod validate;

pub use load::Source;
pub use model::{App, Config, Ensure, Scope};

use crate::error::Error;

/// Parses and validates `text` (the contents of `file`), reporting every problem at once.
pub fn parse(file: &str, text: &str) -> Result<Config, Error> {
    let src = Source { file, text };
    let sorted = |mut d: Vec<crate::error::Diagnostic>| {
        d.sort();
        d.dedup();
        Error::Config(d)
    };
    let (raw, mut diags) = load::load(&src).map_err(sorted)?;
    match validate::validate(&src, &raw) {
        Ok(config) if diags.is_empty() => Ok(config),
        Ok(_) => Err(sorted(diags)),
        Err(more) => {
            diags.extend(more);
            Err(sorted(diags))
        }
    }
}
