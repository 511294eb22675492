//! A page that could not be served, and its plain error page (no
//! template: the templates may be what failed).

use axum::http::{HeaderValue, StatusCode, header};
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
    /// The client used up its login budget; it may try again after the wait.
    #[error("Too many failed logins from your address; try again in {} s.", retry_after_secs(.0))]
    TooManyAttempts(std::time::Duration),
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
            PageError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            PageError::Store(_) | PageError::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A plain page: the message is escaped by hand (the templates may be what failed).
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            PageError::TooManyAttempts(wait) => Some(retry_after_secs(wait)),
            _ => None,
        };
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
        let mut res = (status, Html(body)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// Whole seconds, rounded up: a client that waits that long is let in.
fn retry_after_secs(wait: &std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
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

    #[test]
    fn a_spent_login_budget_says_when_to_come_back() {
        let res = PageError::TooManyAttempts(std::time::Duration::from_millis(90_500)).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "91");
    }
}
