//! PDF reports: text per page, diffed per page so a change says "p. 3".
//!
//! PDF parsers panic, overflow their stack and loop on hostile input; a
//! stack overflow aborts the whole process, which `catch_unwind` cannot
//! stop. [`parse`] therefore runs the parser under [`crate::contain`] (a
//! child process with CPU, memory and wall-clock limits); it blocks, so call
//! it inside `spawn_blocking`. Any failure is a [`PdfError`] with a reason —
//! `invalid_content` for the source, never a dead daemon.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use oxidize_pdf::parser::{PdfDocument, PdfReader};

use super::{KindChange, Structured};
use crate::change::{ChangeDetails, ContentDetails, MetadataChange};
use crate::contain;
use crate::diff::{self, DiffOptions};
use crate::extract::normalize_text;
use crate::types::ChangeKind;

/// What a PDF source asks for.
pub const ACCEPT: &str = "application/pdf,*/*;q=0.5";

/// Pages extracted at most: a 2,000-page scan is not a report to watch.
const MAX_PAGES: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "error", content = "detail", rename_all = "snake_case")]
pub enum PdfError {
    #[error("not a PDF (no %PDF- header)")]
    NotPdf,
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("the PDF is corrupt: {0}")]
    Corrupt(String),
    #[error("the PDF has no extractable text (image-only or scanned?)")]
    NoText,
    /// Unreadable, and its last KB has no `%%EOF`: a download cut off by a
    /// closed connection, not a scan or a corrupt file.
    #[error("the PDF is cut off: {bytes} bytes without the %%EOF a whole file ends with")]
    Truncated { bytes: usize },
    #[error("the PDF parser crashed on this file")]
    Panicked,
    /// The contained parser died, ran out of time or could not be started.
    #[error("the PDF could not be parsed: {0}")]
    Contained(String),
}

/// Text per page (normalised), title and page count, parsed in a contained
/// worker (blocking).
pub fn parse(body: &[u8]) -> Result<Structured, PdfError> {
    if !looks_like_pdf(body) {
        return Err(PdfError::NotPdf);
    }
    let answer = contain::run(contain::Parser::Pdf, body, contain::Limits::default())
        .map_err(|e| PdfError::Contained(e.to_string()))?;
    from_answer(answer)
}

/// Reads a worker's `{"ok": …}` / `{"err": …}` answer.
fn from_answer(answer: serde_json::Value) -> Result<Structured, PdfError> {
    #[derive(serde::Deserialize)]
    struct Parsed {
        text: String,
        meta: serde_json::Value,
        title: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Answer {
        Ok(Parsed),
        Err(PdfError),
    }
    match serde_json::from_value::<Answer>(answer) {
        Ok(Answer::Ok(p)) => Ok(Structured { text: p.text, meta: p.meta, title: p.title, metrics: Vec::new() }),
        Ok(Answer::Err(e)) => Err(e),
        Err(e) => Err(PdfError::Contained(format!("the parser process answered nonsense: {e}"))),
    }
}

fn looks_like_pdf(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

/// The parse itself, in this process: what the contained worker runs.
/// Catches panics, not stack overflows or aborts; use [`parse`].
pub fn parse_in_process(body: &[u8]) -> Result<Structured, PdfError> {
    // Cheap refusal before the parser sees HTML error pages.
    if !looks_like_pdf(body) {
        return Err(PdfError::NotPdf);
    }
    let bytes = body.to_vec();
    match catch_unwind(AssertUnwindSafe(move || parse_inner(bytes))) {
        Ok(r) => r,
        Err(_) => Err(PdfError::Panicked),
    }
}

fn parse_inner(bytes: Vec<u8>) -> Result<Structured, PdfError> {
    let len = bytes.len();
    let whole = bytes[len.saturating_sub(1024)..].windows(5).any(|w| w == b"%%EOF");
    parse_pages(bytes).map_err(|e| match e {
        PdfError::NoText | PdfError::Corrupt(_) if !whole => PdfError::Truncated { bytes: len },
        e => e,
    })
}

fn parse_pages(bytes: Vec<u8>) -> Result<Structured, PdfError> {
    let reader = PdfReader::new(Cursor::new(bytes)).map_err(|e| classify(&e.to_string()))?;
    let encrypted = reader.is_encrypted();
    let doc = PdfDocument::new(reader);
    let count = doc.page_count().map_err(|e| if encrypted { PdfError::Encrypted } else { classify(&e.to_string()) })?;
    let title = doc.metadata().ok().and_then(|m| m.title).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let mut pages = Vec::new();
    for i in 0..count.min(MAX_PAGES) {
        let text = match doc.extract_text_from_page(i) {
            Ok(t) => normalize_text(&t.text),
            Err(_) if encrypted => return Err(PdfError::Encrypted),
            // One unreadable page should not hide the others.
            Err(_) => String::new(),
        };
        pages.push(text);
    }
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err(if encrypted { PdfError::Encrypted } else { PdfError::NoText });
    }
    let mut text = String::new();
    for (i, p) in pages.iter().enumerate() {
        text.push_str(&format!("=== p. {} ===\n{}\n", i + 1, p.trim_end()));
    }
    Ok(Structured {
        text,
        meta: serde_json::json!({ "title": title, "page_count": count, "pages": pages }),
        title,
        metrics: Vec::new(),
    })
}

fn classify(msg: &str) -> PdfError {
    if msg.to_ascii_lowercase().contains("encrypt") { PdfError::Encrypted } else { PdfError::Corrupt(msg.to_owned()) }
}

fn pages(meta: &serde_json::Value) -> Vec<String> {
    meta.get("pages").and_then(|p| serde_json::from_value(p.clone()).ok()).unwrap_or_default()
}

/// One change per edited page (excerpt prefixed "p. N"), plus page count and
/// title as metadata.
pub fn changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<KindChange> {
    let (o, n) = (pages(old), pages(new));
    let mut out = Vec::new();
    for i in 0..o.len().max(n.len()) {
        let before = o.get(i).map(String::as_str).unwrap_or("");
        let after = n.get(i).map(String::as_str).unwrap_or("");
        if let Some(c) = diff::diff_text(before, after, &DiffOptions::default()) {
            let page = i + 1;
            out.push(KindChange {
                kind: ChangeKind::Content,
                summary: format!("p. {page}: {}", c.summary),
                excerpt: format!("p. {page}\n{}", c.excerpt),
                stats: c.stats,
                details: ChangeDetails::Content(ContentDetails {
                    page: Some(page as u64),
                    ..ContentDetails::default()
                })
                .to_json(),
            });
        }
    }
    if o.len() != n.len() && !o.is_empty() {
        out.push(KindChange::metadata(
            format!("Page count changed: {} → {}", o.len(), n.len()),
            MetadataChange::PageCount { from: o.len() as u64, to: n.len() as u64 },
        ));
    }
    let t = |m: &serde_json::Value| m.get("title").and_then(|t| t.as_str()).map(str::to_owned);
    if t(old) != t(new) && t(old).is_some() {
        out.push(KindChange::metadata(
            format!("Title changed: {}", t(new).unwrap_or_default()),
            MetadataChange::Title { from: t(old), to: t(new) },
        ));
    }
    out
}

/// Builds a small PDF with one page per entry of `pages` (tests and fixtures).
pub fn write_test_pdf(title: &str, pages: &[&str]) -> Result<Vec<u8>, String> {
    use oxidize_pdf::{Document, Font, Page};
    let mut doc = Document::new();
    doc.set_title(title);
    for text in pages {
        let mut page = Page::new(595.0, 842.0);
        let mut y = 800.0;
        for line in text.lines() {
            page.text().set_font(Font::Helvetica, 11.0).at(50.0, y).write(line).map_err(|e| e.to_string())?;
            y -= 16.0;
        }
        doc.add_page(page);
    }
    doc.to_bytes().map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const P1: &str = "AIGC Industry Report 2023\nMarket overview";
    const P2: &str = "Chapter 2 Large models\nGPT-4 and ERNIE Bot";
    const P3: &str = "Chapter 3 Market size\nThe market reached 10 billion in 2022.";

    #[test]
    fn text_per_page_and_title() {
        let pdf = write_test_pdf("AIGC report", &[P1, P2, P3]).unwrap();
        let s = parse(&pdf).unwrap();
        assert_eq!(s.meta["page_count"], 3);
        assert_eq!(s.title.as_deref(), Some("AIGC report"));
        assert!(s.text.contains("=== p. 3 ===\nChapter 3 Market size"), "{}", s.text);
    }

    #[test]
    fn edit_on_page_three_is_reported_on_page_three_only() {
        let a = parse(&write_test_pdf("AIGC report", &[P1, P2, P3]).unwrap()).unwrap();
        let p3 = P3.replace("10 billion", "17 billion");
        let b = parse(&write_test_pdf("AIGC report", &[P1, P2, &p3]).unwrap()).unwrap();
        let ch = changes(&a.meta, &b.meta);
        assert_eq!(ch.len(), 1, "{ch:?}");
        assert!(ch[0].excerpt.starts_with("p. 3\n"), "{}", ch[0].excerpt);
        assert!(ch[0].excerpt.contains("17"), "{}", ch[0].excerpt);
        assert_eq!(ch[0].details["page"], 3);
    }

    #[test]
    fn hostile_inputs_are_reasons_not_panics() {
        assert_eq!(parse(b"<html>404</html>").err(), Some(PdfError::NotPdf));
        let pdf = write_test_pdf("x", &[P1]).unwrap();
        let truncated = &pdf[..pdf.len() / 3];
        assert!(parse(truncated).is_err());
        let mut garbage = b"%PDF-1.7\n".to_vec();
        garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
        assert!(parse(&garbage).is_err());
        let empty_page = write_test_pdf("scan", &[""]).unwrap();
        assert_eq!(parse(&empty_page).err(), Some(PdfError::NoText));
    }

    /// A download cut off by a closed connection (no `%%EOF` at its end)
    /// that reads as nothing says so: it was reported as an image-only scan.
    #[test]
    fn a_cut_off_pdf_says_it_is_cut_off() {
        let pdf = write_test_pdf("AIGC report", &[P1, P2, P3]).unwrap();
        for cut in [pdf.len() / 3, pdf.len() / 2] {
            let err = parse_in_process(&pdf[..cut]).err();
            assert!(matches!(err, Some(PdfError::Truncated { .. })), "cut at {cut} of {}: {err:?}", pdf.len());
            assert!(err.unwrap().to_string().contains("cut off"));
        }
        // A whole file with no text is still an image-only one.
        let empty_page = write_test_pdf("scan", &[""]).unwrap();
        assert_eq!(parse_in_process(&empty_page).err(), Some(PdfError::NoText));
    }

    /// A PDF whose Chinese text uses the non-embedded STSong-Light font with
    /// the UniGB-UCS2-H CMap and no ToUnicode, as many Chinese reports do.
    fn chinese_pdf(text: &str) -> Vec<u8> {
        let hex: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
        let content = format!("BT /F1 12 Tf 50 800 Td <{hex}> Tj ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R /Lang (zh-CN) >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_owned(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>".to_owned(),
            "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R /DW 1000 >>".to_owned(),
            "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>".to_owned(),
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

    #[test]
    fn password_protected_pdf_says_encrypted() {
        use oxidize_pdf::{Document, Font, Page};
        let mut doc = Document::new();
        let mut page = Page::new(595.0, 842.0);
        page.text().set_font(Font::Helvetica, 11.0).at(50.0, 800.0).write("Confidential: Q3 model roadmap").unwrap();
        doc.add_page(page);
        doc.encrypt_with_passwords("user-secret", "owner-secret");
        let bytes = doc.to_bytes().unwrap();
        assert_eq!(parse(&bytes).err(), Some(PdfError::Encrypted));
    }

    #[test]
    fn chinese_text_comes_out_readable() {
        let s = parse(&chinese_pdf("百度发布文心一言大模型")).unwrap();
        assert!(s.text.contains("百度发布文心一言大模型"), "{}", s.text);
    }

    /// Timing of the entry point on a 60-page report (run explicitly).
    #[test]
    #[ignore = "measurement"]
    fn measure_parse_time() {
        let page = "Chapter Market size\nThe AIGC market reached 10 billion yuan in 2022.\n".repeat(20);
        let pages: Vec<&str> = std::iter::repeat_n(page.as_str(), 60).collect();
        let pdf = write_test_pdf("AIGC report", &pages).unwrap();
        let t = std::time::Instant::now();
        let s = parse(&pdf).unwrap();
        let parse_ms = t.elapsed().as_millis();
        let mut edited = pages.clone();
        let p3 = page.replacen("10 billion", "17 billion", 1);
        edited[2] = &p3;
        let b = parse(&write_test_pdf("AIGC report", &edited).unwrap()).unwrap();
        let t = std::time::Instant::now();
        let ch = changes(&s.meta, &b.meta);
        eprintln!(
            "60-page PDF, {} KB: parse {parse_ms} ms, per-page diff {} ms, {} change(s)",
            pdf.len() / 1024,
            t.elapsed().as_millis(),
            ch.len()
        );
    }

    /// A small deterministic fuzz of the entry point: mutated bytes of a
    /// valid PDF never panic out of `parse`.
    #[test]
    fn mutated_pdfs_never_escape() {
        let pdf = write_test_pdf("AIGC report", &[P1, P2]).unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200 {
            let mut m = pdf.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % m.len();
                m[i] = (seed >> 32) as u8;
            }
            let _ = parse(&m);
        }
    }
}
