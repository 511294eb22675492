//! Typed fact values: parameter counts, partial dates and free text.
//!
//! Every value has a *key* (a normalised string, what equality and the
//! database's uniqueness use) and a display form. Parameter counts are exact
//! integers: `1.17亿` is 117,000,000, computed without floating point so the
//! key never drifts.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How many parameters a model has, as the source states it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum ParamCount {
    /// `1750亿`, `175B`.
    Exact { value: u64 },
    /// `千亿级` (`min..max`), `超过4亿` (`min..`).
    Range { min: u64, max: Option<u64> },
    /// `8x7B`: kept as written, never multiplied, because a mixture of
    /// experts does not have 56B parameters.
    Moe { experts: u32, each: u64 },
}

impl ParamCount {
    /// Normalised key, e.g. `175000000000`, `100000000000..1000000000000`, `8x7000000000`.
    pub fn key(&self) -> String {
        match self {
            ParamCount::Exact { value } => value.to_string(),
            ParamCount::Range { min, max } => match max {
                Some(max) => format!("{min}..{max}"),
                None => format!("{min}.."),
            },
            ParamCount::Moe { experts, each } => format!("{experts}x{each}"),
        }
    }

    /// The document's style: `1.17亿`, `1750亿`, `100万亿`, `千亿级`, `8x7B`.
    pub fn to_chinese(&self) -> String {
        match self {
            ParamCount::Exact { value } => chinese_amount(*value),
            ParamCount::Range { min, max: Some(max) } if *max == min.saturating_mul(10) => match magnitude_word(*min) {
                Some(word) => format!("{word}级"),
                None => format!("{}-{}", chinese_amount(*min), chinese_amount(*max)),
            },
            ParamCount::Range { min, max: Some(max) } => {
                format!("{}-{}", chinese_amount(*min), chinese_amount(*max))
            }
            ParamCount::Range { min, max: None } => format!("超过{}", chinese_amount(*min)),
            ParamCount::Moe { experts, each } => format!("{experts}x{}", latin_amount(*each)),
        }
    }
}

impl fmt::Display for ParamCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_chinese())
    }
}

fn magnitude_word(min: u64) -> Option<&'static str> {
    match min {
        1_000_000_000 => Some("十亿"),
        10_000_000_000 => Some("百亿"),
        100_000_000_000 => Some("千亿"),
        1_000_000_000_000 => Some("万亿"),
        _ => None,
    }
}

/// `117000000` → `1.17亿`; `100000000000000` → `100万亿`.
pub fn chinese_amount(value: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000_000, "万亿"), (100_000_000, "亿"), (10_000, "万")];
    for (scale, unit) in UNITS {
        if value >= scale {
            return format!("{}{unit}", scaled_decimal(value, scale));
        }
    }
    value.to_string()
}

/// `7000000000` → `7B`; `175000000000` → `175B`.
pub fn latin_amount(value: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M")];
    for (scale, unit) in UNITS {
        if value >= scale {
            return format!("{}{unit}", scaled_decimal(value, scale));
        }
    }
    value.to_string()
}

/// `value / scale` as a decimal without trailing zeros, exactly.
fn scaled_decimal(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let mut rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let mut digits = String::new();
    let mut unit = scale;
    while rest > 0 && unit > 1 {
        unit /= 10;
        digits.push(char::from(b'0' + (rest / unit) as u8));
        rest %= unit;
    }
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Multiplies a decimal written as `int.frac` by `10^exp` exactly.
/// `None` when it overflows or leaves a fraction (e.g. `1.5` of a unit of 1).
pub fn scale_decimal(int: &str, frac: &str, exp: u32) -> Option<u64> {
    let frac = frac.trim_end_matches('0');
    let frac_len = u32::try_from(frac.len()).ok()?;
    if frac_len > exp {
        return None;
    }
    mantissa(int, frac)?.checked_mul(10u64.checked_pow(exp - frac_len)?)
}

/// `format!("{int}{frac}").parse::<u64>()` without the string: every
/// figure an article states was formatted for it (0.02 M instructions a
/// bench page). A `+` may lead, as `parse` allows.
fn mantissa(int: &str, frac: &str) -> Option<u64> {
    let mut digits = int.bytes().chain(frac.bytes()).peekable();
    if digits.peek() == Some(&b'+') {
        digits.next();
    }
    let mut value: u64 = 0;
    let mut any = false;
    for b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// How much of a date the source gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    Year,
    Month,
    Day,
}

impl DatePrecision {
    pub fn as_str(self) -> &'static str {
        match self {
            DatePrecision::Year => "year",
            DatePrecision::Month => "month",
            DatePrecision::Day => "day",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "year" => Some(DatePrecision::Year),
            "month" => Some(DatePrecision::Month),
            "day" => Some(DatePrecision::Day),
            _ => None,
        }
    }
}

/// A date known to year, month or day. `date` is the first day of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartialDate {
    pub date: NaiveDate,
    pub precision: DatePrecision,
}

impl PartialDate {
    /// Validates the parts: `2023, Some(2), Some(30)` is `None`.
    pub fn new(year: i32, month: Option<u32>, day: Option<u32>) -> Option<Self> {
        if !(1900..=2100).contains(&year) {
            return None;
        }
        let (precision, m, d) = match (month, day) {
            (None, None) => (DatePrecision::Year, 1, 1),
            (Some(m), None) => (DatePrecision::Month, m, 1),
            (Some(m), Some(d)) => (DatePrecision::Day, m, d),
            (None, Some(_)) => return None,
        };
        NaiveDate::from_ymd_opt(year, m, d).map(|date| PartialDate { date, precision })
    }

    /// ISO form cut to the precision: `2023-03-16`, `2023-03`, `2023`.
    pub fn key(&self) -> String {
        match self.precision {
            DatePrecision::Year => self.date.format("%Y").to_string(),
            DatePrecision::Month => self.date.format("%Y-%m").to_string(),
            DatePrecision::Day => self.date.format("%Y-%m-%d").to_string(),
        }
    }

    /// The document's table style, unpadded: `2018-6`, `2022-11-30`.
    pub fn to_document_style(&self) -> String {
        use chrono::Datelike;
        let d = self.date;
        match self.precision {
            DatePrecision::Year => d.year().to_string(),
            DatePrecision::Month => format!("{}-{}", d.year(), d.month()),
            DatePrecision::Day => format!("{}-{}-{}", d.year(), d.month(), d.day()),
        }
    }

    /// The document's timeline style: `2023.3.16`, `2023.3`, `2023`.
    pub fn to_dotted(&self) -> String {
        self.to_document_style().replace('-', ".")
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The value of one fact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FactValue {
    Parameters(ParamCount),
    Date(PartialDate),
    Text { text: String },
}

impl FactValue {
    pub fn text(s: impl Into<String>) -> Self {
        FactValue::Text { text: s.into() }
    }

    /// The normalised key: two facts with the same entity, attribute and key
    /// say the same thing (a corroboration, not a conflict).
    pub fn key(&self) -> String {
        match self {
            FactValue::Parameters(p) => p.key(),
            FactValue::Date(d) => d.key(),
            FactValue::Text { text } => text.trim().to_owned(),
        }
    }

    /// The unit stored next to the value: `parameters`, `date` or none.
    pub fn unit(&self) -> Option<&'static str> {
        match self {
            FactValue::Parameters(_) => Some("parameters"),
            FactValue::Date(_) => Some("date"),
            FactValue::Text { .. } => None,
        }
    }

    pub fn date_precision(&self) -> Option<DatePrecision> {
        match self {
            FactValue::Date(d) => Some(d.precision),
            _ => None,
        }
    }

    /// Human form in the document's style.
    pub fn display(&self) -> String {
        match self {
            FactValue::Parameters(p) => p.to_chinese(),
            FactValue::Date(d) => d.to_document_style(),
            FactValue::Text { text } => text.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn chinese_amounts_round_trip_the_document_figures() {
        assert_eq!(chinese_amount(117_000_000), "1.17亿");
        assert_eq!(chinese_amount(1_500_000_000), "15亿");
        assert_eq!(chinese_amount(175_000_000_000), "1750亿");
        assert_eq!(chinese_amount(100_000_000_000_000), "100万亿");
        assert_eq!(chinese_amount(1_800_000_000_000), "1.8万亿");
        assert_eq!(latin_amount(7_000_000_000), "7B");
        assert_eq!(latin_amount(1_500_000_000), "1.5B");
    }

    #[test]
    fn the_mantissa_is_the_parse_of_the_digits() {
        let pieces = ["", "0", "7", "12", "+", "-", ".", "18446744073709551615", "18446744073709551616", "٣", "a"];
        for int in pieces {
            for frac in pieces {
                let expected = format!("{int}{frac}").parse::<u64>().ok();
                assert_eq!(mantissa(int, frac), expected, "{int:?} {frac:?}");
            }
        }
    }

    #[test]
    fn scale_decimal_is_exact() {
        assert_eq!(scale_decimal("1", "17", 8), Some(117_000_000));
        assert_eq!(scale_decimal("1", "8", 12), Some(1_800_000_000_000));
        assert_eq!(scale_decimal("0", "1", 0), None);
        assert_eq!(scale_decimal("99999999999", "", 12), None);
    }

    #[test]
    fn ranges_and_moe_display() {
        let r = ParamCount::Range { min: 100_000_000_000, max: Some(1_000_000_000_000) };
        assert_eq!(r.to_chinese(), "千亿级");
        assert_eq!(r.key(), "100000000000..1000000000000");
        let moe = ParamCount::Moe { experts: 8, each: 7_000_000_000 };
        assert_eq!(moe.to_chinese(), "8x7B");
        let over = ParamCount::Range { min: 400_000_000, max: None };
        assert_eq!(over.to_chinese(), "超过4亿");
    }

    #[test]
    fn partial_dates_validate_and_format() {
        let d = PartialDate::new(2023, Some(3), Some(16)).unwrap();
        assert_eq!(d.key(), "2023-03-16");
        assert_eq!(d.to_dotted(), "2023.3.16");
        let m = PartialDate::new(2018, Some(6), None).unwrap();
        assert_eq!((m.key(), m.to_document_style()), ("2018-06".into(), "2018-6".into()));
        assert_eq!(PartialDate::new(2023, Some(2), Some(30)), None);
        assert_eq!(PartialDate::new(2023, Some(13), None), None);
        assert_eq!(PartialDate::new(20, None, None), None);
    }
}
