//! An answer with no body (a 204, or a 200 with `Content-Length: 0` or an empty chunked body)
//! is a success with no values: optional variables are `None`, a `required` one is
//! `MissingRequired`, never `NotJson`. The server writes the exact bytes on 127.0.0.1.

use apicall_runtime::call::{CallSpec, Method, PathNode, Request, extract};
use apicall_runtime::{Client, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

static SPEC: CallSpec = CallSpec {
    name: "lookup",
    method: Method::Get,
    timeout_ms: 2000,
    retries: 0,
};

/// `customer.name` → slot 0, `customer.tier` → slot 1.
static PATHS: PathNode = PathNode {
    slots: &[],
    keys: &[(
        "customer",
        PathNode {
            slots: &[],
            keys: &[
                (
                    "name",
                    PathNode {
                        slots: &[0],
                        keys: &[],
                        indexes: &[],
                        from_end: &[],
                    },
                ),
                (
                    "tier",
                    PathNode {
                        slots: &[1],
                        keys: &[],
                        indexes: &[],
                        from_end: &[],
                    },
                ),
            ],
            indexes: &[],
            from_end: &[],
        },
    )],
    indexes: &[],
    from_end: &[],
};

const EMPTY_ANSWERS: [(&str, &[u8]); 5] = [
    ("204", b"HTTP/1.1 204 No Content\r\n\r\n"),
    (
        "200 with Content-Length: 0",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
    ),
    (
        "200 chunked and empty",
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    // Servers that compress everything label empty answers too; there is nothing to decode.
    (
        "204 labelled gzip",
        b"HTTP/1.1 204 No Content\r\ncontent-encoding: gzip\r\n\r\n",
    ),
    (
        "200 labelled gzip with Content-Length: 0",
        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 0\r\n\r\n",
    ),
];

/// Answers every connection with `answer`, and returns the base URL.
async fn serve(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = stream.write_all(answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

/// What generated code does for `customer_name` (optional) and `tier` (`required` when asked).
async fn call(base: &str, tier_required: bool) -> Result<(Option<String>, Option<String>), Error> {
    let client = Client::new();
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw(&format!("{base}/customers"));
    let body = request.send().await?;
    let mut extracted = extract(&SPEC, &body, &PATHS, 2)?;
    let name = extracted.string(0, "customer_name")?;
    let tier = extracted.string(1, "tier")?;
    if tier_required && tier.is_none() {
        return Err(extracted.missing("tier"));
    }
    Ok((name, tier))
}

#[tokio::test]
async fn an_empty_answer_leaves_every_optional_value_none() {
    for (what, answer) in EMPTY_ANSWERS {
        let base = serve(answer).await;
        let outcome = call(&base, false).await;
        assert_eq!(
            outcome.unwrap_or_else(|error| panic!("{what}: {error:?}")),
            (None, None),
            "{what}"
        );
    }
}

#[tokio::test]
async fn an_empty_answer_is_missing_a_required_value() {
    for (what, answer) in EMPTY_ANSWERS {
        let base = serve(answer).await;
        let outcome = call(&base, true).await;
        assert!(
            matches!(
                outcome,
                Err(Error::MissingRequired {
                    call: "lookup",
                    variable: "tier"
                })
            ),
            "{what}: {outcome:?}"
        );
    }
}
