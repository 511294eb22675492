//! Facts from structured sources (a Hugging Face model card's parameter
//! count) resolved to catalog entities (pure).
//!
//! Only an exact alias match counts: `Qwen/Qwen2.5-72B` must not give its
//! 72.7 B parameters to the `Qwen` family just because the family's alias
//! starts the name. A GitHub release date is a repository's, not a model's,
//! so it is not a model fact.

use super::{Attribute, EntityKind, EntityRef, FactValue, Matcher, ParamCount};

/// The entity, attribute and value a structured `field = value` of `subject`
/// states, when `subject` names exactly one catalog model.
pub fn resolve(
    matcher: &Matcher,
    subject: &str,
    field: &str,
    value: &str,
) -> Option<(EntityRef, Attribute, FactValue)> {
    let (attribute, value) = match field {
        "parameters" => {
            (Attribute::Parameters, FactValue::Parameters(ParamCount::Exact { value: value.parse().ok()? }))
        }
        _ => return None,
    };
    // `ORG/NAME` on the Hub: the name is the model.
    let name = subject.rsplit('/').next()?.trim();
    let mentions = matcher.find(name);
    let [m] = mentions.as_slice() else { return None };
    if m.new_version || m.start != 0 || m.end != name.len() {
        return None;
    }
    let entity = matcher.entities().get(m.entity)?.clone();
    (entity.kind == EntityKind::Model).then_some((entity, attribute, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::seed_tests::seed_matcher as matcher;

    #[test]
    fn a_family_prefix_is_not_the_model() {
        let m = matcher();
        assert_eq!(resolve(&m, "Qwen/Qwen2.5-72B", "parameters", "72706203648"), None);
        assert_eq!(resolve(&m, "Qwen/Qwen", "pipeline_tag", "text-generation"), None);
        assert_eq!(resolve(&m, "x/y", "parameters", "not a number"), None);
    }

    #[test]
    fn an_exact_model_alias_takes_the_fact() {
        let m = matcher();
        let model = m.entities().iter().find(|e| e.kind == EntityKind::Model).cloned().unwrap_or_else(|| panic!());
        let got = resolve(&m, &format!("org/{}", model.name), "parameters", "7000000000");
        assert_eq!(
            got,
            Some((model, Attribute::Parameters, FactValue::Parameters(ParamCount::Exact { value: 7_000_000_000 })))
        );
    }
}
