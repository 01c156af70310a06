use super::*;
use crate::spec::Method;

static SPEC: CallSpec = CallSpec {
    name: "order_status",
    method: Method::Get,
    timeout_ms: 1000,
    retries: 0,
};

fn url_with_path_value(value: &str) -> Result<Url, Error> {
    let client = Client::with_http_client(reqwest::Client::new());
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://api.example.com/orders/");
    request.push_path_value(value);
    request.resolve_url()
}

#[test]
fn path_values_stay_in_one_segment() {
    let cases = [
        ("A/B?x#y", "/orders/A%2FB%3Fx%23y"),
        ("a b", "/orders/a%20b"),
        ("%2e%2e", "/orders/%252e%252e"),
        ("@evil.example", "/orders/%40evil.example"),
        ("..a", "/orders/..a"),
        ("é/∕", "/orders/%C3%A9%2F%E2%88%95"),
        ("a\\b", "/orders/a%5Cb"),
    ];
    for (value, path) in cases {
        let url = url_with_path_value(value).unwrap();
        assert_eq!(url.host_str(), Some("api.example.com"), "{value}");
        assert_eq!(url.path(), path, "{value}");
        assert_eq!(url.query(), None, "{value}");
        assert_eq!(url.fragment(), None, "{value}");
    }
}

#[test]
fn unreserved_bytes_are_those_path_values_keep() {
    for byte in 0..=u8::MAX {
        let text = [byte];
        let encoded: String = percent_encoding::percent_encode(&text, PATH_VALUE).collect();
        assert_eq!(
            is_unreserved(byte),
            encoded.as_bytes() == text,
            "{byte:#04x}"
        );
    }
}

#[test]
fn dot_segments_from_values_are_refused() {
    for value in [".", ".."] {
        assert!(
            matches!(
                url_with_path_value(value),
                Err(Error::UnsafePathValue { .. })
            ),
            "{value}"
        );
    }
}

/// The URL built from `pieces` (`Ok` text is raw YAML text, `Err` a path value).
fn url_from(pieces: &[Result<&str, &str>]) -> Result<Url, Error> {
    let client = Client::with_http_client(reqwest::Client::new());
    let mut request = Request::new(&client, &SPEC);
    for piece in pieces {
        match piece {
            Ok(text) => request.push_url_raw(text),
            Err(value) => request.push_path_value(value),
        }
    }
    request.resolve_url()
}

#[test]
fn an_empty_value_is_refused_only_where_it_empties_a_segment() {
    let base = Ok("https://api.example.com/orders/");
    for refused in [
        vec![base, Err("")],
        vec![base, Err(""), Ok("/lines")],
        vec![base, Err(""), Ok("?page=1")],
        vec![base, Err(""), Ok("#top")],
        vec![base, Err(""), Err(""), Ok("/lines")],
        vec![base, Err("7"), Ok("/"), Err("")],
        vec![base, Err(""), Ok("/"), Err("7")],
    ] {
        assert!(
            matches!(url_from(&refused), Err(Error::UnsafePathValue { .. })),
            "{refused:?}"
        );
    }
    for (kept, path) in [
        (vec![base, Err(""), Ok(".json")], "/orders/.json"),
        (vec![base, Err(""), Err("7")], "/orders/7"),
        (
            vec![base, Ok("id-"), Err(""), Ok("/lines")],
            "/orders/id-/lines",
        ),
        (vec![base, Err("7"), Ok("/lines")], "/orders/7/lines"),
    ] {
        assert_eq!(url_from(&kept).expect("accepted").path(), path, "{kept:?}");
    }
}

#[test]
fn dot_segments_in_url_text_are_refused_in_every_spelling() {
    for url in [
        "https://api.example.com/orders/%2e%2E",
        "https://api.example.com/orders/.%2e/x",
        "https://api.example.com/orders/%2E",
        "https://api.example.com/orders/..?q=1",
        "https://api.example.com/orders/..#f",
        "https://api.example.com/orders\\..\\x",
        "https://api.example.com/orders/.\n./x",
        "https://api.example.com/orders/.\t.",
        "https://api.example.com/orders/.. ",
        "https:api.example.com/..",
    ] {
        assert!(has_dot_segment(url), "{url:?}");
    }
}

/// `has_dot_segment` as first written, on `str`s and with every segment decoded.
fn has_dot_segment_by_chars(url: &str) -> bool {
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let rest = cleaned
        .split_once("://")
        .map_or(cleaned.as_str(), |(_, rest)| rest);
    let Some(path_start) = rest.find(['/', '\\', '?', '#']) else {
        return false;
    };
    let path = rest[path_start..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    path.split(['/', '\\']).any(|segment| {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        decoded == "." || decoded == ".."
    })
}

proptest::proptest! {
    #[test]
    fn dot_segments_are_found_as_the_first_version_found_them(
        url in "(https?:?/?/?)?[a:/\\\\.%2eE?#\t\n é]{0,16}"
    ) {
        proptest::prop_assert_eq!(has_dot_segment(&url), has_dot_segment_by_chars(&url));
    }
}

#[test]
fn dots_outside_the_path_or_inside_a_segment_are_fine() {
    for url in [
        "https://api.example.com/orders/..a",
        "https://api.example.com/orders/a.b/...",
        "https://api.example.com/orders/%252e%252e",
        "https://api.example.com?next=/../x",
        "https://api.example.com/x#/../y",
        "https://api.example.com",
    ] {
        assert!(!has_dot_segment(url), "{url:?}");
    }
}

#[test]
fn query_entries_are_form_encoded() {
    let client = Client::with_http_client(reqwest::Client::new());
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://crm.example.com/c?fixed=1&q=");
    request.push_query_value("a&b=c d");
    request.query("phone", "+1 555&x=y");
    let url = request.resolve_url().unwrap();
    assert_eq!(
        url.query(),
        Some("fixed=1&q=a%26b%3Dc+d&phone=%2B1+555%26x%3Dy")
    );
}

#[test]
fn a_webhook_carries_basic_credentials_and_refuses_the_others() {
    static OAUTH: OAuth2Spec = OAuth2Spec {
        scheme: "crm_oauth",
        token_url: "https://auth.example.com/token",
        scopes: &[],
        client_auth: auth::ClientAuth::Basic,
    };
    let client = Client::with_http_client(reqwest::Client::new());
    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://hooks.example.com/done");
    request.header("Authorization", "Bearer from-yaml", true);
    request.basic_auth("u", &Secret::new("p"));
    let (_, headers, _) = request.into_parts().unwrap();
    let sent: Vec<_> = headers
        .iter()
        .filter(|(name, _)| name == AUTHORIZATION)
        .map(|(_, value)| value.clone())
        .collect();
    // `printf 'u:p' | base64`
    assert_eq!(sent, ["Basic dTpw"]);
    assert!(sent[0].is_sensitive());

    let mut request = Request::new(&client, &SPEC);
    request.push_url_raw("https://hooks.example.com/done");
    request.oauth2(&OAUTH, "id", &Secret::new("secret"));
    assert!(matches!(
        request.into_parts(),
        Err(Error::InvalidCredentials {
            scheme: "crm_oauth",
            ..
        })
    ));
}

#[test]
fn header_values_with_line_breaks_are_refused_before_sending() {
    let client = Client::with_http_client(reqwest::Client::new());
    for bad in ["a\r\nX-Injected: 1", "a\nb", "a\0b"] {
        let mut request = Request::new(&client, &SPEC);
        request.push_url_raw("http://127.0.0.1:1/");
        request.header("X-Value", bad, false);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime.block_on(request.send()).unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidHeaderValue {
                    header: "X-Value",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
