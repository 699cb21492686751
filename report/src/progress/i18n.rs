//! The report's languages: one translation file per language (`report/locales/*.yaml`,
//! flat keys), and the numbers and dates each writes its own way (Vietnamese: `1.234,5`,
//! `03/12/2026`).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use sixfive_inventory::model::Level;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    En,
    Vi,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Vi];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Vi => "vi",
        }
    }

    pub fn texts(self) -> &'static Texts {
        static EN: LazyLock<Texts> =
            LazyLock::new(|| Texts::parse(Lang::En, include_str!("../../locales/en.yaml")));
        static VI: LazyLock<Texts> =
            LazyLock::new(|| Texts::parse(Lang::Vi, include_str!("../../locales/vi.yaml")));
        match self {
            Lang::En => &EN,
            Lang::Vi => &VI,
        }
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "en" => Ok(Lang::En),
            "vi" => Ok(Lang::Vi),
            _ => Err(format!("unknown language `{s}`: use en or vi")),
        }
    }
}

/// A language's texts and formats.
#[derive(Debug)]
pub struct Texts {
    pub lang: Lang,
    texts: BTreeMap<String, String>,
}

impl Texts {
    fn parse(lang: Lang, yaml: &str) -> Texts {
        // The files are part of the build; a test reads both.
        let texts = serde_saphyr::from_str(yaml).expect("a translation file parses");
        Texts { lang, texts }
    }

    /// Every key, for the test that both files have the same.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.texts.keys().map(String::as_str)
    }

    /// The text of `key`; the key itself when the file lacks it (a test says none does).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.lookup(key).unwrap_or(key)
    }

    /// The text of `key`, if the file has it.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.texts.get(key).map(String::as_str)
    }

    /// The text of `{prefix}.{id}`: a cause, an outlook, a site state.
    pub fn of(&self, prefix: &str, id: &str) -> &str {
        let key = format!("{prefix}.{id}");
        self.texts.get(&key).map_or("?", String::as_str)
    }

    /// `{name}` in the text of `key` replaced by each value.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    fn separators(&self) -> (char, char) {
        match self.lang {
            Lang::En => (',', '.'),
            Lang::Vi => ('.', ','),
        }
    }

    /// A count with thousands grouped: `12,345` / `12.345`.
    pub fn count(&self, n: usize) -> String {
        let digits = n.to_string();
        let (thousands, _) = self.separators();
        let mut out = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(thousands);
            }
            out.push(digit);
        }
        out
    }

    /// A number with `places` decimals: `-97.5` / `-97,5`.
    pub fn decimal(&self, value: f64, places: usize) -> String {
        let text = format!("{value:.places$}");
        let (_, point) = self.separators();
        text.replace('.', &point.to_string())
    }

    /// A share (0–1) as a percentage with one decimal: `72.5%` / `72,5%`.
    pub fn percent(&self, share: f64) -> String {
        format!("{}%", self.decimal(share * 100.0, 1))
    }

    /// A change in percentage points, signed: `+4.0 pp` / `+4,0 điểm %`.
    pub fn points(&self, change: f64) -> String {
        let sign = if change >= 0.0 { "+" } else { "−" };
        let value = self.decimal(change.abs() * 100.0, 1);
        self.fill("format.points", &[("sign", sign), ("value", &value)])
    }

    pub fn date(&self, date: NaiveDate) -> String {
        match self.lang {
            Lang::En => date.format("%Y-%m-%d").to_string(),
            Lang::Vi => date.format("%d/%m/%Y").to_string(),
        }
    }

    pub fn time(&self, at: DateTime<Utc>) -> String {
        match self.lang {
            Lang::En => at.format("%Y-%m-%d %H:%M UTC").to_string(),
            Lang::Vi => at.format("%H:%M %d/%m/%Y (UTC)").to_string(),
        }
    }

    /// A level's name: `L2 equivalent`, or the text for not graded.
    pub fn level(&self, level: Option<Level>) -> String {
        match level {
            Some(level) => format!("{} {}", level.as_str(), self.of("level", level.as_str())),
            None => self.get("not_graded").to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use sixfive_inventory::model::Stage;
    use sixfive_inventory::results::SiteState;

    use super::*;
    use crate::progress::causes::Cause;
    use crate::progress::{Outlook, SIGNAL_BANDS};

    #[test]
    fn every_key_is_in_both_languages_and_every_id_has_a_text() {
        let en: BTreeSet<&str> = Lang::En.texts().keys().collect();
        let vi: BTreeSet<&str> = Lang::Vi.texts().keys().collect();
        assert_eq!(
            en.difference(&vi).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "missing in vi"
        );
        assert_eq!(
            vi.difference(&en).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "missing in en"
        );
        let mut ids: Vec<String> = Vec::new();
        ids.extend(Cause::ALL.iter().map(|c| format!("cause.{}", c.id())));
        ids.extend(
            [
                Outlook::Done,
                Outlook::OnTrack,
                Outlook::AtRisk,
                Outlook::Late,
                Outlook::NoTrend,
                Outlook::NoTarget,
            ]
            .iter()
            .map(|o| format!("outlook.{}", o.id())),
        );
        ids.extend(
            SiteState::ALL
                .iter()
                .map(|s| format!("state.{}", s.as_str())),
        );
        ids.extend(Stage::ALL.iter().map(|s| format!("stage.{}", s.as_str())));
        ids.extend(Level::ALL.iter().map(|l| format!("level.{}", l.as_str())));
        ids.extend(SIGNAL_BANDS.iter().map(|(band, ..)| format!("band.{band}")));
        ids.extend(
            [
                "host",
                "zone",
                "name_server",
                "mail_exchanger",
                "redirect_target",
            ]
            .iter()
            .map(|kind| format!("subject.{kind}")),
        );
        for id in ids {
            assert!(en.contains(id.as_str()), "{id} has no text");
        }
    }

    #[test]
    fn vietnamese_numbers_dates_and_words_are_written_its_way() {
        let vi = Lang::Vi.texts();
        assert_eq!(vi.count(12345), "12.345");
        assert_eq!(vi.percent(0.725), "72,5%");
        assert_eq!(
            vi.date(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()),
            "03/12/2026"
        );
        assert_eq!(vi.of("outlook", "on_track"), "Đúng tiến độ");
        assert_eq!(vi.get("ready"), "Sẵn sàng");
        let en = Lang::En.texts();
        assert_eq!(en.count(1234567), "1,234,567");
        assert_eq!(en.count(999), "999");
        assert_eq!(en.percent(0.725), "72.5%");
        assert_eq!(en.points(-0.04), "−4.0 pp");
    }
}
