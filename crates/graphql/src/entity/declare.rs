//! The `entity!` macro: one declaration per entity (see the module docs of
//! [`crate::entity`] for the syntax and a fully expanded example).
//!
//! It is a declarative macro on purpose: what it generates is ordinary async-graphql and sqlx
//! code, readable with `cargo expand`, and every piece of it (filters, orders, connections,
//! relations, read-ahead) is one generic implementation that the generated code only names.

/// Declares an entity; see [`crate::entity`].
macro_rules! entity {
    (
        $(#[$meta:meta])*
        $name:ident in $table:expr => {
            $( $(#[$($fattr:tt)*])* $field:ident : $fty:ty $(= $fsql:expr)? ),* $(,)?
        }
        filter $filter:ident {
            $( $(#[$xmeta:meta])* $xfield:ident : $xty:ty $([$xtarget:ident])? $(= $xsql:expr)? ),* $(,)?
        }
        $(#[$smeta:meta])* search: $search:expr;
        order $order:ident, $order_field:ident {
            $( $(#[$ometa:meta])* $variant:ident => $key:expr ),+ $(,)?
        }
        default_order: [ $( $dvariant:ident $ddir:ident ),+ ];
        relations {
            $( $(#[$rmeta:meta])* $rel:ident : $kind:ident $target:ident via $rcol:ident ),* $(,)?
        }
        $( root: $root:ident { $one:ident, $many:ident }; )?
        access: {
            read: $read:ident $(+ $read_p:ident)?,
            write: $write:ident $(+ $write_p:ident)?,
            delete: $delete:ident $(+ $delete_p:ident)?
            $(, $aop:ident : $aop_role:ident $(+ $aop_p:ident)? )* $(,)?
        };
        constraints {
            $( $cname:literal => $cfield:literal : $meaning:ident ( $marg:literal ) ),* $(,)?
        }
        $( read_ahead: $extra:path; )?
        fields { $($fields:tt)* }
    ) => {
        $(#[$meta])*
        // `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
        #[derive(Debug, Clone, Default, async_graphql::SimpleObject, sqlx::FromRow)]
        #[sqlx(default)]
        #[graphql(complex)]
        pub struct $name {
            /// The row id (served as `rowId`; `id` is the global id).
            #[graphql(skip)]
            pub id: uuid::Uuid,
            $( $(#[$($fattr)*])* pub $field: $fty, )*
        }

        #[doc = concat!("Which ", stringify!($name), " rows; fields combine with AND.")]
        #[derive(async_graphql::InputObject, Debug, Clone, Default, serde::Serialize)]
        pub struct $filter {
            /// Every one of these holds.
            pub and: Option<Vec<$filter>>,
            /// At least one of these holds.
            pub or: Option<Vec<$filter>>,
            /// This does not hold.
            pub not: Option<Box<$filter>>,
            $( $(#[$xmeta])* pub $xfield: Option<$xty>, )*
            $(#[$smeta])*
            pub search: Option<String>,
            /// Conditions on related rows: one field per one-to-many relation.
            #[graphql(flatten)]
            pub relations: $crate::list::aggregate::relation::Relations<$name>,
        }

        impl $crate::list::filter::EntityFilter for $filter {
            fn lower(
                &self,
                budget: &mut $crate::list::filter::Budget,
                depth: usize,
            ) -> Result<frontdesk_db::query::Cond, $crate::ApiError> {
                #[allow(unused_imports)]
                use $crate::list::filter::ColumnFilter;
                let mut all = budget.enter(depth)?;
                $(
                    if let Some(f) = &self.$xfield {
                        $( f.check_refs(<$xtarget as $crate::entity::Entity>::NAME, budget)?; )?
                        f.lower(entity!(@col $xfield $(= $xsql)?), &mut all, budget)?;
                    }
                )*
                self.relations.lower(&mut all, budget, depth)?;
                if let Some(q) = &self.search {
                    if !q.trim().is_empty() {
                        all.push(($search)(q.as_str()));
                    }
                }
                $crate::list::filter::combine(
                    all,
                    budget,
                    depth,
                    self.and.as_deref(),
                    self.or.as_deref(),
                    self.not.as_deref(),
                )
            }
        }

        /// Fields a list can be sorted by.
        #[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, serde::Serialize)]
        pub enum $order_field {
            $( $(#[$ometa])* $variant, )+
        }

        impl $order_field {
            /// The ascending sort key.
            pub const fn sort_key(self) -> frontdesk_db::query::OrderKey {
                match self { $( $order_field::$variant => $key, )+ }
            }
        }

        /// A sort key and its direction.
        #[derive(async_graphql::InputObject, Clone, Debug, serde::Serialize)]
        pub struct $order {
            /// The field to sort by (give this or `relationCount`).
            pub field: Option<$order_field>,
            /// Sorting by the number of related rows, when the entity has one-to-many
            /// relations.
            #[graphql(flatten)]
            pub relation: $crate::list::aggregate::relation::RelationOrder<$name>,
            /// The direction (ascending unless given).
            #[graphql(default)]
            pub direction: $crate::list::order::OrderDirection,
        }

        impl $crate::list::order::OrderInput for $order {
            fn key(&self) -> Result<frontdesk_db::query::OrderKey, String> {
                let key = match (self.field, self.relation.key()) {
                    (Some(f), None) => f.sort_key(),
                    (None, Some(k)) => k,
                    _ => return Err("give exactly one of `field` and `relationCount`".into()),
                };
                Ok(frontdesk_db::query::OrderKey {
                    desc: self.direction == $crate::list::order::OrderDirection::Desc,
                    ..key
                })
            }
        }

        impl $crate::entity::Entity for $name {
            const NAME: &'static str = stringify!($name);
            type Filter = $filter;
            type Order = $order;
            const DEFAULT_ORDER: &'static [frontdesk_db::query::OrderKey] = &[
                $( frontdesk_db::query::OrderKey {
                    desc: entity!(@desc $ddir),
                    ..$order_field::$dvariant.sort_key()
                }, )+
            ];
            const RELATIONS: &'static [$crate::entity::Relation<Self>] = &[
                $( entity!(@relation $kind $target $rel $rcol), )*
            ];
            const ACCESS: $crate::entity::Access = $crate::entity::Access {
                read: entity!(@rule $read $($read_p)?),
                write: entity!(@rule $write $($write_p)?),
                delete: entity!(@rule $delete $($delete_p)?),
                named: &[ $( (stringify!($aop), entity!(@rule $aop_role $($aop_p)?)), )* ],
            };
            const CONSTRAINTS: &'static [$crate::entity::Constraint] = &[
                $( $crate::entity::Constraint {
                    name: $cname,
                    field: $cfield,
                    meaning: $crate::entity::Meaning::$meaning($marg),
                }, )*
            ];

            fn table() -> &'static frontdesk_db::query::Table {
                static TABLE: frontdesk_db::query::Table = frontdesk_db::query::Table::new(
                    $table,
                    &[
                        frontdesk_db::column!(id),
                        $( frontdesk_db::column!($field $(= $fsql)?), )*
                    ],
                );
                &TABLE
            }

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            $( const ROOT: Option<(&'static str, &'static str)> =
                Some((stringify!($one), stringify!($many))); )?

            fn json_fields() -> &'static [$crate::direct::JsonField] {
                $crate::direct::json_fields!($( ($([$($fattr)*])*) $field: $fty ),*)
            }

            fn aggregate_fields() -> &'static [$crate::list::aggregate::AggField] {
                static FIELDS: std::sync::LazyLock<Vec<$crate::list::aggregate::AggField>> =
                    std::sync::LazyLock::new(|| vec![
                        $( $crate::list::aggregate::AggField {
                            name: stringify!($xfield),
                            expr: entity!(@col $xfield $(= $xsql)?),
                            kind: <$xty as $crate::list::filter::ColumnFilter>::kind(),
                            filter_type: <$xty as async_graphql::InputType>::create_type_info,
                            lower: $crate::list::aggregate::lower_as::<$xty>,
                        }, )*
                    ]);
                &FIELDS
            }

            $(
                fn read_ahead_field<'a>(
                    r: &'a $crate::query::Resolve<'a>,
                    field: async_graphql::SelectionField<'a>,
                    rows: &[&Self],
                ) -> Option<$crate::entity::read_ahead::Task<'a>> {
                    $extra(r, field, rows)
                }
            )?
        }

        entity!(@complex $name {
            /// The global id (Relay): opaque, stable, names the type.
            pub async fn id(
                &self,
                _ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<async_graphql::ID> {
                Ok($crate::entity::global_id::encode(stringify!($name), self.id))
            }

            /// The row's UUID, as the database and bare-UUID arguments know it.
            async fn row_id(&self) -> uuid::Uuid {
                self.id
            }

            $($fields)*
        } [] [] [] $( $(#[$rmeta])* $rel : $kind $target via $rcol, )*);

        $(
            #[doc = concat!("Root fields of `", stringify!($name), "`.")]
            #[derive(Debug, Default, Clone, Copy)]
            pub struct $root;

            #[async_graphql::Object]
            impl $root {
                #[doc = concat!("One ", stringify!($name), " by id (global or row UUID).")]
                async fn $one(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    id: $crate::entity::NodeRef<$name>,
                ) -> async_graphql::Result<$name> {
                    let r = $crate::query::Resolve::new(ctx)?;
                    r.run($crate::query::by_id::<$name>(ctx, &r, id.row())).await
                }

                #[doc = concat!("A page of ", stringify!($name), " rows (filtered, ordered).")]
                #[allow(clippy::too_many_arguments)]
                #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
                async fn $many(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    first: Option<i32>,
                    after: Option<String>,
                    last: Option<i32>,
                    before: Option<String>,
                    filter: Option<Box<$filter>>,
                    order_by: Option<Vec<$order>>,
                ) -> async_graphql::Result<$crate::list::Connection<$name>> {
                    Box::pin(async move {
                        let filter = filter.map(|f| *f);
                        let args = $crate::list::ListArgs { first, after, last, before, filter, order_by };
                        let r = $crate::query::Resolve::new(ctx)?;
                        r.run($crate::query::list::<$name>(ctx, &r, args)).await
                    })
                    .await
                }
            }
        )?
    };

    (@rule $role:ident) => {
        $crate::entity::Rule { role: $crate::Role::$role, permission: None }
    };
    (@rule $role:ident $perm:ident) => {
        $crate::entity::Rule {
            role: $crate::Role::$role,
            permission: Some($crate::types::enums::Permission::$perm),
        }
    };
    (@col $field:ident) => { frontdesk_db::col!($field) };
    (@col $field:ident = $sql:expr) => { $sql };


    (@desc desc) => { true };
    (@desc asc) => { false };

    (@relation many $target:ident $rel:ident $col:ident) => {{
        // The child's link column must exist and hold a parent id: checked here, at compile
        // time.
        const _: fn(&$target) -> Option<uuid::Uuid> = |c| c.$col.into();
        $crate::entity::Relation::many::<$target>(stringify!($rel), stringify!($col))
    }};
    // `via` names a constant in scope: the link table's `(parent, child)` pairs.
    (@relation linked $target:ident $rel:ident $pairs:ident) => {
        $crate::entity::Relation::linked::<$target>(stringify!($rel), $pairs)
    };
    (@relation one $target:ident $rel:ident $col:ident) => {
        $crate::entity::Relation::one::<$target>(
            stringify!($rel), stringify!($col), false, |p| p.$col.into())
    };
    (@relation required $target:ident $rel:ident $col:ident) => {
        $crate::entity::Relation::one::<$target>(
            stringify!($rel), stringify!($col), true, |p| p.$col.into())
    };

    // The object's resolvers: the fixed ones, then one per relation. The relations are first
    // sorted by kind, then emitted in one expansion: `#[ComplexObject]` must see every method
    // (it does not expand macros inside the impl), and the `complexity` expression must come
    // from the same expansion as the impl for its names to resolve. `many` and `linked` are
    // one kind of connection field, carrying how a child is tied to its parent (a `Via`).
    (@complex $name:ident { $($acc:tt)* } [$($many:tt)*] [$($one:tt)*] [$($req:tt)*]
        $(#[$m:meta])* $rel:ident : many $target:ident via $col:ident, $($rest:tt)*
    ) => {
        entity!(@complex $name { $($acc)* }
            [$($many)* ($(#[$m])* $rel $target [frontdesk_db::query::Via::Column(stringify!($col))])]
            [$($one)*] [$($req)*] $($rest)*);
    };
    (@complex $name:ident { $($acc:tt)* } [$($many:tt)*] [$($one:tt)*] [$($req:tt)*]
        $(#[$m:meta])* $rel:ident : linked $target:ident via $pairs:ident, $($rest:tt)*
    ) => {
        entity!(@complex $name { $($acc)* }
            [$($many)* ($(#[$m])* $rel $target [frontdesk_db::query::Via::Pairs($pairs)])]
            [$($one)*] [$($req)*] $($rest)*);
    };
    (@complex $name:ident { $($acc:tt)* } [$($many:tt)*] [$($one:tt)*] [$($req:tt)*]
        $(#[$m:meta])* $rel:ident : one $target:ident via $col:ident, $($rest:tt)*
    ) => {
        entity!(@complex $name { $($acc)* }
            [$($many)*] [$($one)* ($(#[$m])* $rel $target $col)] [$($req)*] $($rest)*);
    };
    (@complex $name:ident { $($acc:tt)* } [$($many:tt)*] [$($one:tt)*] [$($req:tt)*]
        $(#[$m:meta])* $rel:ident : required $target:ident via $col:ident, $($rest:tt)*
    ) => {
        entity!(@complex $name { $($acc)* }
            [$($many)*] [$($one)*] [$($req)* ($(#[$m])* $rel $target $col)] $($rest)*);
    };
    (@complex $name:ident { $($acc:tt)* }
        [$( ($(#[$mm:meta])* $mrel:ident $mtarget:ident [$($mvia:tt)*]) )*]
        [$( ($(#[$om:meta])* $orel:ident $otarget:ident $ocol:ident) )*]
        [$( ($(#[$rm:meta])* $rrel:ident $rtarget:ident $rcol:ident) )*]
    ) => {
        #[async_graphql::ComplexObject]
        impl $name {
            $($acc)*

            $(
                $(#[$mm])*
                #[allow(clippy::too_many_arguments)]
                #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
                async fn $mrel(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    first: Option<i32>,
                    after: Option<String>,
                    last: Option<i32>,
                    before: Option<String>,
                    filter: Option<Box<<$mtarget as $crate::entity::Entity>::Filter>>,
                    order_by: Option<Vec<<$mtarget as $crate::entity::Entity>::Order>>,
                ) -> async_graphql::Result<$crate::list::Connection<$mtarget>> {
                    // Boxed, like the filter: resolvers nest as deep as the query and their
                    // futures are polled on the stack, so each level must stay small.
                    Box::pin(async move {
                        let filter = filter.map(|f| *f);
                        let args = $crate::list::ListArgs { first, after, last, before, filter, order_by };
                        let r = $crate::query::Resolve::new(ctx)?;
                        r.run($crate::list::nested(ctx, &r, $($mvia)*, self.id, args)).await
                    })
                    .await
                }
            )*

            $(
                $(#[$om])*
                async fn $orel(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> async_graphql::Result<Option<$otarget>> {
                    Box::pin($crate::query::link::<$otarget>(ctx, self.$ocol.into())).await
                }
            )*

            $(
                $(#[$rm])*
                async fn $rrel(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> async_graphql::Result<$rtarget> {
                    Box::pin(async move {
                        let r = $crate::query::Resolve::new(ctx)?;
                        r.run(async {
                            r.loaders
                                .load_by_id::<$rtarget>(self.$rcol)
                                .await?
                                .ok_or($crate::ApiError::NotFound(stringify!($rtarget)))
                        })
                        .await
                    })
                    .await
                }
            )*
        }
    };
}
pub(crate) use entity;
