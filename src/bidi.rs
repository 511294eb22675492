//! Bidirectional overrides, embeddings and isolates in text we show.

/// Bidirectional overrides, embeddings and isolates (U+202A–U+202E,
/// U+2066–U+2069). Page text is hostile: one of these in a title shows the
/// rest of its line reversed (`\u{202E}gnp.exe` reads `exe.png`).
/// Right-to-left text needs none of them to show right, so shown text
/// carries none: the digest and the web view drop them, a typed title may
/// not hold them, an imported one loses them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
