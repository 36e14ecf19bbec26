//! Free-text `search` conditions an entity's filter can declare.

use super::{Cond, Value};

/// Full-text match on a generated `tsvector` column (web-search syntax: `"exact phrase"`,
/// `-excluded`, `or`).
pub fn full_text(col: &'static str) -> impl Fn(&str) -> Cond + Send + Sync {
    move |q| Cond::Search(col, q.to_owned())
}

/// Case-insensitive substring match on any of `cols` (for tables without a search column).
pub fn contains_any(cols: &'static [&'static str]) -> impl Fn(&str) -> Cond + Send + Sync {
    move |q| {
        let pattern = contains_pattern(q.trim());
        Cond::Or(
            cols.iter()
                .map(|col| Cond::Like {
                    col,
                    pattern: pattern.clone(),
                    insensitive: true,
                })
                .collect(),
        )
    }
}

/// `%text%` for ILIKE, with the caller's `%`, `_` and `\` matched literally.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// `%text%` bound as a value, for [`Cond::Raw`] conditions.
pub fn contains_value(text: &str) -> Value {
    Value::Text(contains_pattern(text.trim()))
}
