//! Render stage: the quoting filters templates must use for every interpolated value.
//!
//! Invariant: each filter's output is one token of its language whatever the input:
//! `sql_ident` a double-quoted identifier, `sql_literal` a string literal that parses the same
//! whatever `standard_conforming_strings` says, `yaml` a double-quoted YAML scalar.

/// `"name"` with embedded quotes doubled. NUL cannot be represented, so it is refused
/// (validation already refuses it; this is the last line of defence).
pub fn sql_ident(value: &str) -> Result<String, minijinja::Error> {
    if value.contains('\0') {
        return Err(bad("sql_ident", value));
    }
    Ok(format!("\"{}\"", value.replace('"', "\"\"")))
}

/// `'text'` with embedded quotes doubled. A value with a backslash becomes `E'...'` with the
/// backslashes doubled: a tenant can turn `standard_conforming_strings` off for its database,
/// and an escape string literal means the same under either setting (the scripts pin the
/// setting too; this does not rely on it).
pub fn sql_literal(value: &str) -> Result<String, minijinja::Error> {
    if value.contains('\0') {
        return Err(bad("sql_literal", value));
    }
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        Ok(format!("E'{}'", quoted.replace('\\', "\\\\")))
    } else {
        Ok(format!("'{quoted}'"))
    }
}

/// A JSON string, which is a valid YAML double-quoted scalar.
pub fn yaml(value: &str) -> String {
    serde_json::to_string(value).expect("strings always serialise")
}

/// A single-quoted POSIX shell word.
pub fn sh(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

fn bad(filter: &str, value: &str) -> minijinja::Error {
    minijinja::Error::new(
        minijinja::ErrorKind::InvalidOperation,
        format!("{filter}: value cannot be quoted safely: {value:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sql_ident("a\"b").unwrap(), "\"a\"\"b\"");
        assert_eq!(sql_literal("it's").unwrap(), "'it''s'");
        assert_eq!(sql_literal("a\\'; DROP").unwrap(), "E'a\\\\''; DROP'");
        assert_eq!(sql_literal("plain").unwrap(), "'plain'");
        assert!(sql_ident("a\0").is_err());
        assert_eq!(yaml("a: b\n#c"), "\"a: b\\n#c\"");
        let parsed: String = serde_yaml::from_str(&yaml("x\" \\ \t: {y}")).unwrap();
        assert_eq!(parsed, "x\" \\ \t: {y}");
    }
}
