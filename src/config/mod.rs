//! Load and validate stages: `apps.toml` text in, validated `Config` out, no I/O.

pub mod load;
pub mod model;
pub mod names;
pub mod raw;
pub mod validate;

pub use load::Source;
pub use model::{App, Config, Ensure, JwtSecret, Privilege, Scope};

use crate::error::Error;

/// Parses and validates `text` (the contents of `file`), reporting every problem at once.
/// Files named in it (a JWKS) cannot be read: use [`parse_with`] for those.
pub fn parse(file: &str, text: &str) -> Result<Config, Error> {
    parse_with(file, text, &|_: &str| {
        Err("files named in apps.toml are not read here".to_owned())
    })
}

/// [`parse`], reading the files apps.toml names (relative to its folder) through `read`.
pub fn parse_with(file: &str, text: &str, read: validate::ReadFile<'_>) -> Result<Config, Error> {
    let src = Source { file, text };
    let sorted = |mut d: Vec<crate::error::Diagnostic>| {
        d.sort();
        d.dedup();
        Error::Config(d)
    };
    let (raw, mut diags) = load::load(&src).map_err(sorted)?;
    match validate::validate(&src, &raw, read) {
        Ok(config) if diags.is_empty() => Ok(config),
        Ok(_) => Err(sorted(diags)),
        Err(more) => {
            diags.extend(more);
            Err(sorted(diags))
        }
    }
}
