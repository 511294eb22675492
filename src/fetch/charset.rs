//! Bytes → text. Order: BOM, the `Content-Type` charset, `<meta charset>` /
//! `http-equiv` in the first bytes, then a statistical guess (chardetng, with
//! the TLD as a hint). A declaration the bytes clearly contradict (header
//! says UTF-8, bytes are GBK) is dropped in favour of detection; one the
//! bytes almost all agree with is kept, a few stray bytes becoming U+FFFD
//! (detection on such a page guessed windows-1252 and turned a Chinese
//! article into mojibake).

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Decoded text and how the encoding was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    pub source: CharsetSource,
    /// Replacement characters had to be inserted.
    pub had_errors: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Override,
    Bom,
    Header,
    Meta,
    Detected,
}

/// How far into the document `<meta charset>` is looked for (as browsers do).
const META_SCAN_BYTES: usize = 4096;

/// Decodes a body. `override_label` is the per-source `encoding` option.
pub fn decode(body: &[u8], content_type: Option<&str>, override_label: Option<&str>, host: Option<&str>) -> Decoded {
    if let Some(enc) = override_label.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
        return finish(enc, body, CharsetSource::Override);
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, had_errors) = enc.decode_without_bom_handling(&body[bom_len..]);
        return Decoded { text: text.into_owned(), encoding: enc.name(), source: CharsetSource::Bom, had_errors };
    }
    let declared = content_type
        .and_then(charset_param)
        .and_then(|l| Encoding::for_label(l.as_bytes()))
        .map(|e| (e, CharsetSource::Header))
        .or_else(|| meta_charset(body).map(|e| (e, CharsetSource::Meta)));
    if let Some((enc, source)) = declared {
        // UTF-16 declared in a meta tag of an ASCII-compatible document is a
        // lie by construction (HTML spec): treat it as UTF-8.
        let enc = if source == CharsetSource::Meta && (enc.name().starts_with("UTF-16")) { UTF_8 } else { enc };
        // Latin-1 is many servers' default header, not the page's charset,
        // and it decodes any bytes without an error: the bytes could never
        // overrule it. Bytes that detection reads as UTF-8 or a CJK
        // encoding do; a Latin page keeps it.
        if enc == WINDOWS_1252 && !body.is_ascii() {
            let guess = detect(body, host);
            if !guess.is_single_byte() {
                return finish(guess, body, CharsetSource::Detected);
            }
        }
        let decoded = finish(enc, body, source);
        if !decoded.had_errors || mostly_valid(&decoded.text) {
            return decoded;
        }
        // The bytes clearly contradict the declaration; trust the bytes.
    }
    finish(detect(body, host), body, CharsetSource::Detected)
}

/// Non-ASCII bytes chardetng is given at most: 2 KiB is some 1,000 Chinese
/// characters in GBK or Big5 (700 in UTF-8), or every accented letter of a
/// long Latin article, past what its scores need to settle: over the 679
/// non-UTF-8 pages of 2,000 bench pages, its guess is the same from 8 KiB
/// down to 512 bytes. Its cost is per byte fed (~0.4 µs here, ~1,900
/// instructions): 8 KiB of non-ASCII, a 10 KB sample, cost ~4 ms and 20 M
/// instructions per undeclared legacy page, as much as the rest of its check.
const DETECT_NON_ASCII: usize = 2 << 10;
/// ASCII bytes kept on each side of a non-ASCII run: the context chardetng
/// scores (a Latin letter beside an accented one; a GBK or Big5 trail byte
/// in the ASCII range).
const DETECT_CONTEXT: usize = 16;

/// The statistical guess, costing what it must. Valid UTF-8 is UTF-8, as
/// chardetng (UTF-8 allowed) says of it, without feeding it anything —
/// unless the body has ESC bytes, which ASCII-only ISO-2022-JP is made of.
/// Otherwise chardetng sees [`detect_sample`], not the whole body.
fn detect(body: &[u8], host: Option<&str>) -> &'static Encoding {
    if std::str::from_utf8(body).is_ok() && !body.contains(&0x1B) {
        return UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new();
    let tld = host.and_then(|h| h.rsplit('.').next()).map(|t| t.to_ascii_lowercase());
    if body.contains(&0x1B) {
        // ISO-2022-JP is stateful across ASCII bytes: no sampling.
        detector.feed(body, true);
    } else {
        let sample = detect_sample(body, DETECT_NON_ASCII);
        // The sample ends at a character boundary but the body may go on:
        // `last` stays false (chardetng's docs for a prefix).
        detector.feed(&sample, sample.len() == body.len());
    }
    let tld = tld.filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    detector.guess(tld.as_deref().map(str::as_bytes), true)
}

/// What chardetng needs of a body: each run of non-ASCII bytes with
/// [`DETECT_CONTEXT`] ASCII bytes either side, in order, the long ASCII
/// stretches between them (markup, scripts, CSS) cut to those ends, until
/// `budget` non-ASCII bytes are in. Cuts fall only inside ASCII stretches
/// longer than twice the context, so both sides of a cut are runs of at
/// least two ASCII bytes: no multi-byte character of an ASCII-compatible
/// encoding spans a cut.
fn detect_sample(body: &[u8], budget: usize) -> std::borrow::Cow<'_, [u8]> {
    let mut sample = Vec::new();
    let mut non_ascii = 0;
    // `at`: where the stretch of ASCII before the next non-ASCII run starts.
    let mut at = 0;
    loop {
        let ascii_len = Encoding::ascii_valid_up_to(&body[at..]);
        let run_start = at + ascii_len;
        if run_start == body.len() {
            // Trailing ASCII: its head ends the last run's context.
            sample.extend_from_slice(&body[at..at + ascii_len.min(DETECT_CONTEXT)]);
            return if sample.len() == body.len() { std::borrow::Cow::Borrowed(body) } else { sample.into() };
        }
        if non_ascii >= budget {
            sample.extend_from_slice(&body[at..at + ascii_len.min(DETECT_CONTEXT)]);
            return sample.into();
        }
        if ascii_len > 2 * DETECT_CONTEXT {
            sample.extend_from_slice(&body[at..at + DETECT_CONTEXT]);
            sample.extend_from_slice(&body[run_start - DETECT_CONTEXT..run_start]);
        } else {
            sample.extend_from_slice(&body[at..run_start]);
        }
        // The run: non-ASCII bytes and the ASCII bytes inside it (a GBK
        // trail byte, a lone letter), up to two ASCII bytes in a row or the
        // budget (a cut at the very end may split a character: chardetng
        // takes a prefix, `last` false, as it takes a stream in chunks).
        let mut end = run_start;
        while end < body.len() && non_ascii < budget {
            if !body[end].is_ascii() {
                non_ascii += 1;
                end += 1;
            } else if body.get(end + 1).is_some_and(|b| !b.is_ascii()) {
                end += 1;
            } else {
                break;
            }
        }
        sample.extend_from_slice(&body[run_start..end]);
        at = end;
    }
}

/// Why a body (after content decoding) is not text at all, if it is not:
/// a body compressed twice (gzip/zstd/brotli-looking magic), an image or
/// archive, or NUL bytes (which no HTML or feed in an 8-bit or UTF-8
/// encoding contains). Such a body is `invalid_content`, never stored as
/// a page's text.
pub fn binary_reason(body: &[u8]) -> Option<String> {
    if Encoding::for_bom(body).is_some_and(|(e, _)| e != UTF_8) {
        return None; // UTF-16 text is full of NUL bytes
    }
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x1f\x8b", "gzip data (compressed twice?)"),
        (b"\x28\xb5\x2f\xfd", "zstd data (compressed twice?)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x7fELF", "an executable"),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| body.starts_with(m)) {
        return Some(format!("the body is {what}, not text"));
    }
    let head = &body[..body.len().min(8192)];
    // Text has none: found (or not) by memchr, counted only when present
    // (a byte at a time, the count cost ~39 K instructions a page).
    memchr::memchr(0, head)?;
    let nuls = head.iter().filter(|&&b| b == 0).count();
    (nuls > 0).then(|| format!("the body is binary ({nuls} NUL bytes in its first {} bytes)", head.len()))
}

/// Largest share of bad sequences among the non-ASCII characters for which
/// a declaration still holds: 1 in 50. A mis-declared GBK page fails most
/// of its multi-byte pairs; a UTF-8 page with a stray byte fails one.
const MAX_BAD_SHARE: usize = 50;

/// Whether a decoding with errors is still the right one: replacement
/// characters are a small share of the non-ASCII characters.
fn mostly_valid(text: &str) -> bool {
    let (mut bad, mut good) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if c == char::REPLACEMENT_CHARACTER { bad += 1 } else { good += 1 }
    }
    bad * MAX_BAD_SHARE <= good
}

fn finish(enc: &'static Encoding, body: &[u8], source: CharsetSource) -> Decoded {
    let (text, _, had_errors) = enc.decode(body);
    Decoded { text: text.into_owned(), encoding: enc.name(), source, had_errors }
}

/// The `charset=` parameter of a Content-Type value.
fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// `<meta charset=…>` or `<meta http-equiv=content-type content="…charset=…">`
/// in the first bytes, found on ASCII bytes without parsing the page.
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(META_SCAN_BYTES)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = lower[start..].iter().position(|&b| b == b'>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(p) = find(tag, b"charset") {
            let rest = &tag[p + b"charset".len()..];
            let rest = rest.iter().skip_while(|b| b.is_ascii_whitespace()).copied().collect::<Vec<_>>();
            if let Some(value) = rest.strip_prefix(b"=") {
                let value: Vec<u8> = value
                    .iter()
                    .skip_while(|b| b.is_ascii_whitespace() || **b == b'"' || **b == b'\'')
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
                    .copied()
                    .collect();
                if let Some(enc) = Encoding::for_label(&value) {
                    return Some(enc);
                }
            }
        }
        from = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ZH: &str = "通义千问发布新版本，参数量达到1750亿。";

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    fn page(charset_meta: &str, body: &str) -> String {
        format!("<html><head>{charset_meta}<title>t</title></head><body><p>{body}</p></body></html>")
    }

    #[test]
    fn header_charset_gbk() {
        let bytes = gbk(&page("", ZH));
        let d = decode(&bytes, Some("text/html; charset=GBK"), None, None);
        assert!(d.text.contains(ZH));
        assert_eq!(d.source, CharsetSource::Header);
    }

    #[test]
    fn gb2312_label_maps_to_gbk() {
        let bytes = gbk(&page(r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#, ZH));
        let d = decode(&bytes, Some("text/html"), None, None);
        assert!(d.text.contains(ZH));
        assert_eq!((d.encoding, d.source), ("GBK", CharsetSource::Meta));
    }

    #[test]
    fn wrong_utf8_declaration_falls_back_to_detection() {
        let bytes = gbk(&page("<meta charset=\"utf-8\">", &ZH.repeat(5)));
        let d = decode(&bytes, Some("text/html; charset=utf-8"), None, Some("news.sina.com.cn"));
        assert!(d.text.contains(ZH), "{}", d.text);
        assert_eq!(d.source, CharsetSource::Detected);
    }

    #[test]
    fn undeclared_utf8_and_big5_and_shift_jis() {
        let d = decode(page("", ZH).as_bytes(), Some("text/html"), None, None);
        assert!(d.text.contains(ZH));
        let big5_text = "人工智慧大型語言模型的發展與應用，臺灣廠商積極投入研發。";
        let bytes = encoding_rs::BIG5.encode(&page("", &big5_text.repeat(3))).0.into_owned();
        assert!(decode(&bytes, None, None, Some("udn.com.tw")).text.contains(big5_text));
        let sjis_text = "大規模言語モデルの開発競争が激しくなっている。";
        let bytes = encoding_rs::SHIFT_JIS.encode(&page("", &sjis_text.repeat(3))).0.into_owned();
        assert!(decode(&bytes, None, None, Some("example.jp")).text.contains(sjis_text));
    }

    #[test]
    fn bom_and_override_win() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(ZH.as_bytes());
        assert_eq!(decode(&bytes, Some("text/html; charset=gbk"), None, None).text, ZH);
        let d = decode(&gbk(ZH), Some("text/html; charset=utf-8"), Some("gb18030"), None);
        assert_eq!((d.text.as_str(), d.source), (ZH, CharsetSource::Override));
    }

    /// Issue 14 finding 4: one stray byte in a page declared UTF-8 (header
    /// and meta) made the whole article windows-1252 mojibake.
    #[test]
    fn issue14_a_stray_byte_keeps_the_declared_charset() {
        let html = page("<meta charset=\"utf-8\">", &format!("{ZH}{ZH}@@{ZH}"));
        let at = html.find("@@").unwrap() + 1;
        let mut bytes = html.into_bytes();
        bytes.insert(at, 0xB0); // a lone continuation byte
        let d = decode(&bytes, Some("text/html; charset=utf-8"), None, Some("example.cn"));
        assert_eq!((d.encoding, d.source), ("UTF-8", CharsetSource::Header));
        assert!(d.had_errors);
        assert_eq!(d.text.matches(ZH).count(), 3, "{}", d.text);
        assert_eq!(d.text.matches(char::REPLACEMENT_CHARACTER).count(), 1);
    }

    /// A Latin-1 declaration (Tomcat's and many old servers' default header)
    /// decodes any bytes without an error, so the bytes could never overrule
    /// it: a UTF-8 or GBK article behind it was stored as mojibake.
    #[test]
    fn a_latin1_declaration_yields_to_cjk_bytes() {
        let html = page("<meta charset=\"utf-8\">", ZH);
        let d = decode(html.as_bytes(), Some("text/html; charset=ISO-8859-1"), None, Some("example.cn"));
        assert_eq!((d.encoding, d.text.as_str()), ("UTF-8", html.as_str()));
        let html = page("", &ZH.repeat(3));
        let d = decode(&gbk(&html), Some("text/html; charset=iso-8859-1"), None, Some("example.cn"));
        assert_eq!((d.encoding, d.text.as_str()), ("GBK", html.as_str()));
        // A real Latin-1 page keeps its declaration.
        let fr =
            page("<meta charset=\"iso-8859-1\">", "L'IA générative a été présentée à la conférence : « déjà là ».");
        let d = decode(&encoding_rs::WINDOWS_1252.encode(&fr).0, Some("text/html; charset=ISO-8859-1"), None, None);
        assert_eq!((d.encoding, d.source, d.text.as_str()), ("windows-1252", CharsetSource::Header, fr.as_str()));
    }

    /// A page as a CMS writes it: a long head of ASCII script and CSS,
    /// then the article in `text`, with markup between the paragraphs.
    fn big_page(head_bytes: usize, text: &str, paragraphs: usize) -> String {
        let mut html = String::from("<html><head><script>");
        while html.len() < head_bytes {
            html.push_str("var cfg = {a: 1, b: [2, 3], c: 'x'}; function f(i) { return i < 9 && i > 0; }\n");
        }
        html.push_str("</script><style>.a{color:red}</style></head><body><article>");
        for i in 0..paragraphs {
            html.push_str(&format!("<p class=\"para\" data-i=\"{i}\">{text}</p>\n"));
        }
        html.push_str("</article></body></html>");
        html
    }

    #[test]
    fn undeclared_gbk_after_64kb_of_ascii_script() {
        let html = big_page(64 << 10, ZH, 40);
        let d = decode(&gbk(&html), Some("text/html"), None, Some("example.com"));
        assert_eq!((d.encoding, d.source), ("GBK", CharsetSource::Detected));
        assert_eq!(d.text, html);
    }

    #[test]
    fn undeclared_big5_utf8_and_windows_1252_pages() {
        let zh_tw = "人工智慧大型語言模型的發展與應用，臺灣廠商積極投入研發。";
        let html = big_page(20 << 10, zh_tw, 30);
        let d = decode(&encoding_rs::BIG5.encode(&html).0, None, None, Some("udn.com.tw"));
        assert_eq!((d.encoding, d.text.as_str()), ("Big5", html.as_str()));

        let html = big_page(20 << 10, ZH, 30);
        let d = decode(html.as_bytes(), None, None, Some("example.cn"));
        assert_eq!((d.encoding, d.source, d.text.as_str()), ("UTF-8", CharsetSource::Detected, html.as_str()));

        let fr = "L'intelligence artificielle générative a été présentée à la conférence : « déjà là ».";
        let html = big_page(20 << 10, fr, 30);
        let d = decode(&encoding_rs::WINDOWS_1252.encode(&html).0, None, None, Some("example.fr"));
        assert_eq!((d.encoding, d.text.as_str()), ("windows-1252", html.as_str()));
    }

    #[test]
    fn a_large_undeclared_page_is_detected_from_a_bounded_sample() {
        // 3,000 paragraphs: some 170 KB of GBK text, 150 KB of it non-ASCII.
        let html = big_page(8 << 10, ZH, 3000);
        let bytes = gbk(&html);
        let d = decode(&bytes, None, None, Some("news.sina.com.cn"));
        assert_eq!((d.encoding, d.text.as_str()), ("GBK", html.as_str()));
        let sample = detect_sample(&bytes, DETECT_NON_ASCII);
        let non_ascii = sample.iter().filter(|b| !b.is_ascii()).count();
        assert_eq!(non_ascii, DETECT_NON_ASCII);
        assert!(sample.len() < 3 * DETECT_NON_ASCII, "{} bytes sampled", sample.len());
    }

    /// The guess from the bounded sample is the guess from the whole body,
    /// for long undeclared pages of each legacy script family the sources
    /// carry (the sample holds a small part of each).
    #[test]
    fn the_bounded_sample_guesses_as_the_whole_body_does() {
        let ja = "大規模言語モデルの開発競争が激しくなっている。各社は新しいモデルを発表した。";
        let zh_tw = "人工智慧大型語言模型的發展與應用，臺灣廠商積極投入研發。";
        let ru = "Компания представила новую языковую модель с открытыми весами.";
        let fr = "L'intelligence artificielle générative a été présentée à la conférence : « déjà là ».";
        let pages: [(&'static Encoding, &str, &str); 6] = [
            (encoding_rs::GBK, ZH, "cn"),
            (encoding_rs::GBK, ZH, "com"),
            (encoding_rs::BIG5, zh_tw, "tw"),
            (encoding_rs::SHIFT_JIS, ja, "jp"),
            (encoding_rs::WINDOWS_1251, ru, "ru"),
            (encoding_rs::WINDOWS_1252, fr, "fr"),
        ];
        for (enc, text, tld) in pages {
            let bytes = enc.encode(&big_page(4 << 10, text, 1500)).0.into_owned();
            let sample = detect_sample(&bytes, DETECT_NON_ASCII);
            assert!(sample.len() * 2 < bytes.len(), "{}: sampled {} of {}", enc.name(), sample.len(), bytes.len());
            let mut whole = chardetng::EncodingDetector::new();
            whole.feed(&bytes, true);
            let host = format!("news.example.{tld}");
            assert_eq!(detect(&bytes, Some(&host)), whole.guess(Some(tld.as_bytes()), true), "{}", enc.name());
            assert_eq!(detect(&bytes, Some(&host)), enc, "{}", enc.name());
        }
    }

    #[test]
    fn the_sample_cuts_only_inside_long_ascii_stretches() {
        let body = b"\xb0\xa1ab\xb0\xa1<p>0123456789012345678901234567890123456789</p>\xc4\xe3";
        let sample = detect_sample(body, 1 << 10);
        let ascii = &body[6..body.len() - 2];
        let expected =
            [&body[..6], &ascii[..DETECT_CONTEXT], &ascii[ascii.len() - DETECT_CONTEXT..], &body[body.len() - 2..]]
                .concat();
        assert_eq!(&*sample, expected.as_slice());
    }

    #[test]
    fn undeclared_iso_2022_jp_is_still_detected() {
        let jp = "大規模言語モデルの開発競争が激しくなっている。";
        let html = page("", &jp.repeat(3));
        let bytes = encoding_rs::ISO_2022_JP.encode(&html).0.into_owned();
        assert!(std::str::from_utf8(&bytes).is_ok());
        let d = decode(&bytes, None, None, Some("example.jp"));
        assert_eq!((d.encoding, d.text.as_str()), ("ISO-2022-JP", html.as_str()));
    }

    /// Issue 14 finding 9: binary and doubly-gzipped bodies were stored as
    /// text.
    #[test]
    fn issue14_binary_bodies_are_named_not_decoded() {
        assert!(binary_reason(&[0x1f, 0x8b, 8, 0, 0, 0]).unwrap().contains("gzip"));
        assert!(binary_reason(b"\x89PNG\r\n\x1a\n....").unwrap().contains("PNG"));
        assert_eq!(
            binary_reason(b"<html>\0\0\0</html>").as_deref(),
            Some("the body is binary (3 NUL bytes in its first 16 bytes)")
        );
        assert_eq!(binary_reason(page("", ZH).as_bytes()), None);
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("<html>".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(binary_reason(&utf16), None);
    }
}
