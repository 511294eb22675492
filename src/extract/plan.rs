//! A source's extraction options, compiled once and shared.
//!
//! Users' selectors and ignore regexes were compiled on every check; a
//! regex costs tens of microseconds to hundreds (the NFA compiler and
//! determiniser), a selector a few. They only change when the source's
//! options do, so compiled plans are kept per distinct options in a small
//! process-wide cache (options are few: most sources share the defaults).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use scraper::Selector;

use super::noise::NoiseRules;
use super::{ExtractError, ExtractOptions, parse_selector};

/// More distinct option sets than this and the cache starts over (bounds
/// memory on a hostile or huge configuration; a rebuild costs little).
const MAX_PLANS: usize = 4096;

/// Everything `extract_page` needs from the options, compiled.
pub(crate) struct Plan {
    pub select: Option<Selector>,
    pub exclude: Vec<Selector>,
    pub rules: NoiseRules<'static>,
}

static PLANS: LazyLock<Mutex<HashMap<ExtractOptions, Arc<Plan>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The compiled plan for `opts`; errors (a bad selector or regex) are not
/// cached, they are reported each time.
pub(crate) fn plan(opts: &ExtractOptions) -> Result<Arc<Plan>, ExtractError> {
    if let Some(plan) = PLANS.lock().ok().and_then(|plans| plans.get(opts).cloned()) {
        return Ok(plan);
    }
    // Compiled outside the lock: two threads may both compile a new option
    // set once; neither waits for the other's regex compiler.
    let plan = Arc::new(Plan {
        select: opts.select.as_deref().map(parse_selector).transpose()?,
        exclude: opts.exclude.iter().map(|c| parse_selector(c)).collect::<Result<Vec<_>, _>>()?,
        rules: NoiseRules::new(opts.default_noise, &opts.ignore)?,
    });
    if let Ok(mut plans) = PLANS.lock() {
        if plans.len() >= MAX_PLANS {
            plans.clear();
        }
        plans.insert(opts.clone(), plan.clone());
    }
    Ok(plan)
}

/// Applies the noise rules line by line to plain (already extracted) text,
/// e.g. PDF pages or feed summaries. Returns the kept text, normalised, and
/// what was removed.
pub fn apply_noise_rules(text: &str, opts: &super::ExtractOptions) -> (String, Vec<String>) {
    let mut removed = Vec::new();
    let plan = plan(opts);
    let fallback;
    let rules = match &plan {
        Ok(plan) => &plan.rules,
        // A bad user regex was already refused by validate_regex when the
        // source was saved; if one slips through, the defaults still apply
        // (and a bad selector, irrelevant to plain text, loses nothing).
        Err(_) => match NoiseRules::new(opts.default_noise, &opts.ignore)
            .or_else(|_| NoiseRules::new(opts.default_noise, &[]))
        {
            Ok(rules) => {
                fallback = rules;
                &fallback
            }
            Err(_) => return (super::normalize_text(text), removed),
        },
    };
    let normalised = super::normalize_text(text);
    let kept: Vec<String> = normalised.lines().filter_map(|l| rules.clean_line(l.to_owned(), &mut removed)).collect();
    (kept.join("\n"), removed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_same_options_share_one_plan() {
        let opts = ExtractOptions {
            select: Some("div.plan-test".into()),
            ignore: vec![r"plan-test \d+".into()],
            ..ExtractOptions::default()
        };
        let a = plan(&opts).unwrap();
        let b = plan(&opts.clone()).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "compiled twice");
        let other = ExtractOptions { ignore: vec![r"plan-test \w+".into()], ..opts };
        assert!(!Arc::ptr_eq(&a, &plan(&other).unwrap()));
    }

    #[test]
    fn bad_options_are_refused_every_time() {
        let opts = ExtractOptions { ignore: vec!["(unclosed".into()], ..ExtractOptions::default() };
        assert!(matches!(plan(&opts), Err(ExtractError::BadRegex { .. })));
        assert!(matches!(plan(&opts), Err(ExtractError::BadRegex { .. })));
        let opts = ExtractOptions { select: Some("div[".into()), ..ExtractOptions::default() };
        assert!(matches!(plan(&opts), Err(ExtractError::BadSelector { .. })));
    }
}
