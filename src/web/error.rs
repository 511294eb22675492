//! A page that could not be served, and its plain error page (no
//! template: the templates may be what failed).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn error_pages_escape_their_message() {
        let res = PageError::BadRequest("<script>x</script>".into()).into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("&lt;script&gt;x&lt;/script&gt;") && !body.contains("<script>"), "{body}");
    }
}
