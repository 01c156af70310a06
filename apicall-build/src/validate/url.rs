//! Rules for URLs, headers and query values: where a variable may go in a URL, and what
//! static text HTTP cannot carry.

use super::authority;
use super::params::TextPlace;
use super::*;

impl Checker<'_, '_> {
    /// A URL: text HTTP can carry, absolute, with a host, and each variable in a part of it
    /// where it is safe. Where a variable lands decides how it is encoded.
    pub(super) fn url(
        &mut self,
        url: &Text,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<Vec<ir::UrlPart>> {
        self.no_control_characters(url, "a URL");
        let pieces = self.template(url, params, place)?;
        if !self.composites_fit(url, &pieces, params, TextPlace::Url) {
            return None;
        }
        let lower = url.value.to_ascii_lowercase();
        if !self.url_is_absolute(url, &lower, place) {
            return None;
        }
        let mut walk = UrlWalk::new(&lower);
        if !self.static_authority_is_valid(url, &lower, walk.scheme_len) {
            return None;
        }
        let mut refs = self.var_refs(url);
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                ir::RequestPiece::Text(text) => {
                    walk.text(&text);
                    parts.push(ir::UrlPart::Literal(text));
                }
                ir::RequestPiece::Var(var) => {
                    // Variables that did not resolve were reported and left out of `pieces`.
                    let var_ref = refs.find(|r| {
                        walk.skip(r.len);
                        self.refers_to(r, var, params)
                    });
                    let at = self.span_of(url, var_ref.as_ref());
                    parts.extend(self.url_value(walk.part, var, at, params));
                }
            }
        }
        // A variable in the fragment has been reported already, and says the same.
        if let Some(offset) = walk.fragment_at
            && !self.var_refs(url).any(|r| r.offset > offset)
        {
            self.no_fragment(url, offset);
        }
        self.url_has_host(url, &lower, walk.scheme_len)
            .then_some(parts)
    }

    /// A URL has no `#fragment`: it is never sent, so the text after a `#` would silently go
    /// nowhere (and a `#` meant for the path needs encoding anyway).
    fn no_fragment(&mut self, url: &Text, offset: usize) {
        let width = url.width_of(offset, url.value.len() - offset).unwrap_or(1);
        self.report
            .error_spanning(
                url.pos_at(offset),
                width,
                "a URL's `#fragment` is never sent to the server",
            )
            .help("remove it; a `#` that belongs in the path or the query is written `%23`");
    }

    /// A URL starts with `http://` or `https://`, or with a variable that holds its start (a
    /// base URL the application sets: only a context variable may be there, see
    /// `host_is_static`). The runtime refuses any other scheme the variable brings.
    fn url_is_absolute(&mut self, url: &Text, lower: &str, place: Place) -> bool {
        if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("{{")
        {
            return true;
        }
        self.report
            .error(
                url.pos,
                "the URL must be absolute and start with `http://` or `https://`",
            )
            .help(if place == Place::Webhook {
                "for example `url: https://crm.example.com/hooks/call-ended`"
            } else {
                "for example `url: https://api.example.com/orders/{{collected.order_id}}`"
            });
        false
    }

    /// A scheme, host and port written out (no variable among them) are what the runtime's URL
    /// parser accepts: a port past 65535 or a space in a host name would fail every call.
    fn static_authority_is_valid(&mut self, url: &Text, lower: &str, scheme_len: usize) -> bool {
        let Some(rest) = lower.get(scheme_len..).filter(|_| scheme_len > 0) else {
            return true;
        };
        let len = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
        // No authority at all is `url_has_host`'s to report.
        if len == 0 || rest[..len].contains("{{") {
            return true;
        }
        let Some(authority) = url.value.get(scheme_len..scheme_len + len) else {
            return true;
        };
        let Some(problem) = authority::problem(authority) else {
            return true;
        };
        let width = url.width_of(scheme_len, len).unwrap_or(1);
        self.report
            .error_spanning(
                url.pos_at(scheme_len),
                width,
                format!("the URL's host and port are not valid: {problem}"),
            )
            .help("for example `https://api.example.com` or `http://127.0.0.1:8080`");
        false
    }

    /// A URL names a host after its scheme.
    fn url_has_host(&mut self, url: &Text, lower: &str, scheme_len: usize) -> bool {
        let rest = lower.get(scheme_len..).unwrap_or_default();
        if !rest.is_empty() && !rest.starts_with(['/', '?', '#']) {
            return true;
        }
        self.report
            .error(url.pos, "the URL has no host")
            .help("for example `https://api.example.com/...`");
        false
    }

    /// What a variable in `part` of the URL becomes, if it may be there (see the rules).
    fn url_value(
        &mut self,
        part: Part,
        var: ir::Var,
        at: (Pos, usize),
        params: &[(ir::Param, Pos)],
    ) -> Option<ir::UrlPart> {
        match part {
            Part::Authority => self
                .host_is_static(var, at)
                .then_some(ir::UrlPart::Raw(var)),
            Part::Path | Part::Query if !self.url_value_is_required(var, at, params) => None,
            Part::Path => Some(ir::UrlPart::PathValue(var)),
            Part::Query => Some(ir::UrlPart::QueryValue(var)),
            Part::Fragment => {
                self.no_variables_in_fragment(at);
                None
            }
        }
    }

    /// Only context variables (set by the application) may be in the URL's scheme, host or
    /// port: a value from the conversation or a response could send the request anywhere.
    fn host_is_static(&mut self, var: ir::Var, (pos, width): (Pos, usize)) -> bool {
        if matches!(var, ir::Var::Context(_)) {
            return true;
        }
        self.report
            .error_spanning(
                pos,
                width,
                "a value from the conversation or a response cannot be used in the URL's \
                 scheme, host or port",
            )
            .help(
                "it could redirect the request anywhere; put it in the path, the query, a \
                 header or the body",
            );
        false
    }

    /// An LLM parameter in the URL's path or query string is `required`: the URL cannot leave
    /// it out.
    fn url_value_is_required(
        &mut self,
        var: ir::Var,
        (pos, width): (Pos, usize),
        params: &[(ir::Param, Pos)],
    ) -> bool {
        let ir::Var::Collected(index) = var else {
            return true;
        };
        let param = &params[index].0;
        if param.required {
            return true;
        }
        let name = &param.name;
        self.report
            .error_spanning(
                pos,
                width,
                format!("parameter `{name}` is optional, but the URL cannot do without it"),
            )
            .help(format!(
                "add `required: true` to `{name}`, or move it to `query:`, where an absent value \
                 leaves the entry out"
            ));
        false
    }

    /// No variable is in the URL's `#fragment`, which is never sent.
    fn no_variables_in_fragment(&mut self, (pos, width): (Pos, usize)) {
        self.report.error_spanning(
            pos,
            width,
            "a variable in the URL's `#fragment` is never sent to the server",
        );
    }

    /// Where a variable's `{{...}}` is in `text`, and how wide: all of `text`'s first
    /// character when the reference was not found.
    fn span_of(&self, text: &Text, var_ref: Option<&VarRef>) -> (Pos, usize) {
        var_ref.map_or((text.pos, 1), |r| {
            let width = text.width_of(r.offset, r.len).unwrap_or(1);
            (text.pos_at(r.offset), width)
        })
    }

    /// Whether `var_ref` is the reference that resolved to `var`.
    fn refers_to(&self, var_ref: &VarRef, var: ir::Var, params: &[(ir::Param, Pos)]) -> bool {
        let name = match (var_ref.namespace, var) {
            (Namespace::Context, ir::Var::Context(i)) => self.variables.get(i).map(|v| &v.name),
            (Namespace::Collected, ir::Var::Collected(i)) => params.get(i).map(|(p, _)| &p.name),
            (Namespace::Api, ir::Var::Api(i)) => self.api_values.get(i).map(|(name, ..)| name),
            (Namespace::Call, ir::Var::Call(field)) => return field.name() == var_ref.name,
            _ => None,
        };
        name.is_some_and(|name| *name == var_ref.name)
    }

    /// No line break or NUL is written into a URL, header or query value: the runtime would
    /// refuse it on every call (or, in a header, it would start another header). Values
    /// substituted at run time are checked there, since only then are they known.
    pub(super) fn no_control_characters(&mut self, text: &Text, what: &str) {
        let Some((offset, found)) = text
            .value
            .char_indices()
            .find(|(_, c)| matches!(c, '\r' | '\n' | '\0'))
        else {
            return;
        };
        let name = match found {
            '\r' => "a carriage return (CR)",
            '\n' => "a line break (LF)",
            _ => "a NUL character",
        };
        let pos = text.pos_at(offset);
        let help = if text.value.get(offset..) == Some("\n") {
            "a `|` or `>` block keeps its final line break: write `|-` or `>-`, or a plain value"
        } else if what == "a header value" {
            "remove it: in a header it would end the value and could start another header"
        } else {
            "remove it: HTTP requests cannot carry it there"
        };
        self.report
            .error(pos, format!("{what} contains {name}"))
            .help(help);
    }

    /// Headers: each name valid, each value text HTTP can carry with variables its place
    /// allows.
    pub(super) fn headers(
        &mut self,
        entries: &[(Text, Text)],
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Vec<ir::Header> {
        let mut headers = Vec::new();
        for (name, value) in entries {
            let valid_name = self.name_is_fixed(name, "a header's name")
                && self.header_name_is_valid(name)
                && self.header_is_not_framing(name);
            self.no_control_characters(value, "a header value");
            let value = (self.template(value, params, place))
                .filter(|t| self.composites_fit(value, t, params, TextPlace::Header));
            if let (true, Some(value)) = (valid_name, value) {
                headers.push(ir::Header {
                    name: name.value.clone(),
                    value,
                });
            }
        }
        headers
    }

    /// A name (of a header, a query parameter, a body member) is fixed text: variables go in
    /// values. A `{{...}}` there would be sent as written, braces and all.
    pub(super) fn name_is_fixed(&mut self, name: &Text, what: &str) -> bool {
        let Some(offset) = name.value.find("{{") else {
            return true;
        };
        let len = name.value[offset..]
            .find("}}")
            .map_or(name.value.len() - offset, |end| end + "}}".len());
        let width = name.width_of(offset, len).unwrap_or(1);
        self.report
            .error_spanning(
                name.pos_at(offset),
                width,
                format!("{what} is fixed text: a variable is not filled in there"),
            )
            .help("put the variable in the value, and give the entry a fixed name");
        false
    }

    /// A header name is an HTTP token: letters, digits and ``!#$%&'*+-.^_`|~``.
    pub(super) fn header_name_is_valid(&mut self, name: &Text) -> bool {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if !name.value.is_empty() && name.value.bytes().all(token) {
            return true;
        }
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!("`{}` is not a valid HTTP header name", name.value),
            )
            .help("header names are letters, digits and `-`, like `X-Api-Key`");
        false
    }

    /// A header is not one HTTP sets from the URL and the body, or one that governs only the
    /// connection: the client writes those, and a second value would at best be ignored and at
    /// worst (`Host`, `Content-Length`) send the request to another site behind the same
    /// server or split it in two.
    fn header_is_not_framing(&mut self, name: &Text) -> bool {
        let help = match name.value.to_ascii_lowercase().as_str() {
            "host" => {
                "the host comes from the URL; another would reach a different site behind \
                       the same server"
            }
            "content-length" | "transfer-encoding" => {
                "the client frames the body itself; a second length could split the request"
            }
            "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "upgrade" => {
                "it governs the connection, which the client manages"
            }
            _ => return true,
        };
        self.report
            .error_spanning(
                name.pos,
                name.width(),
                format!(
                    "`{}` is set by the HTTP client, not in calls.yaml",
                    name.value
                ),
            )
            .help(format!("remove it: {help}"));
        false
    }

    /// Query values: text HTTP can carry, with variables a request may use.
    pub(super) fn query(
        &mut self,
        entries: &[(Text, Text)],
        params: &[(ir::Param, Pos)],
    ) -> Vec<ir::QueryParam> {
        let mut query = Vec::new();
        for (name, value) in entries {
            self.name_is_fixed(name, "a query parameter's name");
            self.no_control_characters(value, "a query value");
            let template = (self.template(value, params, Place::Request))
                .filter(|t| self.composites_fit(value, t, params, TextPlace::Query));
            if let Some(value) = template {
                query.push(ir::QueryParam {
                    name: name.value.clone(),
                    value,
                });
            }
        }
        query
    }
}

/// The part of a URL a character is in.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// The scheme, host and port.
    Authority,
    Path,
    Query,
    Fragment,
}

/// A walk through a URL's pieces, left to right, knowing which part it is in.
struct UrlWalk {
    part: Part,
    /// Where the `#` that starts the fragment is, when the URL's text has one.
    fragment_at: Option<usize>,
    /// Bytes of the value up to the end of the scheme's `://`, which are not looked at.
    scheme_len: usize,
    /// Bytes of the value walked so far.
    consumed: usize,
}

impl UrlWalk {
    fn new(lower: &str) -> Self {
        Self {
            part: Part::Authority,
            fragment_at: None,
            // The scheme's `://` comes before any `/`, `?` or `#`: one later is inside the
            // path or query (`?next=https://...`), and the URL's start is a variable.
            scheme_len: (lower.find("://"))
                .filter(|&at| !lower[..at].contains(['/', '?', '#']))
                .map_or(0, |at| at + "://".len()),
            consumed: 0,
        }
    }

    /// Static text: a `/`, `?` or `#` starts the path, the query or the fragment.
    fn text(&mut self, text: &str) {
        for (i, c) in text.char_indices() {
            if self.consumed + i < self.scheme_len {
                continue;
            }
            self.part = match (self.part, c) {
                (Part::Authority, '/') => Part::Path,
                (Part::Authority | Part::Path, '?') => Part::Query,
                (Part::Fragment, _) => Part::Fragment,
                (_, '#') => {
                    self.fragment_at = Some(self.consumed + i);
                    Part::Fragment
                }
                (part, _) => part,
            };
        }
        self.consumed += text.len();
    }

    /// A variable's `{{...}}`, `len` bytes.
    fn skip(&mut self, len: usize) {
        self.consumed += len;
    }
}

/// The URL as written and its checked parts, or a stand-in for a URL that had errors (never
/// sent: the errors stop the build).
pub(super) fn url_or_stand_in(
    text: Option<&Text>,
    parts: Option<Vec<ir::UrlPart>>,
) -> (String, Vec<ir::UrlPart>) {
    (
        text.map(|u| u.value.clone()).unwrap_or_default(),
        parts.unwrap_or_else(|| vec![ir::UrlPart::Literal(INVALID_URL.to_owned())]),
    )
}

#[cfg(test)]
mod tests {
    /// The columns of every diagnostic for `yaml`.
    fn columns(yaml: &str) -> Vec<(u32, String)> {
        let diagnostics = crate::compile("calls.yaml", yaml).expect_err("errors");
        diagnostics
            .iter()
            .map(|d| (d.pos.map_or(0, |p| p.col), d.message.clone()))
            .collect()
    }

    #[test]
    fn a_base_url_variable_with_a_url_later_in_the_query_is_read_part_by_part() {
        let file = |url: &str| {
            format!(
                "variables:\n  base: {{}}\napi_calls:\n  - name: x\n    description: d\n    \
                 method: GET\n    url: \"{url}\"\n    parameters: [{{ name: id, required: true \
                 }}]\n"
            )
        };
        // The `://` in the query is not the scheme's: `id` is in the path.
        let later = file("{{base}}/orders/{{collected.id}}?next=https://shop.example.com/done");
        assert!(crate::compile("calls.yaml", &later).is_ok());
        // The scheme's own `://` after a variable still puts what follows in the host.
        let found = columns(&file("{{base}}://{{collected.id}}/orders"));
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("scheme, host or port")),
            "{found:?}"
        );
    }

    #[test]
    fn a_variable_after_an_unknown_one_is_placed_at_its_own_braces() {
        let yaml = "api_calls:\n  - name: x\n    description: d\n    method: GET\n    \
                    url: \"https://e.com/{{nosuch}}/{{collected.id}}#{{collected.id}}\"\n    \
                    parameters: [{ name: id }]\n";
        let found = columns(yaml);
        let at = |what: &str| {
            found
                .iter()
                .find(|(_, m)| m.contains(what))
                .map(|(c, _)| *c)
        };
        assert_eq!(at("unknown variable"), Some(25), "{found:?}");
        assert_eq!(at("optional"), Some(36), "{found:?}");
        assert_eq!(at("fragment"), Some(53), "{found:?}");
    }
}
