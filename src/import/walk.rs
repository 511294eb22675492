//! One pass over pulldown-cmark's events: every link-shaped thing of the
//! document with its place (heading path, line) and the text around it.
//!
//! Titles of links without text of their own (bare URLs, autolinks) come
//! from their block — the list item, paragraph, table cell or footnote —
//! on the same line: the text before the URL, else the text after it. They
//! are settled when the block ends, once the text after is known.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{BrokenLink, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

use super::title::clean_title;
use super::{LinkForm, SkipReason};

/// A link as found, before URL normalisation and de-duplication.
#[derive(Debug, Clone)]
pub struct Found {
    pub raw: String,
    pub offset: usize,
    pub line: usize,
    pub heading_path: Vec<String>,
    pub title: Option<String>,
    pub form: LinkForm,
    /// Known not to be a reference before its URL is even read.
    pub skip: Option<SkipReason>,
}

static HREF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#)
        .unwrap_or_else(|_| unreachable!("static regex"))
});

/// A block whose text can title the links in it.
#[derive(Default)]
struct Block {
    text: String,
    /// Spans of links in `text`; those with `Some(i)` still need a title,
    /// `found[i]`.
    spans: Vec<(Range<usize>, Option<usize>)>,
}

/// Contiguous text, scanned for bare URLs when something else interrupts it.
#[derive(Default)]
struct TextRun {
    text: String,
    /// (position in `text`, source offset) at each piece's start.
    pieces: Vec<(usize, usize)>,
    /// Where the run starts in the innermost block's text.
    block_base: usize,
}

struct Link {
    dest: String,
    link_type: LinkType,
    title_attr: String,
    offset: usize,
    text: String,
    block_start: usize,
}

struct Walker {
    lines: Vec<usize>,
    headings: Vec<(HeadingLevel, String)>,
    /// Heading path in force from each offset on (for definitions read at the end).
    heading_marks: Vec<(usize, Vec<String>)>,
    heading_text: Option<String>,
    blocks: Vec<Block>,
    run: TextRun,
    link: Option<Link>,
    image_depth: usize,
    code_block: bool,
    footnote_depth: usize,
    found: Vec<Found>,
    /// Destinations reached through `[text][label]` links.
    used_definitions: std::collections::HashSet<String>,
}

/// Every link-shaped thing of `markdown`, in document order; the walk stops
/// once `limit` are found (the `bool` says it did), so a document made of
/// a million links costs the limit, not the million.
pub fn walk(markdown: &str, limit: usize) -> (Vec<Found>, bool) {
    let broken: RefCell<Vec<(Range<usize>, String)>> = RefCell::new(Vec::new());
    let callback = |link: BrokenLink<'_>| -> Option<(CowStr<'_>, CowStr<'_>)> {
        // `[text][label]` with an undefined label is a reference the author
        // meant; `[TOC]` or `[x]` alone is just brackets.
        if matches!(link.link_type, LinkType::Reference | LinkType::ReferenceUnknown) {
            broken.borrow_mut().push((link.span.clone(), link.reference.to_string()));
        }
        None
    };
    let options = Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut w = Walker {
        lines: line_starts(markdown),
        headings: Vec::new(),
        heading_marks: vec![(0, Vec::new())],
        heading_text: None,
        blocks: Vec::new(),
        run: TextRun::default(),
        link: None,
        image_depth: 0,
        code_block: false,
        footnote_depth: 0,
        found: Vec::new(),
        used_definitions: std::collections::HashSet::new(),
    };
    let mut events = Parser::new_with_broken_link_callback(markdown, options, Some(callback)).into_offset_iter();
    let mut truncated = false;
    for (event, range) in events.by_ref() {
        w.event(event, range);
        if w.found.len() > limit {
            truncated = true;
            break;
        }
    }
    if truncated {
        return (w.found, true);
    }
    w.flush_run();
    // Definitions that no link used are references too (a list of
    // `[1]: https://…` lines is a common way to keep them).
    let mut defs: Vec<(usize, String, Option<String>, String)> = events
        .reference_definitions()
        .iter()
        .map(|(label, def)| {
            (def.span.start, def.dest.to_string(), def.title.as_ref().map(|t| t.to_string()), label.to_owned())
        })
        .collect();
    defs.sort_by_key(|d| d.0);
    for (offset, dest, title, label) in defs {
        if w.used_definitions.contains(&dest) {
            continue;
        }
        let line = w.line(offset);
        let heading_path = w.path_at(offset);
        // A label can title the link (`[量子位报道]: …`), a number cannot (`[1]: …`).
        let label_title = clean_title(&label).filter(|t| !t.chars().all(|c| c.is_ascii_digit()));
        let title = title.as_deref().and_then(clean_title).or(label_title);
        w.found.push(Found { raw: dest, offset, line, heading_path, title, form: LinkForm::Definition, skip: None });
    }
    for (span, label) in broken.into_inner() {
        let line = w.line(span.start);
        let heading_path = w.path_at(span.start);
        w.found.push(Found {
            raw: format!("[{label}]"),
            offset: span.start,
            line,
            heading_path,
            title: None,
            form: LinkForm::Reference,
            skip: Some(SkipReason::UndefinedReference(label)),
        });
    }
    let mut found = w.found;
    found.sort_by_key(|f| f.offset);
    (found, false)
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut out = vec![0];
    out.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
    out
}

impl Walker {
    fn line(&self, offset: usize) -> usize {
        self.lines.partition_point(|&s| s <= offset).max(1)
    }

    fn path(&self) -> Vec<String> {
        self.headings.iter().map(|(_, t)| t.clone()).collect()
    }

    fn path_at(&self, offset: usize) -> Vec<String> {
        let i = self.heading_marks.partition_point(|(o, _)| *o <= offset);
        self.heading_marks.get(i.saturating_sub(1)).map(|(_, p)| p.clone()).unwrap_or_default()
    }

    fn form(&self, form: LinkForm) -> LinkForm {
        if self.footnote_depth > 0 { LinkForm::Footnote } else { form }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Text(t) => self.text(&t, range.start),
            Event::SoftBreak | Event::HardBreak => self.text("\n", range.start),
            Event::Code(t) => {
                // Code is never a link, but it can be part of a title.
                self.flush_run();
                self.push_block_text(&t);
            }
            Event::InlineHtml(html) | Event::Html(html) => {
                self.flush_run();
                if !self.code_block && self.image_depth == 0 {
                    self.html(&html, range.start);
                }
            }
            Event::Start(tag) => {
                self.flush_run();
                self.start(tag, range);
            }
            Event::End(tag) => {
                self.flush_run();
                self.end(tag, range);
            }
            _ => self.flush_run(),
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        match tag {
            Tag::Heading { .. } => {
                self.heading_text = Some(String::new());
                self.blocks.push(Block::default());
            }
            // A table row is one block: a URL's title is the row's other cells.
            Tag::Paragraph | Tag::Item | Tag::TableHead | Tag::TableRow => self.blocks.push(Block::default()),
            Tag::FootnoteDefinition(_) => {
                self.footnote_depth += 1;
                self.blocks.push(Block::default());
            }
            Tag::CodeBlock(_) => self.code_block = true,
            Tag::Image { dest_url, .. } => {
                self.image_depth += 1;
                let line = self.line(range.start);
                self.found.push(Found {
                    raw: dest_url.to_string(),
                    offset: range.start,
                    line,
                    heading_path: self.path(),
                    title: None,
                    form: self.form(LinkForm::Inline),
                    skip: Some(SkipReason::Image),
                });
            }
            Tag::Link { link_type, dest_url, title, .. } => {
                let block_start = self.blocks.last().map_or(0, |b| b.text.len());
                self.link = Some(Link {
                    dest: dest_url.to_string(),
                    link_type,
                    title_attr: title.to_string(),
                    offset: range.start,
                    text: String::new(),
                    block_start,
                });
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd, range: Range<usize>) {
        match tag {
            TagEnd::Heading(level) => {
                let text = self.heading_text.take().unwrap_or_default();
                self.end_block();
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                if !text.is_empty() {
                    self.headings.retain(|(l, _)| *l < level);
                    self.headings.push((level, text));
                    self.heading_marks.push((range.end, self.path()));
                }
            }
            TagEnd::Paragraph | TagEnd::Item | TagEnd::TableHead | TagEnd::TableRow => self.end_block(),
            TagEnd::TableCell => self.push_block_text(" | "),
            TagEnd::FootnoteDefinition => {
                self.end_block();
                self.footnote_depth = self.footnote_depth.saturating_sub(1);
            }
            TagEnd::CodeBlock => self.code_block = false,
            TagEnd::Image => self.image_depth = self.image_depth.saturating_sub(1),
            TagEnd::Link => self.end_link(),
            _ => {}
        }
    }

    fn text(&mut self, t: &str, offset: usize) {
        if self.code_block || self.image_depth > 0 {
            return;
        }
        if let Some(h) = &mut self.heading_text {
            h.push_str(t);
        }
        if let Some(link) = &mut self.link {
            link.text.push_str(t);
            self.push_block_text(t);
            return;
        }
        if self.run.text.is_empty() {
            self.run.block_base = self.blocks.last().map_or(0, |b| b.text.len());
            self.run.pieces.clear();
        }
        self.run.pieces.push((self.run.text.len(), offset));
        self.run.text.push_str(t);
        self.push_block_text(t);
    }

    fn push_block_text(&mut self, t: &str) {
        if let Some(b) = self.blocks.last_mut() {
            b.text.push_str(t);
        }
    }

    /// Bare URLs in the text run so far.
    fn flush_run(&mut self) {
        if self.run.text.is_empty() {
            return;
        }
        let run = std::mem::take(&mut self.run);
        let mut finder = linkify::LinkFinder::new();
        finder.kinds(&[linkify::LinkKind::Url]).url_must_have_scheme(true);
        // linkify reads IRIs, so a URL would run on through `，` or `）` into
        // the Chinese text after it (and swallow the next URL): scan the
        // stretches between CJK punctuation separately.
        let mut stretch_start = 0;
        let ends = run.text.char_indices().filter(|(_, c)| is_cjk_punctuation(*c)).map(|(i, _)| i);
        let stretches: Vec<(usize, usize)> = ends
            .chain(std::iter::once(run.text.len()))
            .map(|end| {
                let s = (stretch_start, end);
                stretch_start = run.text[end..].chars().next().map_or(end, |c| end + c.len_utf8());
                s
            })
            .collect();
        for (from, to) in stretches {
            let Some(stretch) = run.text.get(from..to) else { continue };
            for link in finder.links(stretch) {
                let url = link.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '\'']);
                if !url.contains("://") || url.ends_with("://") {
                    continue;
                }
                let start = from + link.start();
                let piece = run.pieces.partition_point(|(p, _)| *p <= start).saturating_sub(1);
                let offset = run.pieces.get(piece).map_or(0, |(p, o)| o + (start - p));
                let block_span = run.block_base + start..run.block_base + start + url.len();
                let skip = (!url.to_ascii_lowercase().starts_with("http"))
                    .then(|| SkipReason::Scheme(url.split(':').next().unwrap_or_default().to_ascii_lowercase()));
                self.push_contextual(url.to_owned(), offset, LinkForm::Bare, block_span, skip);
            }
        }
    }

    /// A link that takes its title from its block.
    fn push_contextual(
        &mut self,
        raw: String,
        offset: usize,
        form: LinkForm,
        span: Range<usize>,
        skip: Option<SkipReason>,
    ) {
        let line = self.line(offset);
        let index = self.found.len();
        self.found.push(Found {
            raw,
            offset,
            line,
            heading_path: self.path(),
            title: None,
            form: self.form(form),
            skip,
        });
        if let Some(b) = self.blocks.last_mut() {
            b.spans.push((span, Some(index)));
        }
    }

    fn end_link(&mut self) {
        let Some(link) = self.link.take() else { return };
        let form = match link.link_type {
            LinkType::Inline => LinkForm::Inline,
            LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut => {
                self.used_definitions.insert(link.dest.clone());
                LinkForm::Reference
            }
            LinkType::Autolink => LinkForm::Autolink,
            LinkType::Email => LinkForm::Autolink,
            _ => LinkForm::Inline,
        };
        let raw = if link.link_type == LinkType::Email { format!("mailto:{}", link.dest) } else { link.dest.clone() };
        let block_end = self.blocks.last().map_or(0, |b| b.text.len());
        let span = link.block_start..block_end;
        // An autolink's text is its URL: no title of its own.
        let own = clean_title(&link.text).filter(|t| *t != link.dest && *t != raw);
        let own = own.or_else(|| clean_title(&link.title_attr));
        match own {
            Some(title) => {
                let line = self.line(link.offset);
                self.found.push(Found {
                    raw,
                    offset: link.offset,
                    line,
                    heading_path: self.path(),
                    title: Some(title),
                    form: self.form(form),
                    skip: None,
                });
                if let Some(b) = self.blocks.last_mut() {
                    b.spans.push((span, None));
                }
            }
            None => self.push_contextual(raw, link.offset, form, span, None),
        }
    }

    fn html(&mut self, html: &str, offset: usize) {
        for cap in HREF.captures_iter(html) {
            let Some(m) = cap.get(1).or_else(|| cap.get(2)).or_else(|| cap.get(3)) else { continue };
            let at = self.blocks.last().map_or(0, |b| b.text.len());
            self.push_contextual(m.as_str().to_owned(), offset + m.start(), LinkForm::Html, at..at, None);
        }
    }

    /// Titles the block's contextual links from the text on their line.
    fn end_block(&mut self) {
        let Some(block) = self.blocks.pop() else { return };
        let text = &block.text;
        for (k, (span, index)) in block.spans.iter().enumerate() {
            let Some(index) = index else { continue };
            let prev_end = k.checked_sub(1).and_then(|p| block.spans.get(p)).map_or(0, |(s, _)| s.end);
            let next_start = block.spans.get(k + 1).map_or(text.len(), |(s, _)| s.start);
            let before = text.get(prev_end.min(span.start)..span.start).unwrap_or_default();
            let after = text.get(span.end.min(next_start)..next_start).unwrap_or_default();
            let before = before.rsplit('\n').next().unwrap_or_default();
            let after = after.split('\n').next().unwrap_or_default();
            let title = clean_title(before).or_else(|| clean_title(after));
            if let Some(f) = self.found.get_mut(*index) {
                f.title = title;
            }
        }
    }
}

/// CJK and full-width punctuation: where a bare URL ends (GFM stops at
/// whitespace only, but Chinese text puts `，` or `）` right after a URL).
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FF65}' | '“' | '”' | '‘' | '’' | '…' | '—')
}
