//! Rules for an API call: its method, timeout, retries, parameters, body and response
//! variables.

use super::*;

impl Checker<'_, '_, '_> {
    pub(super) fn call(
        &mut self,
        decl: &CallDecl,
        names: &mut HashMap<String, Pos>,
    ) -> Option<ir::Call> {
        let call = ("API call", decl.pos, decl.present.as_slice());
        let name = self.required(
            decl.name.as_ref(),
            call,
            "name",
            "add `name: lookup_customer` (a snake_case identifier)",
        );
        let description = self.required(
            decl.description.as_ref(),
            call,
            "description",
            "add `description:` telling the LLM when to use this call",
        );
        let url = self.required(
            decl.url.as_ref(),
            call,
            "url",
            "add `url: https://...`, the endpoint to call",
        );
        let method = self.required(
            decl.method.as_ref(),
            call,
            "method",
            "add `method: GET` (or POST, PUT, PATCH, DELETE)",
        );

        let mut name = name.filter(|name| self.name(name, "call"));
        if let Some(long) = name.filter(|name| name.value.len() > MAX_TOOL_NAME) {
            // OpenAI and Anthropic refuse tool names over 64 characters.
            self.report
                .error_spanning(
                    long.pos,
                    long.value.chars().count(),
                    format!(
                        "call name `{}` is longer than {MAX_TOOL_NAME} characters",
                        long.value
                    ),
                )
                .help("LLM APIs refuse longer tool names; shorten it");
            name = None;
        }
        if let Some(valid) = name {
            if let Some(first) = names.get(&valid.value) {
                let first = *first;
                self.duplicate(valid, "call", first);
                name = None;
            } else {
                names.insert(valid.value.clone(), valid.pos);
            }
        }
        let method = method.and_then(|method| self.method(method));
        let timeout_ms = self.timeout(decl.timeout_ms, Place::Request);
        let params = self.params(&decl.parameters);
        let url = url.and_then(|url| self.url(url, &params, Place::Request));
        let headers = self.headers(&decl.headers, &params, Place::Request);
        let query = decl
            .query
            .iter()
            .filter_map(|(name, value)| {
                self.control_characters(value, "a query value");
                Some(ir::QueryParam {
                    name: name.value.clone(),
                    value: self.template(value, &params, Place::Request)?,
                })
            })
            .collect::<Vec<_>>();
        let responses = self.responses(decl);
        let body = self.body(decl, method, &params);
        let retries = self.retries(decl, method);
        let failure_message = decl.failure_message.as_ref().map(|m| m.value.clone());
        let (url_text, url) = url_or_stand_in(decl.url.as_ref(), url);
        // Only the name is indispensable; anything else that was wrong has been reported and
        // gets a stand-in, so the generated API stays whole while the errors are fixed.
        Some(ir::Call {
            name: name?.value.clone(),
            description: description.map(|d| d.value.clone()).unwrap_or_default(),
            method: method.unwrap_or(ir::Method::Get),
            timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            url_text,
            url,
            headers,
            query,
            params: params.into_iter().map(|(param, _)| param).collect(),
            responses,
            body: body.unwrap_or(None),
            failure_message,
            retries: retries.unwrap_or(0),
        })
    }

    /// The body: explicit, the LLM parameters by default for POST/PUT/PATCH, or none.
    pub(super) fn body(
        &mut self,
        decl: &CallDecl,
        method: Option<ir::Method>,
        params: &[(ir::Param, Pos)],
    ) -> Option<Option<ir::Json>> {
        match (&decl.body, method) {
            (Some((_, key)), Some(ir::Method::Get)) => {
                self.report
                    .error_spanning(*key, 4, "a GET request has no body")
                    .help("use POST, PUT or PATCH, or send the values in `query:`");
                None
            }
            (Some((node, _)), _) => self.json(node, params, Place::Request).map(Some),
            (None, Some(ir::Method::Post | ir::Method::Put | ir::Method::Patch)) => {
                Some(Some(ir::Json::Params))
            }
            (None, _) => Some(None),
        }
    }

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
                let text = Text {
                    value: text.clone(),
                    pos: node.pos,
                    bytes: node.bytes,
                };
                let template = self.template(&text, params, place)?;
                match template.as_slice() {
                    [ir::Piece::Var(var)] => ir::Json::Var(*var),
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
            Value::Map(entries) => {
                // `reason: {{x}}` is a flow mapping to YAML, not the template it looks like.
                if let Some(template) = unquoted_template(node) {
                    self.report
                        .error(node.pos, "YAML reads this as a mapping; quote it")
                        .help(format!("write `{}`", quoted(&template)));
                    return None;
                }
                let mut members = Vec::new();
                let mut ok = true;
                for (key, value) in entries {
                    let Some(key) = key.as_str() else {
                        self.report.error(
                            key.pos,
                            format!(
                                "a JSON object key must be a string, found {}",
                                describe(key)
                            ),
                        );
                        ok = false;
                        continue;
                    };
                    match self.json(value, params, place) {
                        Some(value) => members.push((key.to_owned(), value)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                ir::Json::Object(members)
            }
        })
    }

    /// A YAML number as JSON text: as written when that is a JSON number (so
    /// `98765432109876543210` and `1.10` go out digit for digit), else the value in JSON's
    /// spelling (`0x1F` is `31`, `+1.5` is `1.5`).
    pub(super) fn json_number(&mut self, node: &Node) -> Option<String> {
        // The parser keeps each number's spelling; it is the JSON text when JSON can read it.
        if let Some(written) = node.written.as_deref().filter(|text| is_json_number(text)) {
            return Some(written.to_owned());
        }
        match node.value {
            Value::Int(n) => Some(n.to_string()),
            Value::Float(n) => match serde_json::Number::from_f64(n) {
                Some(number) => Some(number.to_string()),
                None => {
                    self.report
                        .error(node.pos, "JSON has no infinity or NaN")
                        .help("write the number out, or send it as a string");
                    None
                }
            },
            _ => None,
        }
    }

    pub(super) fn retries(&mut self, decl: &CallDecl, method: Option<ir::Method>) -> Option<u32> {
        let Some((retries, pos)) = decl.retries else {
            return Some(0);
        };
        let Some(retries) = u32::try_from(retries).ok().filter(|r| *r <= MAX_RETRIES) else {
            self.report
                .error(
                    pos,
                    format!("`retries` must be between 0 and {MAX_RETRIES}, found {retries}"),
                )
                .help("all attempts share the call's one timeout; 1 or 2 is usually enough");
            return None;
        };
        if retries > 0 && matches!(method, Some(ir::Method::Post | ir::Method::Patch)) {
            self.report
                .error(pos, "`retries` is only for GET, PUT and DELETE")
                .help("a repeated POST or PATCH could act twice (two orders, two tickets)");
            return None;
        }
        Some(retries)
    }

    pub(super) fn method(&mut self, method: &Text) -> Option<ir::Method> {
        match method.value.to_ascii_uppercase().as_str() {
            "GET" => Some(ir::Method::Get),
            "POST" => Some(ir::Method::Post),
            "PUT" => Some(ir::Method::Put),
            "PATCH" => Some(ir::Method::Patch),
            "DELETE" => Some(ir::Method::Delete),
            upper => {
                let help = did_you_mean(upper, METHODS.iter().copied())
                    .unwrap_or_else(|| "use GET, POST, PUT, PATCH or DELETE".to_owned());
                self.report
                    .error_spanning(
                        method.pos,
                        method.value.chars().count(),
                        format!("unknown HTTP method `{}`", method.value),
                    )
                    .help(help);
                None
            }
        }
    }

    pub(super) fn timeout(&mut self, timeout: Option<(i128, Pos)>, place: Place) -> Option<u64> {
        let Some((ms, pos)) = timeout else {
            return Some(DEFAULT_TIMEOUT_MS);
        };
        match u64::try_from(ms) {
            Ok(ms) if (1..=MAX_TIMEOUT_MS).contains(&ms) => Some(ms),
            _ => {
                self.report
                    .error(
                        pos,
                        format!("`timeout_ms` must be between 1 and {MAX_TIMEOUT_MS}, found {ms}"),
                    )
                    .help(if place == Place::Webhook {
                        "it bounds each attempt; the default is 5000 ms"
                    } else {
                        "someone is waiting on the line: the default is 5000 ms"
                    });
                None
            }
        }
    }

    pub(super) fn params(&mut self, decls: &[ParamDecl]) -> Vec<(ir::Param, Pos)> {
        let mut params: Vec<(ir::Param, Pos)> = Vec::new();
        for decl in decls {
            let Some(name) = self.required_param_name(decl) else {
                continue;
            };
            if let Some((_, first)) = params.iter().find(|(p, _)| p.name == name.value) {
                let first = *first;
                self.duplicate(name, "parameter", first);
                continue;
            }
            // A bad type is reported; a string stand-in keeps `{{collected.x}}` resolving.
            let ty = self
                .param_type(decl)
                .unwrap_or(ir::ParamType::Value(ir::ValueType::String));
            params.push((
                ir::Param {
                    name: name.value.clone(),
                    description: decl.description.as_ref().map(|d| d.value.clone()),
                    ty,
                    required: decl.required,
                },
                name.pos,
            ));
        }
        params
    }

    pub(super) fn param_type(&mut self, decl: &ParamDecl) -> Option<ir::ParamType> {
        let ty = match &decl.ty {
            None => ir::ValueType::String,
            Some(ty) => self.value_type(ty)?,
        };
        let Some((choices, pos)) = &decl.choices else {
            return Some(ir::ParamType::Value(ty));
        };
        if ty != ir::ValueType::String {
            let ty_pos = decl.ty.as_ref().map_or(*pos, |t| t.pos);
            self.report
                .error(
                    ty_pos,
                    "an `enum` parameter is a string: its `type` must be `string`",
                )
                .help("remove `type:` or write `type: string`");
            return None;
        }
        if choices.is_empty() {
            self.report
                .error(*pos, "`enum` needs at least one value")
                .help("for example `enum: [standard, express]`");
            return None;
        }
        let mut out: Vec<ir::EnumChoice> = Vec::new();
        let mut ok = true;
        for choice in choices {
            let variant = enum_variant(&choice.value);
            if let Some(clash) = out.iter().find(|c| c.variant == variant) {
                let message = if clash.value == choice.value {
                    format!("`{}` is listed twice in `enum`", choice.value)
                } else {
                    format!(
                        "`{}` and `{}` would both be named `{variant}` in Rust",
                        clash.value, choice.value
                    )
                };
                self.report.error_spanning(
                    choice.pos,
                    choice.value.chars().count().max(1),
                    message,
                );
                ok = false;
                continue;
            }
            out.push(ir::EnumChoice {
                value: choice.value.clone(),
                variant,
            });
        }
        ok.then_some(ir::ParamType::Enum(out))
    }

    pub(super) fn required_param_name<'d>(&mut self, decl: &'d ParamDecl) -> Option<&'d Text> {
        let Some(name) = &decl.name else {
            self.report
                .error(
                    decl.pos,
                    "this parameter is missing the required field `name`",
                )
                .help("add `name: order_id` (a snake_case identifier)");
            return None;
        };
        self.name(name, "parameter").then_some(name)
    }

    pub(super) fn value_type(&mut self, ty: &Text) -> Option<ir::ValueType> {
        match ty.value.as_str() {
            "string" => Some(ir::ValueType::String),
            "integer" => Some(ir::ValueType::Integer),
            "number" => Some(ir::ValueType::Number),
            "boolean" => Some(ir::ValueType::Boolean),
            other => {
                let help = did_you_mean(other, TYPES.iter().copied())
                    .unwrap_or_else(|| "use string, integer, number or boolean".to_owned());
                self.report
                    .error_spanning(
                        ty.pos,
                        other.chars().count(),
                        format!("unknown type `{other}`"),
                    )
                    .help(help);
                None
            }
        }
    }

    pub(super) fn responses(&mut self, decl: &CallDecl) -> Vec<ir::ResponseVar> {
        let mut responses = Vec::new();
        for variable in &decl.response_variables {
            let Some(path_text) = &variable.path else {
                self.report
                    .error(
                        variable.pos,
                        "this response variable is missing the required field `path`",
                    )
                    .help("add `path: customer.name`, where the value sits in the JSON response");
                continue;
            };
            let Some(name) = &variable.variable else {
                self.report
                    .error(
                        variable.pos,
                        "this response variable is missing the required field `variable`",
                    )
                    .help("add `variable: customer_name`, the name prompts use as `{{api.customer_name}}`");
                continue;
            };
            let segments = match path::parse(&path_text.value) {
                Ok(segments) => segments,
                Err(error) => {
                    let pos = self.pos_in_text(path_text, error.offset);
                    self.report
                        .error(pos, format!("invalid path: {}", error.message));
                    continue;
                }
            };
            let found = self.api_index.get(&name.value).copied();
            let Some((_, ty, _)) = found.map(|index| &self.api_values[index]) else {
                // Already reported while collecting (bad name or type).
                continue;
            };
            if responses
                .iter()
                .any(|r: &ir::ResponseVar| r.name == name.value)
            {
                self.report
                    .error_spanning(
                        name.pos,
                        name.value.chars().count(),
                        format!("this call extracts `{}` twice", name.value),
                    )
                    .help("each response variable of a call needs its own name");
                continue;
            }
            responses.push(ir::ResponseVar {
                name: name.value.clone(),
                path: segments,
                ty: *ty,
                required: variable.required,
            });
        }
        responses
    }
}

/// Whether `text` is a number in JSON's grammar (RFC 8259 §6): `-?(0|[1-9][0-9]*)`, then an
/// optional `.digits` and an optional exponent.
pub(super) fn is_json_number(text: &str) -> bool {
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

/// `express-2day` → `Express2day`; a value with no letters or digits, or starting with a
/// digit, gets a `V` in front so it is still an identifier.
pub(super) fn enum_variant(value: &str) -> String {
    let mut variant = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            variant.push(first.to_ascii_uppercase());
            variant.push_str(chars.as_str());
        }
    }
    if variant.is_empty() || variant.starts_with(|c: char| c.is_ascii_digit()) {
        variant.insert(0, 'V');
    }
    if variant == "Self" {
        variant.push('_');
    }
    variant
}
