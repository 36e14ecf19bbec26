//! `Tenant.aiSettings`: the tenant's AI behaviour (seed 000 `aiSettings`, stored in
//! `tenants.ai_settings`) as a typed object, working hours included.
//!
//! `updateTenant` writes the document in one shape: every weekday as `{"open": "HH:MM",
//! "close": "HH:MM"}` or `{"closed": true}`. Rows from elsewhere spell the week in the seeds'
//! other ways, and all of them read back: seed 000's `"9-17"` strings, seed 003's `{"start",
//! "end", "enabled"}` objects, and `null` or a missing day (closed). What cannot be read as
//! hours reads as closed rather than failing the query (see `lenient.rs` for why documents are
//! read leniently); the CHECK on the column keeps `tone`, `autoReply`, the limits and the
//! object shape of `workingHours` honest.

use async_graphql::SimpleObject;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::enums::AiTone;
use super::lenient::{self, lenient_enum};

/// The weekdays, as the document keys them, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

lenient_enum!(tone, AiTone);

/// A boolean, or null for anything else.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Value::deserialize(d)?.as_bool())
}

/// The week, or null when the document has none (or not an object).
fn week<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WorkingHours>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(days) => {
            let day = |name: &str| WorkingDay::read(days.get(name).unwrap_or(&Value::Null));
            Some(WorkingHours {
                monday: day("monday"),
                tuesday: day("tuesday"),
                wednesday: day("wednesday"),
                thursday: day("thursday"),
                friday: day("friday"),
                saturday: day("saturday"),
                sunday: day("sunday"),
            })
        }
        _ => None,
    })
}

/// The tenant's AI behaviour.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiSettings {
    /// The assistant's tone.
    #[serde(default, deserialize_with = "tone")]
    pub tone: Option<AiTone>,
    /// Whether the assistant answers automatically.
    #[serde(default, deserialize_with = "flag")]
    pub auto_reply: Option<bool>,
    /// When the business is open, per weekday.
    #[serde(default, deserialize_with = "week")]
    pub working_hours: Option<WorkingHours>,
    /// Longest call, in seconds.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub max_call_duration: Option<i64>,
    /// Most messages the assistant sends per day.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub daily_message_limit: Option<i64>,
}

/// Opening hours for each day of the week.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct WorkingHours {
    /// Monday.
    pub monday: WorkingDay,
    /// Tuesday.
    pub tuesday: WorkingDay,
    /// Wednesday.
    pub wednesday: WorkingDay,
    /// Thursday.
    pub thursday: WorkingDay,
    /// Friday.
    pub friday: WorkingDay,
    /// Saturday.
    pub saturday: WorkingDay,
    /// Sunday.
    pub sunday: WorkingDay,
}

/// One day's opening hours: open from `open` to `close` (local time, `HH:MM`), or closed.
#[derive(Debug, Clone, SimpleObject, PartialEq, Eq)]
pub struct WorkingDay {
    /// Closed all day (`open` and `close` are then null).
    pub closed: bool,
    /// Opening time, `HH:MM`.
    pub open: Option<String>,
    /// Closing time, `HH:MM`, after `open`.
    pub close: Option<String>,
}

impl Default for WorkingDay {
    fn default() -> Self {
        Self::shut()
    }
}

impl WorkingDay {
    /// A closed day.
    pub fn shut() -> Self {
        Self {
            closed: true,
            open: None,
            close: None,
        }
    }

    /// One day of a stored week, in any of the spellings of the module docs.
    fn read(v: &Value) -> Self {
        let (open, close) = match v {
            Value::String(s) => match s.split_once('-') {
                Some((a, b)) => (hh_mm(a), hh_mm(b)),
                None => (None, None),
            },
            Value::Object(o) => {
                let closed = o.get("closed").and_then(Value::as_bool) == Some(true)
                    || o.get("enabled").and_then(Value::as_bool) == Some(false);
                if closed {
                    return Self::shut();
                }
                let time = |a: &str, b: &str| {
                    o.get(a)
                        .or_else(|| o.get(b))
                        .and_then(Value::as_str)
                        .and_then(hh_mm)
                };
                (time("open", "start"), time("close", "end"))
            }
            _ => (None, None),
        };
        match (open, close) {
            (Some(open), Some(close)) if open < close => Self {
                closed: false,
                open: Some(open),
                close: Some(close),
            },
            _ => Self::shut(),
        }
    }
}

/// `9`, `09`, `9:30` or `09:30` as `HH:MM`; `None` for anything else.
fn hh_mm(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (h, m) = raw.split_once(':').unwrap_or((raw, "00"));
    let ok = |s: &str, max: u32| {
        (1..=2).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|v| v <= max)
    };
    if !ok(h, 23) || m.len() != 2 || !ok(m, 59) {
        return None;
    }
    Some(format!("{:02}:{m}", h.parse::<u32>().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> AiSettings {
        serde_json::from_value(v).expect("lenient readers never fail")
    }

    fn open(a: &str, b: &str) -> WorkingDay {
        WorkingDay {
            closed: false,
            open: Some(a.into()),
            close: Some(b.into()),
        }
    }

    #[test]
    fn every_stored_spelling_of_a_day_reads_as_hours_or_closed() {
        let s = read(
            json!({ "tone": "casual", "autoReply": true, "maxCallDuration": 900,
            "workingHours": {
                "monday": { "open": "09:00", "close": "18:00" },
                "tuesday": "9-17",
                "wednesday": { "start": "8:30", "end": "12:00", "enabled": true },
                "thursday": { "start": "8:30", "end": "12:00", "enabled": false },
                "friday": { "closed": true },
                "saturday": { "open": "14:00", "close": "10:00" },
                "sunday": null } }),
        );
        assert_eq!(s.tone, Some(AiTone::Casual));
        assert_eq!(s.auto_reply, Some(true));
        assert_eq!(s.max_call_duration, Some(900));
        let w = s.working_hours.expect("a week");
        assert_eq!(w.monday, open("09:00", "18:00"));
        assert_eq!(w.tuesday, open("09:00", "17:00"));
        assert_eq!(w.wednesday, open("08:30", "12:00"));
        for day in [w.thursday, w.friday, w.saturday, w.sunday] {
            assert_eq!(day, WorkingDay::shut());
        }
    }

    #[test]
    fn odd_values_read_as_null_instead_of_failing() {
        let s = read(json!({ "tone": "grumpy", "autoReply": "yes", "workingHours": [1] }));
        assert!(s.tone.is_none() && s.auto_reply.is_none() && s.working_hours.is_none());
        assert_eq!(hh_mm("24:00"), None);
        assert_eq!(hh_mm("7:5"), None);
        assert_eq!(hh_mm(" 7 ").as_deref(), Some("07:00"));
    }
}
