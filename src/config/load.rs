//! Load stage: `apps.toml` text to the raw serde mirror, pure (the caller reads the file).
//!
//! Invariant: each section (`[defaults]`, `[sealing]`, every `[apps.<name>]`) is
//! deserialized on its own, so one broken table does not hide the errors of the others.
//! Every error carries `file:line:col`.

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::raw::{RawApp, RawDefaults, RawSealing};
use crate::error::Diagnostic;

const TOP_LEVEL: &[&str] = &["defaults", "sealing", "apps"];

#[derive(Debug, Default)]
pub struct RawConfig {
    pub defaults: RawDefaults,
    pub sealing: Option<RawSealing>,
    /// App name (with the span of its key) and its table (with the span of the table).
    pub apps: Vec<(Spanned<String>, Spanned<RawApp>)>,
    /// `table.key` of every key dropped for its type (already reported): validation does
    /// not report it again as missing.
    pub unreadable: std::collections::BTreeSet<String>,
}

pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn diag(&self, at: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self.file, self.text, at, message)
    }
}

/// The raw mirror of everything readable, and every problem found on the way: tables with
/// unknown keys or ill-typed values still yield their other keys, so validation can report
/// its own problems in the same round.
pub fn load(src: &Source<'_>) -> Result<(RawConfig, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let doc = match DeTable::parse(src.text) {
        Ok(doc) => doc,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            let msg = e.message().trim_end().to_owned();
            return Err(vec![src.diag(at, format!("malformed TOML: {msg}"))]);
        }
    };
    let mut raw = RawConfig::default();
    for (key, value) in doc.get_ref() {
        match key.get_ref().as_ref() {
            "defaults" => {
                if let Some(d) =
                    section::<RawDefaults>(src, "defaults", value, &mut diags, &mut raw.unreadable)
                {
                    raw.defaults = d;
                }
            }
            "sealing" => {
                raw.sealing =
                    section::<RawSealing>(src, "sealing", value, &mut diags, &mut raw.unreadable)
            }
            "apps" => match value.get_ref() {
                DeValue::Table(apps) => {
                    for (name, table) in apps {
                        let ctx = format!("apps.{}", name.get_ref());
                        if !matches!(table.get_ref(), DeValue::Table(_)) {
                            diags.push(src.diag(
                                table.span().start,
                                format!("`{ctx}` must be a table `[{ctx}]`"),
                            ));
                            continue;
                        }
                        if let Some(app) =
                            section::<RawApp>(src, &ctx, table, &mut diags, &mut raw.unreadable)
                        {
                            let key = Spanned::new(name.span(), name.get_ref().to_string());
                            raw.apps.push((key, Spanned::new(table.span(), app)));
                        }
                    }
                }
                _ => diags.push(src.diag(
                    value.span().start,
                    "`apps` must be a table of `[apps.<name>]` tables",
                )),
            },
            other => diags.push(src.diag(key.span().start, unknown_key(other, TOP_LEVEL, None))),
        }
    }
    Ok((raw, diags))
}

/// Deserializes one table. Unknown keys are all reported first (serde alone would stop at
/// the first one), then dropped so that type errors in the remaining keys surface too; each
/// ill-typed key is reported and dropped in turn, so the rest of the table is still read.
fn section<T: DeserializeOwned>(
    src: &Source<'_>,
    ctx: &str,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
    unreadable: &mut std::collections::BTreeSet<String>,
) -> Option<T> {
    let mut value = value.clone();
    let known = fields::<T>();
    if let DeValue::Table(table) = value.get_mut() {
        let unknown: Vec<_> = table
            .keys()
            .filter(|k| !known.contains(&k.get_ref().as_ref()))
            .cloned()
            .collect();
        for key in unknown {
            diags.push(src.diag(
                key.span().start,
                unknown_key(key.get_ref(), known, Some(ctx)),
            ));
            table.remove(&key);
        }
    }
    let mut dropped: Vec<String> = Vec::new();
    loop {
        match T::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(v) => return Some(v),
            // A required key we dropped for its type: already reported.
            Err(e)
                if dropped
                    .iter()
                    .any(|k| e.message().contains(&format!("missing field `{k}`"))) =>
            {
                return None
            }
            Err(e) => {
                let at = e.span().map_or(value.span().start, |s| s.start);
                diags.push(src.diag(at, explain(ctx, e.message())));
                // Drop the key the error is in and read the rest; a table whose error is
                // not in one key (a missing required key) stops here.
                let DeValue::Table(table) = value.get_mut() else {
                    return None;
                };
                let culprit = e.span().and_then(|span| {
                    table
                        .iter()
                        .find(|(k, v)| {
                            let (k, v) = (k.span(), v.span());
                            (k.start <= span.start && span.start < v.end.max(k.end))
                                || (v.start <= span.start && span.start < v.end)
                        })
                        .map(|(k, _)| k.clone())
                });
                match culprit {
                    Some(key) => {
                        dropped.push(key.get_ref().to_string());
                        unreadable.insert(format!("{ctx}.{}", key.get_ref()));
                        table.remove(&key);
                    }
                    None => return None,
                }
            }
        }
    }
}

/// The field names serde expects for `T`, read from its derived `Deserialize` impl.
fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("probe")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Probe {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.expect("raw config sections are structs")
}

/// Rewrites serde's messages into ones that name the table and suggest the fix.
fn explain(ctx: &str, message: &str) -> String {
    let ticked: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if message.starts_with("unknown field") {
        if let Some((unknown, expected)) = ticked.split_first() {
            return unknown_key(unknown, expected, Some(ctx));
        }
    }
    if message.starts_with("missing field") {
        if let Some(field) = ticked.first() {
            return format!("[{ctx}] is missing the required key `{field}`");
        }
    }
    let message = message.trim_end().replace("i64", "an integer").replace(
        "struct RawAutoscale",
        "a table such as `{ min = 2, max = 6, cpu-percent = 70 }`",
    );
    format!("in [{ctx}]: {message}")
}

fn unknown_key(key: &str, expected: &[&str], ctx: Option<&str>) -> String {
    let place = ctx.map_or("at the top level".to_owned(), |c| format!("in [{c}]"));
    let best = expected
        .iter()
        .map(|e| (strsim::damerau_levenshtein(key, e), *e))
        .min()
        .filter(|(d, e)| *d <= 2.max(e.len() / 3) || key.replace('_', "-") == **e);
    match best {
        Some((_, e)) => format!("unknown key `{key}` {place}; did you mean `{e}`?"),
        None => format!(
            "unknown key `{key}` {place}; expected one of: {}",
            expected.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            unknown_key("url-prefx", &["database", "url-prefix"], Some("apps.a")),
            "unknown key `url-prefx` in [apps.a]; did you mean `url-prefix`?"
        );
        assert!(unknown_key("db_host", &["db-host"], None).contains("did you mean `db-host`"));
        assert!(unknown_key("zzz", &["database"], None).contains("expected one of: database"));
    }
}
