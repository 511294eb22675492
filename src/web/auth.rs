//! The login, its sessions and the CSRF tokens.
//!
//! One secret token (from the environment, a file or a systemd credential;
//! never the config file) unlocks review actions. A login makes a fresh
//! server-side session — an id in an `HttpOnly; SameSite=Strict` cookie,
//! `Secure` when served over TLS — and every form carries the session's CSRF
//! token, checked on every POST. Sessions live in memory, bounded in number
//! and time: a restart logs everyone out, which is fine for one analyst.
//! Guessing is slowed twice: a failed login answers late, and a client that
//! failed too often is refused for a while (`login_budget`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::WebState;
use super::error::PageError;
use super::form;
use super::login_budget::ClientIp;

pub const SESSION_COOKIE: &str = "mw_session";
/// Sessions kept at most; the oldest goes first past it.
const MAX_SESSIONS: usize = 4096;
/// A failed login answers this late, so guessing is slow.
const FAILED_LOGIN_DELAY: Duration = Duration::from_millis(750);

struct Session {
    csrf: String,
    logged_in: bool,
    expires: Instant,
}

pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    ttl: Duration,
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Sessions {
    pub fn new(ttl: Duration) -> Sessions {
        Sessions { map: Mutex::new(HashMap::new()), ttl }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The live session `id` names: (CSRF token, logged in).
    fn get(&self, id: &str) -> Option<(String, bool)> {
        let mut map = self.lock();
        let now = Instant::now();
        match map.get(id) {
            Some(s) if s.expires > now => Some((s.csrf.clone(), s.logged_in)),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Starts a session; returns its id and CSRF token.
    fn start(&self, logged_in: bool) -> (String, String) {
        let mut map = self.lock();
        let now = Instant::now();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires > now);
        }
        if map.len() >= MAX_SESSIONS {
            // Anonymous sessions go before logins; then the oldest.
            let victim = map.iter().min_by_key(|(_, s)| (s.logged_in, s.expires)).map(|(k, _)| k.clone());
            if let Some(k) = victim {
                map.remove(&k);
            }
        }
        let (id, csrf) = (random_token(), random_token());
        map.insert(id.clone(), Session { csrf: csrf.clone(), logged_in, expires: now + self.ttl });
        (id, csrf)
    }

    fn end(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// Who is asking: logged in or not, and the CSRF token forms must carry.
#[derive(Debug, Clone, Serialize)]
pub struct Visitor {
    pub logged_in: bool,
    pub csrf: Option<String>,
    /// Whether a login token is configured at all.
    pub login_available: bool,
    #[serde(skip)]
    session: Option<String>,
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == SESSION_COOKIE && v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| v.to_owned())
    })
}

fn visitor(state: &WebState, headers: &HeaderMap) -> Visitor {
    let login_available = state.config().token.is_some();
    let session = session_id(headers);
    match session.as_deref().and_then(|id| state.inner.sessions.get(id)) {
        Some((csrf, logged_in)) => Visitor { logged_in, csrf: Some(csrf), login_available, session },
        None => Visitor { logged_in: false, csrf: None, login_available, session: None },
    }
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        Ok(visitor(state, &parts.headers))
    }
}

fn cookie(state: &WebState, id: &str, max_age: u64) -> HeaderValue {
    let secure = if state.config().cookie_secure() { "; Secure" } else { "" };
    let value = format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("mw_session=; Max-Age=0"))
}

/// Whether `given` is the configured token, in time that does not depend
/// on where they differ (both are hashed first).
fn token_matches(state: &WebState, given: &str) -> bool {
    let Some(token) = &state.config().token else { return false };
    same_secret(given, token.expose())
}

/// Compares two secrets in time that does not depend on where they differ:
/// both are hashed first, then every byte is compared.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A POST's form, once the visitor is logged in and its CSRF token is the
/// session's: not logged in is 401, a missing or wrong token 403.
pub fn authorize(visitor: &Visitor, body: &[u8]) -> Result<HashMap<String, String>, PageError> {
    let fields = form::fields(body);
    if !visitor.logged_in {
        return Err(PageError::Unauthorized("Log in to review the catalog.".to_owned()));
    }
    csrf_ok(visitor, &fields)?;
    Ok(fields)
}

fn csrf_ok(visitor: &Visitor, fields: &HashMap<String, String>) -> Result<(), PageError> {
    match (&visitor.csrf, fields.get("csrf")) {
        (Some(expected), Some(given)) if same_secret(expected, given) => Ok(()),
        _ => Err(PageError::Forbidden(
            "The form's security token is missing or stale; reload the page and try again.".to_owned(),
        )),
    }
}

/// Where to go after logging in: a path on this site only.
fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.clone(),
        _ => "/review".to_owned(),
    }
}

#[derive(Serialize)]
struct LoginPage {
    title: &'static str,
    next: String,
    failed: bool,
}

/// The login form. A visitor without a session gets an anonymous one, so
/// the form itself carries a CSRF token.
pub async fn login_page(
    State(state): State<WebState>,
    mut visitor: Visitor,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let q = form::query(q.as_deref());
    let mut set_cookie = None;
    if visitor.csrf.is_none() {
        let (id, csrf) = state.inner.sessions.start(false);
        set_cookie = Some(cookie(&state, &id, state.config().session_ttl.as_secs()));
        visitor.csrf = Some(csrf);
    }
    let page = LoginPage { title: "Log in", next: safe_next(q.get("next")), failed: false };
    let mut res = state.inner.pages.render("login.html", &visitor, page)?;
    if let Some(c) = set_cookie {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(res)
}

pub async fn login(
    State(state): State<WebState>,
    visitor: Visitor,
    ClientIp(client): ClientIp,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fields = form::fields(&body);
    csrf_ok(&visitor, &fields)?;
    let next = safe_next(fields.get("next"));
    // Counted before the token is compared: parallel guesses cannot all
    // slip in before the first one fails.
    if let Err(wait) = state.inner.login_budget.attempt(client, Instant::now()) {
        tracing::warn!(client = %client, retry_after_s = wait.as_secs(), "Web login refused: too many failures");
        return Err(PageError::TooManyAttempts(wait));
    }
    if !fields.get("token").is_some_and(|t| token_matches(&state, t)) {
        tokio::time::sleep(FAILED_LOGIN_DELAY).await;
        tracing::warn!("Web login failed");
        let page = LoginPage { title: "Log in", next, failed: true };
        let mut res = state.inner.pages.render("login.html", &visitor, page)?;
        *res.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return Ok(res);
    }
    state.inner.login_budget.succeeded(client);
    // A fresh id at login: a session id planted before it is worth nothing.
    if let Some(old) = &visitor.session {
        state.inner.sessions.end(old);
    }
    let (id, _) = state.inner.sessions.start(true);
    tracing::info!("Web login");
    let mut res = Redirect::to(&next).into_response();
    *res.status_mut() = axum::http::StatusCode::SEE_OTHER;
    res.headers_mut().insert(header::SET_COOKIE, cookie(&state, &id, state.config().session_ttl.as_secs()));
    Ok(res)
}

pub async fn logout(
    State(state): State<WebState>,
    visitor: Visitor,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    csrf_ok(&visitor, &form::fields(&body))?;
    if let Some(id) = &visitor.session {
        state.inner.sessions.end(id);
    }
    let mut res = Redirect::to("/changes").into_response();
    *res.status_mut() = axum::http::StatusCode::SEE_OTHER;
    res.headers_mut().insert(header::SET_COOKIE, cookie(&state, "", 0));
    Ok(res)
}

/// With `web.login_to_read` (forced off loopback), reading needs the login too.
pub async fn require_login_to_read(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let open = matches!(req.uri().path(), "/login" | "/static/style.css");
    if state.config().login_to_read && !open && !visitor(&state, req.headers()).logged_in {
        if req.method() == Method::GET {
            let path = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let to = format!(
                "/login?{}",
                url::form_urlencoded::Serializer::new(String::new()).append_pair("next", path).finish()
            );
            return Redirect::to(&to).into_response();
        }
        return PageError::Unauthorized("Log in first.".to_owned()).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd") && !same_secret("abc", "ab") && !same_secret("", "x"));
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some(&"/changes?tag=x".to_owned())), "/changes?tag=x");
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil.example", "review"] {
            assert_eq!(safe_next(Some(&bad.to_owned())), "/review", "{bad}");
        }
    }

    #[test]
    fn sessions_are_bounded_and_expire() {
        let s = Sessions::new(Duration::from_secs(60));
        let (login, _) = s.start(true);
        for _ in 0..MAX_SESSIONS + 10 {
            s.start(false);
        }
        assert!(s.lock().len() <= MAX_SESSIONS);
        assert_eq!(s.get(&login).map(|x| x.1), Some(true), "logins outlive anonymous sessions");
        let expired = Sessions::new(Duration::ZERO);
        let (id, _) = expired.start(true);
        assert!(expired.get(&id).is_none());
    }

    #[test]
    fn the_cookie_is_read_only_in_its_own_shape() {
        let mut h = HeaderMap::new();
        let id = "a".repeat(64);
        h.insert(header::COOKIE, HeaderValue::from_str(&format!("x=1; {SESSION_COOKIE}={id}")).unwrap());
        assert_eq!(session_id(&h), Some(id));
        h.insert(header::COOKIE, HeaderValue::from_static("mw_session=<script>"));
        assert_eq!(session_id(&h), None);
    }
}
