//! The digest reads change excerpts through the shared [`crate::excerpt`]
//! type, which owns the mark format.

pub use crate::excerpt::{Excerpt, ExcerptLine, LineKind, Segment, SegmentKind, parse};
