//! A tiny W3C WebDriver client over reqwest: Debian's `chromedriver`
//! driving headless `chromium` (installed by `scripts/test-deps`). Only the
//! commands the web view's tests use.
#![allow(clippy::disallowed_methods, reason = "our own chromedriver on 127.0.0.1; its answers are small")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver; killed on drop.
pub struct Driver {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the browser and its driver are installed.
pub fn available() -> bool {
    std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers.
    pub async fn start() -> Driver {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver { child, base: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = driver.client.get(format!("{}/status", driver.base)).send().await
                && r.status().is_success()
            {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new headless browser window `width` pixels wide.
    pub async fn browser(&self, width: u32, height: u32) -> Browser {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={width},{height}")]
            }
        }}});
        let value = call(&self.client, reqwest::Method::POST, &format!("{}/session", self.base), Some(caps)).await;
        let session = value["sessionId"].as_str().expect("a session id").to_owned();
        Browser { base: format!("{}/session/{session}", self.base), client: self.client.clone() }
    }
}

async fn call(client: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
    try_call(client, method, url, body).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn try_call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut req = client.request(method.clone(), url);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let res = req.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = res.status();
    let text = res.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{method} {url}: not JSON ({e}): {text}"))?;
    if !status.is_success() {
        return Err(format!("{method} {url}: {status}: {text}"));
    }
    Ok(v["value"].clone())
}

/// One browser session.
pub struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    async fn post(&self, path: &str, body: Value) -> Value {
        call(&self.client, reqwest::Method::POST, &format!("{}{path}", self.base), Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        call(&self.client, reqwest::Method::GET, &format!("{}{path}", self.base), None).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or_default().to_owned()
    }

    pub async fn title(&self) -> String {
        self.get("/title").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap_or_default().to_owned()
    }

    /// The rendered text of the page (what a reader sees). Right after a
    /// click that submits a form, the old page may still be going away: a
    /// stale element is read again from the new one.
    pub async fn text(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.find("body").await {
                Some(body) => {
                    let url = format!("{}/element/{body}/text", self.base);
                    match try_call(&self.client, reqwest::Method::GET, &url, None).await {
                        Ok(v) => return v.as_str().unwrap_or_default().to_owned(),
                        Err(e) => assert!(Instant::now() < deadline, "{e}"),
                    }
                }
                None => assert!(Instant::now() < deadline, "the page has no body"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's text once it contains `needle` (a submitted form's answer).
    pub async fn wait_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {needle:?} in the page within 10 s:\n{text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The URL once it ends with `suffix` (a redirect after a form).
    pub async fn wait_url(&self, suffix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url().await;
            if url.ends_with(suffix) {
                return url;
            }
            assert!(Instant::now() < deadline, "the URL is {url}, not …{suffix}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.post("/elements", json!({ "using": "css selector", "value": css })).await;
        found
            .as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// The rendered text of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for id in self.find_all(css).await {
            out.push(self.get(&format!("/element/{id}/text")).await.as_str().unwrap_or_default().to_owned());
        }
        out
    }

    pub async fn find(&self, css: &str) -> Option<String> {
        self.find_all(css).await.into_iter().next()
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.post(&format!("/element/{id}/click"), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.post(&format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    /// The browser's cookies for the current page.
    pub async fn cookies(&self) -> Value {
        self.get("/cookie").await
    }

    pub async fn close(self) {
        let _ = call(&self.client, reqwest::Method::DELETE, &self.base, None).await;
    }
}
