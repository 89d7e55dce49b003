//! Render stage: the quoting filters templates must use for every interpolated value.
//!
//! Invariant: each filter's output is one token of its language whatever the input:
//! `sql_ident` a double-quoted identifier, `sql_literal` a standard-conforming string
//! literal, `yaml` a double-quoted YAML scalar.

/// `"name"` with embedded quotes doubled. NUL cannot be represented, so it is refused
/// (validation already refuses it; this is the last line of defence).
pub fn sql_ident(value: &str) -> Result<String, minijinja::Error> {
    if value.contains('\0') {
        return Err(bad("sql_ident", value));
    }
    Ok(format!("\"{}\"", value.replace('"', "\"\"")))
}

/// `'text'` with embedded quotes doubled; backslashes are literal under
/// `standard_conforming_strings` (the default since PostgreSQL 9.1), so an `E` prefix is
/// never produced and a value with a backslash is written as is.
pub fn sql_literal(value: &str) -> Result<String, minijinja::Error> {
    if value.contains('\0') {
        return Err(bad("sql_literal", value));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
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
        assert_eq!(sql_literal("a\\'; DROP").unwrap(), "'a\\''; DROP'");
        assert!(sql_ident("a\0").is_err());
        assert_eq!(yaml("a: b\n#c"), "\"a: b\\n#c\"");
        let parsed: String = serde_yaml::from_str(&yaml("x\" \\ \t: {y}")).unwrap();
        assert_eq!(parsed, "x\" \\ \t: {y}");
    }
}
