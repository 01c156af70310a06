//! `{{#if x}}` decides as Handlebars and Liquid users expect: absent, `null`, `false` and `""`
//! take the `else` branch; everything else — `0` and `0.0` included — takes `then`.

use apicall_tests::prompts::{self as calls, ApiValues, Context};

fn context() -> Context {
    Context {
        caller_name: "Ada".into(),
        vip: true,
        open_tickets: 0,
    }
}

#[test]
fn an_absent_value_is_false() {
    let api = ApiValues::default();
    let context = context();
    assert_eq!(calls::render_name(&context, &api), "unknown");
    assert_eq!(calls::render_verified(&context, &api), "unverified");
    assert_eq!(calls::render_balance(&context, &api), "no balance");
    assert_eq!(calls::render_orders(&context, &api), "no orders");
}

#[test]
fn a_false_boolean_is_false_and_true_is_true() {
    let context = context();
    let api = ApiValues {
        verified: Some(false),
        ..ApiValues::default()
    };
    assert_eq!(calls::render_verified(&context, &api), "unverified");
    let api = ApiValues {
        verified: Some(true),
        ..ApiValues::default()
    };
    assert_eq!(calls::render_verified(&context, &api), "verified");
}

#[test]
fn an_empty_string_is_false_and_any_other_is_true() {
    let context = context();
    let api = ApiValues {
        customer_name: Some(String::new()),
        ..ApiValues::default()
    };
    assert_eq!(calls::render_name(&context, &api), "unknown");
    for name in ["Ada", " ", "0", "False", "no"] {
        let api = ApiValues {
            customer_name: Some(name.into()),
            ..ApiValues::default()
        };
        assert_eq!(calls::render_name(&context, &api), "known", "{name:?}");
    }
}

#[test]
fn zero_is_true() {
    let context = context();
    let api = ApiValues {
        balance: Some(0.0),
        orders: Some(0),
        ..ApiValues::default()
    };
    assert_eq!(calls::render_balance(&context, &api), "has a balance");
    assert_eq!(calls::render_orders(&context, &api), "has orders");
    assert_eq!(
        calls::render_tickets(&context, &api),
        "0 open",
        "a numeric context variable is always true"
    );
    assert_eq!(calls::render_count_only(&context, &api), "counted");
}

#[test]
fn context_variables_follow_the_same_rule() {
    let api = ApiValues::default();
    let mut context = context();
    assert_eq!(calls::render_caller(&context, &api), "Hi Ada");
    assert_eq!(calls::render_vip(&context, &api), "VIP");
    context.caller_name = String::new();
    context.vip = false;
    assert_eq!(calls::render_caller(&context, &api), "Hi there");
    assert_eq!(calls::render_vip(&context, &api), "regular");
}

#[test]
fn every_prompt_has_a_strict_renderer_even_when_nothing_can_be_missing() {
    // `caller` uses only a context variable, `name` only an `{{#if}}` on an `api.*` value:
    // neither can leave a value blank, and both still have `try_render_*`.
    let api = ApiValues::default();
    let context = context();
    assert_eq!(
        calls::try_render_caller(&context, &api).expect("nothing to miss"),
        "Hi Ada"
    );
    assert_eq!(
        calls::try_render_name(&context, &api).expect("nothing to miss"),
        "unknown"
    );
}

/// A strict render reports a value only where the template would show it: in the `{{#if}}`
/// branch taken, and not inside an `{{#if}}` on that value itself.
#[test]
fn a_strict_render_reports_the_values_of_the_branches_taken() {
    let missing = |context: &Context, api: &ApiValues| {
        calls::try_render_strict(context, api)
            .map_err(|error| error.variables)
            .err()
    };
    let context = context();
    assert_eq!(
        missing(&context, &ApiValues::default()),
        Some(vec!["orders", "verified", "customer_name"])
    );
    let quiet = Context {
        caller_name: String::new(),
        vip: false,
        open_tickets: 0,
    };
    assert_eq!(missing(&quiet, &ApiValues::default()), Some(vec!["orders"]));
    let known = ApiValues {
        customer_name: Some("Bo".into()),
        verified: Some(true),
        ..ApiValues::default()
    };
    assert_eq!(missing(&context, &known), Some(vec!["balance"]));
    let complete = ApiValues {
        customer_name: Some("Bo".into()),
        verified: Some(false),
        balance: Some(2.5),
        orders: Some(3),
    };
    assert_eq!(
        calls::try_render_strict(&context, &complete),
        Ok(calls::render_strict(&context, &complete))
    );
    assert_eq!(calls::render_strict(&context, &complete), "2.5|false|Bo|3");
}

/// An API's `false`, extracted into a variable declared without a type (a string), reads
/// "false": `{{#if}}` takes it as the `false` it was.
#[tokio::test]
async fn a_json_false_extracted_as_text_is_false() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"customer": {"name": false}})),
        )
        .mount(&server)
        .await;
    let client = apicall_runtime::Client::new()
        .with_base_url(&server.uri())
        .expect("valid base URL");
    let context = context();
    let customer = calls::lookup_customer(&client, &context)
        .await
        .expect("the call succeeds");
    let mut api = ApiValues::default();
    api.record_lookup_customer(&customer);

    assert_eq!(api.customer_name.as_deref(), Some("false"));
    assert_eq!(calls::render_name(&context, &api), "unknown");
}
