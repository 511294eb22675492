//! The templates (minijinja, like the digest; HTML autoescape on for every
//! template, whatever its name).

use axum::response::{Html, IntoResponse, Response};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::auth::Visitor;
pub use super::error::PageError;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("changes.html", include_str!("templates/changes.html")),
    ("change.html", include_str!("templates/change.html")),
    ("sources.html", include_str!("templates/sources.html")),
    ("source.html", include_str!("templates/source.html")),
    ("snapshot.html", include_str!("templates/snapshot.html")),
    ("catalog.html", include_str!("templates/catalog.html")),
    ("entity.html", include_str!("templates/entity.html")),
    ("review.html", include_str!("templates/review.html")),
    ("references.html", include_str!("templates/references.html")),
    ("login.html", include_str!("templates/login.html")),
];

pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    pub fn new() -> Result<Pages, PageError> {
        let mut env = Environment::new();
        // Every template is HTML, whatever its name: nothing renders raw.
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        // The digest's escaping: `<>&"'` only, so URLs stay readable (`/`
        // is harmless in text and attribute values alike).
        env.set_formatter(|out, state, value| {
            if *state.auto_escape() == AutoEscape::Html
                && !value.is_safe()
                && let Some(s) = value.as_str()
            {
                return out.write_str(&crate::digest::render::escape_html(s)).map_err(minijinja::Error::from);
            }
            minijinja::escape_formatter(out, state, value)
        });
        env.add_filter("q", |s: String| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>());
        env.add_filter("when", when);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Pages { env })
    }

    /// Renders `name` with `page` and the visitor (login state, CSRF token).
    pub fn render(&self, name: &str, visitor: &Visitor, page: impl Serialize) -> Result<Response, PageError> {
        use minijinja::Value;
        use minijinja::value::Serde;
        let ctx = minijinja::context! { visitor => Value::from(Serde(visitor)), ..Value::from(Serde(&page)) };
        let html = self.env.get_template(name)?.render(ctx)?;
        Ok(Html(html).into_response())
    }
}

/// An RFC 3339 time as `2026-12-05 08:00 UTC` (empty for none).
fn when(value: Option<String>) -> String {
    let Some(v) = value else { return String::new() };
    match chrono::DateTime::parse_from_rfc3339(&v) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => v,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_times_read_well() {
        Pages::new().unwrap();
        assert_eq!(when(Some("2026-12-05T08:00:00Z".into())), "2026-12-05 08:00 UTC");
        assert_eq!(when(None), "");
    }
}
