//! Validate stage: newtypes for every name that reaches SQL, YAML or a URL.
//!
//! Invariant: a value of these types has passed its constructor's check, so templates can
//! rely on it; quoting filters still escape it, because "valid" is not "needs no quoting".

use std::fmt;

/// Longest identifier PostgreSQL keeps; longer ones are silently truncated.
pub const PG_IDENT_MAX: usize = 63;
/// Longest Kubernetes object name that is also a DNS label (Services need that).
pub const K8S_LABEL_MAX: usize = 63;
const AUTHENTICATOR_SUFFIX: &str = "_authenticator";
const OBJECT_SUFFIX: &str = "-postgrest";

/// Role names PostgreSQL refuses or treats specially, besides the `pg_` prefix, and the
/// administrator roles of common installations and hosted services: an owner's views run
/// with the owner's rights, and `ALTER DEFAULT PRIVILEGES FOR ROLE <owner>` would expose
/// whatever such a role creates in the schema later.
const RESERVED_ROLES: &[&str] = &[
    "public",
    "none",
    "current_user",
    "session_user",
    "current_role",
    "postgres",
    // Amazon RDS / Aurora
    "rdsadmin",
    "rds_superuser",
    "rds_replication",
    "rds_password",
    // Google Cloud SQL
    "cloudsqladmin",
    "cloudsqlsuperuser",
    "cloudsqlreplica",
    "cloudsqlagent",
    // Azure Database for PostgreSQL
    "azuresu",
    "azure_pg_admin",
    "azure_superuser",
];

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// An app name: a lowercase DNS label short enough for every derived role and object name.
    AppName
);
string_newtype!(
    /// A PostgreSQL identifier (database, schema or role) that is safe once quoted.
    PgIdent
);
string_newtype!(
    /// A Kubernetes DNS label (namespace, object name).
    DnsLabel
);
string_newtype!(
    /// A host name (dot-separated DNS labels) or IPv4 address.
    HostName
);
string_newtype!(
    /// The name of a Kubernetes object the user makes (a ConfigMap, a TLS Secret): a DNS
    /// subdomain.
    ObjectName
);
string_newtype!(
    /// A container image reference with a required tag and an optional digest.
    Image
);
string_newtype!(
    /// A browser origin `scheme://host[:port]`.
    Origin
);

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= K8S_LABEL_MAX
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_host(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

impl AppName {
    pub const MAX_LEN: usize = PG_IDENT_MAX - AUTHENTICATOR_SUFFIX.len();

    pub fn parse(s: &str) -> Result<Self, String> {
        if !is_dns_label(s) {
            return Err(format!(
                "app name `{}` is not a lowercase DNS label; use a-z, 0-9 and '-', starting and ending with a letter or digit",
                printable(s)
            ));
        }
        if !s.as_bytes()[0].is_ascii_lowercase() {
            return Err(format!(
                "app name `{s}` must start with a letter (it becomes a role name)"
            ));
        }
        if s.len() > Self::MAX_LEN {
            return Err(format!(
                "app name `{s}` is {} characters; at most {} fit, because `{}{AUTHENTICATOR_SUFFIX}` must stay within PostgreSQL's {PG_IDENT_MAX}-byte limit (and `<app>{OBJECT_SUFFIX}` within Kubernetes' {K8S_LABEL_MAX})",
                s.len(),
                Self::MAX_LEN,
                s
            ));
        }
        // Check the role names actually derived, not the spelling of the app name: `pg`
        // gives `pg_authenticator` just as `pg-x` gives `pg_x_authenticator`.
        let name = Self(s.to_owned());
        for role in [name.authenticator(), name.anon_role()] {
            if role.as_str().starts_with("pg_") {
                return Err(format!(
                    "app name `{s}` would give role `{role}`, and PostgreSQL reserves role names starting with `pg_` (CREATE ROLE refuses them); choose another name"
                ));
            }
        }
        Ok(name)
    }

    /// The app name as a role-name stem: '-' becomes '_'. Injective, since labels hold no '_'.
    pub fn role_stem(&self) -> String {
        self.0.replace('-', "_")
    }
    pub fn authenticator(&self) -> PgIdent {
        PgIdent(format!("{}{AUTHENTICATOR_SUFFIX}", self.role_stem()))
    }
    pub fn anon_role(&self) -> PgIdent {
        PgIdent(format!("{}_web_anon", self.role_stem()))
    }
    /// The PostgreSQL role of JWT role `name` (`[apps.<app>.jwt.roles.<name>]`):
    /// `<stem>_<name>`, checked like every role this tool creates.
    pub fn jwt_role(&self, name: &str) -> Result<PgIdent, String> {
        if !is_plain_schema(name) {
            return Err(format!(
                "JWT role name `{}` is not a plain lowercase identifier; use only a-z, 0-9 and '_', starting with a letter or '_' (it becomes part of a role name and a token's role claim)",
                printable(name)
            ));
        }
        if matches!(name, "authenticator" | "web_anon") {
            return Err(format!(
                "JWT role name `{name}` would give role `{}_{name}`, which is the app's own {} role; choose another name such as `web_user`",
                self.role_stem(),
                if name == "web_anon" { "anonymous" } else { "login" }
            ));
        }
        let role = format!("{}_{name}", self.role_stem());
        if role.len() > PG_IDENT_MAX {
            return Err(format!(
                "JWT role name `{name}` gives role `{role}` of {} bytes; PostgreSQL truncates identifiers over {PG_IDENT_MAX} bytes, so use at most {} bytes for this app",
                role.len(),
                PG_IDENT_MAX.saturating_sub(self.role_stem().len() + 1)
            ));
        }
        if role.starts_with("pg_") || RESERVED_ROLES.contains(&role.as_str()) {
            return Err(format!(
                "JWT role name `{name}` gives role `{role}`, which PostgreSQL reserves or a hosting provider uses for its administrators; choose another name"
            ));
        }
        PgIdent::parse(&role, IdentKind::Role)
    }
    pub fn object_name(&self) -> DnsLabel {
        DnsLabel(format!("{}{OBJECT_SUFFIX}", self.0))
    }
    pub fn default_owner(&self) -> PgIdent {
        PgIdent(self.role_stem())
    }
    pub fn default_url_prefix(&self) -> HostName {
        HostName(format!("api-{}", self.0))
    }
}

/// What an identifier names; the rules differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentKind {
    Database,
    /// The exposed schema: also a PostgREST setting and a Kubernetes env value, so it is
    /// held to [`is_plain_schema`], not only to what quoting makes safe in SQL.
    Schema,
    Role,
    /// A table or view name (smoke checks): reaches only SQL-free URLs, percent-encoded.
    Relation,
}

/// The rule for exposed schema names: a lowercase unquoted SQL identifier, `[a-z_][a-z0-9_]*`.
///
/// The name travels as text through places that give characters meaning: PostgREST splits
/// `PGRST_DB_SCHEMAS` (and `db-schemas`) on `,` and trims spaces around each item, so
/// `api_v1, public` would expose `public` too; Kubernetes expands `$(VAR)` and turns `$$` into
/// `$` in env values, so `$(DB_PASSWORD)` would put the password into the setting (and into
/// PostgREST's "schema must be one of" errors); clients name schemas in `Accept-Profile` and
/// `Content-Profile` headers, where quotes, spaces and non-ASCII do not survive reliably; and a
/// mixed-case or otherwise quoted name means another schema wherever someone writes it
/// unquoted (`SET search_path`). Allowing only what needs no quoting anywhere avoids
/// enumerating those languages one by one.
pub fn is_plain_schema(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Characters that render as nothing (or reorder the text around them) in an editor or a
/// diff: a name holding one looks like another name to the person reviewing apps.toml.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00A0}' | '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}'
        | '\u{180E}' | '\u{2000}'..='\u{200F}' | '\u{2028}'..='\u{202F}'
        | '\u{205F}'..='\u{206F}' | '\u{3000}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

impl PgIdent {
    pub fn parse(s: &str, kind: IdentKind) -> Result<Self, String> {
        let what = match kind {
            IdentKind::Database => "database",
            IdentKind::Schema => "schema",
            IdentKind::Role => "role",
            IdentKind::Relation => "view",
        };
        if s.is_empty() {
            return Err(format!("{what} name is empty"));
        }
        if s.len() > PG_IDENT_MAX {
            return Err(format!(
                "{what} name is {} bytes; PostgreSQL truncates identifiers over {PG_IDENT_MAX} bytes",
                s.len()
            ));
        }
        if s.chars().any(|c| c.is_control()) || s.trim() != s {
            return Err(format!(
                "{what} name `{}` contains control characters or surrounding spaces; use a plain identifier",
                printable(s)
            ));
        }
        if let Some(c) = s.chars().find(|&c| is_invisible(c)) {
            return Err(format!(
                "{what} name `{}` contains U+{:04X}, an invisible, space-like or text-direction character, so it would read as another name in review; use plain characters",
                printable(s),
                u32::from(c)
            ));
        }
        if kind == IdentKind::Schema && !is_plain_schema(s) {
            return Err(format!(
                "schema `{}` is not a plain lowercase identifier; use only a-z, 0-9 and '_', starting with a letter or '_' (PostgREST splits its schema list on ',' and trims spaces, and Kubernetes expands `$(...)` in env values, so other characters could expose a different schema)",
                printable(s)
            ));
        }
        let lower = s.to_ascii_lowercase();
        match kind {
            IdentKind::Schema if lower.starts_with("pg_") || lower == "information_schema" => {
                return Err(format!(
                    "schema `{s}` is a system schema; expose a dedicated schema such as `api_v1`"
                ))
            }
            IdentKind::Schema if lower == "public" => {
                return Err(
                    "schema `public` is not a curated schema; expose a dedicated schema such as `api_v1`"
                        .into(),
                )
            }
            IdentKind::Database if matches!(lower.as_str(), "template0" | "template1") => {
                return Err(format!("database `{s}` is a template database; name the app's own database"))
            }
            IdentKind::Role if lower.starts_with("pg_") => {
                return Err(format!("role `{s}` starts with `pg_`, which PostgreSQL reserves"))
            }
            IdentKind::Role if RESERVED_ROLES.contains(&lower.as_str()) => {
                return Err(format!(
                    "role `{s}` is reserved, a superuser or a hosting provider's administrator role; the owner must be the app's own role"
                ))
            }
            _ => {}
        }
        Ok(Self(s.to_owned()))
    }
}

impl DnsLabel {
    pub fn parse(s: &str, what: &str) -> Result<Self, String> {
        if is_dns_label(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "{what} `{}` is not a DNS label (a-z, 0-9, '-', at most {K8S_LABEL_MAX} characters, no leading or trailing '-')",
                printable(s)
            ))
        }
    }
}

impl HostName {
    pub fn parse(s: &str, what: &str) -> Result<Self, String> {
        if is_host(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "{what} `{}` is not a host name (dot-separated lowercase DNS labels, at most 253 characters)",
                printable(s)
            ))
        }
    }
    /// The prefix with its dots escaped, for the `HostRegexp` rule.
    pub fn regex_escaped(&self) -> String {
        self.0.replace('.', "\\.")
    }
}

impl ObjectName {
    pub fn parse(s: &str, what: &str) -> Result<Self, String> {
        if is_host(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "{what} `{}` is not a Kubernetes object name (lowercase a-z, 0-9, '-' and '.', at most 253 characters, starting and ending with a letter or digit)",
                printable(s)
            ))
        }
    }
}

impl HostName {
    /// A public DNS name for a `Host()` rule: at least two labels and not an IPv4 address.
    pub fn parse_dns_name(s: &str, what: &str) -> Result<Self, String> {
        let labels: Vec<&str> = s.split('.').collect();
        let numeric = labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
        if is_host(s) && labels.len() >= 2 && !numeric {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "{what} `{}` is not a DNS name (at least two dot-separated lowercase labels of a-z, 0-9 and '-', such as `api.atlas.example.no`; no IP address, port, scheme or wildcard)",
                printable(s)
            ))
        }
    }
}

impl Image {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (s, None),
        };
        if let Some(d) = digest {
            let hex = d.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64
                || !hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(format!(
                    "image `{}` has a malformed digest; use `@sha256:` followed by 64 lowercase hex digits",
                    printable(s)
                ));
            }
        }
        // The tag is after the last ':' that follows the last '/' (a registry may carry a port).
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let Some(colon) = name_tag[last_slash..].rfind(':').map(|i| i + last_slash) else {
            return Err(format!(
                "image `{}` has no tag; pin a version such as `postgrest/postgrest:v14.10`",
                printable(s)
            ));
        };
        let (repo, tag) = (&name_tag[..colon], &name_tag[colon + 1..]);
        // A ':' in the repository is only a registry port (`reg:5000/x`); anywhere else
        // (`x:v1:v2`) the reference is not what the tag we label with suggests.
        let components: Vec<&str> = repo.split('/').collect();
        let repo_ok = !repo.is_empty()
            && repo.len() <= 255
            && repo
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/:".contains(&b))
            && !repo.starts_with(['/', '.', '-'])
            && components.iter().all(|c| !c.is_empty())
            && components
                .iter()
                .enumerate()
                .all(|(i, c)| match c.split_once(':') {
                    None => true,
                    Some((host, port)) => {
                        i == 0
                            && components.len() > 1
                            && !host.is_empty()
                            && !port.is_empty()
                            && port.bytes().all(|b| b.is_ascii_digit())
                    }
                });
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !repo_ok || !tag_ok {
            return Err(format!(
                "image `{}` is not a valid image reference `repository:tag[@sha256:digest]`",
                printable(s)
            ));
        }
        if tag == "latest" {
            return Err(format!(
                "image `{s}` uses the `latest` tag, which is not reproducible; pin a version such as `postgrest/postgrest:v14.10`"
            ));
        }
        if let Err(why) = label_value(tag) {
            return Err(format!(
                "image tag `{tag}` {why}, so it cannot be the value of label `app.kubernetes.io/version` (Kubernetes refuses the manifests); a label value is at most {K8S_LABEL_MAX} characters, begins and ends with a letter or digit and has only letters, digits, '-', '_' and '.' between"
            ));
        }
        Ok(Self(s.to_owned()))
    }
    /// The tag, for the `app.kubernetes.io/version` label (valid label value by construction).
    pub fn tag(&self) -> &str {
        let name_tag = self.0.split('@').next().unwrap_or_default();
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let colon = name_tag[last_slash..]
            .rfind(':')
            .map_or(0, |i| i + last_slash + 1);
        &name_tag[colon..]
    }
}

impl Origin {
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        let ok = rest.is_some_and(|r| {
            let (host, port) = match r.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (r, None),
            };
            is_host(host)
                && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0) && !p.starts_with('0'))
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "CORS origin `{}` is not `http(s)://host[:port]` (lowercase host, no path, no trailing '/', no '*')",
                printable(s)
            ))
        }
    }
}

/// Whether `s` is a non-empty Kubernetes label value; `Err` says why not, as a clause.
/// (An empty value is valid in Kubernetes, but an image tag is never empty here.)
fn label_value(s: &str) -> Result<(), String> {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if s.len() > K8S_LABEL_MAX {
        Err(format!("is {} characters", s.len()))
    } else if let Some(c) = s.chars().find(|&c| !alnum(c) && !"-_.".contains(c)) {
        Err(format!("contains `{}`", c.escape_default()))
    } else if !s.starts_with(alnum) {
        Err(format!("begins with `{}`", &s[..1]))
    } else if !s.ends_with(alnum) {
        Err(format!("ends with `{}`", &s[s.len() - 1..]))
    } else {
        Ok(())
    }
}

/// A value as it can be shown in a message: control characters escaped, long ones cut.
pub fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(80).flat_map(char::escape_default).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        assert!(AppName::parse("atlas").is_ok());
        assert!(AppName::parse("my-app2").is_ok());
        for bad in [
            "",
            "Atlas",
            "a_b",
            "-a",
            "a-",
            "1abc",
            "pg-x",
            "pg",
            "a b",
            "a\"b",
            &"a".repeat(50),
        ] {
            assert!(AppName::parse(bad).is_err(), "{bad:?} accepted");
        }
        let longest = "a".repeat(AppName::MAX_LEN);
        let n = AppName::parse(&longest).unwrap();
        assert_eq!(n.authenticator().as_str().len(), PG_IDENT_MAX);
        assert!(n.object_name().as_str().len() <= K8S_LABEL_MAX);
        assert_eq!(
            AppName::parse("my-app").unwrap().anon_role().as_str(),
            "my_app_web_anon"
        );
    }

    #[test]
    fn jwt_roles() {
        let app = AppName::parse("my-app").unwrap();
        assert_eq!(
            app.jwt_role("web_user").unwrap().as_str(),
            "my_app_web_user"
        );
        for bad in [
            "",
            "Web",
            "web-user",
            "web user",
            "authenticator",
            "web_anon",
            "1x",
        ] {
            assert!(app.jwt_role(bad).is_err(), "{bad:?} accepted");
        }
        assert!(app.jwt_role(&"x".repeat(63 - 7)).is_ok());
        assert!(app.jwt_role(&"x".repeat(63 - 6)).is_err());
        let rds = AppName::parse("rds").unwrap();
        assert!(
            rds.jwt_role("superuser").is_err(),
            "rds_superuser is a provider's role"
        );
    }

    #[test]
    fn identifiers() {
        assert!(PgIdent::parse("Weird \"name\"", IdentKind::Database).is_ok());
        assert!(PgIdent::parse("pg_catalog", IdentKind::Schema).is_err());
        assert!(PgIdent::parse("public", IdentKind::Schema).is_err());
        assert!(PgIdent::parse("PG_toast", IdentKind::Schema).is_err());
        assert!(PgIdent::parse("pg_monitor", IdentKind::Role).is_err());
        assert!(PgIdent::parse("a\0b", IdentKind::Role).is_err());
        assert!(PgIdent::parse(&"x".repeat(64), IdentKind::Role).is_err());
        assert!(PgIdent::parse("template1", IdentKind::Database).is_err());
        assert!(PgIdent::parse("rds_superuser", IdentKind::Role).is_err());
        assert!(PgIdent::parse("Current_User", IdentKind::Role).is_err());
        // Invisible and direction characters would make a name read as another.
        for bad in [
            "atlas\u{200b}",
            "at\u{00ad}las",
            "\u{202e}atlas",
            "atlas\u{feff}",
        ] {
            assert!(
                PgIdent::parse(bad, IdentKind::Role).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(PgIdent::parse("målinger", IdentKind::Database).is_ok());
    }

    #[test]
    fn schemas() {
        for ok in ["api_v1", "_api", "a", "public_api"] {
            assert!(
                PgIdent::parse(ok, IdentKind::Schema).is_ok(),
                "{ok} refused"
            );
        }
        for bad in [
            "api_v1,public",
            "api_v1, public",
            "api v1",
            "$(DB_PASSWORD)",
            "api$$v1",
            "\"api\"",
            "'api'",
            "Api",
            "api_vé",
            "1api",
            "api-v1",
            "api.v1",
            "api;v1",
            "api\\v1",
        ] {
            assert!(
                PgIdent::parse(bad, IdentKind::Schema).is_err(),
                "{bad:?} accepted"
            );
        }
        // View names (smoke checks) are only percent-encoded into a URL: not held to it.
        for ok in ["Places", "pg_stats", "public", "places raw"] {
            assert!(
                PgIdent::parse(ok, IdentKind::Relation).is_ok(),
                "{ok} refused"
            );
        }
    }

    #[test]
    fn images() {
        assert_eq!(
            Image::parse("postgrest/postgrest:v14.10").unwrap().tag(),
            "v14.10"
        );
        let d = format!(
            "reg:5000/postgrest/postgrest:v14.10@sha256:{}",
            "a".repeat(64)
        );
        assert_eq!(Image::parse(&d).unwrap().tag(), "v14.10");
        for bad in [
            "postgrest/postgrest",
            "postgrest/postgrest:latest",
            "reg:5000/x",
            "x:v1@sha256:zz",
            "X:1",
            "x:1 2",
            "x:v14.10-",
            "x:v14.10.",
            "x:v14.10_",
            "x:_v14",
            "x:v1:v2",
            "reg:5000:1/x:v1",
            "reg//x:v1",
            &format!("x:v{}", "1".repeat(63)),
        ] {
            assert!(Image::parse(bad).is_err(), "{bad} accepted");
        }
        let longest = format!("x:v{}", "1".repeat(62));
        assert_eq!(Image::parse(&longest).unwrap().tag().len(), K8S_LABEL_MAX);
        assert!(Image::parse("x:V1_2.3-rc1").is_ok());
    }

    #[test]
    fn label_values() {
        assert!(label_value("v14.10").is_ok());
        assert!(label_value("1").is_ok());
        assert_eq!(label_value("v1-").unwrap_err(), "ends with `-`");
        assert_eq!(label_value(".v1").unwrap_err(), "begins with `.`");
        assert_eq!(label_value("v 1").unwrap_err(), "contains ` `");
        assert_eq!(
            label_value(&"a".repeat(64)).unwrap_err(),
            "is 64 characters"
        );
    }

    #[test]
    fn origins() {
        assert!(Origin::parse("https://atlas.example.no").is_ok());
        assert!(Origin::parse("http://localhost:8080").is_ok());
        for bad in [
            "*",
            "https://a.no/",
            "https://a.no/x",
            "ftp://a",
            "https://a.no,https://b.no",
            "https://a.no:0",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
