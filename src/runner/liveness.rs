//! The status state machine (pure): what a check observed → the source's
//! status, and whether that is a status change to record.
//!
//! A single odd outcome never flips a status: a change away from the current
//! status needs `confirm_after` consecutive identical observations. Recovery
//! (anything → ok) is immediate: a good response is strong evidence.

use crate::sources::Observed;
use crate::types::{ErrorKind, SourceStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveState {
    pub status: SourceStatus,
    pub last_error_kind: Option<ErrorKind>,
    pub pending_status: Option<SourceStatus>,
    pub pending_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub from: SourceStatus,
    pub to: SourceStatus,
}

impl StatusChange {
    /// A one-line summary for the change row and the digest.
    pub fn summary(&self, error: Option<ErrorKind>) -> String {
        use SourceStatus as S;
        match (self.from, self.to) {
            (_, S::Ok) => format!("Recovered: {} → ok", self.from),
            (_, S::Gone) => format!("Link died: {} → gone", self.from),
            (_, S::SoftGone) => format!("Page now says it is gone: {} → soft_gone", self.from),
            (_, S::Redirected) => format!("Moved to another page: {} → redirected", self.from),
            (_, S::Failing) => match error {
                Some(k) => format!("Failing ({k}): {} → failing", self.from),
                None => format!("Failing: {} → failing", self.from),
            },
            (from, to) => format!("{from} → {to}"),
        }
    }
}

pub fn transition(state: &LiveState, observed: &Observed, confirm_after: u32) -> (LiveState, Option<StatusChange>) {
    // Nothing was asked: no evidence either way, nothing moves. A rate
    // limit is no evidence either: it says how much we asked (a spent
    // GitHub budget is shared by every repository), not how the source is.
    if matches!(observed, Observed::Deferred { .. }) || observed.error_kind() == Some(ErrorKind::RateLimited) {
        return (state.clone(), None);
    }
    let target = observed.status();
    let error_kind = observed.error_kind();
    let settled = |status| LiveState { status, last_error_kind: error_kind, pending_status: None, pending_count: 0 };

    match state.status {
        // A paused source checked by hand stays paused.
        SourceStatus::Paused => return (LiveState { last_error_kind: error_kind, ..state.clone() }, None),
        // No belief yet: the first outcome is the baseline, not a change.
        SourceStatus::Pending => return (settled(target), None),
        _ => {}
    }
    if target == state.status {
        return (settled(target), None);
    }
    if target == SourceStatus::Ok {
        return (settled(target), Some(StatusChange { from: state.status, to: target }));
    }
    let count = if state.pending_status == Some(target) { state.pending_count + 1 } else { 1 };
    if count >= confirm_after.max(1) {
        return (settled(target), Some(StatusChange { from: state.status, to: target }));
    }
    let kept = LiveState {
        status: state.status,
        // Show the latest error even before the status flips.
        last_error_kind: error_kind.or(state.last_error_kind.filter(|_| state.status == SourceStatus::Failing)),
        pending_status: Some(target),
        pending_count: count,
    };
    (kept, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SourceStatus as S;

    const OK: Observed = Observed::NotModified;

    fn gone() -> Observed {
        Observed::Gone { reason: "HTTP 404".to_owned() }
    }

    fn failing(kind: ErrorKind) -> Observed {
        Observed::Failed { kind, message: kind.to_string() }
    }

    fn state(status: SourceStatus) -> LiveState {
        LiveState { status, last_error_kind: None, pending_status: None, pending_count: 0 }
    }

    #[test]
    fn one_failure_between_successes_changes_nothing() {
        let (s1, c1) = transition(&state(S::Ok), &failing(ErrorKind::HttpStatus), 2);
        assert_eq!((s1.status, c1), (S::Ok, None));
        let (s2, c2) = transition(&s1, &OK, 2);
        assert_eq!((s2.status, c2, s2.pending_status), (S::Ok, None, None));
    }

    #[test]
    fn confirmed_failure_flips_once() {
        let (s1, _) = transition(&state(S::Ok), &gone(), 2);
        let (s2, c2) = transition(&s1, &gone(), 2);
        assert_eq!(s2.status, S::Gone);
        assert_eq!(c2, Some(StatusChange { from: S::Ok, to: S::Gone }));
        let (s3, c3) = transition(&s2, &gone(), 2);
        assert_eq!((s3.status, c3), (S::Gone, None));
    }

    #[test]
    fn recovery_is_immediate_and_a_change() {
        let (s, c) = transition(&state(S::Gone), &OK, 3);
        assert_eq!(s.status, S::Ok);
        assert_eq!(c.map(|c| c.summary(None)), Some("Recovered: gone → ok".to_owned()));
    }

    #[test]
    fn failing_kind_changes_only_update_the_kind() {
        let was_failing = LiveState { last_error_kind: Some(ErrorKind::Timeout), ..state(S::Failing) };
        let (s, c) = transition(&was_failing, &failing(ErrorKind::Connect), 2);
        assert_eq!((s.status, s.last_error_kind, c), (S::Failing, Some(ErrorKind::Connect), None));
    }

    #[test]
    fn interrupted_streak_starts_over() {
        let (s1, _) = transition(&state(S::Ok), &gone(), 3);
        let (s2, _) = transition(&s1, &failing(ErrorKind::Timeout), 3);
        assert_eq!((s2.pending_status, s2.pending_count), (Some(S::Failing), 1));
    }

    #[test]
    fn first_outcome_is_a_baseline() {
        let (s, c) = transition(&state(S::Pending), &gone(), 2);
        assert_eq!((s.status, c), (S::Gone, None));
    }
}
