//! Bad arguments to the read API: each is refused with `BAD_USER_INPUT` naming the argument,
//! with a 200 response (never a 5xx) and no data.

use frontdesk_e2e::{error_code, spawn_app, Role};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn bad_read_arguments_are_bad_user_input_naming_the_argument() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let token = app.token(Uuid::new_v4(), Role::Viewer).await?;
    let cases = [
        ("{ customer(id: \"not-a-uuid\") { id: rowId } }", "id"),
        ("{ customers(first: -1) { totalCount } }", "first"),
        ("{ customers(first: 101) { totalCount } }", "first"),
        ("{ customers(first: 1, last: 1) { totalCount } }", "last"),
        ("{ customers(last: 2, after: \"x\") { totalCount } }", "after"),
        ("{ customers(first: 2, before: \"x\") { totalCount } }", "before"),
        ("{ bookings(filter: { status: { eq: SOMETIMES } }) { totalCount } }", "filter"),
        ("{ bookings(filter: { createdAt: { gt: \"yesterday\" } }) { totalCount } }", "filter"),
        ("{ bookings(filter: { paymentAmount: { gt: \"lots\" } }) { totalCount } }", "filter"),
        ("{ calls(filter: { duration: { gt: 99999999999 } }) { totalCount } }", "filter"),
        ("{ customers(orderBy: [{ field: SHOE_SIZE }]) { totalCount } }", "orderBy"),
        (
            "{ customers(orderBy: [{field: NAME}, {field: NAME}, {field: NAME}, {field: NAME}, {field: NAME}, {field: NAME}]) { totalCount } }",
            "orderBy",
        ),
    ];
    for (query, field) in cases {
        let (status, body) = app.graphql(Some(&token), query, json!({})).await?;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{query}: {body}");
        // The path may go deeper than the argument (`filter.status.eq`).
        let named = body["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or_default();
        assert!(named.split('.').next() == Some(field), "{query}: {body}");
        assert!(
            body["data"].is_null()
                || body["data"]
                    .as_object()
                    .is_some_and(|d| d.values().all(|v| v.is_null())),
            "{query}: {body}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_filter_too_large_or_too_deep_is_refused_before_any_sql() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let token = app.token(Uuid::new_v4(), Role::Viewer).await?;
    let ids: Vec<String> = (0..600).map(|_| Uuid::new_v4().to_string()).collect();
    let (_, body) = app
        .graphql(
            Some(&token),
            "query($ids: [ID!]) { customers(filter: { id: { in: $ids } }) { totalCount } }",
            json!({ "ids": ids }),
        )
        .await?;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "filter");

    let mut deep = json!({ "name": { "eq": "x" } });
    for _ in 0..12 {
        deep = json!({ "not": deep });
    }
    let (_, body) = app
        .graphql(
            Some(&token),
            "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
            json!({ "f": deep }),
        )
        .await?;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nest"),
        "{body}"
    );
    Ok(())
}
