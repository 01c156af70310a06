//! Rules for what a voice agent says while a call runs (`messages:`), and whether the caller
//! waits for the call at all (`execution:`).

use super::templates::span;
use super::*;
use crate::parse::document::{DelayedDecl, MessagesDecl};

impl Checker<'_, '_> {
    /// A call's `messages:`: each a template like a prompt's, never a secret; `start` and
    /// `delayed` never use a value this call has yet to extract; `delayed` comes before the
    /// call's timeout.
    pub(super) fn messages(
        &mut self,
        decl: &CallDecl,
        params: &[(ir::Param, Pos)],
        timeout_ms: u64,
    ) -> ir::Messages {
        let Some(messages) = &decl.messages else {
            return ir::Messages::default();
        };
        let MessagesDecl {
            start,
            delayed,
            failed,
        } = messages;
        let start = start.as_ref().map(|text| {
            self.not_yet_extracted(text, decl, "start");
            self.spoken(text, params)
        });
        let delayed = delayed
            .as_ref()
            .and_then(|delayed| self.delayed(delayed, decl, params, timeout_ms));
        let failed = failed.as_ref().map(|text| self.spoken(text, params));
        ir::Messages {
            start,
            delayed,
            failed,
        }
    }

    /// `execution:` is `wait` (the default) or `async`.
    pub(super) fn execution(&mut self, decl: &CallDecl) -> ir::Execution {
        let Some(execution) = &decl.execution else {
            return ir::Execution::Wait;
        };
        match execution.value.as_str() {
            "wait" => ir::Execution::Wait,
            "async" => ir::Execution::Async,
            other => {
                let help = did_you_mean(other, EXECUTIONS.iter().copied()).unwrap_or_else(|| {
                    "use `wait` (the LLM gets the call's values) or `async` (the LLM gets an \
                     acknowledgement at once and the call runs in the background)"
                        .to_owned()
                });
                self.report
                    .error_spanning(
                        execution.pos,
                        execution.width(),
                        format!("unknown execution `{other}`"),
                    )
                    .help(help);
                ir::Execution::Wait
            }
        }
    }

    /// `delayed:` has `after_ms` (below the timeout) and `say`.
    fn delayed(
        &mut self,
        delayed: &DelayedDecl,
        decl: &CallDecl,
        params: &[(ir::Param, Pos)],
        timeout_ms: u64,
    ) -> Option<ir::Delayed> {
        let item = (
            "`delayed` message",
            delayed.key.pos,
            delayed.present.as_slice(),
        );
        if !delayed.present.contains(&"after_ms") {
            let help = "add `after_ms: 1500`: how long the call runs before it is said";
            self.required(None, item, "after_ms", help);
        }
        let say_help = "add `say: \"One moment please.\"`";
        self.required(delayed.say.as_ref(), item, "say", say_help);
        let after_ms = delayed
            .after_ms
            .and_then(|(after_ms, pos)| self.delay_before_timeout(after_ms, pos, timeout_ms));
        let say = delayed.say.as_ref().map(|text| {
            self.not_yet_extracted(text, decl, "delayed");
            self.spoken(text, params)
        });
        Some(ir::Delayed {
            after_ms: after_ms?,
            say: say?,
        })
    }

    /// The delayed message is said while the call still runs: `after_ms` is below its
    /// `timeout_ms`, and not negative.
    fn delay_before_timeout(&mut self, after_ms: i128, pos: Pos, timeout_ms: u64) -> Option<u64> {
        let valid = u64::try_from(after_ms)
            .ok()
            .filter(|after_ms| *after_ms < timeout_ms);
        if valid.is_none() {
            let message = if after_ms < 0 {
                format!("`after_ms` cannot be negative, found {after_ms}")
            } else {
                format!(
                    "`after_ms` must be below the call's `timeout_ms` ({timeout_ms}), found \
                     {after_ms}"
                )
            };
            self.report.error(pos, message).help(
                "the delayed line is said while the call still runs: after `timeout_ms` it has \
                 failed, and the `failed` message is said instead",
            );
        }
        valid
    }

    /// `start` and `delayed` are said before the call has answered: a value it extracts has
    /// no value yet.
    fn not_yet_extracted(&mut self, text: &Text, decl: &CallDecl, which: &str) {
        let extracted: Vec<&str> = (decl.response_variables.iter())
            .filter_map(|r| r.variable.as_ref().map(|v| v.value.as_str()))
            .collect();
        for var_ref in self.var_refs(text) {
            if var_ref.namespace == Namespace::Api && extracted.contains(&var_ref.name.as_str()) {
                let (pos, width) = span(text, &var_ref);
                let spelled = var_ref.namespace.spell(&var_ref.name);
                self.report
                    .error_spanning(
                        pos,
                        width,
                        format!(
                            "`{spelled}` is extracted by this call: it has no value yet when \
                             the `{which}` message is said"
                        ),
                    )
                    .help("say it in the `failed` message or a prompt, or use `{{collected.*}}`");
            }
        }
    }

    /// A message's template, each parameter in it one that can be said: an array or an object
    /// has no spoken form.
    fn spoken(&mut self, text: &Text, params: &[(ir::Param, Pos)]) -> ir::Template {
        let template = self.message_template(text, params);
        for var_ref in self.var_refs(text) {
            let Some((param, _)) = (var_ref.namespace == Namespace::Collected)
                .then(|| params.iter().find(|(p, _)| p.name == var_ref.name))
                .flatten()
            else {
                continue;
            };
            let kind = match param.ty {
                ir::ParamType::Array(_) => "an array",
                ir::ParamType::Object { .. } => "an object",
                _ => continue,
            };
            let (pos, width) = span(text, &var_ref);
            let spelled = var_ref.namespace.spell(&var_ref.name);
            self.report
                .error_spanning(
                    pos,
                    width,
                    format!("`{spelled}` is {kind}: a message cannot say it"),
                )
                .help("say one of its values through a plain parameter, or leave it out");
        }
        template
    }
}
