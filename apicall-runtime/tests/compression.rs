//! Compressed responses from a real server on 127.0.0.1: gzip, brotli and zstd bodies are
//! decoded and extracted, and the body cap counts decoded bytes, so a small compressed body
//! that inflates past it is refused.

use std::io::Write;

use apicall_runtime::call::{
    CallSpec, Method, PathNode, Request, deliver, extract, prepare_webhook,
};
use apicall_runtime::{Client, Conversation, Error, Outcome};
use wiremock::{Mock, MockServer, ResponseTemplate};

static SPEC: CallSpec = CallSpec {
    name: "lookup",
    method: Method::Get,
    timeout_ms: 5000,
    retries: 0,
};

static HOOK: CallSpec = CallSpec {
    name: "hook",
    method: Method::Post,
    timeout_ms: 2000,
    retries: 0,
};

/// `name` → slot 0.
static PATHS: PathNode = PathNode {
    slots: &[],
    keys: &[(
        "name",
        PathNode {
            slots: &[0],
            keys: &[],
            indexes: &[],
            from_end: &[],
        },
    )],
    indexes: &[],
    from_end: &[],
};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        encoder.write_all(data).expect("in memory");
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("in memory")
}

/// A server answering every request with `body`, labelled with `encoding`.
async fn serving(encoding: &str, body: Vec<u8>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", encoding)
                .set_body_raw(body, "application/json"),
        )
        .mount(&server)
        .await;
    server
}

async fn name_from(client: &Client, server: &MockServer) -> Result<Option<String>, Error> {
    let mut request = Request::new(client, &SPEC);
    request.push_url_raw(&format!("{}/customer", server.uri()));
    let body = request.send().await?;
    extract(&SPEC, &body, &PATHS, 1)?.string(0, "name")
}

const JSON: &[u8] =
    br#"{"name": "Ada", "padding": "................................................"}"#;

#[tokio::test]
async fn gzip_brotli_and_zstd_bodies_are_decoded_and_extracted() {
    for (encoding, body) in [
        ("gzip", gzip(JSON)),
        ("br", brotli(JSON)),
        ("zstd", zstd(JSON)),
    ] {
        let server = serving(encoding, body).await;
        let name = name_from(&Client::new(), &server).await;
        assert_eq!(
            name.unwrap_or_else(|error| panic!("{encoding}: {error:?}")),
            Some("Ada".to_owned()),
            "{encoding}"
        );
        let requests = server.received_requests().await.expect("recorded");
        let accepted = requests[0]
            .headers
            .get("accept-encoding")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(accepted.contains(encoding), "{accepted}");
    }
}

#[tokio::test]
async fn the_cap_counts_decoded_bytes() {
    // 10 MB of JSON that compresses to a few KB in each encoding.
    let mut inflated = b"{\"name\": \"".to_vec();
    inflated.resize(10 * 1024 * 1024, b'a');
    inflated.extend_from_slice(b"\"}");
    for (encoding, body) in [
        ("gzip", gzip(&inflated)),
        ("br", brotli(&inflated)),
        ("zstd", zstd(&inflated)),
    ] {
        assert!(body.len() < 64 * 1024, "{encoding}: {}", body.len());
        let server = serving(encoding, body).await;
        let outcome = name_from(&Client::new(), &server).await;
        assert!(
            matches!(
                outcome,
                Err(Error::BodyTooLarge {
                    limit: apicall_runtime::DEFAULT_MAX_BODY_BYTES,
                    ..
                })
            ),
            "{encoding}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn a_compressed_length_over_the_cap_is_not_mistaken_for_the_decoded_one() {
    // Under the cap once decoded, and the only length the server declares is the compressed
    // one: the cap is judged on what is read, not on that declaration.
    let json = br#"{"name": "Ada"}"#;
    let body = gzip(json);
    let cap = json.len() + 1;
    assert!(
        body.len() > cap,
        "the compressed body must be the longer one"
    );
    let server = serving("gzip", body).await;
    let client = Client::new().with_max_body_bytes(cap);
    assert_eq!(
        name_from(&client, &server).await.expect("decoded fits"),
        Some("Ada".to_owned())
    );
}

#[tokio::test]
async fn a_corrupt_compressed_body_is_a_body_error() {
    let server = serving("gzip", b"this is not gzip".to_vec()).await;
    let outcome = name_from(&Client::new(), &server).await;
    assert!(matches!(outcome, Err(Error::Body { .. })), "{outcome:?}");
}

#[tokio::test]
async fn a_webhook_answered_with_a_compressed_body_is_delivered() {
    for (encoding, body) in [("gzip", b"not gzip at all".to_vec()), ("br", brotli(JSON))] {
        let server = serving(encoding, body).await;
        let client = Client::new();
        let mut request = Request::new(&client, &HOOK);
        request.push_url_raw(&format!("{}/hook", server.uri()));
        let end = Conversation::with_id("CA-2").end(Outcome::Completed);
        let results = deliver(&client, vec![prepare_webhook(request, None, &end)])
            .wait()
            .await;
        assert!(
            matches!(results.as_slice(), [Ok(_)]),
            "{encoding}: {results:?}"
        );
    }
}
