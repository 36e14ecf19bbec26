//! From a parsed query to a [`Document`]: the walk that decides whether an operation can be
//! answered by one statement, and builds it when it can.
//!
//! It accepts what it can render exactly and refuses (returns `None`) everything else, so the
//! operation runs through the resolvers as before: directives, fields selected twice under
//! one key, cursors and `last`, `aggregate` and `groups`, computed fields, required links,
//! root fields that are not an entity's list or by-id field or a report (a dashboard whose
//! statement the dashboard module describes).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Value, Variables};
use frontdesk_db::query::json::{
    Document, EdgePart, Field as Out, Linked, List, Object, PageInfoPart, Part, Render, Report,
    ReportPart, Root,
};
use frontdesk_db::query::Via;

use super::describe::{Arguments, Described, DescribedReport, Rel};
use crate::entity::global_id::row_of;
use crate::entity::{direct_root, Rule};

/// An operation compiled into one statement.
pub(crate) struct Compiled {
    /// The statement's document.
    pub(crate) doc: Document,
    /// The read rule of each root entity, checked before the statement runs.
    pub(crate) rules: Vec<(&'static str, Rule)>,
    /// Every list's page size, in walk order: with the document text they fix the
    /// operation's validated complexity.
    pub(crate) limits: Vec<i64>,
}

/// Compiles the operation `name` selects from `doc`, or says it cannot.
pub(crate) fn compile(
    doc: &ExecutableDocument,
    name: Option<&str>,
    variables: &Variables,
) -> Option<Compiled> {
    let op = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        // A named operation alone in its document needs no `operationName`.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    if op.node.ty != OperationType::Query || !op.node.directives.is_empty() {
        return None;
    }
    let mut walk = Walk {
        doc,
        op: &op.node,
        variables,
        rules: Vec::new(),
        limits: Vec::new(),
    };
    let mut out = Document::default();
    for field in walk.fields(&op.node.selection_set.node, "Query")? {
        let key = field.response_key().node.to_string();
        let root = walk.root(field)?;
        out.roots.push((key, root));
    }
    Some(Compiled {
        doc: out,
        rules: walk.rules,
        limits: walk.limits,
    })
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    op: &'a OperationDefinition,
    variables: &'a Variables,
    rules: Vec<(&'static str, Rule)>,
    limits: Vec<i64>,
}

impl<'a> Walk<'a> {
    /// The fields of `set` on type `ty`, fragments expanded; `None` on a directive or a
    /// response key selected twice (GraphQL merges those; this walk does not).
    fn fields(&self, set: &'a SelectionSet, ty: &str) -> Option<Vec<&'a Field>> {
        let mut out: Vec<&'a Field> = Vec::new();
        self.collect(set, ty, &mut out, 0)?;
        for (i, f) in out.iter().enumerate() {
            let key = f.response_key();
            if out[..i].iter().any(|g| g.response_key().node == key.node) {
                return None;
            }
        }
        Some(out)
    }

    fn collect(
        &self,
        set: &'a SelectionSet,
        ty: &str,
        out: &mut Vec<&'a Field>,
        depth: usize,
    ) -> Option<()> {
        if depth > crate::limits::MAX_RECURSIVE_DEPTH {
            return None;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    if !f.node.directives.is_empty() {
                        return None;
                    }
                    out.push(&f.node);
                }
                Selection::FragmentSpread(spread) => {
                    if !spread.node.directives.is_empty() {
                        return None;
                    }
                    let fragment = self.doc.fragments.get(&spread.node.fragment_name.node)?;
                    if fragment.node.type_condition.node.on.node != ty
                        || !fragment.node.directives.is_empty()
                    {
                        return None;
                    }
                    self.collect(&fragment.node.selection_set.node, ty, out, depth + 1)?;
                }
                Selection::InlineFragment(inline) => {
                    if !inline.node.directives.is_empty() {
                        return None;
                    }
                    if let Some(on) = &inline.node.type_condition {
                        if on.node.on.node != ty {
                            return None;
                        }
                    }
                    self.collect(&inline.node.selection_set.node, ty, out, depth + 1)?;
                }
            }
        }
        Some(())
    }

    /// A field's arguments with variables substituted (defaults applied, absent ones null).
    fn arguments(&self, field: &Field) -> Option<Arguments> {
        field
            .arguments
            .iter()
            .map(|(name, value)| {
                let value = value
                    .node
                    .clone()
                    .into_const_with(|var: Name| self.variable(&var).ok_or(()))
                    .ok()?;
                Some((name.node.to_string(), value))
            })
            .collect()
    }

    fn variable(&self, name: &Name) -> Option<Value> {
        if let Some(v) = self.variables.get(name) {
            return Some(v.clone());
        }
        let def = self
            .op
            .variable_definitions
            .iter()
            .find(|d| d.node.name.node == *name)?;
        match &def.node.default_value {
            Some(v) => Some(v.node.clone()),
            None if def.node.var_type.node.nullable => Some(Value::Null),
            // A required variable left out: the ordinary path reports it.
            None => None,
        }
    }

    fn root(&mut self, field: &'a Field) -> Option<Root> {
        let name = field.name.node.as_str();
        if name == "__typename" {
            return None;
        }
        if let Some(report) = crate::dashboard::direct_report(name) {
            self.rules.push((report.name, report.read));
            return Some(Root::Report(self.report(field, report)?));
        }
        let (entity, by_id) = direct_root(name)?;
        self.rules.push((entity.name, entity.read));
        if by_id {
            let args = self.arguments(field)?;
            let [(arg, Value::String(text))] = args.as_slice() else {
                return None;
            };
            if arg != "id" {
                return None;
            }
            let id = row_of(text, entity.name).ok()?;
            let (object, wanted) = self.object(&field.selection_set.node, entity)?;
            return Some(Root::ById {
                table: entity.table,
                columns: select(entity, &wanted),
                id,
                object,
            });
        }
        Some(Root::List(self.list(field, entity, None)?))
    }

    /// A report root: its statement for the field's arguments, and the selected fields of
    /// the report and of its rows.
    fn report(&mut self, field: &'a Field, report: &DescribedReport) -> Option<Report> {
        let statement = (report.statement)(&self.arguments(field)?)?;
        let (rows, row_type, row_fields) = report.rows;
        let mut fields = Vec::new();
        for f in self.fields(&field.selection_set.node, report.name)? {
            if !f.arguments.is_empty() {
                return None;
            }
            let key = f.response_key().node.to_string();
            let name = f.name.node.as_str();
            let part = if name == "__typename" {
                ReportPart::Constant(serde_json::Value::from(report.name).to_string())
            } else if let Some((_, v)) = statement.echoed.iter().find(|(n, _)| *n == name) {
                ReportPart::Constant(v.clone().into_json().ok()?.to_string())
            } else if let Some(c) = report.first.iter().find(|c| c.graphql == name) {
                ReportPart::First {
                    name: c.column,
                    render: c.render,
                }
            } else if name == rows {
                let mut object = Object::default();
                for r in self.fields(&f.selection_set.node, row_type)? {
                    if !r.arguments.is_empty() {
                        return None;
                    }
                    let key = r.response_key().node.to_string();
                    let name = r.name.node.as_str();
                    let value = if name == "__typename" {
                        Out::Literal(row_type)
                    } else {
                        let c = row_fields.iter().find(|c| c.graphql == name)?;
                        Out::Column {
                            name: c.column,
                            render: c.render,
                        }
                    };
                    object.fields.push((key, value));
                }
                ReportPart::Rows(object)
            } else {
                return None;
            };
            fields.push((key, part));
        }
        Some(Report {
            sql: statement.sql,
            params: statement.params,
            fields,
        })
    }

    /// A connection field of `entity` (the children `via` a link, or the root list).
    fn list(&mut self, field: &'a Field, entity: Described, via: Option<Via>) -> Option<List> {
        let lowered = (entity.list)(&self.arguments(field)?)?;
        self.limits.push(lowered.limit);
        let mut parts = Vec::new();
        let mut wanted: Vec<&'static str> = Vec::new();
        let connection = format!("{}Connection", entity.name);
        for f in self.fields(&field.selection_set.node, &connection)? {
            let key = f.response_key().node.to_string();
            let part = match f.name.node.as_str() {
                "__typename" => Part::Literal(leak(connection.clone())),
                "totalCount" => Part::TotalCount,
                "nodes" => {
                    let (object, cols) = self.object(&f.selection_set.node, entity)?;
                    wanted.extend(cols);
                    Part::Nodes(object)
                }
                "edges" => {
                    let edge = format!("{}Edge", entity.name);
                    let mut edge_parts = Vec::new();
                    for e in self.fields(&f.selection_set.node, &edge)? {
                        let key = e.response_key().node.to_string();
                        let part = match e.name.node.as_str() {
                            "__typename" => EdgePart::Literal(leak(edge.clone())),
                            "node" => {
                                let (object, cols) = self.object(&e.selection_set.node, entity)?;
                                wanted.extend(cols);
                                EdgePart::Node(object)
                            }
                            // Cursors are signed by the server.
                            _ => return None,
                        };
                        edge_parts.push((key, part));
                    }
                    Part::Edges(edge_parts)
                }
                "pageInfo" => {
                    let mut info = Vec::new();
                    for p in self.fields(&f.selection_set.node, "PageInfo")? {
                        let key = p.response_key().node.to_string();
                        let part = match p.name.node.as_str() {
                            "__typename" => PageInfoPart::Literal("PageInfo"),
                            "hasNextPage" => PageInfoPart::HasNextPage,
                            "hasPreviousPage" => PageInfoPart::HasPreviousPage,
                            _ => return None,
                        };
                        info.push((key, part));
                    }
                    Part::PageInfo(info)
                }
                _ => return None,
            };
            parts.push((key, part));
        }
        Some(List {
            table: entity.table,
            columns: select(entity, &wanted),
            via,
            filter: lowered.filter,
            order: lowered.order,
            limit: lowered.limit,
            parts,
        })
    }

    /// An object of `entity` and the columns it needs (ids and links come anyway).
    fn object(
        &mut self,
        set: &'a SelectionSet,
        entity: Described,
    ) -> Option<(Object, Vec<&'static str>)> {
        let mut object = Object::default();
        let mut wanted: Vec<&'static str> = Vec::new();
        for f in self.fields(set, entity.name)? {
            let key = f.response_key().node.to_string();
            let name = f.name.node.as_str();
            let value = match name {
                "__typename" => Out::Literal(entity.name),
                "id" => Out::GlobalId(entity.name),
                "rowId" => Out::Column {
                    name: "id",
                    render: Render::Plain,
                },
                _ => {
                    if let Some(col) = entity.fields.iter().find(|c| c.graphql == name) {
                        if !f.arguments.is_empty() {
                            return None;
                        }
                        wanted.push(col.column);
                        Out::Column {
                            name: col.column,
                            render: col.render,
                        }
                    } else {
                        match (entity.relation)(name)? {
                            Rel::Many { via, target } => {
                                Out::Many(Box::new(self.list(f, target, Some(via))?))
                            }
                            Rel::One { column, target } => {
                                wanted.push(column);
                                let (object, cols) = self.object(&f.selection_set.node, target)?;
                                Out::One(Box::new(Linked {
                                    table: target.table,
                                    columns: select(target, &cols),
                                    column,
                                    object,
                                }))
                            }
                        }
                    }
                }
            };
            object.fields.push((key, value));
        }
        Some((object, wanted))
    }
}

/// The select list of `entity`'s id and `wanted` (the columns its fields show and the links
/// its `one` relations follow).
fn select(entity: Described, wanted: &[&'static str]) -> String {
    entity.table.select_exactly(wanted)
}

/// Type names built once per entity and kept (a handful per schema).
fn leak(name: String) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{LazyLock, Mutex, PoisonError};
    static NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Mutex::default);
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(n) = names.get(name.as_str()) {
        return n;
    }
    let n: &'static str = Box::leak(name.into_boxed_str());
    names.insert(n);
    n
}
