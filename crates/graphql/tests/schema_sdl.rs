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
