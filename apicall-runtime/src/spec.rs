//! The fixed facts of one call (name, method, timeout, retries): what generated code emits as a
//! `static` and every part of sending reads.

/// An HTTP method a call may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name on the wire, for tracing.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

/// The fixed facts of one call, emitted by the generator as a `static`.
#[derive(Debug)]
pub struct CallSpec {
    /// The call's name, for errors and tracing.
    pub name: &'static str,
    /// Its method.
    pub method: Method,
    /// Its timeout over the whole exchange, retries included.
    pub timeout_ms: u64,
    /// Extra attempts after a connection failure, an attempt's timeout or a 502/503/504.
    /// The generator allows them for idempotent methods only.
    pub retries: u32,
}
