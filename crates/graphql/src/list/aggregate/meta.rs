//! Schema types whose fields come from an entity's declaration at schema-build time.
//!
//! Aggregate and group types differ per entity only in which fields they list (`LeadSumFields`
//! has `dealValue` and `leadScore`), so they are registered from the declaration's field list
//! here instead of being generated as one Rust struct each. Each helper inserts a type once;
//! the Rust types that serve them resolve by field name.

use async_graphql::indexmap::IndexMap;
use async_graphql::registry::{
    Deprecation, MetaEnumValue, MetaField, MetaInputValue, MetaType, Registry,
};

/// A field of an object: name, description, type (`Int!`, `LeadStatus`).
pub(crate) struct Field {
    pub name: String,
    pub doc: String,
    pub ty: String,
}

impl Field {
    pub(crate) fn new(
        name: impl Into<String>,
        doc: impl Into<String>,
        ty: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            doc: doc.into(),
            ty: ty.into(),
        }
    }
}

/// Inserts object type `name` with `fields` (arguments: none).
pub(crate) fn object(registry: &mut Registry, name: &str, doc: &str, fields: Vec<Field>) {
    if registry.types.contains_key(name) {
        return;
    }
    let fields: IndexMap<String, MetaField> = fields
        .into_iter()
        .map(|f| {
            (
                f.name.clone(),
                MetaField {
                    name: f.name,
                    description: Some(f.doc),
                    args: IndexMap::new(),
                    ty: f.ty,
                    deprecation: Deprecation::NoDeprecated,
                    cache_control: Default::default(),
                    external: false,
                    requires: None,
                    provides: None,
                    visible: None,
                    shareable: false,
                    inaccessible: false,
                    tags: vec![],
                    override_from: None,
                    compute_complexity: None,
                    directive_invocations: vec![],
                    requires_scopes: vec![],
                },
            )
        })
        .collect();
    registry.types.insert(
        name.to_owned(),
        MetaType::Object {
            name: name.to_owned(),
            description: Some(doc.to_owned()),
            fields,
            cache_control: Default::default(),
            extends: false,
            shareable: false,
            resolvable: true,
            keys: None,
            visible: None,
            inaccessible: false,
            interface_object: false,
            tags: vec![],
            is_subscription: false,
            rust_typename: None,
            directive_invocations: vec![],
            requires_scopes: vec![],
        },
    );
}

/// Inserts input object type `name` with `fields` (all optional unless the type says `!`;
/// `default` is a GraphQL literal).
pub(crate) fn input(
    registry: &mut Registry,
    name: &str,
    doc: &str,
    fields: Vec<(Field, Option<&str>)>,
) {
    if registry.types.contains_key(name) {
        return;
    }
    let input_fields = fields
        .into_iter()
        .map(|(f, default)| {
            (
                f.name.clone(),
                MetaInputValue {
                    name: f.name,
                    description: Some(f.doc),
                    ty: f.ty,
                    deprecation: Deprecation::NoDeprecated,
                    default_value: default.map(str::to_owned),
                    visible: None,
                    inaccessible: false,
                    tags: vec![],
                    is_secret: false,
                    directive_invocations: vec![],
                },
            )
        })
        .collect();
    registry.types.insert(
        name.to_owned(),
        MetaType::InputObject {
            name: name.to_owned(),
            description: Some(doc.to_owned()),
            input_fields,
            visible: None,
            inaccessible: false,
            tags: vec![],
            rust_typename: None,
            oneof: false,
            directive_invocations: vec![],
        },
    );
}

/// Inserts enum type `name` with `values` (name, description).
pub(crate) fn enumeration(
    registry: &mut Registry,
    name: &str,
    doc: &str,
    values: Vec<(String, String)>,
) {
    if registry.types.contains_key(name) {
        return;
    }
    let enum_values = values
        .into_iter()
        .map(|(v, d)| {
            (
                v.clone(),
                MetaEnumValue {
                    name: v,
                    description: Some(d),
                    deprecation: Deprecation::NoDeprecated,
                    visible: None,
                    inaccessible: false,
                    tags: vec![],
                    directive_invocations: vec![],
                },
            )
        })
        .collect();
    registry.types.insert(
        name.to_owned(),
        MetaType::Enum {
            name: name.to_owned(),
            description: Some(doc.to_owned()),
            enum_values,
            visible: None,
            inaccessible: false,
            tags: vec![],
            rust_typename: None,
            directive_invocations: vec![],
            requires_scopes: vec![],
        },
    );
}

/// `lead_score` → `leadScore`.
pub(crate) fn camel(snake: &str) -> String {
    let snake = snake.trim_start_matches("r#");
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for ch in snake.chars() {
        if ch == '_' {
            up = true;
        } else if up {
            out.push(ch.to_ascii_uppercase());
            up = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// `lead_score` → `LEAD_SCORE`.
pub(crate) fn upper(snake: &str) -> String {
    snake.trim_start_matches("r#").to_ascii_uppercase()
}
