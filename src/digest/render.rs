//! Renders a [`Digest`] into a subject, a plain-text body and an HTML body.
//!
//! Templates are subject/text/html triplets of minijinja files. The shipped
//! ones are compiled into the binary; a file of the same name in the
//! configured templates folder replaces the shipped one, so a user can change
//! the layout without rebuilding.

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

use super::labels::{Labels, Language, labels};
use super::model::Digest;
use crate::bidi::is_bidi_control;

pub const SUBJECT_FILE: &str = "digest.subject.txt.j2";
pub const TEXT_FILE: &str = "digest.txt.j2";
pub const HTML_FILE: &str = "digest.html.j2";

const BUILTIN_SUBJECT: &str = include_str!("../../config/templates/digest.subject.txt.j2");
const BUILTIN_TEXT: &str = include_str!("../../config/templates/digest.txt.j2");
const BUILTIN_HTML: &str = include_str!("../../config/templates/digest.html.j2");

/// The longest subject we send; mail clients cut far earlier anyway.
const MAX_SUBJECT_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read digest template {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("digest template {name} is invalid or failed to render")]
    Template {
        name: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// The three template sources.
#[derive(Debug, Clone)]
pub struct Templates {
    subject: String,
    text: String,
    html: String,
}

impl Templates {
    /// The templates shipped in the binary.
    pub fn builtin() -> Templates {
        Templates { subject: BUILTIN_SUBJECT.to_owned(), text: BUILTIN_TEXT.to_owned(), html: BUILTIN_HTML.to_owned() }
    }

    /// The shipped templates, each replaced by the file of the same name in
    /// `dir` when there is one. A missing folder means "no overrides".
    pub fn with_overrides(dir: &Path) -> Result<Templates, RenderError> {
        let mut t = Templates::builtin();
        for (name, slot) in [(SUBJECT_FILE, &mut t.subject), (TEXT_FILE, &mut t.text), (HTML_FILE, &mut t.html)] {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(source) => *slot = source,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(RenderError::Read { path, source }),
            }
        }
        Ok(t)
    }

    /// Renders `digest`. Templates are checked here, so a broken override
    /// fails the build of the digest, before anything is stored or sent.
    pub fn render(&self, digest: &Digest, lang: Language) -> Result<Rendered, RenderError> {
        let mut env = Environment::new();
        // Keeps the text templates readable: a line holding only a tag
        // leaves no blank line behind.
        let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build();
        if let Ok(syntax) = syntax {
            env.set_syntax(syntax);
        }
        env.set_formatter(|out, state, value| {
            if *state.auto_escape() == AutoEscape::Html
                && !value.is_safe()
                && let Some(s) = value.as_str()
            {
                return out.write_str(&escape_html(s)).map_err(minijinja::Error::from);
            }
            if let Some(s) = value.as_str()
                && s.chars().any(is_bidi_control)
            {
                let shown: String = s.chars().filter(|c| !is_bidi_control(*c)).collect();
                let shown = if value.is_safe() { Value::from_safe_string(shown) } else { Value::from(shown) };
                return minijinja::escape_formatter(out, state, &shown);
            }
            minijinja::escape_formatter(out, state, value)
        });
        let add = |env: &mut Environment<'static>, name: &'static str, source: &str| {
            env.add_template_owned(name, source.to_owned()).map_err(|source| RenderError::Template { name, source })
        };
        add(&mut env, SUBJECT_FILE, &self.subject)?;
        add(&mut env, TEXT_FILE, &self.text)?;
        add(&mut env, HTML_FILE, &self.html)?;

        let mut ctx = Context { digest, t: labels(lang), lang: lang.as_str(), subject: String::new() };
        let run = |name: &'static str, ctx: &Context<'_>| {
            env.get_template(name)
                .and_then(|tmpl| tmpl.render(Value::from(Serde(ctx))))
                .map_err(|source| RenderError::Template { name, source })
        };
        ctx.subject = one_line(&run(SUBJECT_FILE, &ctx)?);
        let text = run(TEXT_FILE, &ctx)?;
        let html = run(HTML_FILE, &ctx)?;
        let subject = ctx.subject;
        Ok(Rendered { subject, text: tidy_text(&text), html })
    }
}

/// What every template sees: the digest's fields at the top level, the
/// labels as `t`, the language code as `lang`, and (in the bodies) `subject`.
#[derive(Serialize)]
struct Context<'a> {
    #[serde(flatten)]
    digest: &'a Digest,
    t: Labels,
    lang: &'static str,
    subject: String,
}

/// A rendered digest, ready to be stored in the outbox and mailed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// HTML escaping without minijinja's `/` → `&#x2f;`: URLs stay readable in
/// the source of the mail (some clients and link scanners do not decode it).
/// Bidi controls are dropped ([`is_bidi_control`]).
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if is_bidi_control(c) => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A subject is one header line: no CR/LF can reach the message (header
/// injection), runs of whitespace collapse, and it is bounded.
fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.chars().take(MAX_SUBJECT_CHARS).collect()
}

/// At most one blank line in a row, no trailing spaces except the signature
/// separator `-- `, and a final newline.
fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    format!("{trimmed}\n")
}
