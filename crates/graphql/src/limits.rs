//! What one GraphQL request may ask of the server, and the promise that every error has a code.
//!
//! This module owns every bound the schema enforces before a resolver runs: the size of the
//! document, its shape once fragments are expanded, aliases, nesting depth and cost. Each is
//! checked while the request is parsed or validated, so an abusive request costs a parse and
//! never a database round trip. (The HTTP layer adds its own bounds: body size, batch size,
//! content type.)
//!
//! It also owns the rule from DESIGN.md that every error carries `extensions.code`. Resolvers
//! report [`ApiError`]s, which are coded; what async-graphql reports itself (syntax errors,
//! validation errors, limit refusals, argument coercion) is not. [`crate::execute`] codes
//! those as `BAD_USER_INPUT` — naming the offending argument, variable or
//! field in `extensions.field` when the message does — and masks any other uncoded resolver
//! error as `INTERNAL`, since it can only be a cause we failed to classify.
//!
//! None of this touches the type system: [`apply`] leaves the SDL unchanged.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, Request, Response, SchemaBuilder, ServerError, ServerResult};

use crate::{ApiError, ErrorCode};

/// Longest accepted query document, in bytes. Hand-written and generated queries are a few
/// KiB; GraphiQL's full introspection query is about 2 KiB. The bound keeps parsing cheap
/// and is checked before the parser sees the text.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Deepest field nesting, leaf fields included. The deepest legitimate paths are the nested
/// connections (`customers{edges{node{bookings{edges{node{calls{edges{node{sms{edges{node{body`,
/// 13 levels) and graphql-js's introspection query as GraphiQL sends it (`__schema > types >
/// fields > args > type`, nine `ofType`s at its deepest `typeDepth`, then `name`: 15 levels).
/// Depth is what makes nested lists explode, so it is kept at that.
pub const MAX_DEPTH: usize = 15;

/// Deepest nesting of selection sets counting fragment spreads and inline fragments too:
/// one fragment per field level on top of [`MAX_DEPTH`]. It bounds the recursion of every
/// pass over the document (ours and async-graphql's).
pub const MAX_RECURSIVE_DEPTH: usize = 2 * MAX_DEPTH;

/// Highest accepted query cost. A field costs 1 plus its selection; connection fields cost
/// 1 plus their page size (`first`/`last`, default 20) times their selection, so the cost
/// estimates the values a query can return. 100 000 admits the dashboard's four-level read,
/// `customers(first: 50)` → `bookings(first: 10)` → `calls(first: 5)` → `smsMessages(first: 5)`
/// with a few fields per level (up to 12 500 SMS rows; about 81 000), and refuses three nested
/// full pages (`customers(first: 100)` → `bookings(first: 100)` → `calls(first: 100)`: about
/// 3 000 000).
pub const MAX_COMPLEXITY: usize = 100_000;

/// Most aliased fields in one document (operations and fragments, as written). Aliases are
/// how one request asks for the same expensive field many times, or brute-forces arguments;
/// no screen needs more than a few.
pub const MAX_ALIASES: usize = 30;

/// Most selections (fields, fragment spreads, inline fragments) once fragments are expanded.
/// Fragments spread fragments, so a 1 KiB document can expand to billions of selections
/// (a "fragment bomb"); validation walks the expanded tree, so this is checked first, on a
/// walk that expands each fragment once. GraphiQL's introspection query expands to about 230.
pub const MAX_SELECTIONS: usize = 2_000;

/// Most introspection lists (`fields`, `inputFields`, `interfaces`, `possibleTypes`) nested
/// below `__schema` or `__type`. Introspection fields cost 1 whatever their length, so
/// `__schema{types{fields{type{ofType{fields{type{ofType{fields …` multiplies by the size of
/// the schema at every level, within the depth limit. GraphiQL nests one; graphql-js's
/// `MaxIntrospectionDepthRule` allows two, as here.
pub const MAX_INTROSPECTION_LISTS: usize = 2;

/// Most directives on one field or fragment. `@skip`/`@include` need one each; hundreds of
/// repeated directives only cost validation time.
pub const MAX_DIRECTIVES: usize = 5;

/// Installs async-graphql's own limits on a schema builder; [`crate::execute`] applies the
/// rest around each request.
///
/// Call it on the executable schema only; it adds no types, so `sdl()` needs no call.
pub fn apply<Query, Mutation, Subscription>(
    builder: SchemaBuilder<Query, Mutation, Subscription>,
) -> SchemaBuilder<Query, Mutation, Subscription> {
    builder
        .limit_depth(MAX_DEPTH)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(MAX_DIRECTIVES)
}

/// Argument names by the position of their values in the document.
pub(crate) type Arguments = HashMap<Pos, String>;

/// Codes every error of a response (see the module docs); `arguments` comes from
/// [`check_document`] when the document parsed.
pub(crate) fn code_errors(
    response: &mut Response,
    request_id: &str,
    arguments: Option<&Arguments>,
) {
    for error in &mut response.errors {
        ensure_code(error, request_id, arguments);
    }
}

/// Size first, then parse (async-graphql reuses the parsed document), then shape. Returns
/// the document's arguments.
///
/// A document that passed is remembered by its text with its parse and arguments
/// ([`Checked`]): clients send the same few dozen documents again and again, and parsing is
/// the dearest step of a small request, while cloning a parse costs a fraction of it.
pub(crate) fn check_document(request: &mut Request) -> ServerResult<Arc<Arguments>> {
    static CHECKED: LazyLock<Checked> = LazyLock::new(Checked::default);
    if let Some((doc, arguments)) = CHECKED.get(&request.query) {
        request.set_parsed_query(doc);
        return Ok(arguments);
    }
    let arguments = Arc::new(check_parsing(request)?);
    if let Ok(doc) = request.parsed_query() {
        let doc = doc.clone();
        CHECKED.insert(&request.query, doc, arguments.clone());
    }
    Ok(arguments)
}

/// Most bytes of document text [`Checked`] keeps; it starts over when they are reached.
const MAX_CHECKED_BYTES: usize = 4 << 20;

/// Documents that passed [`check_document`], by text, and the bytes of their texts.
#[derive(Default)]
struct Checked {
    known: Mutex<(HashMap<String, Known>, usize)>,
}

/// A checked document's parse and arguments.
type Known = (ExecutableDocument, Arc<Arguments>);

impl Checked {
    fn get(&self, text: &str) -> Option<Known> {
        let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.0.get(text).cloned()
    }

    fn insert(&self, text: &str, doc: ExecutableDocument, arguments: Arc<Arguments>) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let (docs, bytes) = &mut *known;
        if *bytes + text.len() > MAX_CHECKED_BYTES {
            docs.clear();
            *bytes = 0;
        }
        if docs.insert(text.to_owned(), (doc, arguments)).is_none() {
            *bytes += text.len();
        }
    }
}

fn check_parsing(request: &mut Request) -> ServerResult<Arguments> {
    let bytes = request.query.len();
    if bytes > MAX_QUERY_BYTES {
        return Err(refusal(format!(
            "the query is {bytes} bytes long; the limit is {MAX_QUERY_BYTES} bytes"
        )));
    }
    // A syntax error is coded on the way out, like every other error.
    let doc = request.parsed_query()?;
    Shape::of(doc)
}

/// One pass over the document from its operations, expanding each fragment once.
struct Shape<'a> {
    doc: &'a ExecutableDocument,
    /// Expanded size of each fragment seen; `None` while it is being expanded (a cycle).
    fragments: HashMap<&'a str, Option<Size>>,
    aliases: usize,
    arguments: Arguments,
}

/// How big a selection set is once expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    selections: usize,
    /// How many selection sets deep it nests below itself.
    height: usize,
    /// Most introspection lists on one path through it (see [`MAX_INTROSPECTION_LISTS`]).
    lists: usize,
}

impl<'a> Shape<'a> {
    fn of(doc: &'a ExecutableDocument) -> ServerResult<Arguments> {
        let mut shape = Shape {
            doc,
            fragments: HashMap::new(),
            aliases: 0,
            arguments: HashMap::new(),
        };
        let mut selections = 0usize;
        for (_, operation) in doc.operations.iter() {
            let size = shape.set(&operation.node.selection_set.node, 0)?;
            selections = selections.saturating_add(size.selections);
            check_selections(selections)?;
        }
        if shape.aliases > MAX_ALIASES {
            return Err(refusal(format!(
                "the query has {} aliased fields; the limit is {MAX_ALIASES} aliases",
                shape.aliases
            )));
        }
        Ok(shape.arguments)
    }

    /// Sizes a selection set at `depth`, refusing as soon as a limit is passed so the walk
    /// stays short and its recursion shallow.
    fn set(&mut self, set: &'a SelectionSet, depth: usize) -> ServerResult<Size> {
        check_nesting(depth)?;
        let mut size = Size::default();
        for item in &set.items {
            let child = match &item.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    for (name, value) in &field.node.arguments {
                        self.arguments.insert(value.pos, name.node.to_string());
                    }
                    let children = &field.node.selection_set.node;
                    if children.items.is_empty() {
                        None
                    } else {
                        let inner = self.set(children, depth + 1)?;
                        Some(count_list(&field.node.name.node, inner)?)
                    }
                }
                Selection::InlineFragment(inline) => {
                    Some(self.set(&inline.node.selection_set.node, depth + 1)?)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, depth + 1)?
                }
            };
            size.selections = size.selections.saturating_add(1);
            if let Some(child) = child {
                size.selections = size.selections.saturating_add(child.selections);
                size.height = size.height.max(child.height + 1);
                size.lists = size.lists.max(child.lists);
            }
            check_selections(size.selections)?;
        }
        Ok(size)
    }

    /// Sizes a spread fragment's selection set at `depth`; unknown fragments are left to
    /// validation, which names them.
    fn fragment(&mut self, name: &'a str, depth: usize) -> ServerResult<Option<Size>> {
        let known = match self.fragments.get(name) {
            Some(Some(size)) => Some(*size),
            Some(None) => {
                return Err(refusal(format!("fragment `{name}` spreads itself")));
            }
            None => None,
        };
        if let Some(size) = known {
            check_nesting(depth + size.height)?;
            return Ok(Some(size));
        }
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return Ok(None);
        };
        self.fragments.insert(key.as_str(), None);
        let size = self.set(&fragment.node.selection_set.node, depth)?;
        self.fragments.insert(key.as_str(), Some(size));
        Ok(Some(size))
    }
}

/// Adds a field to the introspection-list count of its selection, and refuses when an
/// introspection root holds too many.
fn count_list(field: &str, mut inner: Size) -> ServerResult<Size> {
    match field {
        "fields" | "inputFields" | "interfaces" | "possibleTypes" => inner.lists += 1,
        "__schema" | "__type" if inner.lists > MAX_INTROSPECTION_LISTS => {
            return Err(refusal(format!(
                "`{field}` nests {} introspection lists (fields, inputFields, interfaces, \
                 possibleTypes) in one another; the limit is {MAX_INTROSPECTION_LISTS} lists",
                inner.lists
            )));
        }
        _ => {}
    }
    Ok(inner)
}

fn check_nesting(depth: usize) -> ServerResult<()> {
    if depth > MAX_RECURSIVE_DEPTH {
        return Err(refusal(format!(
            "the query nests selections {depth} levels deep (fragments included); \
             the limit is {MAX_RECURSIVE_DEPTH} levels"
        )));
    }
    Ok(())
}

fn check_selections(selections: usize) -> ServerResult<()> {
    if selections > MAX_SELECTIONS {
        return Err(refusal(format!(
            "the query selects more than {MAX_SELECTIONS} fields once fragments are expanded; \
             the limit is {MAX_SELECTIONS} selections"
        )));
    }
    Ok(())
}

/// A request-level refusal: the client's mistake, reported before anything runs.
fn refusal(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, ErrorCode::BadUserInput);
    error
}

/// Gives an uncoded error its code. Errors without a path never reached a resolver (syntax,
/// validation, limits, operation selection): the request was wrong. Errors with a path come
/// from resolvers; async-graphql's argument coercion errors are the client's (`arguments`
/// names the argument at the error's location), anything else is a cause no resolver
/// classified, so it is logged and masked.
fn ensure_code(error: &mut ServerError, request_id: &str, arguments: Option<&Arguments>) {
    let coded = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if coded {
        return;
    }
    if error.path.is_empty() || is_input_error(&error.message) {
        reword_limit(error);
        // Validation messages name the argument; coercion errors point at its value.
        let at = |pos: &Pos| arguments?.get(pos).map(String::as_str);
        let field =
            offending_field(&error.message).or_else(|| error.locations.first().and_then(at));
        if let Some(field) = field.map(str::to_owned) {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("field", field);
        }
        set_code(error, ErrorCode::BadUserInput);
    } else {
        let cause = std::mem::take(&mut error.message);
        let masked = ApiError::Internal(cause.into()).into_graphql(request_id);
        error.message = masked.message;
        error.extensions = masked.extensions;
    }
}

fn set_code(error: &mut ServerError, code: ErrorCode) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
}

/// async-graphql's messages for a value that does not fit its argument's type.
fn is_input_error(message: &str) -> bool {
    const PREFIXES: [&str; 6] = [
        "Failed to parse \"",
        "Expected input type \"",
        "Invalid value for argument",
        "Variable ",
        "The \"first\" ",
        "The \"last\" ",
    ];
    PREFIXES.iter().any(|p| message.starts_with(p))
}

/// async-graphql's depth and complexity refusals do not say what the limit is; ours do.
fn reword_limit(error: &mut ServerError) {
    match error.message.as_str() {
        "Query is nested too deep." => {
            error.message =
                format!("the query is nested too deep: the limit is {MAX_DEPTH} levels of fields")
        }
        "Query is too complex." => {
            error.message = format!(
                "the query is too complex: its estimated cost (list fields count their page \
                 size times their selection) exceeds the limit of {MAX_COMPLEXITY}"
            )
        }
        _ => {}
    }
}

/// The argument, variable or field a validation message names, as in
/// `Invalid value for argument "input.phone", expected type "String"` or
/// `Variable "$first" of type "String" used in position expecting type "Int"`.
fn offending_field(message: &str) -> Option<&str> {
    const MARKERS: [&str; 4] = [
        "argument \"",
        "argument: \"",
        "Unknown field \"",
        "Variable \"",
    ];
    MARKERS.iter().find_map(|marker| {
        let start = message.find(marker)? + marker.len();
        message[start..].split('"').next().filter(|f| !f.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str) -> ServerResult<Arguments> {
        let mut request = Request::new(query);
        check_document(&mut request).map(|a| (*a).clone())
    }

    #[test]
    fn offending_fields_are_read_from_validation_messages() {
        let cases = [
            (
                r#"Invalid value for argument "input.phone", expected type "String""#,
                Some("input.phone"),
            ),
            (
                r#"Unknown argument "frist" on field "customers" of type "Query"."#,
                Some("frist"),
            ),
            (
                r#"Field "customer" argument "id" of type "ID!" is required but not provided"#,
                Some("id"),
            ),
            (
                r#"Variable "$n" of type "Int!" used in position expecting type "String!""#,
                Some("$n"),
            ),
            (r#"Unknown field "nope" on type "Query"."#, Some("nope")),
            ("Query is nested too deep.", None),
        ];
        for (message, field) in cases {
            assert_eq!(offending_field(message), field, "{message}");
        }
    }

    #[test]
    fn a_fragment_bomb_is_refused_without_expanding_it() {
        let mut query = String::from("{ ...f0 }\nfragment f30 on Query { __typename }\n");
        for level in 0..30 {
            let next = level + 1;
            query.push_str(&format!(
                "fragment f{level} on Query {{ ...f{next} ...f{next} ...f{next} }}\n"
            ));
        }
        let error = shape(&query).expect_err("2^30 selections must be refused");
        assert!(error.message.contains("selections"), "{}", error.message);
    }

    #[test]
    fn a_fragment_cycle_is_refused() {
        let error = shape("{ ...a } fragment a on Query { ...b } fragment b on Query { ...a }")
            .expect_err("cycle");
        assert!(
            error.message.contains("spreads itself"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_reused_fragment_counts_its_nesting_where_it_is_spread() {
        // `d` is first met two levels down (fine), then spread 28 levels down, where its
        // four nested `ofType`s pass MAX_RECURSIVE_DEPTH (30).
        let mut nested = String::from("...d");
        for _ in 0..13 {
            nested = format!("fields {{ type {{ {nested} }} }}");
        }
        let query = format!(
            "{{ __schema {{ types {{ ...d }} }} __type(name: \"Query\") {{ {nested} }} }}\n\
             fragment d on __Type {{ ofType {{ ofType {{ ofType {{ ofType {{ name }} }} }} }} }}"
        );
        let error = shape(&query).expect_err("too deep");
        assert!(error.message.contains("32 levels"), "{}", error.message);
    }

    #[test]
    fn introspection_lists_nest_at_most_twice_even_through_fragments() {
        let two = "{ __schema { types { fields { type { ofType { fields { name } } } } } } }";
        shape(two).expect("two nested lists");
        let three = "{ __type(name: \"Query\") { ...l } } \
                     fragment l on __Type { fields { type { interfaces { possibleTypes { name } } } } }";
        let error = shape(three).expect_err("three nested lists");
        assert!(
            error.message.contains("nests 3 introspection lists"),
            "{}",
            error.message
        );
    }

    fn coded(message: &str, in_resolver: bool) -> ServerError {
        let mut error = ServerError::new(message, None);
        if in_resolver {
            error.path = vec![async_graphql::PathSegment::Field("customer".into())];
        }
        ensure_code(&mut error, "req-1", None);
        error
    }

    fn extension(error: &ServerError, name: &str) -> Option<String> {
        let value = error.extensions.as_ref()?.get(name)?;
        Some(value.to_string().trim_matches('"').to_owned())
    }

    #[test]
    fn request_errors_and_coercion_errors_are_bad_user_input() {
        let error = coded("Query is nested too deep.", false);
        assert_eq!(extension(&error, "code").as_deref(), Some("BAD_USER_INPUT"));
        assert!(error.message.contains("limit is 15"), "{}", error.message);

        let error = coded(r#"Failed to parse "Int": Only integers"#, true);
        assert_eq!(extension(&error, "code").as_deref(), Some("BAD_USER_INPUT"));
        assert!(error.message.starts_with("Failed to parse"));
    }

    #[test]
    fn a_coercion_error_names_the_argument_at_its_location() {
        let pos = Pos {
            line: 1,
            column: 16,
        };
        let mut error = ServerError::new(r#"Expected input type "UUID", found 42."#, Some(pos));
        error.path = vec![async_graphql::PathSegment::Field("customer".into())];
        let arguments = Arguments::from([(pos, "id".to_owned())]);
        ensure_code(&mut error, "req-1", Some(&arguments));
        assert_eq!(extension(&error, "code").as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(extension(&error, "field").as_deref(), Some("id"));
    }

    #[test]
    fn uncoded_resolver_errors_are_masked_as_internal() {
        let error = coded("connection reset by peer", true);
        assert_eq!(extension(&error, "code").as_deref(), Some("INTERNAL"));
        assert_eq!(extension(&error, "requestId").as_deref(), Some("req-1"));
        assert!(
            !error.message.contains("connection reset"),
            "{}",
            error.message
        );
    }

    #[test]
    fn coded_errors_are_left_alone() {
        let mut error = ServerError::new("gone", None);
        error.path = vec![async_graphql::PathSegment::Field("customer".into())];
        set_code(&mut error, ErrorCode::NotFound);
        ensure_code(&mut error, "req-1", None);
        assert_eq!(extension(&error, "code").as_deref(), Some("NOT_FOUND"));
        assert_eq!(error.message, "gone");
    }

    #[test]
    fn ordinary_queries_pass() {
        shape("query Q($id: ID!) { me { userId } ... on Query { __typename } }")
            .expect("ordinary query");
    }
}
