//! Q&A and community pages: Zhihu-style questions and answers, Weibo-style
//! posts, Discuz-style forum threads.
//!
//! What such a page is about is small: the question and its answer, the
//! post, the thread's first post. Everything around it moves all day while
//! that stays the same — vote and like counts, comment counts, "编辑于 3 小时前",
//! comments and replies appended below, recommendation boxes reordered. The
//! generic furniture guesses catch part of it by class name, but these sites
//! name their parts their own way (`list_li`, `post_33108`, `SimilarQuestions`),
//! and a reply is an article-shaped block the density heuristic would happily
//! keep. So each layout here says where its content is, recognised by markup
//! the platform always ships; the rest of the page is left out.
//!
//! Only without a user `--select` and with the shipped rules on (the user's
//! selector says what the content is; `default_noise = false` turns every
//! shipped rule off).

use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use rustc_hash::FxHashSet;
use scraper::{ElementRef, Html};

use super::select::{Index, Shipped};

/// One part of a layout's content.
#[derive(Debug, Clone, Copy)]
struct Part {
    css: &'static str,
    /// Only the first match: a thread's first post, not its replies.
    first_only: bool,
}

const fn all(css: &'static str) -> Part {
    Part { css, first_only: false }
}

const fn first(css: &'static str) -> Part {
    Part { css, first_only: true }
}

/// A community layout as `sources show` and `check --dry-run` display it.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub name: &'static str,
    /// Present on every page of the layout (and on no article page).
    detect: &'static str,
    /// The content, in document order.
    parts: &'static [Part],
    /// Dropped inside the content: stamps the platform writes into the body.
    drop: &'static [&'static str],
    /// What is kept, for the reader of `check --dry-run`.
    pub keeps: &'static str,
}

const LAYOUTS: &[Layout] = &[
    // One answer's page (/question/Q/answer/A): the question and that answer;
    // the "more answers" below it are other pages' content.
    Layout {
        name: "zhihu_answer",
        detect: ".AnswerCard .AnswerItem",
        parts: &[
            all(".QuestionHeader-title"),
            all(".QuestionRichText"),
            all(".AnswerCard .AnswerItem .AuthorInfo .UserLink"),
            all(".AnswerCard .AnswerItem .RichContent-inner"),
        ],
        drop: &[],
        keeps: "question, answer author and answer text",
    },
    // A question's page: the question and every answer shown.
    Layout {
        name: "zhihu_question",
        detect: ".QuestionHeader-title",
        parts: &[
            all(".QuestionHeader-title"),
            all(".QuestionRichText"),
            all(".AnswerItem .AuthorInfo .UserLink"),
            all(".AnswerItem .RichContent-inner"),
        ],
        drop: &[],
        keeps: "question, answer authors and answer texts",
    },
    // A post's page: its author and text; a repost's original is inside the
    // post's own block. Comments use `.WB_text` too, but not as a child of
    // the post's `.WB_detail`.
    Layout {
        name: "weibo_post",
        detect: ".WB_detail > [node-type=feed_list_content]",
        parts: &[all(".WB_detail > .WB_info"), all(".WB_detail > .WB_text")],
        drop: &[],
        keeps: "author and post text",
    },
    // m.weibo.cn's post page.
    Layout {
        name: "weibo_mobile_post",
        detect: ".weibo-main .weibo-text",
        parts: &[all(".weibo-main .m-text-box > a:first-child"), all(".weibo-main .weibo-og .weibo-text")],
        drop: &[],
        keeps: "author and post text",
    },
    // Discuz! threads: the subject and the first post; replies ("沙发",
    // "2#"…) are appended below it all day.
    Layout {
        name: "discuz_thread",
        detect: "#postlist [id^=postmessage_]",
        parts: &[all("#thread_subject"), first("#postlist [id^=postmessage_]")],
        drop: &[".pstatus", ".locked", ".attach_nopermission"],
        keeps: "thread subject and first post",
    },
    // phpBB threads: the first post's subject and text.
    Layout {
        name: "phpbb_topic",
        detect: ".post .postbody .content",
        parts: &[first(".post .postbody h3"), first(".post .postbody .content")],
        drop: &[".notice"],
        keeps: "first post",
    },
];

/// Every shipped selector of this module, for `select`'s index ([`super::shipped_css`]).
pub(super) fn shipped_css() -> impl Iterator<Item = &'static str> {
    LAYOUTS.iter().flat_map(|layout| {
        std::iter::once(layout.detect)
            .chain(layout.parts.iter().map(|part| part.css))
            .chain(layout.drop.iter().copied())
    })
}

/// The shipped layouts, for `sources show`.
pub fn layouts() -> &'static [Layout] {
    LAYOUTS
}

/// A layout recognised on a page: the content roots, in document order,
/// and the elements to drop inside them.
pub(crate) struct Found<'a> {
    pub layout: &'static Layout,
    pub roots: Vec<ElementRef<'a>>,
    pub drop: FxHashSet<NodeId>,
}

/// A layout's selectors, parsed once per process (a unit test checks that
/// every one parses; one that did not would be skipped).
struct Compiled {
    layout: &'static Layout,
    detect: Option<Shipped>,
    parts: Vec<(Shipped, bool)>,
    drop: Vec<Shipped>,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    LAYOUTS
        .iter()
        .map(|layout| Compiled {
            layout,
            detect: Shipped::parse(layout.detect),
            parts: layout
                .parts
                .iter()
                .filter_map(|part| Shipped::parse(part.css).map(|s| (s, part.first_only)))
                .collect(),
            drop: layout.drop.iter().filter_map(|css| Shipped::parse(css)).collect(),
        })
        .collect()
});

/// The first layout whose markup is on the page and whose content parts
/// match something; `None` for every other page.
pub(crate) fn recognise<'a>(index: &Index<'a>) -> Option<Found<'a>> {
    let doc = index.doc();
    for compiled in COMPILED.iter() {
        let Some(detect) = &compiled.detect else { continue };
        if detect.select(index).next().is_none() {
            continue;
        }
        let mut ids = FxHashSet::default();
        for (selector, first_only) in &compiled.parts {
            let matches = selector.select(index);
            if *first_only {
                ids.extend(matches.take(1).map(|el| el.id()));
            } else {
                ids.extend(matches.map(|el| el.id()));
            }
        }
        if ids.is_empty() {
            continue;
        }
        let mut drop = FxHashSet::default();
        for selector in &compiled.drop {
            drop.extend(selector.select(index).map(|el| el.id()));
        }
        return Some(Found { layout: compiled.layout, roots: outermost_in_order(doc, &ids), drop });
    }
    None
}

/// The elements of `ids` not nested in another one, in document order, in
/// one pass over the tree.
pub(crate) fn outermost_in_order<'a>(doc: &'a Html, ids: &FxHashSet<NodeId>) -> Vec<ElementRef<'a>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) if ids.contains(&node.id()) => {
                if depth == 0
                    && let Some(el) = ElementRef::wrap(node)
                {
                    out.push(el);
                }
                depth += 1;
            }
            Edge::Close(node) if ids.contains(&node.id()) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use scraper::Selector;

    #[test]
    fn every_selector_parses() {
        for compiled in COMPILED.iter() {
            let layout = compiled.layout;
            assert!(compiled.detect.is_some(), "{}", layout.name);
            assert_eq!((compiled.parts.len(), compiled.drop.len()), (layout.parts.len(), layout.drop.len()));
        }
        for layout in LAYOUTS {
            assert!(Selector::parse(layout.detect).is_ok(), "{}", layout.detect);
            for part in layout.parts {
                assert!(Selector::parse(part.css).is_ok(), "{}", part.css);
            }
            for css in layout.drop {
                assert!(Selector::parse(css).is_ok(), "{css}");
            }
        }
    }

    #[test]
    fn an_article_is_no_community_page() {
        let doc = Html::parse_document("<article><h1>标题</h1><p>正文，评论 12 条。</p></article>");
        assert!(recognise(&Index::new(&doc)).is_none());
    }

    #[test]
    fn nested_matches_fold_into_the_outer_one_in_document_order() {
        let doc = Html::parse_document(r#"<div id="b"><p id="c">x</p></div><div id="a">y</div>"#);
        let sel = |css| doc.select(&Selector::parse(css).unwrap()).next().unwrap().id();
        let ids: FxHashSet<NodeId> = [sel("#a"), sel("#c"), sel("#b")].into_iter().collect();
        let roots = outermost_in_order(&doc, &ids);
        let names: Vec<_> = roots.iter().map(|e| e.value().id().unwrap()).collect();
        assert_eq!(names, ["b", "a"]);
    }
}
