//! The inputs of `openTicket` and `updateTicket`, with the typed documents a ticket carries
//! (attachments, location, labels), and their validation and lowering into
//! `frontdesk_db::graph::tickets::TicketFields`.
//!
//! Documents mirror their output types in `types/ticket.rs` key for key (camelCase, as seed
//! 003 spells them), so what a client writes reads back unchanged. Two attachment keys are the
//! server's, not the client's: `uploadedBy` (the caller) and `uploadedAt` (now) are stamped on
//! write; an update that lists an attachment the ticket already has (same URL) keeps its
//! original stamps, so replacing the list to drop one file does not re-date the others.

use async_graphql::{InputObject, MaybeUndefined};
use chrono::{DateTime, SecondsFormat, Utc};
use frontdesk_db::graph::tickets::TicketFields;
use frontdesk_db::graph::Patch;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::mutation::inputs::{bad, number, put, short};
use crate::mutation::{create_field, update_nullable, update_required};
use crate::types::enums::{DbEnum, MessageType, SlaLevel, TicketCategory, TicketPriority};
use crate::types::{Conversation, Customer, Member, Ticket, TicketAttachment};
use crate::validate::{
    self, ADDRESS_MAX, MESSAGE_MAX, NAME_MAX, PROVIDER_ID_MAX, SHORT_TEXT_MAX, TAGS_MAX, TAG_MAX,
};
use crate::{ApiError, NodeRef};

/// Most attachments or labels on one ticket.
pub const DOCS_MAX: usize = TAGS_MAX;

/// Attachment documents awaiting the server's stamps ([`stamp`]).
pub(super) type Unstamped = Vec<Map<String, Value>>;

/// A new ticket: for a customer (`customerId`), from a conversation (`conversationId`, whose
/// customer is taken when `customerId` is absent), or both when they agree.
#[derive(Debug, Clone, InputObject)]
pub struct OpenTicketInput {
    /// The customer it is for (required unless the conversation has one).
    pub customer_id: Option<NodeRef<Customer>>,
    /// The conversation it comes from.
    pub conversation_id: Option<NodeRef<Conversation>>,
    /// One line, at most 200 characters.
    pub subject: String,
    /// The whole story.
    pub description: String,
    /// What it is about.
    pub category: TicketCategory,
    /// Finer classification.
    pub subcategory: Option<String>,
    /// How urgent (default `MEDIUM`).
    pub priority: Option<TicketPriority>,
    /// The service level (default `STANDARD`).
    pub sla_level: Option<SlaLevel>,
    /// When it should be resolved.
    pub estimated_resolution: Option<DateTime<Utc>>,
    /// Attached files.
    pub attachments: Option<Vec<TicketAttachmentInput>>,
    /// Where the problem is.
    pub location: Option<TicketLocationInput>,
    /// Free labels.
    pub tags: Option<Vec<String>>,
    /// Coloured labels.
    pub labels: Option<Vec<TicketLabelInput>>,
    /// Its id in an external system.
    pub external_id: Option<String>,
    /// Its page in an external system (http or https).
    pub external_url: Option<String>,
    /// The ticket it is part of.
    pub parent_ticket_id: Option<NodeRef<Ticket>>,
    /// The member to work on it (active, not a viewer).
    pub assigned_agent_id: Option<NodeRef<Member>>,
}

/// Changes to a ticket's content: a field left out keeps its value, `null` clears a nullable
/// one. Status, assignment, escalation, resolution, feedback, links and parent have their own
/// mutations; the customer is fixed when the ticket is opened.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateTicketInput {
    /// The conversation it comes from (must be the ticket's customer's); `null` unlinks it.
    pub conversation_id: MaybeUndefined<NodeRef<Conversation>>,
    /// One line, at most 200 characters.
    pub subject: MaybeUndefined<String>,
    /// The whole story.
    pub description: MaybeUndefined<String>,
    /// What it is about.
    pub category: MaybeUndefined<TicketCategory>,
    /// Finer classification.
    pub subcategory: MaybeUndefined<String>,
    /// How urgent.
    pub priority: MaybeUndefined<TicketPriority>,
    /// The service level.
    pub sla_level: MaybeUndefined<SlaLevel>,
    /// When it should be resolved.
    pub estimated_resolution: MaybeUndefined<DateTime<Utc>>,
    /// Attached files (replaces the list; `[]` empties it).
    pub attachments: MaybeUndefined<Vec<TicketAttachmentInput>>,
    /// Where the problem is.
    pub location: MaybeUndefined<TicketLocationInput>,
    /// Free labels (replaces the list).
    pub tags: MaybeUndefined<Vec<String>>,
    /// Coloured labels (replaces the list).
    pub labels: MaybeUndefined<Vec<TicketLabelInput>>,
    /// Its id in an external system.
    pub external_id: MaybeUndefined<String>,
    /// Its page in an external system.
    pub external_url: MaybeUndefined<String>,
}

/// A file attached to a ticket (mirrors `TicketAttachment`; `uploadedBy` and `uploadedAt` are
/// set by the server).
#[derive(Debug, Clone, InputObject)]
pub struct TicketAttachmentInput {
    /// `IMAGE`, `DOCUMENT`, `AUDIO` or `VIDEO`.
    #[graphql(name = "type")]
    pub kind: Option<MessageType>,
    /// Where it is (http or https).
    pub url: String,
    /// Its id in the media service.
    pub public_id: Option<String>,
    /// Original file name.
    pub filename: Option<String>,
    /// Bytes.
    pub size: Option<f64>,
}

/// Where the problem is (mirrors `TicketLocation`).
#[derive(Debug, Clone, InputObject)]
pub struct TicketLocationInput {
    /// Degrees north, −90 to 90.
    pub latitude: Option<f64>,
    /// Degrees east, −180 to 180.
    pub longitude: Option<f64>,
    /// As entered.
    pub address: Option<String>,
    /// As geocoded.
    pub formatted_address: Option<String>,
    /// The service happens there.
    pub is_service_location: Option<bool>,
}

/// A coloured label (mirrors `TicketLabel`).
#[derive(Debug, Clone, InputObject)]
pub struct TicketLabelInput {
    /// Text, at most 64 characters.
    pub name: String,
    /// Hex colour, `#rgb` or `#rrggbb`.
    pub color: Option<String>,
}

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

fn subject(v: String) -> Result<String, ApiError> {
    validate::required_text("input.subject", &v, SHORT_TEXT_MAX)
}

fn description(v: String) -> Result<String, ApiError> {
    validate::required_text("input.description", &v, MESSAGE_MAX)
}

/// Blank clears; anything else is a provider-style id.
fn external_id(v: String) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    validate::text("input.externalId", &v, PROVIDER_ID_MAX).map(Some)
}

/// Blank clears; anything else must be an http(s) URL.
fn external_url(v: String) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    validate::url("input.externalUrl", &v).map(Some)
}

fn too_many(field: &str, list: usize) -> Result<(), ApiError> {
    if list > DOCS_MAX {
        return Err(bad(
            field,
            format!("has too many items: at most {DOCS_MAX} are allowed"),
        ));
    }
    Ok(())
}

/// Attachments as documents without the server's stamps (see [`stamp`]).
fn attachments(list: Vec<TicketAttachmentInput>) -> Result<Unstamped, ApiError> {
    let field = "input.attachments";
    too_many(field, list.len())?;
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let mut doc = Map::new();
        if let Some(kind) = a.kind {
            if !matches!(
                kind,
                MessageType::Image
                    | MessageType::Document
                    | MessageType::Audio
                    | MessageType::Video
            ) {
                return Err(bad(&f("type"), "must be IMAGE, DOCUMENT, AUDIO or VIDEO"));
            }
            doc.insert("type".into(), Value::String(kind.as_db().to_owned()));
        }
        doc.insert(
            "url".into(),
            Value::String(validate::url(&f("url"), &a.url)?),
        );
        put(
            &mut doc,
            "publicId",
            short(&f("publicId"), a.public_id, PROVIDER_ID_MAX)?,
        );
        put(
            &mut doc,
            "filename",
            short(&f("filename"), a.filename, NAME_MAX)?,
        );
        if let Some(size) = a.size {
            if size < 0.0 {
                return Err(bad(&f("size"), "must not be negative"));
            }
            doc.insert("size".into(), number(&f("size"), size)?);
        }
        out.push(doc);
    }
    Ok(out)
}

/// The attachment documents as stored: each stamped `uploadedBy` = `actor`, `uploadedAt` =
/// `now`, unless `previous` (the ticket's current attachments) has one with the same URL,
/// whose stamps it keeps.
pub(super) fn stamp(
    docs: Unstamped,
    actor: Uuid,
    now: DateTime<Utc>,
    previous: &[TicketAttachment],
) -> Value {
    let now = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let stamped = docs.into_iter().map(|mut doc| {
        let earlier = previous
            .iter()
            .find(|p| p.url.as_deref() == doc.get("url").and_then(Value::as_str));
        let by = earlier.and_then(|p| p.uploaded_by.clone());
        let at = earlier
            .and_then(|p| p.uploaded_at)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        doc.insert(
            "uploadedBy".into(),
            Value::String(by.unwrap_or_else(|| actor.to_string())),
        );
        doc.insert(
            "uploadedAt".into(),
            Value::String(at.unwrap_or_else(|| now.clone())),
        );
        Value::Object(doc)
    });
    Value::Array(stamped.collect())
}

impl TicketLocationInput {
    fn lower(self) -> Result<Value, ApiError> {
        let field = "input.location";
        let f = |name: &str| format!("{field}.{name}");
        let mut doc = Map::new();
        for (key, value, limit) in [
            ("latitude", self.latitude, 90.0),
            ("longitude", self.longitude, 180.0),
        ] {
            if let Some(v) = value {
                if !(-limit..=limit).contains(&v) {
                    return Err(bad(
                        &f(key),
                        format!("must be between -{limit} and {limit}"),
                    ));
                }
                doc.insert(key.into(), number(&f(key), v)?);
            }
        }
        put(
            &mut doc,
            "address",
            short(&f("address"), self.address, ADDRESS_MAX)?,
        );
        put(
            &mut doc,
            "formattedAddress",
            short(&f("formattedAddress"), self.formatted_address, ADDRESS_MAX)?,
        );
        put(
            &mut doc,
            "isServiceLocation",
            self.is_service_location.map(Value::Bool),
        );
        Ok(Value::Object(doc))
    }
}

/// `#rgb` or `#rrggbb`, stored in lower case.
fn color(field: &str, raw: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    let hex = v.strip_prefix('#').unwrap_or("");
    if !matches!(hex.len(), 3 | 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad(field, "must be a hex colour, #rgb or #rrggbb"));
    }
    Ok(v.to_ascii_lowercase())
}

fn labels(list: Vec<TicketLabelInput>) -> Result<Value, ApiError> {
    let field = "input.labels";
    too_many(field, list.len())?;
    let mut out = Vec::with_capacity(list.len());
    for (i, l) in list.into_iter().enumerate() {
        let mut doc = Map::new();
        let name = validate::required_text(&format!("{field}[{i}].name"), &l.name, TAG_MAX)?;
        doc.insert("name".into(), Value::String(name));
        if let Some(c) = l.color {
            let c = color(&format!("{field}[{i}].color"), &c)?;
            doc.insert("color".into(), Value::String(c));
        }
        out.push(Value::Object(doc));
    }
    Ok(Value::Array(out))
}

/// A lowered open: the ticket's fields, its attachments awaiting their stamps, and the links.
pub(super) struct Open {
    pub customer_id: Option<Uuid>,
    pub assigned_agent_id: Option<Uuid>,
    pub parent_ticket_id: Option<Uuid>,
    pub fields: TicketFields,
    pub attachments: Option<Unstamped>,
}

impl OpenTicketInput {
    pub(super) fn lower(self) -> Result<Open, ApiError> {
        if self.customer_id.is_none() && self.conversation_id.is_none() {
            return Err(bad(
                "input.customerId",
                "is required unless conversationId is given",
            ));
        }
        let fields = TicketFields {
            conversation_id: create_field(self.conversation_id, |v| Ok(Some(v.row())))?,
            subject: Patch::Set(subject(self.subject)?),
            description: Patch::Set(description(self.description)?),
            category: Patch::Set(self.category.as_db()),
            subcategory: create_field(
                self.subcategory,
                opt_text("input.subcategory", SHORT_TEXT_MAX),
            )?,
            priority: create_field(self.priority, |v| Ok(v.as_db()))?,
            sla_level: create_field(self.sla_level, |v| Ok(v.as_db()))?,
            estimated_resolution: create_field(self.estimated_resolution, |v| Ok(Some(v)))?,
            attachments: Patch::Keep,
            location: create_field(self.location, |v| v.lower().map(Some))?,
            tags: create_field(self.tags, |v| validate::tags("input.tags", v))?,
            labels: create_field(self.labels, labels)?,
            external_id: create_field(self.external_id, external_id)?,
            external_url: create_field(self.external_url, external_url)?,
        };
        Ok(Open {
            customer_id: self.customer_id.map(|c| c.row()),
            assigned_agent_id: self.assigned_agent_id.map(|a| a.row()),
            parent_ticket_id: self.parent_ticket_id.map(|p| p.row()),
            fields,
            attachments: self.attachments.map(attachments).transpose()?,
        })
    }
}

impl UpdateTicketInput {
    /// The fields, and the new attachments awaiting their stamps (`None`: kept).
    pub(super) fn lower(self) -> Result<(TicketFields, Option<Unstamped>), ApiError> {
        let fields = TicketFields {
            conversation_id: update_nullable(self.conversation_id, |v| Ok(Some(v.row())))?,
            subject: update_required("input.subject", self.subject, subject)?,
            description: update_required("input.description", self.description, description)?,
            category: update_required("input.category", self.category, |v| Ok(v.as_db()))?,
            subcategory: update_nullable(
                self.subcategory,
                opt_text("input.subcategory", SHORT_TEXT_MAX),
            )?,
            priority: update_required("input.priority", self.priority, |v| Ok(v.as_db()))?,
            sla_level: update_required("input.slaLevel", self.sla_level, |v| Ok(v.as_db()))?,
            estimated_resolution: update_nullable(self.estimated_resolution, |v| Ok(Some(v)))?,
            attachments: Patch::Keep,
            location: update_nullable(self.location, |v| v.lower().map(Some))?,
            // NOT NULL lists: null is refused rather than read as "empty".
            tags: update_required("input.tags", self.tags, |v| validate::tags("input.tags", v))?,
            labels: update_required("input.labels", self.labels, labels)?,
            external_id: update_nullable(self.external_id, external_id)?,
            external_url: update_nullable(self.external_url, external_url)?,
        };
        let attachments = match update_required("input.attachments", self.attachments, attachments)?
        {
            Patch::Set(docs) => Some(docs),
            Patch::Keep => None,
        };
        Ok((fields, attachments))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_hex_and_lower_cased() {
        assert_eq!(color("c", " #E11D48 ").expect("ok"), "#e11d48");
        assert_eq!(color("c", "#abc").expect("ok"), "#abc");
        for raw in ["e11d48", "#e11d4", "#ggg", "#", "red"] {
            assert!(color("c", raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn an_attachment_already_on_the_ticket_keeps_its_stamps() {
        let then = DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
            .expect("time")
            .with_timezone(&Utc);
        let previous = [TicketAttachment {
            url: Some("https://example.com/a.png".into()),
            uploaded_by: Some("someone".into()),
            uploaded_at: Some(then),
            ..Default::default()
        }];
        let mut kept = Map::new();
        kept.insert("url".into(), "https://example.com/a.png".into());
        let mut new = Map::new();
        new.insert("url".into(), "https://example.com/b.png".into());
        let actor = Uuid::new_v4();
        let out = stamp(vec![kept, new], actor, Utc::now(), &previous);
        assert_eq!(out[0]["uploadedBy"], "someone");
        assert_eq!(out[0]["uploadedAt"], "2025-01-02T03:04:05.000Z");
        assert_eq!(out[1]["uploadedBy"], actor.to_string());
    }
}
