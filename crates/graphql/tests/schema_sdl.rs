//! The committed `schema.graphql` is what clients generate types from: it must be exactly
//! the SDL the code produces.

#[test]
fn the_committed_schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let actual = frontdesk_graphql::sdl();
    assert!(
        committed == actual,
        "schema.graphql is stale: run `cargo run -p frontdesk-server --bin frontdesk -- schema > schema.graphql`"
    );
}

/// Types derived from declarations (`<Entity>GroupField`, `<Entity>TimeField`, …) are empty
/// when an entity declares nothing of that kind, and GraphQL has no empty enums, inputs or
/// objects: name the offender here rather than let client tooling fail on the SDL.
#[test]
fn no_derived_type_is_empty() {
    let sdl = frontdesk_graphql::sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let empty: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].ends_with(" {") && w[1] == "}")
        .map(|w| w[0])
        .collect();
    assert!(
        empty.is_empty(),
        "empty types (give the entity a field of that kind): {empty:?}"
    );
}
