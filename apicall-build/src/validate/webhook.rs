//! Rules for `webhooks: post_call:` entries: required fields, reserved headers, retries and
//! the signing secret. URLs and headers are checked by `url.rs`, bodies by `body.rs`.

use super::*;

impl Checker<'_, '_> {
    /// The webhooks, each checked rule by rule.
    pub(super) fn webhooks(&mut self, document: &Document) -> Vec<ir::Webhook> {
        let mut seen = HashMap::new();
        (document.webhooks.iter())
            .filter_map(|decl| self.webhook(decl, &mut seen))
            .collect()
    }

    /// One webhook; `seen` holds the webhook names so far. `None` when it is left out: its
    /// name was missing or bad, which nothing can stand in for.
    fn webhook(
        &mut self,
        decl: &WebhookDecl,
        seen: &mut HashMap<String, Pos>,
    ) -> Option<ir::Webhook> {
        self.webhook_has_required_fields(decl);
        let name = (decl.name.as_ref())
            .filter(|name| self.name(name, "webhook") && self.defined_once(name, "webhook", seen));
        let timeout_ms = self.timeout(decl.timeout_ms, Place::Webhook);
        let retries = self.webhook_retries(decl.retries);
        let url = (decl.url.as_ref()).and_then(|url| self.url(url, &[], Place::Webhook));
        self.no_reserved_headers(&decl.headers);
        let headers = self.headers(&decl.headers, &[], Place::Webhook);
        let body = match &decl.body {
            Some((node, _)) => self.json(node, &[], Place::Webhook),
            None => Some(self.default_webhook_body()),
        };
        let signing_key = decl.secret.as_ref().map(|secret| self.signing_key(secret));
        let auth = self.auth_of(decl.auth.as_ref(), &decl.headers, Place::Webhook);
        let (url_text, url) = url_or_stand_in(decl.url.as_ref(), url);
        Some(ir::Webhook {
            name: name?.value.clone(),
            description: decl.description.as_ref().map(|d| d.value.clone()),
            timeout_ms: timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            retries: retries.unwrap_or(DEFAULT_WEBHOOK_RETRIES),
            url_text,
            url,
            headers,
            body: body.unwrap_or(ir::Json::Null),
            signing_key: signing_key.flatten(),
            auth,
        })
    }

    /// A webhook has a `name` and a `url`.
    fn webhook_has_required_fields(&mut self, decl: &WebhookDecl) {
        let webhook = ("webhook", decl.pos, decl.present.as_slice());
        let name = "add `name: crm_summary` (a snake_case identifier)";
        self.required(decl.name.as_ref(), webhook, "name", name);
        let url = "add `url: https://...`, where the webhook is POSTed";
        self.required(decl.url.as_ref(), webhook, "url", url);
    }

    /// A webhook does not set the headers apicall sets on every webhook (a second value would
    /// confuse the receiver), nor any other `X-Apicall-*`, which are apicall's to add.
    fn no_reserved_headers(&mut self, headers: &[(Text, Text)]) {
        for (name, _) in headers {
            let set = format!("`{}` is set by apicall on every webhook", name.value);
            let (message, help) = match name.value.to_ascii_lowercase().as_str() {
                "content-type" => (
                    set,
                    "remove it: webhook bodies are always JSON, sent as `application/json`",
                ),
                "idempotency-key" => (
                    set,
                    "remove it: it is `<call.id>:<webhook name>`, the same for every attempt",
                ),
                "x-apicall-timestamp" | "x-apicall-signature" => (
                    set,
                    "remove it: they sign the webhook when it has a `secret:`",
                ),
                lower if lower.starts_with("x-apicall-") => (
                    format!("`{}` is in apicall's own `X-Apicall-*` headers", name.value),
                    "rename it: apicall may send any `X-Apicall-*` header",
                ),
                _ => continue,
            };
            self.report
                .error_spanning(name.pos, name.width(), message)
                .help(help);
        }
    }

    /// A webhook's `retries` is between 0 and 10 (3 when left out).
    fn webhook_retries(&mut self, retries: Option<(i128, Pos)>) -> Option<u32> {
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
                        "a webhook's `retries` must be between 0 and {MAX_WEBHOOK_RETRIES}, \
                         found {retries}"
                    ),
                )
                .help(format!(
                    "the default is {DEFAULT_WEBHOOK_RETRIES}; waits double each time, up to 30 s"
                ));
        }
        valid
    }

    /// The variable that signs a webhook: `secret:` names one declared secret variable.
    fn signing_key(&mut self, secret: &Text) -> Option<usize> {
        self.secret_variable(secret, ("secret", "webhook_secret"), "signs webhooks")
    }

    /// A field that takes a secret (`secret:`, `client_secret:`, `password:`) names one
    /// variable, declared with `secret: true` so it never shows in logs. `field` is the key
    /// and an example variable; `role` says what the value does ("signs webhooks").
    pub(super) fn secret_variable(
        &mut self,
        text: &Text,
        field: (&str, &str),
        role: &str,
    ) -> Option<usize> {
        let name = self.names_one_variable(text, field)?;
        let index = self.secret_is_declared(text, &name)?;
        self.variable_is_secret(text, index, role).then_some(index)
    }

    /// The field is one variable's name, bare (`secret: webhook_secret`) or as a template
    /// (`secret: "{{ webhook_secret }}"`), read by the template lexer.
    fn names_one_variable(&mut self, text: &Text, (key, example): (&str, &str)) -> Option<String> {
        match template::lex(&text.value).as_deref() {
            Ok([template::Piece::Text(name)]) => Some(name.trim().to_owned()),
            Ok([template::Piece::Var(var_ref, None)])
                if var_ref.namespace == Namespace::Context =>
            {
                Some(var_ref.name.clone())
            }
            _ => {
                self.report
                    .error_spanning(
                        text.pos,
                        text.width().max(1),
                        format!("`{key}:` names one secret variable"),
                    )
                    .help(format!("for example `{key}: {example}`"));
                None
            }
        }
    }

    /// The variable a secret field names is declared under `variables:`. Returns its index.
    fn secret_is_declared(&mut self, secret: &Text, name: &str) -> Option<usize> {
        let found = self.variables.iter().position(|v| v.name == name);
        if found.is_none() {
            let secrets = (self.variables.iter())
                .filter(|v| v.secret)
                .map(|v| v.name.as_str());
            let help = did_you_mean(name, secrets).unwrap_or_else(|| {
                format!(
                    "declare it under `variables:` with `secret: true`, e.g. \
                     `{name}: {{ secret: true }}`"
                )
            });
            self.report
                .error_spanning(
                    secret.pos,
                    secret.width().max(1),
                    format!("unknown variable `{name}`"),
                )
                .help(help);
        }
        found
    }

    /// The variable is a secret, so it never shows in logs.
    fn variable_is_secret(&mut self, text: &Text, index: usize, role: &str) -> bool {
        let variable = &self.variables[index];
        if variable.secret {
            return true;
        }
        let name = &variable.name;
        self.report
            .error_spanning(
                text.pos,
                text.width().max(1),
                format!("`{name}` {role}, so it must be a secret variable"),
            )
            .help(format!(
                "add `secret: true` to `{name}` under `variables:`, so it never shows in logs"
            ));
        false
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
