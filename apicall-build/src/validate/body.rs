//! Rules for JSON bodies: which requests have one, and what YAML can stand for JSON (strings
//! as templates, finite numbers as written, objects with string keys).

use super::params::TextPlace;
use super::*;

impl Checker<'_, '_> {
    /// A call's body: as written, the LLM parameters by default for POST, PUT and PATCH, or
    /// none. `None` when it was reported.
    pub(super) fn body(
        &mut self,
        decl: &CallDecl,
        method: Option<ir::Method>,
        params: &[(ir::Param, Pos)],
    ) -> Option<Option<ir::Json>> {
        match (&decl.body, method) {
            (Some((_, key)), Some(ir::Method::Get)) => {
                self.get_has_no_body(key);
                None
            }
            (Some((node, _)), _) => self.json(node, params, Place::Request).map(Some),
            (None, Some(ir::Method::Post | ir::Method::Put | ir::Method::Patch)) => {
                Some(Some(ir::Json::Params))
            }
            (None, _) => Some(None),
        }
    }

    /// A GET request has no body.
    fn get_has_no_body(&mut self, key: &Text) {
        self.report
            .error_spanning(key.pos, key.width(), "a GET request has no body")
            .help("use POST, PUT or PATCH, or send the values in `query:`");
    }

    /// A YAML value as JSON: every string a template, every number one JSON can carry.
    pub(super) fn json(
        &mut self,
        node: &Node,
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<ir::Json> {
        Some(match &node.value {
            Value::Null => ir::Json::Null,
            Value::Bool(b) => ir::Json::Bool(*b),
            Value::Int(_) | Value::Float(_) => ir::Json::Number(self.json_number(node)?),
            Value::Str(text) => {
                let text = scalar_text(node, text.clone());
                let template = self.template(&text, params, place)?;
                match template.as_slice() {
                    [ir::RequestPiece::Var(var)] => ir::Json::Var(*var),
                    _ if !self.composites_fit(&text, &template, params, TextPlace::BodyText) => {
                        return None;
                    }
                    _ => ir::Json::Text(template),
                }
            }
            Value::Seq(items) => {
                let items: Vec<Option<ir::Json>> = items
                    .iter()
                    .map(|item| self.json(item, params, place))
                    .collect();
                ir::Json::Array(items.into_iter().collect::<Option<_>>()?)
            }
            Value::Map(entries) => self.json_object(node, entries, params, place)?,
        })
    }

    /// A YAML mapping as a JSON object: not an unquoted template, and every key a string.
    fn json_object(
        &mut self,
        node: &Node,
        entries: &[(Node, Node)],
        params: &[(ir::Param, Pos)],
        place: Place,
    ) -> Option<ir::Json> {
        if !self.template_is_quoted(node) {
            return None;
        }
        let mut members = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let Some(key) = self.object_key_is_a_string(key) else {
                ok = false;
                continue;
            };
            match self.json(value, params, place) {
                Some(value) => members.push((key.to_owned(), value)),
                None => ok = false,
            }
        }
        ok.then_some(ir::Json::Object(members))
    }

    /// A template standing for a whole value is quoted: `reason: {{x}}` is a flow mapping to
    /// YAML, not the template it looks like.
    fn template_is_quoted(&mut self, node: &Node) -> bool {
        let Some(template) = unquoted_template(node) else {
            return true;
        };
        self.report
            .error(node.pos, "YAML reads this as a mapping; quote it")
            .help(format!("write `{}`", quoted(&template)));
        false
    }

    /// A JSON object's keys are strings, fixed text.
    fn object_key_is_a_string<'n>(&mut self, key: &'n Node) -> Option<&'n str> {
        let Some(text) = key.as_str() else {
            self.report.error(
                key.pos,
                format!(
                    "a JSON object key must be a string, found {}",
                    describe(key)
                ),
            );
            return None;
        };
        self.name_is_fixed(&scalar_text(key, text.to_owned()), "a body member's name")
            .then_some(text)
    }

    /// A YAML number as JSON text: as written when that is a JSON number (so
    /// `98765432109876543210` and `1.10` go out digit for digit), else the value in JSON's
    /// spelling (`0x1F` is `31`, `+1.5` is `1.5`).
    fn json_number(&mut self, node: &Node) -> Option<String> {
        // The parser keeps each number's spelling; it is the JSON text when JSON can read it.
        if let Some(written) = node.written.as_deref().filter(|text| is_json_number(text)) {
            return Some(written.to_owned());
        }
        match node.value {
            Value::Int(n) => Some(n.to_string()),
            Value::Float(n) => self.number_is_finite(node, n),
            _ => None,
        }
    }

    /// A number in a body is finite: JSON has no infinity or NaN.
    fn number_is_finite(&mut self, node: &Node, n: f64) -> Option<String> {
        if let Some(number) = serde_json::Number::from_f64(n) {
            return Some(number.to_string());
        }
        self.report
            .error(node.pos, "JSON has no infinity or NaN")
            .help("write the number out, or send it as a string");
        None
    }

    /// Without `body:`, a webhook sends every fact of the conversation and every `api.*` value.
    pub(super) fn default_webhook_body(&self) -> ir::Json {
        let call = ir::CallField::ALL
            .into_iter()
            .map(|field| (field.name().to_owned(), ir::Json::Var(ir::Var::Call(field))))
            .collect();
        let api = (self.api_values.iter().enumerate())
            .map(|(index, (name, ..))| (name.clone(), ir::Json::Var(ir::Var::Api(index))))
            .collect();
        ir::Json::Object(vec![
            ("call".to_owned(), ir::Json::Object(call)),
            ("api".to_owned(), ir::Json::Object(api)),
        ])
    }
}

/// Whether `text` is a number in JSON's grammar (RFC 8259 §6): `-?(0|[1-9][0-9]*)`, then an
/// optional `.digits` and an optional exponent.
fn is_json_number(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = text.strip_prefix('-').unwrap_or(text);
    let int = digits(rest);
    if int == 0 || (int > 1 && rest.starts_with('0')) {
        return false;
    }
    let mut rest = &rest[int..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = &exponent[n..];
    }
    rest.is_empty()
}
