//! Reading the document: a regular file, under a size cap, as text.
//!
//! A document saved as GBK (common for Chinese notes) is decoded; a binary
//! file is refused with a reason instead of yielding garbage "links".

use std::io::Read;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: String },
    #[error("{path} is {size} bytes, more than import.max_file_bytes = {max}; split the document or raise the limit")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path} is not a text file ({why}); give a Markdown document")]
    Binary { path: String, why: String },
}

/// The document's text. Reads at most `max_bytes + 1` bytes whatever the
/// file claims, so a file growing while it is read cannot blow the cap.
pub fn read_document(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let shown = path.display().to_string();
    let io = |source| ReadError::Io { path: shown.clone(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile { path: shown });
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge { path: shown, size: meta.len(), max: max_bytes });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { path: shown, size: bytes.len() as u64, max: max_bytes });
    }
    decode(bytes).map_err(|why| ReadError::Binary { path: shown, why })
}

/// UTF-8 (with or without BOM), else a detected legacy encoding that decodes
/// without a single error; NUL bytes mean binary whatever the encoding.
fn decode(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(format!("it contains a NUL byte at offset {at}"));
    }
    let bytes = match String::from_utf8(bytes) {
        Ok(s) => return Ok(s.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(s)),
        Err(e) => e.into_bytes(),
    };
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(&bytes, true);
    let encoding = detector.guess(None, true);
    let (text, _, had_errors) = encoding.decode(&bytes);
    if had_errors {
        return Err(format!("it is neither UTF-8 nor {}", encoding.name()));
    }
    let controls = text.chars().filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')).count();
    if controls * 100 > text.chars().count().max(1) {
        return Err("it is mostly control characters".to_owned());
    }
    Ok(text.into_owned())
}
