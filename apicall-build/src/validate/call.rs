//! Rules for an API call: its required fields, name, method, timeout and retries. Its
//! parameters are `params.rs`'s, its URL, headers and query are `url.rs`'s, its body `body.rs`'s and its
//! response variables `response.rs`'s.

use super::*;

impl Checker<'_, '_> {
    /// One API call, checked rule by rule. `names` holds the call names so far.
    pub(super) fn call(
        &mut self,
        decl: &CallDecl,
        names: &mut HashMap<String, Pos>,
    ) -> Option<ir::Call> {
        self.call_has_required_fields(decl);
        let name = self.call_name(decl, names);
        let method = decl.method.as_ref().and_then(|method| self.method(method));
        let timeout_ms = self.timeout(decl.timeout_ms, Place::Request);
        let params = self.params(decl);
        self.enums_fit(&params);
        let url = (decl.url.as_ref()).and_then(|url| self.url(url, &params, Place::Request));
        let headers = self.headers(&decl.headers, &params, Place::Request);
        let query = self.query(&decl.query, &params);
        let responses = self.responses(decl);
        let body = self.body(decl, method, &params);
        let retries = self.retries(decl, method);
        let timeout = timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        let messages = self.messages(decl, &params, timeout);
        let execution = self.execution(decl);
        let auth = self.auth_of(decl.auth.as_ref(), &decl.headers, Place::Request);
        let (url_text, url) = url_or_stand_in(decl.url.as_ref(), url);
        // Only the name is indispensable; anything else that was wrong has been reported and
        // gets a stand-in, so the generated API stays whole while the errors are fixed.
        Some(ir::Call {
            name: name?.value.clone(),
            description: (decl.description.as_ref())
                .map(|d| d.value.clone())
                .unwrap_or_default(),
            method: method.unwrap_or(ir::Method::Get),
            timeout_ms: timeout,
            url_text,
            url,
            headers,
            query,
            params: params.into_iter().map(|(param, _)| param).collect(),
            responses,
            body: body.unwrap_or(None),
            failure_message: decl.failure_message.as_ref().map(|m| m.value.clone()),
            retries: retries.unwrap_or(0),
            messages,
            execution,
            auth,
        })
    }

    /// An API call has a `name`, a `description`, a `url` and a `method`.
    fn call_has_required_fields(&mut self, decl: &CallDecl) {
        let call = ("API call", decl.pos, decl.present.as_slice());
        let name = "add `name: lookup_customer` (a snake_case identifier)";
        self.required(decl.name.as_ref(), call, "name", name);
        let description = "add `description:` telling the LLM when to use this call";
        self.required(decl.description.as_ref(), call, "description", description);
        if let Some(text) = decl.description.as_ref() {
            self.description_says_something(text);
        }
        let url = "add `url: https://...`, the endpoint to call";
        self.required(decl.url.as_ref(), call, "url", url);
        let method = "add `method: GET` (or POST, PUT, PATCH, DELETE)";
        self.required(decl.method.as_ref(), call, "method", method);
    }

    /// A call's description is not blank: it is all the LLM reads to decide when to call it.
    fn description_says_something(&mut self, description: &Text) {
        if !description.value.trim().is_empty() {
            return;
        }
        self.report
            .error(description.pos, "the description is empty")
            .help("say when to use this call: the LLM reads nothing else to decide");
    }

    /// The call's name, if it is a good one: a name, short enough for a tool, and not another
    /// call's.
    fn call_name<'d>(
        &mut self,
        decl: &'d CallDecl,
        names: &mut HashMap<String, Pos>,
    ) -> Option<&'d Text> {
        let name = decl.name.as_ref()?;
        let good = self.name(name, "call")
            && self.tool_name_fits(name)
            && self.defined_once(name, "call", names);
        good.then_some(name)
    }

    /// The method is GET, POST, PUT, PATCH or DELETE, in any case.
    fn method(&mut self, method: &Text) -> Option<ir::Method> {
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
                        method.width(),
                        format!("unknown HTTP method `{}`", method.value),
                    )
                    .help(help);
                None
            }
        }
    }

    /// `timeout_ms` is between 1 and 60,000 ms (5,000 when left out).
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

    /// A call's `retries` (0 when left out): in range, and only for methods safe to repeat.
    fn retries(&mut self, decl: &CallDecl, method: Option<ir::Method>) -> Option<u32> {
        let Some((retries, pos)) = decl.retries else {
            return Some(0);
        };
        let retries = self.retries_in_range(retries, pos)?;
        self.retries_only_when_safe(retries, pos, method)
            .then_some(retries)
    }

    /// A call's `retries` is between 0 and 5: all attempts share the call's one timeout.
    fn retries_in_range(&mut self, retries: i128, pos: Pos) -> Option<u32> {
        let valid = u32::try_from(retries).ok().filter(|r| *r <= MAX_RETRIES);
        if valid.is_none() {
            self.report
                .error(
                    pos,
                    format!("`retries` must be between 0 and {MAX_RETRIES}, found {retries}"),
                )
                .help("all attempts share the call's one timeout; 1 or 2 is usually enough");
        }
        valid
    }

    /// Only GET, PUT and DELETE calls retry: a repeated POST or PATCH could act twice.
    fn retries_only_when_safe(
        &mut self,
        retries: u32,
        pos: Pos,
        method: Option<ir::Method>,
    ) -> bool {
        if retries == 0 || !matches!(method, Some(ir::Method::Post | ir::Method::Patch)) {
            return true;
        }
        self.report
            .error(pos, "`retries` is only for GET, PUT and DELETE")
            .help("a repeated POST or PATCH could act twice (two orders, two tickets)");
        false
    }
}
