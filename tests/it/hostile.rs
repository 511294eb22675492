//! Hostile input (issue 14): nothing a server sends can take the process
//! down or hold it, and concurrent writers wait instead of failing.

use std::time::{Duration, Instant};

use crate::support::{Backend, Mw, Page, TestServer};

async fn check_json(mw: &Mw, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    mw.run_async(&all).await.ok().json()
}

/// A 20 KB PDF whose page dictionary holds `depth` nested arrays: the
/// parser recurses once per level and overflowed its stack, aborting the
/// whole process (SIGABRT) before PDF parsing was contained.
fn nested_array_pdf(depth: usize) -> Vec<u8> {
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let content = "BT /F1 12 Tf 50 800 Td (Hello) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Nested {nested} /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).into_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for off in offsets {
        out.extend(format!("{off:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).into_bytes(),
    );
    out
}

/// Issue 14 finding 1: the 20 KB PDF of the report (10k nested arrays)
/// aborted `check` (SIGABRT, exit 134). Now the parse runs in a contained
/// worker: the report's file parses, a far deeper one (2 MB, past any
/// stack) kills only its worker and is `invalid_content` with the reason;
/// the command completes and the other sources are checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_nested_pdf_is_invalid_content_not_a_crash() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    server.set("/report.pdf", Page::bytes("application/pdf", nested_array_pdf(10_000)));
    server.set("/evil.pdf", Page::bytes("application/pdf", nested_array_pdf(1_000_000)));
    server.set("/fine.html", Page::html("<html><body><article><p>通义千问发布新版本。</p></article></body></html>"));
    mw.init().await;
    let report = mw.add(&server.url("/report.pdf"), &[]).await;
    let evil = mw.add(&server.url("/evil.pdf"), &[]).await;
    let fine = mw.add(&server.url("/fine.html"), &[]).await;

    let r = check_json(&mw, &[]).await;
    let by_id = |id: i64| r.as_array().unwrap().iter().find(|x| x["source_id"] == id).cloned().unwrap();
    assert_eq!(by_id(report)["outcome"], "baseline", "{r}");
    let e = by_id(evil);
    assert_eq!(e["outcome"], "failed", "{r}");
    assert_eq!(e["error_kind"], "invalid_content", "{r}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("PDF") && message.contains("crashed"), "{r}");
    assert_eq!(by_id(fine)["outcome"], "baseline", "{r}");
}

/// Issue 14 finding 2: 100k nested elements are refused in well under the
/// 19 s of CPU the tree builder needed, as `invalid_content`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_deeply_nested_html_is_refused_quickly() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    let depth = 100_000;
    let html = format!("<html><body>{}深{}</body></html>", "<div>".repeat(depth), "</div>".repeat(depth));
    server.set("/deep.html", Page::html(html));
    mw.init().await;
    let id = mw.add(&server.url("/deep.html"), &[]).await;
    let t = Instant::now();
    let r = check_json(&mw, &[&id.to_string()]).await;
    let took = t.elapsed();
    assert_eq!(r[0]["outcome"], "failed", "{r}");
    assert_eq!(r[0]["error_kind"], "invalid_content", "{r}");
    assert!(r[0]["message"].as_str().unwrap().contains("deeper than"), "{r}");
    assert!(took < Duration::from_secs(10), "the check took {took:?}");
}
