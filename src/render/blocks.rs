//! Render stage: PL/pgSQL blocks as session-cached functions.
//!
//! Every block of the role SQL is written once as `DO $tag$ ... $tag$;`. A `DO` block is
//! compiled, and each of its queries parsed and planned, every time it runs, and for these
//! blocks that is most of an app's cost (measured: about 35 of 40 ms for verify's checks). So
//! the scripts define each block as a function in the session's own temporary schema, named by
//! a hash of its text, and call it: one `psql` session walking a database's apps compiles each
//! block once and reuses its plans, and a changed block (another version of the tool, apply
//! against purge) gets another name. The bodies take nothing from the app (every value comes
//! from the transaction's settings), so the apps of a database share them.

use sha2::{Digest, Sha256};

struct Block<'a> {
    comments: &'a str,
    tag: &'a str,
    body: &'a str,
}

fn parse(text: &str) -> Result<Block<'_>, minijinja::Error> {
    let start = text
        .find("DO $")
        .filter(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .ok_or_else(|| bad("no `DO $tag$` line"))?;
    let rest = &text[start + 4..];
    let tag_len = rest.find('$').ok_or_else(|| bad("unterminated tag"))?;
    let tag = &rest[..tag_len];
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(bad("tag must be lowercase letters and _"));
    }
    let after = &rest[tag_len + 1..];
    let end_marker = format!("\n${tag}$;");
    let end = after
        .rfind(&end_marker)
        .ok_or_else(|| bad("no closing `$tag$;` line"))?;
    if !after[end + end_marker.len()..].trim().is_empty() {
        return Err(bad("text after the block"));
    }
    Ok(Block {
        comments: text[..start].trim_end(),
        tag,
        body: &after[..end + 1],
    })
}

fn bad(why: &str) -> minijinja::Error {
    minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!("PL/pgSQL block: {why}"),
    )
}

/// `postgrest_gen_<tag>_<first 16 hex digits of the block's SHA-256>`.
pub fn fn_name(text: &str) -> Result<String, minijinja::Error> {
    let block = parse(text)?;
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("postgrest_gen_{}_{hex}", block.tag))
}

/// The block as `CREATE OR REPLACE FUNCTION pg_temp.<name>() ... AS $tag$ ... $tag$`, its
/// comments kept, without the final semicolon (the caller joins several into one query).
pub fn fn_create(text: &str) -> Result<String, minijinja::Error> {
    let block = parse(text)?;
    let name = fn_name(text)?;
    let mut out = String::new();
    if !block.comments.is_empty() {
        out.push_str(block.comments);
        out.push('\n');
    }
    out.push_str(&format!(
        "CREATE OR REPLACE FUNCTION pg_temp.{name}() RETURNS void LANGUAGE plpgsql AS ${tag}${body}${tag}$",
        tag = block.tag,
        body = block.body
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_becomes_function() {
        let text = "-- why\nDO $x_y$\nBEGIN\n  NULL;\nEND\n$x_y$;\n";
        let name = fn_name(text).unwrap();
        assert!(name.starts_with("postgrest_gen_x_y_"), "{name}");
        assert_eq!(name.len(), "postgrest_gen_x_y_".len() + 16);
        assert_eq!(
            fn_create(text).unwrap(),
            format!("-- why\nCREATE OR REPLACE FUNCTION pg_temp.{name}() RETURNS void LANGUAGE plpgsql AS $x_y$\nBEGIN\n  NULL;\nEND\n$x_y$")
        );
        assert_ne!(fn_name(&text.replace("NULL", "NULL ")).unwrap(), name);
        assert!(fn_name("SELECT 1;").is_err());
        assert!(fn_name("DO $x$ BEGIN END $x$; SELECT 1;").is_err());
    }
}
