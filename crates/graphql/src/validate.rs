//! Input validation and normalisation for the mutations.
//!
//! This module owns the rules an argument must satisfy before a mutation touches the database:
//! creating and updating customers and bookings, recording calls and SMS messages. Each function
//! takes the argument's path as the caller spells it (`input.phone`, `input.tags`) and either
//! returns the normalised value to store or [`ApiError::BadUserInput`] with that path as
//! `field` and a message saying what is wrong and what is expected.
//!
//! Why here and not in the database: the migrations' CHECK constraints are the last line of
//! defence, but a violated constraint surfaces as a database error that the API can only report
//! as `INTERNAL` (and only the first one, with Postgres' wording and no field). Validating first
//! lets the client learn *which* field is wrong and how to fix it, and lets us normalise values
//! (E.164 phone numbers, lower-case e-mail domains, upper-case currency codes, `YYYY-MM-DD`
//! dates) so equal things are stored equally: `customers (tenant_id, phone)` is unique, so
//! `+420 777 123 456` and `00420777123456` must become the same string before the insert.
//! Some limits exist only here (text lengths), because an unbounded text column accepts
//! anything and one huge value should not reach the row, the indexes or the search vector.
//!
//! All functions are pure: no I/O, no clock. Messages never echo more than
//! [`ECHO_MAX`] characters of the offending value, and never echo phone numbers, e-mail
//! addresses, URLs or free text at all (they are personal data or may carry secrets).

use std::collections::HashSet;
use std::fmt::Display;

use chrono::NaiveDate;
use email_address::EmailAddress;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::ApiError;

/// A customer's or booking's name (`customers.name`, `bookings.customer_name`, `first_name`, ...).
/// Generous for any real name, small enough to show in a list without truncation surprises.
pub const NAME_MAX: usize = 200;

/// Short labels: a booking's title or service type, a call's language, intent or outcome.
/// Same budget as a name: one line in a dashboard.
pub const SHORT_TEXT_MAX: usize = 200;

/// A one-line postal address (`customers.address`, `bookings.pickup_address`). Long street
/// names plus building, city and postcode fit comfortably.
pub const ADDRESS_MAX: usize = 500;

/// Reasons given by staff (`customers.block_reason`, `bookings.cancel_reason`): a sentence or two.
pub const REASON_MAX: usize = 1_000;

/// Notes written by staff or the assistant (`customers.notes`, `bookings.notes` / `ai_notes`,
/// `calls.notes`): a few pages of text, which is plenty for a note and bounds a row's size.
pub const NOTES_MAX: usize = 10_000;

/// A call summary (`calls.summary`). The search vector indexes its first 20 000 characters
/// (`left(summary, 20000)` in the migration), so longer summaries would be partly unsearchable.
pub const SUMMARY_MAX: usize = 20_000;

/// A call transcript (`calls.transcript`). About 20 hours of speech; far beyond any real call,
/// but it keeps a single request from storing megabytes. The search vector indexes only the
/// first 200 000 characters, so a long transcript is stored whole and searched in part.
pub const TRANSCRIPT_MAX: usize = 1_000_000;

/// An SMS body (`sms_messages.message_body`). 1600 characters is the carriers' (and Twilio's)
/// limit for a concatenated message; anything longer cannot have been sent or received as one.
pub const SMS_BODY_MAX: usize = 1_600;

/// A message of a conversation (`messages.content`). WhatsApp caps a text at 4 096 characters
/// and SMS at 1 600, but e-mail bodies run longer: 50 000 fits a long e-mail and keeps one
/// request from storing megabytes (the search vector indexes the first 100 000 characters).
pub const MESSAGE_MAX: usize = 50_000;

/// A carrier's or provider's error text (`sms_messages.error`, `calls.ended_reason`).
pub const PROVIDER_ERROR_MAX: usize = 1_000;

/// An e-mail address: RFC 5321 limits a forward path to 256 octets including the angle
/// brackets, so an address is at most 254.
pub const EMAIL_MAX: usize = 254;

/// The local part of an e-mail address (before the `@`), RFC 5321 section 4.5.3.1.1.
pub const EMAIL_LOCAL_MAX: usize = 64;

/// A URL (`calls.recording_url`, `customers.avatar`). 2048 is the de-facto limit browsers and
/// proxies honour; a longer URL would not work for the people who click it.
pub const URL_MAX: usize = 2_048;

/// One tag (`customers.tags`, `calls.keywords`): a label, not a sentence.
pub const TAG_MAX: usize = 64;

/// How many tags one customer (or call) may carry. More than this stops being a filter.
pub const TAGS_MAX: usize = 50;

/// A provider's id for an object (`calls.provider_call_id`, `provider_call_sid`,
/// `sms_messages.provider_message_id`, `assistants.provider_assistant_id`). Real ids are
/// UUIDs or 34-character SIDs; 200 leaves room for prefixed or composite ids.
pub const PROVIDER_ID_MAX: usize = 200;

/// The raw phone input we are willing to parse. E.164 has at most 15 digits; even fully
/// punctuated (`+1 (555) 010-0000`) a real number is far shorter than this.
pub const PHONE_INPUT_MAX: usize = 40;

/// The most digits (country code included) an E.164 number has (ITU-T E.164 section 6.1).
pub const E164_DIGITS_MAX: usize = 15;

/// How much of an offending value an error message may quote.
pub const ECHO_MAX: usize = 40;

/// The example every phone message shows: E.164 with the country code.
const PHONE_EXAMPLE: &str = "+420777123456";

/// A bad-input error for `field`.
fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// At most [`ECHO_MAX`] characters of `raw`, quoted and escaped (control characters show as
/// `\u{..}`), with `…` when cut.
fn echo(raw: &str) -> String {
    let mut chars = raw.chars();
    let head: String = chars.by_ref().take(ECHO_MAX).collect();
    if chars.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

// ------------------------------------------------------------------------------------------------
// Text
// ------------------------------------------------------------------------------------------------

/// Free text: trimmed, at most `max_chars` characters (Unicode scalar values, as Postgres'
/// `length()` counts them, not bytes), no control characters other than `\n`, `\r` and `\t`.
/// Empty (or whitespace-only) input is returned as `""`; use [`required_text`] or
/// [`optional_text`] when empty means something.
pub fn text(field: &str, raw: &str, max_chars: usize) -> Result<String, ApiError> {
    let value = raw.trim();
    let mut count = 0usize;
    for c in value.chars() {
        count += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            return Err(bad(
                field,
                format!(
                    "contains the control character U+{:04X} at position {count}; only text, \
                     line breaks and tabs are allowed",
                    u32::from(c)
                ),
            ));
        }
        if count > max_chars {
            return Err(bad(
                field,
                format!("is too long: at most {max_chars} characters are allowed"),
            ));
        }
    }
    Ok(value.to_owned())
}

/// Like [`text`], but empty or whitespace-only input is refused.
pub fn required_text(field: &str, raw: &str, max_chars: usize) -> Result<String, ApiError> {
    let value = text(field, raw, max_chars)?;
    if value.is_empty() {
        return Err(bad(field, "is required and must not be blank"));
    }
    Ok(value)
}

/// Like [`text`] for an optional argument: `None`, empty or whitespace-only input is `None`
/// (so clearing a field and omitting it store the same NULL).
pub fn optional_text<S: AsRef<str>>(
    field: &str,
    raw: Option<S>,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    match raw {
        None => Ok(None),
        Some(raw) => {
            let value = text(field, raw.as_ref(), max_chars)?;
            Ok((!value.is_empty()).then_some(value))
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Phone numbers and e-mail
// ------------------------------------------------------------------------------------------------

/// A phone number, normalised to E.164 (`+420777123456`).
///
/// Input must be in international format: a leading `+` (or `00` instead of it), the country
/// code, then the number; spaces (including no-break spaces), `-`, `.`, `(` and `)` may
/// separate digits, so `+420 777 123 456`, `00420-777-123-456` and `+44 (0)20 7946 0958` are
/// accepted. Numbers without a country code are refused: the API serves tenants in many
/// countries and has no default region to guess one from. The number must be valid for its
/// country according to libphonenumber's metadata (the `phonenumber` crate), so a wrong
/// country code or a digit too many or too few is refused. Letters (`1-800-FLOWERS`) and
/// extensions are refused, since E.164 cannot represent them.
pub fn phone(field: &str, raw: &str) -> Result<String, ApiError> {
    let expected =
        format!("expected international format with the country code, e.g. {PHONE_EXAMPLE}");
    let value = raw.trim();
    if value.is_empty() {
        return Err(bad(field, format!("is required; {expected}")));
    }
    if value.chars().count() > PHONE_INPUT_MAX {
        return Err(bad(
            field,
            format!(
                "is too long for a phone number (at most {PHONE_INPUT_MAX} characters); {expected}"
            ),
        ));
    }
    let rest = if let Some(rest) = value.strip_prefix('+') {
        rest
    } else if let Some(rest) = value.strip_prefix("00") {
        rest
    } else if value.starts_with(|c: char| c.is_ascii_digit() || c == '(') {
        return Err(bad(
            field,
            format!("must include the country code (+…); {expected}"),
        ));
    } else {
        return Err(bad(field, format!("is not a phone number; {expected}")));
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(bad(
                    field,
                    format!(
                        "may contain only digits, spaces and - . ( ) after the leading + or 00; \
                         {expected}"
                    ),
                ))
            }
        }
    }
    if digits.is_empty() {
        return Err(bad(field, format!("is not a phone number; {expected}")));
    }
    // libphonenumber sees only `+` and digits: its lenient parser (RFC 3966 URIs, vanity
    // letters, extensions) has nothing left to be lenient about.
    let invalid = || {
        bad(
            field,
            format!(
                "is not a valid phone number: check the country code and the number of digits; \
                 {expected}"
            ),
        )
    };
    let number = phonenumber::parse(None, format!("+{digits}")).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    // libphonenumber's metadata accepts a few national numbers longer than E.164 allows (German
    // numbers with a direct-dial suffix); E.164 is what we store, so its 15 digits are the limit.
    if e164.len() > 1 + E164_DIGITS_MAX {
        return Err(invalid());
    }
    Ok(e164)
}

/// An e-mail address: trimmed, at most [`EMAIL_MAX`] characters, syntactically valid
/// (RFC 5322 dot-atom local part of at most [`EMAIL_LOCAL_MAX`] octets, a domain name with at
/// least two labels), with the domain lower-cased.
///
/// The local part is kept as given: RFC 5321 lets a mail server treat it case-sensitively, so
/// lower-casing it could name a different mailbox. Comparisons that should ignore case
/// (duplicate detection) must use `lower(email)`. Refused as well: display names
/// (`Ann <ann@example.com>`), quoted local parts, IP-literal domains and whitespace — all
/// legal somewhere in the RFCs, none something a customer record should hold.
pub fn email(field: &str, raw: &str) -> Result<String, ApiError> {
    const EXPECTED: &str = "expected an address like name@example.com";
    let value = raw.trim();
    if value.is_empty() {
        return Err(bad(field, format!("is required; {EXPECTED}")));
    }
    if value.chars().count() > EMAIL_MAX {
        return Err(bad(
            field,
            format!("is too long: an e-mail address has at most {EMAIL_MAX} characters"),
        ));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            field,
            format!("must not contain spaces or control characters; {EXPECTED}"),
        ));
    }
    if value.starts_with('"') {
        return Err(bad(
            field,
            format!("quoted local parts are not supported; {EXPECTED}"),
        ));
    }
    let options = email_address::Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    let address = EmailAddress::parse_with_options(value, options).map_err(|e| {
        use email_address::Error as E;
        let what = match e {
            E::MissingSeparator => "is missing the @",
            E::LocalPartEmpty => "has nothing before the @",
            E::LocalPartTooLong => "has more than 64 characters before the @",
            E::DomainEmpty => "has no domain after the @",
            E::DomainTooFew => "needs a full domain name after the @ (like example.com)",
            E::DomainTooLong | E::SubDomainTooLong => "has a domain name that is too long",
            E::SubDomainEmpty | E::DomainInvalidSeparator => "has misplaced dots in the domain",
            E::UnsupportedDisplayName | E::MissingDisplayName | E::MissingEndBracket => {
                "must be the bare address, without a name or <>"
            }
            E::UnsupportedDomainLiteral | E::InvalidIPAddress => {
                "must use a domain name, not an IP address"
            }
            _ => "is not a valid e-mail address",
        };
        bad(field, format!("{what}; {EXPECTED}"))
    })?;
    Ok(format!(
        "{}@{}",
        address.local_part(),
        address.domain().to_lowercase()
    ))
}

// ------------------------------------------------------------------------------------------------
// Money and numbers
// ------------------------------------------------------------------------------------------------

/// 10^10: both money columns allow 10 digits before the decimal point.
fn integer_digits_limit() -> Decimal {
    Decimal::from(10_000_000_000_i64)
}

/// Shared by [`money`] and [`unit_cost`]: non-negative, at most `scale` decimals, fewer than
/// 10 integer digits; returned at exactly `scale` decimals, as the column returns it.
fn fixed_point(field: &str, value: Decimal, scale: u32, what: &str) -> Result<Decimal, ApiError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(bad(field, format!("{what} must not be negative")));
    }
    let mut normal = value.normalize(); // also turns -0 into 0
    if normal.scale() > scale {
        return Err(bad(
            field,
            format!("{what} must have at most {scale} decimal places"),
        ));
    }
    if normal >= integer_digits_limit() {
        return Err(bad(
            field,
            format!(
                "{what} must be less than 10000000000 (at most 10 digits before the decimal point)"
            ),
        ));
    }
    normal.rescale(scale);
    Ok(normal)
}

/// A payment amount (`bookings.payment_amount`, `numeric(12,2)`): non-negative, at most 2
/// decimal places and 10 digits before the point. Extra decimals are refused rather than
/// rounded: silently changing an amount of money is worse than asking again. Returned with
/// exactly 2 decimals (`5` becomes `5.00`), as the database returns it.
pub fn money(field: &str, value: Decimal) -> Result<Decimal, ApiError> {
    fixed_point(field, value, 2, "an amount")
}

/// A per-unit provider cost (`calls.cost`, `sms_messages.cost`, `numeric(14,4)`): non-negative,
/// at most 4 decimal places (fractions of a cent) and 10 digits before the point. Returned with
/// exactly 4 decimals.
pub fn unit_cost(field: &str, value: Decimal) -> Result<Decimal, ApiError> {
    fixed_point(field, value, 4, "a cost")
}

/// An integer that must be `>= 0` (counts, durations in seconds, sizes in bytes).
pub fn non_negative_int<T: Copy + Into<i64> + Display>(
    field: &str,
    value: T,
) -> Result<T, ApiError> {
    if value.into() < 0 {
        return Err(bad(field, format!("must be zero or more, not {value}")));
    }
    Ok(value)
}

/// An integer that must be `> 0` (`bookings.duration_minutes`, timeouts).
pub fn positive_int<T: Copy + Into<i64> + Display>(field: &str, value: T) -> Result<T, ApiError> {
    if value.into() <= 0 {
        return Err(bad(
            field,
            format!("must be greater than zero, not {value}"),
        ));
    }
    Ok(value)
}

/// A confidence score between 0 and 1 inclusive (`calls.transcription_confidence`,
/// `numeric(5,4)`), rounded half away from zero to the column's 4 decimals (a measurement,
/// unlike money, may be rounded). NaN and infinities are refused.
pub fn confidence(field: &str, value: f64) -> Result<Decimal, ApiError> {
    if !value.is_finite() {
        return Err(bad(field, "must be a number between 0 and 1"));
    }
    let decimal =
        Decimal::from_f64(value).ok_or_else(|| bad(field, "must be a number between 0 and 1"))?;
    confidence_decimal(field, decimal)
}

/// [`confidence`] for a value that is already a [`Decimal`].
pub fn confidence_decimal(field: &str, value: Decimal) -> Result<Decimal, ApiError> {
    if value < Decimal::ZERO || value > Decimal::ONE {
        return Err(bad(
            field,
            format!("must be between 0 and 1 inclusive, not {value}"),
        ));
    }
    Ok(value
        .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        .normalize())
}

// ------------------------------------------------------------------------------------------------
// Codes, dates, times
// ------------------------------------------------------------------------------------------------

/// An ISO 4217 alphabetic currency code (`bookings.payment_currency`), trimmed and upper-cased
/// (`eur` becomes `EUR`), checked against the ISO list as kept by the `iso_currency` crate.
///
/// Refused: unknown codes and ISO's special codes that are not money one can be paid in
/// (precious metals such as `XAU`, units of account such as `XDR`, `XTS` for testing, `XXX`
/// for "no currency"). Accepted: fund codes (`CLF`, `USN`) and codes the crate marks as
/// superseded — the crate marks `VES` as superseded by `VED` although ISO still lists both, and
/// refusing a country's everyday currency would be worse than accepting a withdrawn one.
pub fn currency(field: &str, raw: &str) -> Result<String, ApiError> {
    const EXPECTED: &str = "expected a three-letter ISO 4217 currency code such as EUR, USD or CZK";
    let value = raw.trim().to_ascii_uppercase();
    if value.is_empty() {
        return Err(bad(field, format!("is required; {EXPECTED}")));
    }
    match iso_currency::Currency::from_code(&value) {
        Some(code) if !code.flags().contains(&iso_currency::Flag::Special) => Ok(value),
        Some(_) => Err(bad(
            field,
            format!(
                "{} is not a currency payments can be made in; {EXPECTED}",
                echo(&value)
            ),
        )),
        None => Err(bad(
            field,
            format!(
                "{} is not an ISO 4217 currency code; {EXPECTED}",
                echo(raw.trim())
            ),
        )),
    }
}

/// Parses exactly `len` ASCII digits.
fn fixed_digits(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// A calendar date as `YYYY-MM-DD` (`bookings.appointment_date`). Input must be in that form
/// (surrounding whitespace is ignored) and name a real day: `2026-02-30` and `2025-02-29` are
/// refused, `2028-02-29` is accepted.
pub fn date(field: &str, raw: &str) -> Result<String, ApiError> {
    const EXPECTED: &str = "expected a date as YYYY-MM-DD, e.g. 2026-03-14";
    let value = raw.trim();
    let mut parts = value.split('-');
    let parsed = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d), None) => {
            match (fixed_digits(y, 4), fixed_digits(m, 2), fixed_digits(d, 2)) {
                (Some(y), Some(m), Some(d)) => Some((y, m, d)),
                _ => None,
            }
        }
        _ => None,
    };
    let Some((y, m, d)) = parsed else {
        return Err(bad(
            field,
            format!("{} is not a date; {EXPECTED}", echo(value)),
        ));
    };
    // A four-digit year always fits an i32.
    let year = i32::try_from(y).map_err(|_| bad(field, EXPECTED))?;
    match NaiveDate::from_ymd_opt(year, m, d) {
        Some(day) => Ok(day.format("%Y-%m-%d").to_string()),
        None => Err(bad(
            field,
            format!("{} is not a day in the calendar; {EXPECTED}", echo(value)),
        )),
    }
}

/// A time of day, returned as `HH:MM` (`bookings.appointment_time`). Accepts `H:MM`, `HH:MM`
/// and `HH:MM:SS` with seconds `00` (what time pickers send); hours 0–23, minutes 0–59, so
/// `24:00` and `25:61` are refused. Non-zero seconds are refused rather than dropped:
/// appointments are kept to the minute and silently changing a time is worse than asking.
pub fn time_of_day(field: &str, raw: &str) -> Result<String, ApiError> {
    const EXPECTED: &str = "expected a time of day as HH:MM (24-hour clock), e.g. 09:30";
    let value = raw.trim();
    let refuse = || {
        bad(
            field,
            format!("{} is not a time of day; {EXPECTED}", echo(value)),
        )
    };
    let mut parts = value.split(':');
    let (h, m, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(m), s, None) => (h, m, s),
        _ => return Err(refuse()),
    };
    let hour = fixed_digits(h, 2)
        .or_else(|| fixed_digits(h, 1))
        .ok_or_else(refuse)?;
    let minute = fixed_digits(m, 2).ok_or_else(refuse)?;
    if hour > 23 || minute > 59 {
        return Err(refuse());
    }
    if let Some(s) = s {
        let second = fixed_digits(s, 2).ok_or_else(refuse)?;
        if second > 59 {
            return Err(refuse());
        }
        if second != 0 {
            return Err(bad(
                field,
                format!("must be a whole minute (seconds 00); {EXPECTED}"),
            ));
        }
    }
    Ok(format!("{hour:02}:{minute:02}"))
}

// ------------------------------------------------------------------------------------------------
// URLs, tags, provider ids
// ------------------------------------------------------------------------------------------------

/// An absolute `http` or `https` URL with a host, at most [`URL_MAX`] characters, returned in
/// the `url` crate's normalised form (lower-case scheme and host, IDN hosts in punycode,
/// `https://example.com` becomes `https://example.com/`).
pub fn url(field: &str, raw: &str) -> Result<String, ApiError> {
    const EXPECTED: &str = "expected an absolute http:// or https:// URL";
    let value = raw.trim();
    if value.is_empty() {
        return Err(bad(field, format!("is required; {EXPECTED}")));
    }
    let too_long = || {
        bad(
            field,
            format!("is too long: at most {URL_MAX} characters are allowed"),
        )
    };
    if value.chars().count() > URL_MAX {
        return Err(too_long());
    }
    let parsed = url::Url::parse(value)
        .map_err(|_| bad(field, format!("is not a valid URL; {EXPECTED}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(field, format!("must use http or https; {EXPECTED}")));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad(field, format!("must name a host; {EXPECTED}")));
    }
    let normalised = String::from(parsed);
    if normalised.chars().count() > URL_MAX {
        return Err(too_long());
    }
    Ok(normalised)
}

/// A list of tags: each trimmed, non-empty, at most [`TAG_MAX`] characters and free of
/// control characters; exact duplicates (after trimming) dropped, keeping the first
/// occurrence's position; at most [`TAGS_MAX`] distinct tags. Comparison is case-sensitive:
/// `VIP` and `vip` are two tags. An error about one tag names it as `field[index]`
/// (`input.tags[2]`), the index counting from 0 in the list as sent.
pub fn tags<I, S>(field: &str, raw: I) -> Result<Vec<String>, ApiError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, tag) in raw.into_iter().enumerate() {
        let path = format!("{field}[{index}]");
        let tag = required_text(&path, tag.as_ref(), TAG_MAX)?;
        if seen.insert(tag.clone()) {
            if out.len() == TAGS_MAX {
                return Err(bad(
                    field,
                    format!("has too many tags: at most {TAGS_MAX} distinct tags are allowed"),
                ));
            }
            out.push(tag);
        }
    }
    Ok(out)
}

/// A provider's id for an object (a Vapi call id, a Twilio SID): trimmed, 1 to
/// [`PROVIDER_ID_MAX`] characters of `A-Z a-z 0-9 _ . : -`. These ids are idempotency keys
/// (`UNIQUE (tenant_id, provider, provider_call_id)`), so anything outside that alphabet is
/// more likely a bug in the caller than an id.
pub fn provider_id(field: &str, raw: &str) -> Result<String, ApiError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(bad(field, "is required and must not be blank"));
    }
    let mut count = 0usize;
    for c in value.chars() {
        count += 1;
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')) {
            return Err(bad(
                field,
                format!(
                    "contains {:?} at position {count}; a provider id may contain only letters \
                     A-Z, digits and _ . : -",
                    c
                ),
            ));
        }
        if count > PROVIDER_ID_MAX {
            return Err(bad(
                field,
                format!("is too long: at most {PROVIDER_ID_MAX} characters are allowed"),
            ));
        }
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// The field and message of a bad-input error; panics on anything else.
    fn refused<T: std::fmt::Debug>(result: Result<T, ApiError>) -> (String, String) {
        match result {
            Err(ApiError::BadUserInput { field, message }) => (field, message),
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    // --- text -----------------------------------------------------------------------------------

    #[test]
    fn text_is_trimmed() {
        assert_eq!(text("input.notes", "  hello \n", 10).expect("ok"), "hello");
    }

    #[test]
    fn text_may_be_empty_but_required_text_may_not() {
        assert_eq!(text("input.notes", "   ", 10).expect("ok"), "");
        let (field, message) = refused(required_text("input.name", " \t ", 10));
        assert_eq!(field, "input.name");
        assert!(message.contains("required"), "{message}");
    }

    #[test]
    fn text_length_counts_characters_not_bytes() {
        // 5 characters, 10 bytes.
        assert_eq!(text("input.name", "ěščřž", 5).expect("ok"), "ěščřž");
        let (field, message) = refused(text("input.name", "ěščřžý", 5));
        assert_eq!(field, "input.name");
        assert!(message.contains("at most 5 characters"), "{message}");
    }

    #[test]
    fn text_keeps_line_breaks_and_tabs_inside() {
        assert_eq!(
            text("input.notes", "a\r\nb\tc", 100).expect("ok"),
            "a\r\nb\tc"
        );
    }

    #[test]
    fn text_refuses_other_control_characters_without_echoing_the_text() {
        for bad_char in ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}'] {
            let raw = format!("secret{bad_char}text");
            let (field, message) = refused(text("input.notes", &raw, 100));
            assert_eq!(field, "input.notes");
            assert!(message.contains("control character"), "{message}");
            assert!(message.contains("position 7"), "{message}");
            assert!(!message.contains("secret"), "{message}");
        }
    }

    #[test]
    fn optional_text_turns_blank_into_none() {
        assert_eq!(
            optional_text::<&str>("input.notes", None, 10).expect("ok"),
            None
        );
        assert_eq!(
            optional_text("input.notes", Some("  "), 10).expect("ok"),
            None
        );
        assert_eq!(
            optional_text("input.notes", Some(" x ".to_owned()), 10).expect("ok"),
            Some("x".to_owned())
        );
    }

    #[test]
    fn optional_text_still_enforces_the_limit() {
        let (field, _) = refused(optional_text("input.notes", Some("abcdef"), 5));
        assert_eq!(field, "input.notes");
    }

    #[test]
    fn the_limits_match_the_documented_values() {
        assert_eq!(NAME_MAX, 200);
        assert_eq!(NOTES_MAX, 10_000);
        assert_eq!(TRANSCRIPT_MAX, 1_000_000);
        assert_eq!(SMS_BODY_MAX, 1_600);
        assert_eq!(EMAIL_MAX, 254);
    }

    // --- phone ----------------------------------------------------------------------------------

    #[test]
    fn phone_accepts_international_numbers_with_punctuation() {
        for raw in [
            "+420777123456",
            "+420 777 123 456",
            " +420-777-123-456 ",
            "+420.777.123.456",
            "+420 (777) 123 456",
            "00420 777 123 456",
            "+420\u{a0}777\u{a0}123\u{a0}456",
        ] {
            assert_eq!(
                phone("input.phone", raw).expect(raw),
                "+420777123456",
                "{raw}"
            );
        }
    }

    #[test]
    fn phone_normalises_numbers_of_several_countries() {
        let cases = [
            ("+1 (650) 253-0000", "+16502530000"),
            ("+44 20 7946 0958", "+442079460958"),
            ("+44 (0)20 7946 0958", "+442079460958"),
            ("+49 30 901820", "+4930901820"),
            // Italian numbers keep their leading zero.
            ("+39 06 6982 1234", "+390669821234"),
            ("0049 151 23456789", "+4915123456789"),
        ];
        for (raw, want) in cases {
            assert_eq!(phone("input.phone", raw).expect(raw), want, "{raw}");
        }
    }

    #[test]
    fn phone_without_a_country_code_asks_for_one() {
        for raw in ["777123456", "(650) 253-0000", "0777 123 456"] {
            let (field, message) = refused(phone("input.phone", raw));
            assert_eq!(field, "input.phone");
            assert!(message.contains("country code (+…)"), "{raw}: {message}");
        }
    }

    #[test]
    fn phone_refuses_numbers_that_are_not_valid_for_their_country() {
        for raw in [
            "+420 777 12345",      // one digit short
            "+420 777 1234567",    // one digit long
            "+999 123 456 789",    // no such country code
            "+1 555 0100",         // too short for NANP
            "+12345678901234567",  // longer than E.164 allows
            "+49 650 43759427316", // valid for libphonenumber, but 16 digits
        ] {
            let (field, message) = refused(phone("input.customerPhone", raw));
            assert_eq!(field, "input.customerPhone");
            assert!(
                message.contains("not a valid phone number"),
                "{raw}: {message}"
            );
        }
    }

    #[test]
    fn phone_refuses_letters_extensions_and_uris() {
        for raw in [
            "+1 800 FLOWERS",
            "+420 777 123 456 ext. 12",
            "tel:+420777123456",
            "+420 777 123 456 / 7",
            "++420777123456",
        ] {
            let (field, _) = refused(phone("input.phone", raw));
            assert_eq!(field, "input.phone", "{raw}");
        }
    }

    #[test]
    fn phone_refuses_empty_and_overlong_input_without_echoing_it() {
        let (_, message) = refused(phone("input.phone", "  "));
        assert!(message.contains("required"), "{message}");
        let long = format!("+420 {}", "1".repeat(60));
        let (field, message) = refused(phone("input.phone", &long));
        assert_eq!(field, "input.phone");
        assert!(message.contains("too long"), "{message}");
        assert!(!message.contains("1111"), "{message}");
    }

    #[test]
    fn phone_never_panics_on_arbitrary_digit_strings() {
        // A small deterministic generator: libphonenumber's parser has had panics on odd input
        // in other ports, and a panic would take the request down.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..500 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let len = 1 + (state >> 59) as usize; // 1..=32
            let mut raw = String::from("+");
            let mut s = state;
            for _ in 0..len {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                raw.push(char::from(b'0' + ((s >> 33) % 10) as u8));
            }
            if let Ok(e164) = phone("input.phone", &raw) {
                assert!(e164.starts_with('+') && e164.len() <= 16, "{raw} -> {e164}");
            }
        }
    }

    // --- email ----------------------------------------------------------------------------------

    #[test]
    fn email_lowercases_the_domain_and_keeps_the_local_part() {
        assert_eq!(
            email("input.email", "  Jana.Novak+crm@Example.CZ ").expect("ok"),
            "Jana.Novak+crm@example.cz"
        );
    }

    #[test]
    fn email_accepts_international_domains() {
        assert_eq!(
            email("input.email", "info@Müller.DE").expect("ok"),
            "info@müller.de"
        );
    }

    #[test]
    fn email_refuses_malformed_addresses() {
        for raw in [
            "plainaddress",
            "@example.com",
            "jana@",
            "jana@localhost",
            "jana@@example.com",
            "jana@example..com",
            ".jana@example.com",
            "jana.@example.com",
            "jana novak@example.com",
            "Jana <jana@example.com>",
            "\"jana novak\"@example.com",
            "jana@[127.0.0.1]",
            "jana@-example.com",
        ] {
            let (field, message) = refused(email("input.customerEmail", raw));
            assert_eq!(field, "input.customerEmail", "{raw}");
            assert!(message.contains("name@example.com"), "{raw}: {message}");
        }
    }

    #[test]
    fn email_refuses_overlong_addresses_and_local_parts() {
        let local = "a".repeat(65);
        let (_, message) = refused(email("input.email", &format!("{local}@example.com")));
        assert!(message.contains("64"), "{message}");
        let domain = format!("{}.com", ["abcdefghij"; 25].join("."));
        let (_, message) = refused(email("input.email", &format!("jana@{domain}")));
        assert!(message.contains("254"), "{message}");
    }

    #[test]
    fn email_at_exactly_the_limit_is_accepted() {
        // 64 + 1 + 185 + 4 = 254 characters.
        let domain = format!(
            "{}.com",
            "d".repeat(61) + "." + &"d".repeat(61) + "." + &"d".repeat(61)
        );
        let address = format!("{}@{domain}", "l".repeat(64));
        assert_eq!(address.len(), 254);
        assert_eq!(email("input.email", &address).expect("ok"), address);
    }

    // --- money ----------------------------------------------------------------------------------

    #[test]
    fn money_accepts_amounts_and_returns_two_decimals() {
        assert_eq!(
            money("input.paymentAmount", dec("5"))
                .expect("ok")
                .to_string(),
            "5.00"
        );
        assert_eq!(
            money("input.paymentAmount", dec("12.5"))
                .expect("ok")
                .to_string(),
            "12.50"
        );
        assert_eq!(
            money("input.paymentAmount", dec("12.500"))
                .expect("ok")
                .to_string(),
            "12.50"
        );
        assert_eq!(
            money("input.paymentAmount", dec("0"))
                .expect("ok")
                .to_string(),
            "0.00"
        );
        assert_eq!(
            money("input.paymentAmount", dec("-0.00"))
                .expect("ok")
                .to_string(),
            "0.00"
        );
        assert_eq!(
            money("input.paymentAmount", dec("9999999999.99"))
                .expect("ok")
                .to_string(),
            "9999999999.99"
        );
    }

    #[test]
    fn money_refuses_negative_amounts() {
        let (field, message) = refused(money("input.paymentAmount", dec("-0.01")));
        assert_eq!(field, "input.paymentAmount");
        assert!(message.contains("negative"), "{message}");
    }

    #[test]
    fn money_refuses_fractions_of_a_cent_instead_of_rounding() {
        let (field, message) = refused(money("input.paymentAmount", dec("10.005")));
        assert_eq!(field, "input.paymentAmount");
        assert!(message.contains("2 decimal places"), "{message}");
    }

    #[test]
    fn money_refuses_more_than_ten_integer_digits() {
        let (_, message) = refused(money("input.paymentAmount", dec("10000000000")));
        assert!(message.contains("10 digits"), "{message}");
    }

    #[test]
    fn unit_cost_allows_four_decimals_and_refuses_five() {
        assert_eq!(
            unit_cost("input.cost", dec("0.0075"))
                .expect("ok")
                .to_string(),
            "0.0075"
        );
        assert_eq!(
            unit_cost("input.cost", dec("1")).expect("ok").to_string(),
            "1.0000"
        );
        let (field, message) = refused(unit_cost("input.cost", dec("0.00001")));
        assert_eq!(field, "input.cost");
        assert!(message.contains("4 decimal places"), "{message}");
        let (_, message) = refused(unit_cost("input.cost", dec("-1")));
        assert!(message.contains("negative"), "{message}");
        let (_, message) = refused(unit_cost("input.cost", dec("10000000000")));
        assert!(message.contains("10 digits"), "{message}");
    }

    // --- integers and confidence ----------------------------------------------------------------

    #[test]
    fn non_negative_int_accepts_zero_and_refuses_negatives() {
        assert_eq!(non_negative_int("input.duration", 0_i32).expect("ok"), 0);
        assert_eq!(
            non_negative_int("input.recordingSize", 5_i64).expect("ok"),
            5
        );
        let (field, message) = refused(non_negative_int("input.duration", -1_i32));
        assert_eq!(field, "input.duration");
        assert!(message.contains("zero or more"), "{message}");
    }

    #[test]
    fn positive_int_refuses_zero() {
        assert_eq!(
            positive_int("input.durationMinutes", 30_i32).expect("ok"),
            30
        );
        let (field, _) = refused(positive_int("input.durationMinutes", 0_i32));
        assert_eq!(field, "input.durationMinutes");
    }

    #[test]
    fn confidence_accepts_the_closed_unit_interval() {
        assert_eq!(
            confidence("input.confidence", 0.0).expect("ok"),
            Decimal::ZERO
        );
        assert_eq!(
            confidence("input.confidence", 1.0).expect("ok"),
            Decimal::ONE
        );
        assert_eq!(
            confidence("input.confidence", 0.87).expect("ok"),
            dec("0.87")
        );
        assert_eq!(
            confidence("input.confidence", 0.12345).expect("ok"),
            dec("0.1235")
        );
        assert_eq!(
            confidence_decimal("input.confidence", dec("0.5")).expect("ok"),
            dec("0.5")
        );
    }

    #[test]
    fn confidence_refuses_out_of_range_and_non_numbers() {
        for v in [-0.01, 1.0001, f64::NAN, f64::INFINITY] {
            let (field, _) = refused(confidence("input.confidence", v));
            assert_eq!(field, "input.confidence", "{v}");
        }
        let (field, _) = refused(confidence_decimal("input.confidence", dec("1.5")));
        assert_eq!(field, "input.confidence");
    }

    // --- currency -------------------------------------------------------------------------------

    #[test]
    fn currency_is_upper_cased() {
        assert_eq!(
            currency("input.paymentCurrency", " eur ").expect("ok"),
            "EUR"
        );
        assert_eq!(currency("input.paymentCurrency", "CZK").expect("ok"), "CZK");
        assert_eq!(currency("input.paymentCurrency", "jpy").expect("ok"), "JPY");
    }

    #[test]
    fn currency_refuses_codes_not_on_the_iso_list() {
        for raw in ["ABC", "EURO", "US$", "", "€"] {
            let (field, message) = refused(currency("input.paymentCurrency", raw));
            assert_eq!(field, "input.paymentCurrency", "{raw}");
            assert!(message.contains("ISO 4217"), "{raw}: {message}");
        }
    }

    #[test]
    fn currency_refuses_special_codes_that_are_not_money() {
        for raw in ["XXX", "XTS", "XAU", "XDR"] {
            let (_, message) = refused(currency("input.paymentCurrency", raw));
            assert!(
                message.contains("not a currency payments"),
                "{raw}: {message}"
            );
        }
    }

    #[test]
    fn currency_echoes_at_most_forty_characters() {
        let raw = "Q".repeat(500);
        let (_, message) = refused(currency("input.paymentCurrency", &raw));
        assert!(
            message.contains(&format!("\"{}\"…", "Q".repeat(ECHO_MAX))),
            "{message}"
        );
        assert!(!message.contains(&"Q".repeat(ECHO_MAX + 1)), "{message}");
    }

    // --- date and time --------------------------------------------------------------------------

    #[test]
    fn date_accepts_real_calendar_days() {
        assert_eq!(
            date("input.appointmentDate", "2026-03-14").expect("ok"),
            "2026-03-14"
        );
        assert_eq!(
            date("input.appointmentDate", " 2028-02-29 ").expect("ok"),
            "2028-02-29"
        );
    }

    #[test]
    fn date_refuses_days_that_do_not_exist() {
        for raw in [
            "2026-02-30",
            "2025-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
        ] {
            let (field, message) = refused(date("input.appointmentDate", raw));
            assert_eq!(field, "input.appointmentDate", "{raw}");
            assert!(message.contains("YYYY-MM-DD"), "{raw}: {message}");
        }
    }

    #[test]
    fn date_refuses_other_formats() {
        for raw in [
            "2026-3-14",
            "14.03.2026",
            "2026/03/14",
            "20260314",
            "2026-03-14T10:00",
            "+2026-03-14",
            "",
        ] {
            let (field, message) = refused(date("input.appointmentDate", raw));
            assert_eq!(field, "input.appointmentDate", "{raw}");
            assert!(message.contains("not a date"), "{raw}: {message}");
        }
    }

    #[test]
    fn time_of_day_is_normalised_to_hours_and_minutes() {
        for (raw, want) in [
            ("9:30", "09:30"),
            ("09:30", "09:30"),
            ("09:30:00", "09:30"),
            ("0:00", "00:00"),
            ("23:59", "23:59"),
        ] {
            assert_eq!(time_of_day("input.appointmentTime", raw).expect(raw), want);
        }
    }

    #[test]
    fn time_of_day_refuses_impossible_times() {
        for raw in [
            "24:00",
            "25:61",
            "12:60",
            "9:5",
            "930",
            "09:30:60",
            "9am",
            "",
            "-1:00",
            "09:30:00:00",
        ] {
            let (field, _) = refused(time_of_day("input.appointmentTime", raw));
            assert_eq!(field, "input.appointmentTime", "{raw}");
        }
    }

    #[test]
    fn time_of_day_refuses_seconds_rather_than_dropping_them() {
        let (_, message) = refused(time_of_day("input.appointmentTime", "09:30:15"));
        assert!(message.contains("whole minute"), "{message}");
    }

    // --- url ------------------------------------------------------------------------------------

    #[test]
    fn url_accepts_http_and_https() {
        assert_eq!(
            url(
                "input.recordingUrl",
                " https://Example.COM/rec/1.mp3?sig=x "
            )
            .expect("ok"),
            "https://example.com/rec/1.mp3?sig=x"
        );
        assert_eq!(
            url("input.avatar", "http://example.com").expect("ok"),
            "http://example.com/"
        );
    }

    #[test]
    fn url_refuses_other_schemes_relative_urls_and_garbage() {
        for raw in [
            "ftp://example.com/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/plain,hi",
            "/relative/path",
            "example.com",
            "https://",
            "",
        ] {
            let (field, _) = refused(url("input.recordingUrl", raw));
            assert_eq!(field, "input.recordingUrl", "{raw}");
        }
    }

    #[test]
    fn url_refuses_more_than_the_limit() {
        let raw = format!("https://example.com/{}", "a".repeat(URL_MAX));
        let (_, message) = refused(url("input.recordingUrl", &raw));
        assert!(message.contains("too long"), "{message}");
        assert!(!message.contains("aaaa"), "{message}");
    }

    // --- tags -----------------------------------------------------------------------------------

    #[test]
    fn tags_are_trimmed_and_deduplicated_in_order() {
        let got = tags("input.tags", vec![" vip ", "cz", "vip", "VIP", "cz "]).expect("ok");
        assert_eq!(got, ["vip", "cz", "VIP"]);
    }

    #[test]
    fn tags_accept_an_empty_list() {
        assert!(tags("input.tags", Vec::<String>::new())
            .expect("ok")
            .is_empty());
    }

    #[test]
    fn a_blank_tag_is_refused_and_named_by_its_index() {
        let (field, _) = refused(tags("input.tags", vec!["a".to_owned(), "  ".to_owned()]));
        assert_eq!(field, "input.tags[1]");
    }

    #[test]
    fn an_overlong_tag_is_refused_and_named_by_its_index() {
        let (field, message) = refused(tags("input.tags", vec!["x".repeat(65)]));
        assert_eq!(field, "input.tags[0]");
        assert!(message.contains("64"), "{message}");
        assert!(tags("input.tags", vec!["x".repeat(64)]).is_ok());
    }

    #[test]
    fn at_most_fifty_distinct_tags_are_allowed() {
        let fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
        assert_eq!(tags("input.tags", fifty.clone()).expect("ok").len(), 50);
        // Duplicates do not count against the limit.
        let mut with_duplicates = fifty.clone();
        with_duplicates.extend(fifty.iter().cloned());
        assert_eq!(tags("input.tags", with_duplicates).expect("ok").len(), 50);
        let mut fifty_one = fifty;
        fifty_one.push("t50".to_owned());
        let (field, message) = refused(tags("input.tags", fifty_one));
        assert_eq!(field, "input.tags");
        assert!(message.contains("at most 50"), "{message}");
    }

    // --- provider ids ---------------------------------------------------------------------------

    #[test]
    fn provider_id_accepts_sids_uuids_and_namespaced_ids() {
        for raw in [
            "CA0123456789abcdef0123456789abcdef",
            "3f2c1a7e-9b1d-4c55-8f0a-2d6e8b1c9f00",
            "vapi:call_01.abc-def",
        ] {
            assert_eq!(provider_id("input.providerCallId", raw).expect(raw), raw);
        }
        assert_eq!(
            provider_id("input.providerCallId", " SM1 ").expect("ok"),
            "SM1"
        );
    }

    #[test]
    fn provider_id_refuses_blank_overlong_and_foreign_characters() {
        let (field, _) = refused(provider_id("input.providerCallId", "  "));
        assert_eq!(field, "input.providerCallId");
        assert!(provider_id("input.providerCallId", &"a".repeat(PROVIDER_ID_MAX)).is_ok());
        let (_, message) = refused(provider_id(
            "input.providerCallId",
            &"a".repeat(PROVIDER_ID_MAX + 1),
        ));
        assert!(message.contains("too long"), "{message}");
        for raw in ["id with space", "id/slash", "ïd", "id;drop", "id\0"] {
            let (field, message) = refused(provider_id("input.providerMessageId", raw));
            assert_eq!(field, "input.providerMessageId", "{raw}");
            assert!(message.contains("only letters"), "{raw}: {message}");
        }
    }

    #[test]
    fn errors_display_as_field_then_message() {
        let err = currency("input.paymentCurrency", "ABC").expect_err("refused");
        assert!(
            err.to_string().starts_with("input.paymentCurrency: "),
            "{err}"
        );
    }
}
