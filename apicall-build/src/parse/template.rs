//! The `{{...}}` template language of calls.yaml's strings: URLs, headers, query values, body
//! strings and prompts, of calls and webhooks alike (a webhook's `secret:` is read with it
//! too).
//!
//! [`lex`] splits a template into text, variable references and `{{#if}}` blocks:
//!
//! - `{{name}}` is a context variable, `{{collected.x}}` an LLM parameter of the call,
//!   `{{api.x}}` a value extracted from a response and `{{call.x}}` a fact of the ended
//!   conversation. Names are letters, digits and `_`, not starting with a digit; whitespace
//!   inside the braces is allowed.
//! - `{{api.x | default: "text"}}` (or single quotes) is what to write when the value is
//!   missing; `default` is the only filter.
//! - `{{#if api.x}}...{{else}}...{{/if}}` writes its first branch when the variable has a
//!   value and the other (which may be left out) when not. Blocks nest up to [`MAX_NESTING`]
//!   deep.
//! - A quoted literal, `{{ "text" }}` or `{{ 'text' }}`, writes its text: `{{ "{{" }}` is a
//!   literal `{{`. Single braces are plain text.
//!
//! Each reference keeps the byte offset and length of its `{{...}}` in the template, and a
//! malformed `{{...}}` or unbalanced block is an error carrying the same, so `validate` can
//! point at it in the source. The lexer reads syntax only: which variables exist, and where
//! defaults and conditionals may be used (prompts), is `validate`'s to check. It never
//! panics, on any input.

/// The deepest nesting of `{{#if}}` blocks accepted. Checking, generating and dropping a
/// template each recurse once per level, so unbounded nesting could exhaust the stack (fuzzed
/// prompts with 4,000 nested blocks did); no readable prompt comes near this.
pub(crate) const MAX_NESTING: usize = 64;

/// Which family of variables a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Namespace {
    Context,
    Collected,
    Api,
    /// The ended conversation's facts, for webhooks: `{{call.outcome}}`.
    Call,
}

impl Namespace {
    pub(crate) fn spell(self, name: &str) -> String {
        match self {
            Namespace::Context => format!("{{{{{name}}}}}"),
            Namespace::Collected => format!("{{{{collected.{name}}}}}"),
            Namespace::Api => format!("{{{{api.{name}}}}}"),
            Namespace::Call => format!("{{{{call.{name}}}}}"),
        }
    }
}

/// A variable reference and where its `{{` starts within the template string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VarRef {
    pub namespace: Namespace,
    pub name: String,
    /// Byte offset of the opening `{{` in the template text.
    pub offset: usize,
    /// Byte length of the whole `{{...}}`.
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// `{{name}}`, or `{{name | default: "text"}}` with what to show when it has no value.
    Var(VarRef, Option<String>),
    /// `{{#if name}}then{{else}}otherwise{{/if}}`: `then` when the variable has a value.
    If {
        condition: VarRef,
        then: Vec<Piece>,
        otherwise: Vec<Piece>,
    },
}

/// A malformed `{{...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: Option<String>,
}

/// One `{{...}}` or run of text, before `{{#if}}` blocks are nested.
enum Token {
    Text(String),
    Var(VarRef, Option<String>),
    If(VarRef),
    Else { offset: usize, len: usize },
    EndIf { offset: usize, len: usize },
}

/// Splits a template into text, variable references and `{{#if}}` blocks. Never panics, on
/// any input.
pub(crate) fn lex(template: &str) -> Result<Vec<Piece>, TemplateError> {
    let tokens = tokenize(template)?;
    // Each open block: its condition, the pieces so far, and whether `{{else}}` was seen.
    let mut stack: Vec<(VarRef, Vec<Piece>, Option<Vec<Piece>>)> = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    for token in tokens {
        match token {
            Token::Text(text) => push_text(&mut current, text),
            Token::Var(var, default) => current.push(Piece::Var(var, default)),
            Token::If(condition) => {
                if stack.len() == MAX_NESTING {
                    return Err(TemplateError {
                        offset: condition.offset,
                        len: condition.len,
                        message: format!(
                            "`{{{{#if}}}}` blocks nested deeper than {MAX_NESTING} levels"
                        ),
                        help: Some(
                            "combine conditions into fewer blocks, or split the text into \
                             several prompts"
                                .to_owned(),
                        ),
                    });
                }
                stack.push((condition, std::mem::take(&mut current), None));
            }
            Token::Else { offset, len } => match stack.last_mut() {
                Some((_, _, otherwise @ None)) => *otherwise = Some(std::mem::take(&mut current)),
                Some((_, _, Some(_))) => {
                    return Err(error(
                        offset,
                        len,
                        "a second `{{else}}` in one `{{#if}}` block",
                    ));
                }
                None => return Err(error(offset, len, "`{{else}}` outside an `{{#if}}` block")),
            },
            Token::EndIf { offset, len } => {
                let Some((condition, mut outer, then)) = stack.pop() else {
                    return Err(error(
                        offset,
                        len,
                        "`{{/if}}` without an `{{#if}}` to close",
                    ));
                };
                let (then, otherwise) = match then {
                    Some(then) => (then, std::mem::take(&mut current)),
                    None => (std::mem::take(&mut current), Vec::new()),
                };
                outer.push(Piece::If {
                    condition,
                    then,
                    otherwise,
                });
                current = outer;
            }
        }
    }
    if let Some((condition, ..)) = stack.pop() {
        return Err(TemplateError {
            offset: condition.offset,
            len: condition.len,
            message: "this `{{#if}}` is never closed with `{{/if}}`".to_owned(),
            help: None,
        });
    }
    Ok(current)
}

fn push_text(pieces: &mut Vec<Piece>, text: String) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(last)) = pieces.last_mut() {
        last.push_str(&text);
    } else {
        pieces.push(Piece::Text(text));
    }
}

fn error(offset: usize, len: usize, message: &str) -> TemplateError {
    TemplateError {
        offset,
        len,
        message: message.to_owned(),
        help: None,
    }
}

fn tokenize(template: &str) -> Result<Vec<Token>, TemplateError> {
    let mut tokens = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        tokens.push(Token::Text(rest[..open].to_owned()));
        let start = offset + open;
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            return Err(TemplateError {
                offset: start,
                len: 2,
                message: "this `{{` is never closed with `}}`".to_owned(),
                help: Some("write `{{ \"{{\" }}` for a literal `{{`".to_owned()),
            });
        };
        let inner = after_open[..close].trim();
        let len = 2 + close + 2;
        let at = |message: String, help: Option<String>| TemplateError {
            offset: start,
            len,
            message,
            help,
        };
        let var_at = |namespace, name: &str| VarRef {
            namespace,
            name: name.to_owned(),
            offset: start,
            len,
        };
        let token = if inner == "else" {
            Token::Else { offset: start, len }
        } else if inner == "/if" {
            Token::EndIf { offset: start, len }
        } else if let Some(condition) = inner.strip_prefix("#if") {
            match parse_expression(condition.trim()) {
                Ok(Expression::Var(namespace, name)) => Token::If(var_at(namespace, name)),
                Ok(Expression::Literal(_)) => {
                    return Err(at(
                        "`{{#if}}` needs a variable, like `{{#if api.name}}`".to_owned(),
                        None,
                    ));
                }
                Err((message, help)) => return Err(at(message, help)),
            }
        } else if let Some((expression, filter)) = inner.split_once('|') {
            let default = parse_default(filter.trim()).ok_or_else(|| {
                at(
                    format!("unknown filter `{}`", filter.trim()),
                    Some(
                        "the one filter is `default`: `{{api.name | default: \"there\"}}`"
                            .to_owned(),
                    ),
                )
            })?;
            match parse_expression(expression.trim()) {
                Ok(Expression::Var(namespace, name)) => {
                    Token::Var(var_at(namespace, name), Some(default.to_owned()))
                }
                Ok(Expression::Literal(_)) => {
                    return Err(at("`default` applies to a variable".to_owned(), None));
                }
                Err((message, help)) => return Err(at(message, help)),
            }
        } else {
            match parse_expression(inner) {
                Ok(Expression::Literal(literal)) => Token::Text(literal.to_owned()),
                Ok(Expression::Var(namespace, name)) => Token::Var(var_at(namespace, name), None),
                Err((message, help)) => return Err(at(message, help)),
            }
        };
        tokens.push(token);
        offset = start + len;
        rest = &template[offset..];
    }
    tokens.push(Token::Text(rest.to_owned()));
    Ok(tokens)
}

/// `default: "text"` (or single quotes) → `text`.
fn parse_default(filter: &str) -> Option<&str> {
    let value = filter
        .strip_prefix("default")?
        .trim_start()
        .strip_prefix(':')?
        .trim();
    ['"', '\''].into_iter().find_map(|quote| {
        value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
    })
}

enum Expression<'t> {
    Literal(&'t str),
    Var(Namespace, &'t str),
}

fn parse_expression(inner: &str) -> Result<Expression<'_>, (String, Option<String>)> {
    if inner.is_empty() {
        return Err((
            "empty `{{}}`: write a variable name inside".to_owned(),
            None,
        ));
    }
    for quote in ['"', '\''] {
        if let Some(literal) = inner
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return Ok(Expression::Literal(literal));
        }
    }
    let (namespace, name) = match inner.split_once('.') {
        None => (Namespace::Context, inner),
        Some(("collected", name)) => (Namespace::Collected, name),
        Some(("api", name)) => (Namespace::Api, name),
        Some(("call", name)) => (Namespace::Call, name),
        Some((prefix, _)) => {
            return Err((
                format!("`{prefix}.` is not a kind of variable"),
                Some(
                    "write `{{name}}` for a context variable, `{{collected.name}}` for an LLM \
                     parameter, `{{api.name}}` for a response variable or `{{call.name}}` for \
                     a fact of the ended conversation (in webhooks)"
                        .to_owned(),
                ),
            ));
        }
    };
    if !is_identifier(name) {
        return Err((
            format!("`{inner}` is not a variable name"),
            Some(
                "variable names are letters, digits and `_`, not starting with a digit".to_owned(),
            ),
        ));
    }
    Ok(Expression::Var(namespace, name))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(namespace: Namespace, name: &str, offset: usize, len: usize) -> Piece {
        Piece::Var(
            VarRef {
                namespace,
                name: name.to_owned(),
                offset,
                len,
            },
            None,
        )
    }

    #[test]
    fn splits_text_and_variables() {
        assert_eq!(
            lex("Bearer {{api_key}}").unwrap(),
            vec![
                Piece::Text("Bearer ".into()),
                var(Namespace::Context, "api_key", 7, 11)
            ]
        );
    }

    #[test]
    fn whitespace_inside_braces_is_allowed() {
        assert_eq!(
            lex("{{ collected.order_id }}").unwrap(),
            vec![var(Namespace::Collected, "order_id", 0, 24)]
        );
    }

    #[test]
    fn quoted_braces_are_literal_text() {
        assert_eq!(
            lex("a {{ \"{{\" }} b").unwrap(),
            vec![Piece::Text("a {{ b".into())]
        );
    }

    #[test]
    fn unclosed_braces_are_reported_at_their_start() {
        let error = lex("x {{api.name").unwrap_err();
        assert_eq!(error.offset, 2);
    }

    #[test]
    fn unknown_namespace_is_an_error() {
        let error = lex("{{session.id}}").unwrap_err();
        assert!(error.message.contains("session."), "{}", error.message);
    }

    #[test]
    fn bad_names_are_errors() {
        assert!(lex("{{}}").is_err());
        assert!(lex("{{1abc}}").is_err());
        assert!(lex("{{api.}}").is_err());
        assert!(lex("{{a b}}").is_err());
    }

    #[test]
    fn defaults_and_conditionals() {
        let pieces = lex("Hi {{api.name | default: \"there\"}}!{{#if api.tier}} {{api.tier}} member{{else}} welcome{{/if}}").unwrap();
        assert_eq!(pieces.len(), 4);
        assert!(matches!(&pieces[1], Piece::Var(v, Some(d)) if v.name == "name" && d == "there"));
        let Piece::If {
            condition,
            then,
            otherwise,
        } = &pieces[3]
        else {
            panic!("{pieces:?}")
        };
        assert_eq!(condition.name, "tier");
        assert_eq!(then.len(), 3);
        assert_eq!(otherwise, &vec![Piece::Text(" welcome".into())]);
    }

    #[test]
    fn unbalanced_blocks_are_errors() {
        for bad in [
            "{{#if a}}x",
            "x{{/if}}",
            "{{else}}",
            "{{#if a}}{{else}}{{else}}{{/if}}",
            "{{a | upper}}",
            "{{#if 'x'}}{{/if}}",
        ] {
            assert!(lex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nesting_is_bounded_at_the_first_block_too_deep() {
        let open = "{{#if a}}";
        let nested = |depth: usize| format!("{}x{}", open.repeat(depth), "{{/if}}".repeat(depth));
        assert!(lex(&nested(MAX_NESTING)).is_ok());
        let error = lex(&nested(MAX_NESTING + 1)).unwrap_err();
        assert_eq!(error.offset, MAX_NESTING * open.len());
        assert_eq!(error.len, open.len());
        assert_eq!(
            error.message,
            "`{{#if}}` blocks nested deeper than 64 levels"
        );
    }

    #[test]
    fn single_braces_are_text() {
        assert_eq!(
            lex("{\"a\": 1}").unwrap(),
            vec![Piece::Text("{\"a\": 1}".into())]
        );
    }
}
