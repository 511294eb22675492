//! Hugging Face models, from the Hub's `GET /api/models/ORG/NAME`. New
//! commits (sha / lastModified), parameter count (safetensors total),
//! pipeline tag and tags are changes; downloads and likes are metrics.

use serde::{Deserialize, Serialize};

use super::{KindChange, Structured, StructuredFact};
use crate::types::MetricPoint;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    #[serde(default)]
    pub sha: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
    #[serde(default)]
    pub parameters: Option<u64>,
    #[serde(default)]
    pub pipeline_tag: Option<String>,
    #[serde(default)]
    pub library: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub gated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum HfError {
    #[error("the Hub answered with something that is not a model: {0}")]
    Json(#[source] serde_json::Error),
    #[error("the model object has no id")]
    NoId,
}

fn s(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k).and_then(|x| x.as_str()).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned)
}

/// Parses the model object and its metrics.
pub fn parse_model(body: &[u8]) -> Result<Structured, HfError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(HfError::Json)?;
    let id = s(&v, "id").or_else(|| s(&v, "modelId")).ok_or(HfError::NoId)?;
    let mut tags: Vec<String> = v
        .get("tags")
        .and_then(|t| t.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    tags.sort();
    tags.dedup();
    let model = Model {
        id,
        sha: s(&v, "sha"),
        last_modified: s(&v, "lastModified"),
        parameters: v.get("safetensors").and_then(|st| st.get("total")).and_then(serde_json::Value::as_u64),
        pipeline_tag: s(&v, "pipeline_tag"),
        library: s(&v, "library_name"),
        tags,
        // `gated` is false or a mode string ("auto", "manual").
        gated: v.get("gated").is_some_and(|g| g.as_bool().unwrap_or(g.is_string())),
    };
    let metrics = ["downloads", "likes"]
        .into_iter()
        .filter_map(|k| {
            v.get(k).and_then(serde_json::Value::as_f64).map(|value| MetricPoint { metric: k.to_owned(), value })
        })
        .collect();
    Ok(structured(&model, metrics))
}

/// `72706203648` → `72.7B`.
pub fn human_params(n: u64) -> String {
    let f = n as f64;
    if f >= 1e9 {
        format!("{:.1}B", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.0}M", f / 1e6)
    } else {
        n.to_string()
    }
}

fn structured(m: &Model, metrics: Vec<MetricPoint>) -> Structured {
    let mut text = format!("{}\n", m.id);
    let mut line = |k: &str, v: &str| text.push_str(&format!("{k}: {v}\n"));
    line("commit", m.sha.as_deref().unwrap_or(""));
    line("last modified", m.last_modified.as_deref().unwrap_or(""));
    line("parameters", &m.parameters.map(|p| format!("{p} ({})", human_params(p))).unwrap_or_default());
    line("pipeline", m.pipeline_tag.as_deref().unwrap_or(""));
    line("library", m.library.as_deref().unwrap_or(""));
    line("gated", if m.gated { "yes" } else { "no" });
    line("tags", &m.tags.join(", "));
    Structured { text, meta: serde_json::json!({ "model": m }), title: Some(m.id.clone()), metrics }
}

fn model_of(meta: &serde_json::Value) -> Option<Model> {
    meta.get("model").and_then(|m| serde_json::from_value(m.clone()).ok())
}

pub fn changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<KindChange> {
    let (Some(o), Some(n)) = (model_of(old), model_of(new)) else { return Vec::new() };
    let mut out = Vec::new();
    if o.parameters != n.parameters {
        let show = |p: Option<u64>| p.map(human_params).unwrap_or_else(|| "unknown".to_owned());
        out.push(KindChange::metadata(
            format!("Parameter count changed: {} → {}", show(o.parameters), show(n.parameters)),
            serde_json::json!({ "field": "parameters", "from": o.parameters, "to": n.parameters }),
        ));
    }
    if o.pipeline_tag != n.pipeline_tag {
        out.push(KindChange::metadata(
            format!(
                "Pipeline changed: {} → {}",
                o.pipeline_tag.as_deref().unwrap_or("none"),
                n.pipeline_tag.as_deref().unwrap_or("none")
            ),
            serde_json::json!({ "field": "pipeline_tag", "from": o.pipeline_tag, "to": n.pipeline_tag }),
        ));
    }
    let added: Vec<&String> = n.tags.iter().filter(|t| !o.tags.contains(t)).collect();
    let removed: Vec<&String> = o.tags.iter().filter(|t| !n.tags.contains(t)).collect();
    if !added.is_empty() || !removed.is_empty() {
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("+{}", added.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", +")));
        }
        if !removed.is_empty() {
            parts.push(format!("-{}", removed.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", -")));
        }
        out.push(KindChange::metadata(
            format!("Tags changed: {}", parts.join("; ")),
            serde_json::json!({ "field": "tags", "added": added, "removed": removed }),
        ));
    }
    if o.sha != n.sha {
        out.push(KindChange::metadata(
            format!(
                "New commit {} ({})",
                n.sha.as_deref().map(|s| s.get(..7).unwrap_or(s)).unwrap_or("?"),
                n.last_modified.as_deref().unwrap_or("")
            ),
            serde_json::json!({ "field": "sha", "from": o.sha, "to": n.sha, "last_modified": n.last_modified }),
        ));
    }
    out
}

pub fn facts(meta: &serde_json::Value) -> Vec<StructuredFact> {
    let Some(m) = model_of(meta) else { return Vec::new() };
    let fact = |field: &str, value: String| StructuredFact { subject: m.id.clone(), field: field.to_owned(), value };
    let mut out = Vec::new();
    if let Some(p) = m.parameters {
        out.push(fact("parameters", p.to_string()));
    }
    if let Some(t) = &m.pipeline_tag {
        out.push(fact("pipeline_tag", t.clone()));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const QWEN: &str = r#"{"_id":"66e","id":"Qwen/Qwen2.5-72B","modelId":"Qwen/Qwen2.5-72B","author":"Qwen",
"sha":"587cc4061cf6a7cc0d429d05c109447e5cf063af","lastModified":"2024-09-25T12:32:50.000Z","private":false,"gated":false,
"downloads":48211,"likes":61,"library_name":"transformers","pipeline_tag":"text-generation",
"tags":["transformers","safetensors","qwen2","text-generation","conversational","en","arxiv:2407.10671","license:other"],
"safetensors":{"parameters":{"BF16":72706203648},"total":72706203648}}"#;

    #[test]
    fn downloads_are_metrics_only() {
        let a = parse_model(QWEN.as_bytes()).unwrap();
        let b = parse_model(QWEN.replace("48211", "99000").replace("\"likes\":61", "\"likes\":70").as_bytes()).unwrap();
        assert_eq!(a.text, b.text);
        assert!(changes(&a.meta, &b.meta).is_empty());
        assert_eq!(
            b.metrics,
            [
                MetricPoint { metric: "downloads".into(), value: 99000.0 },
                MetricPoint { metric: "likes".into(), value: 70.0 }
            ]
        );
        assert!(a.text.contains("parameters: 72706203648 (72.7B)"), "{}", a.text);
    }

    #[test]
    fn parameter_count_change_is_a_change() {
        let a = parse_model(QWEN.as_bytes()).unwrap();
        let b = parse_model(QWEN.replace("72706203648", "72000000000").as_bytes()).unwrap();
        let ch = changes(&a.meta, &b.meta);
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].summary, "Parameter count changed: 72.7B → 72.0B");
    }

    #[test]
    fn new_commit_and_tags() {
        let a = parse_model(QWEN.as_bytes()).unwrap();
        let b = parse_model(
            QWEN.replace("587cc4061cf6a7cc0d429d05c109447e5cf063af", "d1b2c3d4e5")
                .replace("\"license:other\"", "\"license:apache-2.0\"")
                .as_bytes(),
        )
        .unwrap();
        let s: Vec<String> = changes(&a.meta, &b.meta).into_iter().map(|c| c.summary).collect();
        assert_eq!(
            s,
            ["Tags changed: +license:apache-2.0; -license:other", "New commit d1b2c3d (2024-09-25T12:32:50.000Z)"]
        );
    }

    #[test]
    fn not_a_model() {
        assert!(matches!(parse_model(b"{\"error\":\"Repository not found\"}"), Err(HfError::NoId)));
        assert!(parse_model(b"").is_err());
    }
}
