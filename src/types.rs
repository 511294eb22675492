//! Vocabulary shared by every stage: ids, kinds, statuses and error kinds.
//!
//! The string forms are part of the CLI contract (DESIGN.md): they are what
//! `--kind` takes, what JSON output carries and what the database stores.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a string-backed enum with its stable snake_case names: the CLI
/// words, the JSON values and the stored text. Used across the crate.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name used in the CLI, JSON and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value with this stable name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every stable name, comma-separated (for error messages).
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::types::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or_else(|| $crate::types::UnknownName {
                    what: stringify!($name),
                    got: s.to_owned(),
                    expected: &[$($text),+],
                })
            }
        }
    };
}
pub(crate) use string_enum;

/// A name that is not one of an enum's stable names.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {what} {got:?} (expected one of: {})", expected.join(", "))]
pub struct UnknownName {
    pub what: &'static str,
    pub got: String,
    pub expected: &'static [&'static str],
}

string_enum! {
    /// What a source is, which decides how it is fetched and diffed.
    SourceKind {
        Page => "page",
        Feed => "feed",
        Pdf => "pdf",
        Github => "github",
        Huggingface => "huggingface",
    }
}

string_enum! {
    /// The liveness of a source as the user sees it.
    SourceStatus {
        /// Added, never checked successfully yet.
        Pending => "pending",
        Ok => "ok",
        /// Permanently moved to a different page (e.g. the site's home).
        Redirected => "redirected",
        /// 404/410, persistently.
        Gone => "gone",
        /// Answers 200 but the text is a "not found / deleted" notice.
        SoftGone => "soft_gone",
        /// Failing with `last_error_kind`.
        Failing => "failing",
        Paused => "paused",
    }
}

string_enum! {
    /// Why a check failed. Every failure maps to exactly one kind.
    ErrorKind {
        Timeout => "timeout",
        TooLarge => "too_large",
        Connect => "connect",
        /// 5xx and other unexpected status codes.
        HttpStatus => "http_status",
        /// 429, or a host/API budget that is spent.
        RateLimited => "rate_limited",
        Decode => "decode",
        RedirectLoop => "redirect_loop",
        /// Refused: by us (SSRF guard, robots.txt, scheme), or by the site
        /// (an anti-bot or verification page, a login wall, or a redirect
        /// to one, in place of the page; the message says which).
        Blocked => "blocked",
        InvalidContent => "invalid_content",
    }
}

// Which failures are transient is decided in one place, `fetch::retry`,
// from the kind and the HTTP status together (a 403 is not, a 503 is).

string_enum! {
    /// What kind of change was recorded.
    ChangeKind {
        Content => "content",
        Status => "status",
        Metadata => "metadata",
        Release => "release",
    }
}

/// A source's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(pub i64);

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One observed value of one metric (stars, forks, downloads, likes): made
/// by the source kinds, saved by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    pub metric: String,
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in SourceStatus::ALL {
            assert_eq!(k.as_str().parse::<SourceStatus>().ok(), Some(*k));
        }
        for k in ErrorKind::ALL {
            assert_eq!(k.as_str().parse::<ErrorKind>().ok(), Some(*k));
        }
        let err = "ftp".parse::<SourceKind>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown SourceKind \"ftp\" (expected one of: page, feed, pdf, github, huggingface)")
        );
    }

    #[test]
    fn serde_uses_stable_names() {
        let json = serde_json::to_string(&SourceStatus::SoftGone).unwrap_or_default();
        assert_eq!(json, "\"soft_gone\"");
    }
}
