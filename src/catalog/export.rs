//! Export of accepted facts: Markdown tables the analyst pastes back into the
//! document, JSON and CSV. Pure: takes a catalog holding accepted facts.

use serde::Serialize;

use super::model::{Attribute, Catalog, EntityKind, EntityRef, Fact, Model};
use super::value::FactValue;

/// Export formats of `catalog export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
    Csv,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "md" | "markdown" => Some(ExportFormat::Markdown),
            "json" => Some(ExportFormat::Json),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }
}

pub fn export(catalog: &Catalog, format: ExportFormat) -> Result<String, serde_json::Error> {
    match format {
        ExportFormat::Markdown => Ok(markdown(catalog)),
        ExportFormat::Json => json(catalog),
        ExportFormat::Csv => Ok(csv(catalog)),
    }
}

/// The document's tables, regenerated: GPT versions, vendors (国外, 国内),
/// and the release timeline.
pub fn markdown(catalog: &Catalog) -> String {
    let mut out = String::new();
    out.push_str("表格 OpenAI的ChatGPT版本变化\n\n");
    out.push_str(&gpt_table(catalog));
    out.push_str("\n表格 国外科技公司Chatgpt技术布局和应用场景\n\n");
    out.push_str(&vendor_table(catalog, false));
    out.push_str("\n表格 国内科技公司Chatgpt技术布局和应用场景\n\n");
    out.push_str(&vendor_table(catalog, true));
    out.push_str("\n表格 大模型发布时间线\n\n");
    out.push_str(&timeline(catalog));
    out.push_str("\n表格 模型家族与版本\n\n");
    out.push_str(&families(catalog));
    out
}

/// Every family with its versions, release dates and sizes; the origin
/// tells the document's entries from the reference data and from what was
/// observed (provisional, awaiting review).
fn families(catalog: &Catalog) -> String {
    let mut out = header(&["家族", "厂商", "版本", "时间", "参数量", "来源"]);
    for family in &catalog.models {
        let mut versions: Vec<&Model> = catalog.versions_of(&family.name).collect();
        if versions.is_empty() {
            continue;
        }
        versions.sort_by_key(|m| version_key(m));
        for v in versions {
            let e = EntityRef::model(&v.name);
            let origin = if v.provisional { format!("{}（待审）", v.origin) } else { v.origin.to_string() };
            out.push_str(&row(&[
                family.name.clone(),
                v.vendor.clone().or(family.vendor.clone()).unwrap_or_default(),
                v.name.clone(),
                values(catalog, &e, Attribute::ReleaseDate).join("、"),
                values(catalog, &e, Attribute::Parameters).join("、"),
                origin,
            ]));
        }
    }
    out
}

fn values(catalog: &Catalog, entity: &EntityRef, attribute: Attribute) -> Vec<String> {
    catalog.facts_of(entity, attribute).map(|f| f.value.display()).collect()
}

fn cell(s: &str) -> String {
    s.trim().replace('|', "\\|").replace('\n', "<br>")
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "))
}

fn header(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let rule: Vec<String> = names.iter().map(|_| "---".to_owned()).collect();
    format!("{}{}", row(&names), row(&rule))
}

/// Numeric version order: 3 < 3.5 < 4 (string order would not do).
fn version_key(m: &Model) -> Vec<u64> {
    m.version.as_deref().unwrap_or("").split('.').map(|p| p.parse().unwrap_or(u64::MAX)).collect()
}

fn gpt_table(catalog: &Catalog) -> String {
    let mut rows: Vec<&Model> = catalog
        .models
        .iter()
        .filter(|m| m.vendor.as_deref() == Some("OpenAI") && m.family.as_deref() == Some("GPT") && m.version.is_some())
        .collect();
    rows.sort_by_key(|m| version_key(m));
    let mut out = header(&["版本", "时间", "模型特点", "参数量"]);
    for m in rows {
        let e = EntityRef::model(&m.name);
        let date = values(catalog, &e, Attribute::ReleaseDate).join("、");
        out.push_str(&row(&[
            m.name.clone(),
            if date.is_empty() { "？".to_owned() } else { date },
            values(catalog, &e, Attribute::Features).join("\n"),
            values(catalog, &e, Attribute::Parameters).join("、"),
        ]));
    }
    out
}

fn vendor_table(catalog: &Catalog, domestic: bool) -> String {
    let mut out = header(&["公司", "芯片", "深度学习框架", "AI大模型", "ChtGPT自应用场景", "AIGC应用场景"]);
    for v in &catalog.vendors {
        if (v.country.as_deref() == Some("CN")) != domestic {
            continue;
        }
        let e = EntityRef::vendor(&v.name);
        let chips = values(catalog, &e, Attribute::Chip);
        let frameworks = values(catalog, &e, Attribute::Framework);
        let models: Vec<String> = values(catalog, &e, Attribute::AiModel)
            .into_iter()
            .map(|text| if names_retired_model(catalog, &v.name, &text) { format!("~~{text}~~") } else { text })
            .collect();
        if chips.is_empty() && frameworks.is_empty() && models.is_empty() {
            continue;
        }
        out.push_str(&row(&[
            v.name.clone(),
            chips.join("、"),
            frameworks.join("、"),
            models.join("、"),
            values(catalog, &e, Attribute::ChatgptScenario).join("、"),
            values(catalog, &e, Attribute::AigcScenario).join("、"),
        ]));
    }
    out
}

fn names_retired_model(catalog: &Catalog, vendor: &str, text: &str) -> bool {
    catalog
        .models
        .iter()
        .filter(|m| m.retired && m.vendor.as_deref() == Some(vendor))
        .any(|m| m.aliases.iter().any(|a| text.contains(&a.text)))
}

fn timeline(catalog: &Catalog) -> String {
    let mut events: Vec<&Fact> = catalog
        .facts
        .iter()
        .filter(|f| f.attribute == Attribute::ReleaseDate && f.entity.kind == EntityKind::Model)
        .collect();
    events.sort_by_key(|f| match &f.value {
        FactValue::Date(d) => Some(*d),
        _ => None,
    });
    let mut out = header(&["时间", "公司", "模型", "事件"]);
    for f in events {
        let FactValue::Date(d) = &f.value else {
            continue;
        };
        let vendor = catalog.model(&f.entity.name).and_then(|m| m.vendor.clone()).unwrap_or_default();
        // A table row is not a readable event; a sentence is.
        let event = f.evidence.as_deref().filter(|e| !e.trim_start().starts_with('|')).unwrap_or("");
        out.push_str(&row(&[d.to_dotted(), vendor, f.entity.name.clone(), event.to_owned()]));
    }
    out
}

#[derive(Serialize)]
struct JsonFact<'a> {
    attribute: Attribute,
    value: String,
    value_key: String,
    raw: &'a str,
    unit: Option<&'static str>,
    date_precision: Option<&'static str>,
    as_of: Option<String>,
    evidence: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonEntity<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    family: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    /// A family's versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<&'a str>,
    /// `document`, `reference` or `observed`.
    origin: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence_url: Option<&'a str>,
    aliases: Vec<&'a str>,
    facts: Vec<JsonFact<'a>>,
}

fn json_facts<'a>(catalog: &'a Catalog, entity: &EntityRef) -> Vec<JsonFact<'a>> {
    catalog
        .facts
        .iter()
        .filter(|f| &f.entity == entity)
        .map(|f| JsonFact {
            attribute: f.attribute,
            value: f.value.display(),
            value_key: f.value.key(),
            raw: &f.raw,
            unit: f.value.unit(),
            date_precision: f.value.date_precision().map(|p| p.as_str()),
            as_of: f.as_of.map(|d| d.key()),
            evidence: f.evidence.as_deref(),
        })
        .collect()
}

/// `{ "vendors": [...], "models": [...] }`, each with aliases and facts.
pub fn json(catalog: &Catalog) -> Result<String, serde_json::Error> {
    let vendors: Vec<JsonEntity<'_>> = catalog
        .vendors
        .iter()
        .map(|v| JsonEntity {
            name: &v.name,
            country: v.country.as_deref(),
            vendor: None,
            kind: None,
            family: None,
            version: None,
            versions: Vec::new(),
            origin: v.origin.as_str(),
            provisional: v.provisional,
            evidence_url: v.evidence_url.as_deref(),
            aliases: v.aliases.iter().map(|a| a.text.as_str()).collect(),
            facts: json_facts(catalog, &EntityRef::vendor(&v.name)),
        })
        .collect();
    let models: Vec<JsonEntity<'_>> = catalog
        .models
        .iter()
        .map(|m| JsonEntity {
            name: &m.name,
            country: None,
            vendor: m.vendor.as_deref(),
            kind: Some(m.kind.as_str()),
            family: m.family.as_deref(),
            version: m.version.as_deref(),
            versions: catalog.versions_of(&m.name).map(|v| v.name.as_str()).collect(),
            origin: m.origin.as_str(),
            provisional: m.provisional,
            evidence_url: m.evidence_url.as_deref(),
            aliases: m.aliases.iter().map(|a| a.text.as_str()).collect(),
            facts: json_facts(catalog, &EntityRef::model(&m.name)),
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "vendors": vendors, "models": models }))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// One row per fact (RFC 4180 quoting).
pub fn csv(catalog: &Catalog) -> String {
    let mut out = String::from("entity_kind,entity,attribute,value,value_key,unit,date_precision,as_of,evidence\n");
    for f in &catalog.facts {
        let fields = [
            f.entity.kind.as_str().to_owned(),
            f.entity.name.clone(),
            f.attribute.as_str().to_owned(),
            f.value.display(),
            f.value.key(),
            f.value.unit().unwrap_or("").to_owned(),
            f.value.date_precision().map_or("", |p| p.as_str()).to_owned(),
            f.as_of.map(|d| d.key()).unwrap_or_default(),
            f.evidence.clone().unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|s| csv_field(s)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}
