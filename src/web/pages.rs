//! The templates (minijinja, like the digest; HTML autoescape on for every
//! template, whatever its name) and the error pages.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::auth::Visitor;

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

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// Not logged in (or the session expired).
    #[error("{0}")]
    Unauthorized(String),
    /// Logged in, but the form's CSRF token is missing or wrong.
    #[error("{0}")]
    Forbidden(String),
    #[error("the database failed: {0}")]
    Store(String),
    #[error("a page template failed: {0}")]
    Template(#[from] minijinja::Error),
}

impl PageError {
    pub fn store(e: impl std::error::Error) -> PageError {
        PageError::Store(crate::error_chain(&e))
    }

    fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::Store(_) | PageError::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A plain page: the message is escaped by hand (the templates may be what failed).
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "Web page failed");
            "Something went wrong on the server; the log says what.".to_owned()
        } else {
            self.to_string()
        };
        let body = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/static/style.css\">\
             <title>{code}</title></head><body><main><h1>{code}</h1><p>{msg}</p>\
             <p><a href=\"/changes\">Changes</a> · <a href=\"/login\">Log in</a></p></main></body></html>",
            code = status,
            msg = escape(&message)
        );
        (status, Html(body)).into_response()
    }
}

fn escape(s: &str) -> String {
    crate::digest::render::escape_html(s)
}

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
                return out.write_str(&escape(s)).map_err(minijinja::Error::from);
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

    #[tokio::test]
    async fn error_pages_escape_their_message() {
        let res = PageError::BadRequest("<script>x</script>".into()).into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("&lt;script&gt;x&lt;/script&gt;") && !body.contains("<script>"), "{body}");
    }
}
