//! Input types for the documents a message carries (attachments, a location, a template,
//! buttons or a list), with their lowering into the JSON the columns store.
//!
//! Each input mirrors its output type in `types/message.rs` key for key (camelCase, stored
//! enum spellings), so what a client writes reads back unchanged. Lowering validates every
//! field and names it (`input.attachments[1].url`): the migration's CHECKs only test types and
//! ranges and would report a violation without saying which field. Absent fields are left out
//! of the document rather than stored as `null`.

use async_graphql::InputObject;
use serde_json::{Map, Value};

use crate::mutation::inputs::{bad, number, put, short};
use crate::types::enums::{DbEnum, MessageType};
use crate::validate::{self, NAME_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

/// Most attachments on one message (an e-mail with many files; chat channels send one).
pub const ATTACHMENTS_MAX: usize = 20;

/// A file name (most file systems allow 255 bytes).
pub const FILENAME_MAX: usize = 255;

/// A MIME type (RFC 6838 caps type and subtype at 127 characters each).
pub const MIME_TYPE_MAX: usize = 255;

/// Most template parameters (WhatsApp templates have a few dozen at most).
pub const TEMPLATE_PARAMETERS_MAX: usize = 100;

/// Most buttons of an interactive message (WhatsApp allows 3, other channels a few more).
pub const BUTTONS_MAX: usize = 10;

/// Most items of an interactive list (WhatsApp allows 10 sections of 10 rows).
pub const LIST_ITEMS_MAX: usize = 100;

/// A media service's id for a file (Cloudinary allows 255 characters with the folder path).
pub const PUBLIC_ID_MAX: usize = 255;

/// The longest audio or video attachment, in seconds (a day).
const MEDIA_DURATION_MAX: f64 = 86_400.0;

/// A language code (BCP 47 tags are at most 35 characters in practice).
const LANGUAGE_MAX: usize = 35;

// ------------------------------------------------------------------------------------------------
// Attachments
// ------------------------------------------------------------------------------------------------

/// A file sent with a message (mirrors `Attachment`).
#[derive(Debug, Clone, InputObject)]
pub struct AttachmentInput {
    /// `IMAGE`, `DOCUMENT`, `AUDIO` or `VIDEO`.
    #[graphql(name = "type")]
    pub kind: MessageType,
    /// Where the file is (http or https URL).
    pub url: String,
    /// File name.
    pub filename: Option<String>,
    /// MIME type (`image/jpeg`).
    pub mime_type: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
    /// Its id in the media service (Cloudinary public id).
    pub public_id: Option<String>,
    /// A preview image (images and videos; http or https URL).
    pub thumbnail_url: Option<String>,
    /// Length in seconds (audio and video).
    pub duration: Option<f64>,
}

/// Attachments as the `messages.attachments` document.
pub(crate) fn attachments(field: &str, list: Vec<AttachmentInput>) -> Result<Value, ApiError> {
    if list.len() > ATTACHMENTS_MAX {
        return Err(bad(
            field,
            format!("has too many attachments: at most {ATTACHMENTS_MAX} are allowed"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.into_iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        if !matches!(
            a.kind,
            MessageType::Image | MessageType::Document | MessageType::Audio | MessageType::Video
        ) {
            return Err(bad(&f("type"), "must be IMAGE, DOCUMENT, AUDIO or VIDEO"));
        }
        let mut doc = Map::new();
        doc.insert("type".into(), Value::String(a.kind.as_db().to_owned()));
        doc.insert(
            "url".into(),
            Value::String(validate::url(&f("url"), &a.url)?),
        );
        put(
            &mut doc,
            "filename",
            short(&f("filename"), a.filename, FILENAME_MAX)?,
        );
        if let Some(mime) = validate::optional_text(&f("mimeType"), a.mime_type, MIME_TYPE_MAX)? {
            let ok = mime
                .split_once('/')
                .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !mime.contains(' '));
            if !ok {
                return Err(bad(&f("mimeType"), "must be a MIME type like image/jpeg"));
            }
            doc.insert("mimeType".into(), Value::String(mime));
        }
        if let Some(size) = a.size {
            doc.insert(
                "size".into(),
                Value::from(validate::non_negative_int(&f("size"), size)?),
            );
        }
        put(
            &mut doc,
            "publicId",
            short(&f("publicId"), a.public_id, PUBLIC_ID_MAX)?,
        );
        if let Some(thumb) = a.thumbnail_url {
            doc.insert(
                "thumbnailUrl".into(),
                Value::String(validate::url(&f("thumbnailUrl"), &thumb)?),
            );
        }
        if let Some(d) = a.duration {
            if !(0.0..=MEDIA_DURATION_MAX).contains(&d) {
                return Err(bad(&f("duration"), "must be between 0 and 86400 seconds"));
            }
            doc.insert("duration".into(), number(&f("duration"), d)?);
        }
        out.push(Value::Object(doc));
    }
    Ok(Value::Array(out))
}

// ------------------------------------------------------------------------------------------------
// Location
// ------------------------------------------------------------------------------------------------

/// A shared location (mirrors `MessageLocation`).
#[derive(Debug, Clone, InputObject)]
pub struct MessageLocationInput {
    /// Degrees north, −90 to 90.
    pub latitude: f64,
    /// Degrees east, −180 to 180.
    pub longitude: f64,
    /// Street address.
    pub address: Option<String>,
    /// Place name.
    pub name: Option<String>,
}

impl MessageLocationInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let f = |name: &str| format!("{field}.{name}");
        if !(-90.0..=90.0).contains(&self.latitude) {
            return Err(bad(&f("latitude"), "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&self.longitude) {
            return Err(bad(&f("longitude"), "must be between -180 and 180"));
        }
        let mut doc = Map::new();
        doc.insert("latitude".into(), number(&f("latitude"), self.latitude)?);
        doc.insert("longitude".into(), number(&f("longitude"), self.longitude)?);
        put(
            &mut doc,
            "address",
            short(&f("address"), self.address, validate::ADDRESS_MAX)?,
        );
        put(&mut doc, "name", short(&f("name"), self.name, NAME_MAX)?);
        Ok(Value::Object(doc))
    }
}

// ------------------------------------------------------------------------------------------------
// Template
// ------------------------------------------------------------------------------------------------

/// A WhatsApp template message (mirrors `MessageTemplate`).
#[derive(Debug, Clone, InputObject)]
pub struct MessageTemplateInput {
    /// Template name.
    pub name: String,
    /// Language code.
    pub language: Option<String>,
    /// Values filled into the template, in order.
    pub parameters: Option<Vec<Value>>,
    /// WhatsApp template category (`UTILITY`, `MARKETING`, …).
    pub category: Option<String>,
}

impl MessageTemplateInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let f = |name: &str| format!("{field}.{name}");
        let mut doc = Map::new();
        doc.insert(
            "name".into(),
            Value::String(validate::required_text(
                &f("name"),
                &self.name,
                SHORT_TEXT_MAX,
            )?),
        );
        put(
            &mut doc,
            "language",
            short(&f("language"), self.language, LANGUAGE_MAX)?,
        );
        if let Some(params) = self.parameters {
            let path = f("parameters");
            if params.len() > TEMPLATE_PARAMETERS_MAX {
                return Err(bad(
                    &path,
                    format!("has too many values: at most {TEMPLATE_PARAMETERS_MAX} are allowed"),
                ));
            }
            for (i, p) in params.iter().enumerate() {
                if p.to_string().len() > validate::REASON_MAX {
                    return Err(bad(&format!("{path}[{i}]"), "is too large"));
                }
            }
            doc.insert("parameters".into(), Value::Array(params));
        }
        put(
            &mut doc,
            "category",
            short(&f("category"), self.category, SHORT_TEXT_MAX)?,
        );
        Ok(Value::Object(doc))
    }
}

// ------------------------------------------------------------------------------------------------
// Interactive
// ------------------------------------------------------------------------------------------------

/// One choice of an interactive message (mirrors `InteractiveOption`).
#[derive(Debug, Clone, InputObject)]
pub struct InteractiveOptionInput {
    /// The id sent back when chosen.
    pub id: Option<String>,
    /// Label.
    pub title: String,
    /// Secondary text (list items).
    pub description: Option<String>,
    /// What the button sends back to the bot when pressed (buttons).
    pub payload: Option<String>,
}

/// Buttons or a list the customer can pick from (mirrors `Interactive`).
#[derive(Debug, Clone, InputObject)]
pub struct InteractiveInput {
    /// `button`, `list` or `quick_reply`.
    #[graphql(name = "type")]
    pub kind: String,
    /// Buttons.
    pub buttons: Option<Vec<InteractiveOptionInput>>,
    /// List items.
    pub list_items: Option<Vec<InteractiveOptionInput>>,
}

fn options(field: &str, list: Vec<InteractiveOptionInput>, max: usize) -> Result<Value, ApiError> {
    if list.len() > max {
        return Err(bad(
            field,
            format!("has too many choices: at most {max} are allowed"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, o) in list.into_iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let mut doc = Map::new();
        put(&mut doc, "id", short(&f("id"), o.id, SHORT_TEXT_MAX)?);
        doc.insert(
            "title".into(),
            Value::String(validate::required_text(
                &f("title"),
                &o.title,
                SHORT_TEXT_MAX,
            )?),
        );
        put(
            &mut doc,
            "description",
            short(&f("description"), o.description, validate::REASON_MAX)?,
        );
        put(
            &mut doc,
            "payload",
            short(&f("payload"), o.payload, validate::REASON_MAX)?,
        );
        out.push(Value::Object(doc));
    }
    Ok(Value::Array(out))
}

impl InteractiveInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let kind = self.kind.trim().to_ascii_lowercase();
        if !matches!(kind.as_str(), "button" | "list" | "quick_reply") {
            return Err(bad(
                &format!("{field}.type"),
                "must be button, list or quick_reply",
            ));
        }
        let mut doc = Map::new();
        doc.insert("type".into(), Value::String(kind));
        if let Some(b) = self.buttons {
            doc.insert(
                "buttons".into(),
                options(&format!("{field}.buttons"), b, BUTTONS_MAX)?,
            );
        }
        if let Some(l) = self.list_items {
            doc.insert(
                "listItems".into(),
                options(&format!("{field}.listItems"), l, LIST_ITEMS_MAX)?,
            );
        }
        Ok(Value::Object(doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(r: Result<Value, ApiError>) -> String {
        match r {
            Err(ApiError::BadUserInput { field, .. }) => field,
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn attachments_store_the_type_in_database_spelling_and_name_a_bad_url_by_index() {
        let ok = attachments(
            "input.attachments",
            vec![AttachmentInput {
                kind: MessageType::Image,
                url: "https://example.com/a.jpg".into(),
                filename: Some(" a.jpg ".into()),
                mime_type: Some("image/jpeg".into()),
                size: Some(10),
                public_id: Some("salon/a".into()),
                thumbnail_url: None,
                duration: None,
            }],
        )
        .expect("valid");
        assert_eq!(
            ok,
            json!([{ "type": "image", "url": "https://example.com/a.jpg", "filename": "a.jpg",
                     "mimeType": "image/jpeg", "size": 10, "publicId": "salon/a" }])
        );
        let bad_url = AttachmentInput {
            kind: MessageType::Document,
            url: "ftp://x".into(),
            filename: None,
            mime_type: None,
            size: None,
            public_id: None,
            thumbnail_url: None,
            duration: None,
        };
        let text = AttachmentInput {
            kind: MessageType::Text,
            ..bad_url.clone()
        };
        assert_eq!(
            field_of(attachments("input.attachments", vec![bad_url])),
            "input.attachments[0].url"
        );
        assert_eq!(
            field_of(attachments("input.attachments", vec![text])),
            "input.attachments[0].type"
        );
    }

    #[test]
    fn interactive_type_is_one_of_three() {
        let i = InteractiveInput {
            kind: "carousel".into(),
            buttons: None,
            list_items: None,
        };
        assert_eq!(
            field_of(i.lower("input.interactive")),
            "input.interactive.type"
        );
    }
}
