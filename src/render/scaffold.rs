//! `postgrest-gen init`: the files that start a GitOps repository, pure.
//!
//! Invariant: embedded verbatim (they hold `$(...)` and `${{ }}` meant for make and CI), and
//! the Makefile is the very one this source tree's own operator targets include, so what
//! `init` writes is what the tests run.

use std::collections::BTreeMap;

const FILES: &[(&str, &str)] = &[
    ("apps.toml", include_str!("../../templates/init/apps.toml")),
    ("Makefile", include_str!("../../templates/init/Makefile")),
    (".gitignore", include_str!("../../templates/init/gitignore")),
    (
        ".gitattributes",
        include_str!("../../templates/init/gitattributes"),
    ),
    (
        ".github/workflows/postgrest-gen.yml",
        include_str!("../../templates/init/ci.yml"),
    ),
    (
        "overlays/README.md",
        include_str!("../../templates/init/overlays-README.md"),
    ),
];

/// Relative path -> contents of every file `init` writes.
pub fn scaffold() -> BTreeMap<String, String> {
    FILES
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect()
}
