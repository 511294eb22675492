//! A mention of a catalog entity in a text: what the matcher finds and the
//! rules and candidate finders read, and what those finders may ask of the
//! catalog. A leaf module, so the matcher, the rules and the candidates
//! share it without importing each other.

use super::model::EntityKind;

/// What the candidate finders ask of the catalog (the matcher answers):
/// whether a name is already known, and what kind an entity is.
pub trait Known {
    /// A catalog alias or term (chip, framework), case-insensitive.
    fn is_known_term(&self, term: &str) -> bool;
    /// The kind of the entity a [`Mention`] names.
    fn kind(&self, entity: usize) -> Option<EntityKind>;
}

/// One occurrence of an entity in a text (byte span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    /// Index into the matcher's entities.
    pub entity: usize,
    pub start: usize,
    pub end: usize,
    /// `text[start..end]` names a version the catalog lacks (`Qwen2.5-72B`
    /// when only `Qwen` is known); `entity` is then the family it belongs to.
    pub new_version: bool,
    /// Where the matched alias ends (before any version suffix).
    pub alias_end: usize,
}

impl Mention {
    pub fn known(entity: usize, start: usize, end: usize) -> Self {
        Mention { entity, start, end, new_version: false, alias_end: end }
    }

    /// The same mention with spans relative to `offset`.
    pub fn rebased(&self, offset: usize) -> Self {
        Mention {
            start: self.start.saturating_sub(offset),
            end: self.end.saturating_sub(offset),
            alias_end: self.alias_end.saturating_sub(offset),
            ..*self
        }
    }
}
