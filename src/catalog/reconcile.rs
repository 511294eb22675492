//! Reconcile: how a value from a structured source relates to the facts
//! already held for the same entity and attribute. Pure; the store applies
//! the outcome.
//!
//! Facts are append-only. The same value again is a corroboration (one more
//! evidence row); a different value is a new fact *beside* the old ones,
//! never an overwrite. A value read from an article needs no decision: it
//! is a proposal, or more evidence for the same value held (the store does
//! that in one statement on the value index).

use super::model::FactStatus;

/// A fact already held for (entity, attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFact {
    pub id: i64,
    pub value_key: String,
    pub status: FactStatus,
    /// Sources that gave evidence for it (for structured sources).
    pub source_ids: Vec<i64>,
}

/// What to do with a proposed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Same value: add evidence to fact `id`. `accept` when a structured
    /// source confirms a still-proposed value.
    Corroborates { id: i64, accept: bool },
    /// A new fact with `status`; `conflicts_with` lists the live facts with a
    /// different value (kept, side by side); `supersedes` those the same
    /// structured source gave before and now replaces.
    New { status: FactStatus, conflicts_with: Vec<i64>, supersedes: Vec<i64> },
}

/// Decides for a value from a structured source (GitHub, Hugging Face):
/// accepted automatically with that source as evidence. A rejected value is
/// not resurrected: the reviewer's decision stands.
pub fn reconcile_structured(held: &[HeldFact], value_key: &str, source_id: i64) -> Outcome {
    if let Some(f) = held.iter().find(|f| f.value_key == value_key) {
        return Outcome::Corroborates { id: f.id, accept: f.status == FactStatus::Proposed };
    }
    let supersedes: Vec<i64> =
        held.iter().filter(|f| f.status == FactStatus::Accepted && f.source_ids == [source_id]).map(|f| f.id).collect();
    let conflicts_with = live_ids(held).into_iter().filter(|id| !supersedes.contains(id)).collect();
    Outcome::New { status: FactStatus::Accepted, conflicts_with, supersedes }
}

fn live_ids(held: &[HeldFact]) -> Vec<i64> {
    held.iter().filter(|f| matches!(f.status, FactStatus::Proposed | FactStatus::Accepted)).map(|f| f.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(id: i64, key: &str, status: FactStatus, sources: &[i64]) -> HeldFact {
        HeldFact { id, value_key: key.into(), status, source_ids: sources.to_vec() }
    }

    #[test]
    fn same_value_corroborates_and_different_value_sits_beside() {
        let facts = [held(1, "175000000000", FactStatus::Accepted, &[])];
        assert_eq!(reconcile_structured(&facts, "175000000000", 9), Outcome::Corroborates { id: 1, accept: false });
        assert_eq!(
            reconcile_structured(&facts, "1800000000000", 9),
            Outcome::New { status: FactStatus::Accepted, conflicts_with: vec![1], supersedes: vec![] }
        );
    }

    #[test]
    fn rejected_values_stay_rejected_and_do_not_conflict() {
        let facts =
            [held(1, "7000000000", FactStatus::Rejected, &[]), held(2, "8000000000", FactStatus::Proposed, &[])];
        assert_eq!(reconcile_structured(&facts, "7000000000", 9), Outcome::Corroborates { id: 1, accept: false });
        assert_eq!(reconcile_structured(&facts, "8000000000", 9), Outcome::Corroborates { id: 2, accept: true });
    }

    #[test]
    fn a_structured_source_replaces_only_its_own_value() {
        let facts =
            [held(1, "7000000000", FactStatus::Accepted, &[9]), held(2, "6000000000", FactStatus::Accepted, &[])];
        assert_eq!(
            reconcile_structured(&facts, "7500000000", 9),
            Outcome::New { status: FactStatus::Accepted, conflicts_with: vec![2], supersedes: vec![1] }
        );
    }
}
