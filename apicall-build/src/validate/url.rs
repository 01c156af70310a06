//! Where values may go in a URL and its headers, and what static text HTTP cannot carry.

use super::*;

impl Checker<'_, '_, '_> {
    pub(super) fn url(
        &mut self,
        url: &Text,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<Vec<ir::UrlPart>> {
        self.control_characters(url, "a URL");
        let pieces = self.template(url, params, place)?;
        let lower = url.value.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
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
            return None;
        }
        // Where each variable lands decides how it is encoded, so walk the URL's parts.
        #[derive(Clone, Copy, PartialEq)]
        enum Part {
            Authority,
            Path,
            Query,
            Fragment,
        }
        let scheme_len = lower.find("://").map_or(0, |at| at + 3);
        let mut part = Part::Authority;
        let mut parts = Vec::new();
        let mut refs = self.var_refs(url);
        let mut consumed = 0;
        for piece in pieces {
            match piece {
                ir::Piece::Text(text) => {
                    for (i, c) in text.char_indices() {
                        if consumed + i < scheme_len {
                            continue;
                        }
                        part = match (part, c) {
                            (Part::Authority, '/') => Part::Path,
                            (Part::Authority | Part::Path, '?') => Part::Query,
                            (_, '#') => Part::Fragment,
                            (part, _) => part,
                        };
                    }
                    consumed += text.len();
                    parts.push(ir::UrlPart::Literal(text));
                }
                // Reported already: the URL is not a prompt.
                ir::Piece::VarOr(..) | ir::Piece::If { .. } => {}
                ir::Piece::Var(var) => {
                    // Variables that did not resolve were reported and left out of `pieces`.
                    let var_ref = refs.find(|r| {
                        consumed += r.len;
                        self.refers_to(r, var, params)
                    });
                    let pos = var_ref.as_ref().map_or(url.pos, |r| self.pos_in(url, r));
                    let width = var_ref.as_ref().map_or(1, |r| {
                        url.value
                            .get(r.offset..r.offset + r.len)
                            .map_or(1, |s| s.chars().count())
                    });
                    match (part, var) {
                        (Part::Authority, ir::Var::Context(_)) => {
                            parts.push(ir::UrlPart::Raw(var));
                        }
                        (Part::Authority, _) => {
                            self.report
                                .error_spanning(
                                    pos,
                                    width,
                                    "a value from the conversation or a response cannot be used \
                                     in the URL's scheme, host or port",
                                )
                                .help(
                                    "it could redirect the request anywhere; put it in the path, \
                                     the query, a header or the body",
                                );
                        }
                        (Part::Path | Part::Query, ir::Var::Collected(index))
                            if !params[index].0.required =>
                        {
                            let name = &params[index].0.name;
                            self.report
                                .error_spanning(
                                    pos,
                                    width,
                                    format!("parameter `{name}` is optional, but the URL cannot do without it"),
                                )
                                .help(format!(
                                    "add `required: true` to `{name}`, or move it to `query:`, where an absent value leaves the entry out"
                                ));
                        }
                        (Part::Path, var) => parts.push(ir::UrlPart::PathValue(var)),
                        (Part::Query, var) => parts.push(ir::UrlPart::QueryValue(var)),
                        (Part::Fragment, _) => {
                            self.report.error_spanning(
                                pos,
                                width,
                                "a variable in the URL's `#fragment` is never sent to the server",
                            );
                        }
                    }
                }
            }
        }
        if lower.len() <= scheme_len || lower[scheme_len..].starts_with(['/', '?', '#']) {
            self.report
                .error(url.pos, "the URL has no host")
                .help("for example `https://api.example.com/...`");
            return None;
        }
        Some(parts)
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

    /// A line break or NUL written into a URL, header or query value would be refused by
    /// the runtime on every call (or, in a header, would start another header): refuse it now.
    /// Values substituted at run time are checked there, since only then are they known.
    pub(super) fn control_characters(&mut self, text: &Text, what: &str) {
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
        let pos = self.pos_in_text(text, offset);
        let help = if text.value.ends_with('\n') && offset + 1 == text.value.len() {
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

    pub(super) fn headers(
        &mut self,
        entries: &[(Text, Text)],
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Vec<ir::Header> {
        let mut headers = Vec::new();
        for (name, value) in entries {
            let valid_name = !name.value.is_empty()
                && name
                    .value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid_name {
                self.report
                    .error_spanning(
                        name.pos,
                        name.value.chars().count(),
                        format!("`{}` is not a valid HTTP header name", name.value),
                    )
                    .help("header names are letters, digits and `-`, like `X-Api-Key`");
            }
            self.control_characters(value, "a header value");
            let value = self.template(value, params, place);
            if let (true, Some(value)) = (valid_name, value) {
                headers.push(ir::Header {
                    name: name.value.clone(),
                    value,
                });
            }
        }
        headers
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
