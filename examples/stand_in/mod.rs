//! What both agent-loop examples stand on: a local server, and the CRM and orders API the
//! seed calls.yaml calls (one known caller, one order).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

/// Serves `app` on a free local port; returns its base URL.
pub async fn serve(app: axum::Router) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

pub fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The CRM and orders API the seed calls.yaml calls: one known caller, one order.
pub fn crm() -> axum::Router {
    axum::Router::new()
        .route("/api/customers", get(customers))
        .route("/orders/{order_id}", get(orders))
}

async fn customers(
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, StatusCode> {
    match query.get("phone").map(String::as_str) {
        Some("+15551234567") => Ok(Json(json!({
            "customer": {"name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042"}
        }))),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

async fn orders(Path(order_id): Path<String>) -> Result<Json<Value>, StatusCode> {
    match order_id.as_str() {
        "A-1042" => Ok(Json(json!({"order": {"status": "out for delivery"}}))),
        _ => Err(StatusCode::NOT_FOUND),
    }
}
