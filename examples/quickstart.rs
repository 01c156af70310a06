//! The seed calls.yaml end to end, with nothing external: this example starts a local HTTP
//! server that plays the CRM and the orders API, points the generated calls at it, and prints
//! what they extracted and the rendered greeting.
//!
//! Run it with `cargo run --example quickstart`.

use apicall_examples::{
    ApiValues, Context, OrderStatusParams, lookup_customer, order_status, render_greeting,
};
use apicall_runtime::{Client, Secret};
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;

const API_KEY: &str = "demo-key-123";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/api/customers", get(crm_lookup))
        .route("/orders/{order_id}", get(order_lookup));
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("local CRM and orders API listening on http://{address}\n");

    // Both YAML URLs (crm.example.com and api.example.com) go to the local server instead.
    let client = Client::new().with_base_url(&format!("http://{address}"))?;
    let context = Context {
        caller_phone: "+15551234567".to_owned(),
        api_key: Secret::new(API_KEY),
    };
    println!("context: {context:?}\n");

    let mut api = ApiValues::default();
    let customer = lookup_customer(&client, &context).await?;
    println!("lookup_customer extracted: {customer:?}");
    api.record_lookup_customer(&customer);

    // The LLM heard "order A-1042" and called the tool with these arguments.
    let params: OrderStatusParams = serde_json::from_str(r#"{"order_id": "A-1042"}"#)?;
    let order = order_status(&client, &context, &params).await?;
    println!("order_status extracted: {order:?}");
    api.record_order_status(&order);

    println!("\ngreeting prompt:\n{}", render_greeting(&context, &api));
    Ok(())
}

/// The CRM: knows one caller, and checks the API key like a real one would.
async fn crm_lookup(
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, StatusCode> {
    let expected = format!("Bearer {API_KEY}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return Err(StatusCode::UNAUTHORIZED);
    }
    match query.get("phone").map(String::as_str) {
        Some("+15551234567") => Ok(Json(json!({
            "customer": {
                "id": 7, "name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042",
                "addresses": [{"city": "London"}]
            }
        }))),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

/// The orders API: every order is out for delivery.
async fn order_lookup(Path(order_id): Path<String>) -> Json<Value> {
    Json(json!({ "order": { "id": order_id, "status": "out for delivery" } }))
}
