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
//!
//! A block that other blocks call with arguments (one query many blocks share, planned once)
//! is written `FUNCTION $tag$(name type, ...) RETURNS ...` on one line instead of `DO $tag$`;
//! its callers name it `pg_temp.{{ block|fn_name }}(...)`.

use sha2::{Digest, Sha256};

struct Block<'a> {
    comments: &'a str,
    tag: &'a str,
    /// `(name type, ...) RETURNS ...` of a `FUNCTION` block; `None` for a `DO` block.
    signature: Option<&'a str>,
    body: &'a str,
}

/// The first line starting with one of `starts`, as (its offset, the start it begins with).
fn first_line<'a>(text: &str, starts: &[&'a str]) -> Option<(usize, &'a str)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(start) = starts.iter().find(|s| line.starts_with(**s)) {
            return Some((offset, start));
        }
        offset += line.len();
    }
    None
}

fn parse(text: &str) -> Result<Block<'_>, minijinja::Error> {
    let (start, keyword) = first_line(text, &["DO $", "FUNCTION $"])
        .ok_or_else(|| bad("no `DO $tag$` or `FUNCTION $tag$(...)` line"))?;
    let rest = &text[start + keyword.len()..];
    let tag_len = rest.find('$').ok_or_else(|| bad("unterminated tag"))?;
    let tag = &rest[..tag_len];
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(bad("tag must be lowercase letters and _"));
    }
    let mut after = &rest[tag_len + 1..];
    let mut signature = None;
    if keyword == "FUNCTION $" {
        let line_end = after.find('\n').ok_or_else(|| bad("no body"))?;
        let sig = after[..line_end].trim();
        if !sig.starts_with('(') || !sig.contains(") RETURNS ") {
            return Err(bad(
                "`FUNCTION $tag$` takes `(name type, ...) RETURNS ...` on its line",
            ));
        }
        signature = Some(sig);
        after = &after[line_end..];
    }
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
        signature,
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

/// `<name>(<argument types>)`, what `to_regprocedure` looks the function up by.
pub fn fn_sig(text: &str) -> Result<String, minijinja::Error> {
    let block = parse(text)?;
    let name = fn_name(text)?;
    let types = match block.signature {
        None => String::new(),
        Some(sig) => {
            let args = &sig[1..sig.find(") RETURNS ").expect("checked by parse")];
            let mut types = Vec::new();
            for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                let (_, ty) = arg
                    .split_once(' ')
                    .ok_or_else(|| bad("an argument is `name type`"))?;
                types.push(ty.trim());
            }
            types.join(", ")
        }
    };
    Ok(format!("{name}({types})"))
}

/// The block as `CREATE OR REPLACE FUNCTION pg_temp.<name>(...) ... AS $tag$ ... $tag$`, its
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
        "CREATE OR REPLACE FUNCTION pg_temp.{name}{signature} LANGUAGE plpgsql AS ${tag}${body}${tag}$",
        signature = block.signature.unwrap_or("() RETURNS void"),
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
        assert_eq!(fn_sig(text).unwrap(), format!("{name}()"));
        assert!(fn_name("SELECT 1;").is_err());
        assert!(fn_name("DO $x$ BEGIN END $x$; SELECT 1;").is_err());
    }

    #[test]
    fn function_block_takes_arguments() {
        let text = "-- shared\nFUNCTION $acl$(part text, roles oid[]) RETURNS TABLE (x int)\nBEGIN\n  RETURN;\nEND\n$acl$;\n";
        let name = fn_name(text).unwrap();
        assert!(name.starts_with("postgrest_gen_acl_"), "{name}");
        assert_eq!(fn_sig(text).unwrap(), format!("{name}(text, oid[])"));
        assert_eq!(
            fn_create(text).unwrap(),
            format!("-- shared\nCREATE OR REPLACE FUNCTION pg_temp.{name}(part text, roles oid[]) RETURNS TABLE (x int) LANGUAGE plpgsql AS $acl$\nBEGIN\n  RETURN;\nEND\n$acl$")
        );
        assert!(fn_name("FUNCTION $acl$ RETURNS void\nBEGIN END\n$acl$;").is_err());
    }
}
