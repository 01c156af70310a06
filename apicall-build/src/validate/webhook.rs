//! Rules for `webhooks: post_call:` entries: URL, headers, retries, the signing secret and
//! the default body.

use super::*;

impl Checker<'_, '_, '_> {
    pub(super) fn webhooks(&mut self, document: &Document) -> Vec<ir::Webhook> {
        let mut webhooks = Vec::new();
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for decl in &document.webhooks {
            let webhook = ("webhook", decl.pos, decl.present.as_slice());
            let name = self.required(
                decl.name.as_ref(),
                webhook,
                "name",
                "add `name: crm_summary` (a snake_case identifier)",
            );
            let url = self.required(
                decl.url.as_ref(),
                webhook,
                "url",
                "add `url: https://...`, where the webhook is POSTed",
            );
            let mut valid = name.is_some_and(|name| self.name(name, "webhook"));
            if let Some(name) = decl.name.as_ref().filter(|_| valid)
                && let Some(&first) = seen.get(name.value.as_str())
            {
                self.duplicate(name, "webhook", first);
                valid = false;
            } else if let Some(name) = decl.name.as_ref().filter(|_| valid) {
                seen.insert(&name.value, name.pos);
            }
            let timeout_ms = self.timeout(decl.timeout_ms, Place::Webhook);
            let retries = self.webhook_retries(decl.retries);
            let url = url.and_then(|url| self.url(url, &[], Place::Webhook));
            self.reserved_webhook_headers(&decl.headers);
            let headers = self.headers(&decl.headers, &[], Place::Webhook);
            let body = match &decl.body {
                Some((node, _)) => self.json(node, &[], Place::Webhook),
                None => Some(self.default_webhook_body()),
            };
            let signing_key = decl.secret.as_ref().map(|secret| self.signing_key(secret));
            let (Some(name), true) = (&decl.name, valid) else {
                continue;
            };
            let (url_text, url) = url_or_stand_in(decl.url.as_ref(), url);
            webhooks.push(ir::Webhook {
                name: name.value.clone(),
                description: decl.description.as_ref().map(|d| d.value.clone()),
                timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
                retries: retries.unwrap_or(DEFAULT_WEBHOOK_RETRIES),
                url_text,
                url,
                headers,
                body: body.unwrap_or(ir::Json::Null),
                signing_key: signing_key.flatten(),
            });
        }
        webhooks
    }

    /// Headers apicall sets on every webhook: a second value would confuse the receiver.
    pub(super) fn reserved_webhook_headers(&mut self, headers: &[(Text, Text)]) {
        for (name, _) in headers {
            let help = match name.value.to_ascii_lowercase().as_str() {
                "content-type" => "webhook bodies are always JSON, sent as `application/json`",
                "idempotency-key" => "it is `<call.id>:<webhook name>`, the same for every attempt",
                "x-apicall-timestamp" | "x-apicall-signature" => {
                    "they sign the webhook when it has a `secret:`"
                }
                _ => continue,
            };
            self.report
                .error_spanning(
                    name.pos,
                    name.value.chars().count(),
                    format!("`{}` is set by apicall on every webhook", name.value),
                )
                .help(format!("remove it: {help}"));
        }
    }

    /// Without `body:`, a webhook sends every fact of the conversation and every `api.*` value.
    pub(super) fn default_webhook_body(&self) -> ir::Json {
        let call = ir::CallField::ALL
            .into_iter()
            .map(|field| (field.name().to_owned(), ir::Json::Var(ir::Var::Call(field))))
            .collect();
        let api = (0..self.api_values.len())
            .map(|index| {
                (
                    self.api_values[index].0.clone(),
                    ir::Json::Var(ir::Var::Api(index)),
                )
            })
            .collect();
        ir::Json::Object(vec![
            ("call".to_owned(), ir::Json::Object(call)),
            ("api".to_owned(), ir::Json::Object(api)),
        ])
    }

    pub(super) fn webhook_retries(&mut self, retries: Option<(i128, Pos)>) -> Option<u32> {
        let Some((retries, pos)) = retries else {
            return Some(DEFAULT_WEBHOOK_RETRIES);
        };
        let valid = u32::try_from(retries)
            .ok()
            .filter(|r| *r <= MAX_WEBHOOK_RETRIES);
        if valid.is_none() {
            self.report
                .error(
                    pos,
                    format!(
                        "a webhook's `retries` must be between 0 and {MAX_WEBHOOK_RETRIES}, found {retries}"
                    ),
                )
                .help(format!(
                    "the default is {DEFAULT_WEBHOOK_RETRIES}; waits double each time, up to 30 s"
                ));
        }
        valid
    }

    /// `secret: webhook_secret` (or `secret: "{{webhook_secret}}"`): a declared secret variable.
    pub(super) fn signing_key(&mut self, secret: &Text) -> Option<usize> {
        let width = secret.value.chars().count().max(1);
        // A bare name, or the name as a template (`{{ webhook_secret }}`), read by the lexer.
        let name = match template::lex(&secret.value).as_deref() {
            Ok([template::Piece::Text(text)]) => text.trim().to_owned(),
            Ok([template::Piece::Var(var_ref, None)])
                if var_ref.namespace == Namespace::Context =>
            {
                var_ref.name.clone()
            }
            _ => {
                self.report
                    .error_spanning(secret.pos, width, "`secret:` names one secret variable")
                    .help("for example `secret: webhook_secret`");
                return None;
            }
        };
        let name = name.as_str();
        let Some(index) = self.variables.iter().position(|v| v.name == name) else {
            let secrets = self
                .variables
                .iter()
                .filter(|v| v.secret)
                .map(|v| v.name.as_str());
            let help = did_you_mean(name, secrets).unwrap_or_else(|| {
                format!("declare it under `variables:` with `secret: true`, e.g. `{name}: {{ secret: true }}`")
            });
            self.report
                .error_spanning(secret.pos, width, format!("unknown variable `{name}`"))
                .help(help);
            return None;
        };
        if !self.variables[index].secret {
            self.report
                .error_spanning(
                    secret.pos,
                    width,
                    format!("`{name}` signs webhooks, so it must be a secret variable"),
                )
                .help(format!(
                    "add `secret: true` to `{name}` under `variables:`, so it never shows in logs"
                ));
            return None;
        }
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_third_webhook_of_one_name_points_at_the_first() {
        let webhook = "    - { name: h, url: \"https://e.com/\" }\n";
        let yaml = format!(
            "api_calls:\n  - {{ name: x, description: d, url: \"https://e.com/\", method: GET }}\n\
             webhooks:\n  post_call:\n{}",
            webhook.repeat(3)
        );
        let diagnostics = crate::compile("calls.yaml", &yaml).expect_err("errors");
        let helps: Vec<_> = diagnostics.iter().filter_map(|d| d.help.clone()).collect();
        assert_eq!(
            helps,
            [
                "the first definition is at line 5",
                "the first definition is at line 5"
            ]
        );
    }
}
