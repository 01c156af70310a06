//! The JSON Schema of calls.yaml, for editors (completion, hover docs, inline errors). It
//! describes the shape; the compiler remains the judge of everything a schema cannot say
//! (names resolving, URL placement, types agreeing across calls).

use serde_json::{Value, json};

const NAME_PATTERN: &str = "^[a-z_][a-z0-9_]*$";
const TYPES: [&str; 4] = ["string", "integer", "number", "boolean"];
const PARAM_TYPES: [&str; 6] = ["string", "integer", "number", "boolean", "array", "object"];

/// The schema as pretty-printed JSON, ending with a newline.
#[must_use]
pub fn json_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

fn schema() -> Value {
    let name = json!({ "type": "string", "pattern": NAME_PATTERN });
    let template = json!({
        "type": ["string", "number", "boolean"],
        "description": "Text with {{variable}}, {{collected.parameter}} placeholders"
    });
    let messages = json!({
        "type": "object",
        "additionalProperties": false,
        "description": "What a voice agent says while the call runs: templates like a prompt's, with the call's {{collected.x}}; never a secret.",
        "properties": {
            "start": { "type": "string", "description": "Said when the call starts." },
            "delayed": {
                "type": "object",
                "additionalProperties": false,
                "required": ["after_ms", "say"],
                "properties": {
                    "after_ms": { "type": "integer", "minimum": 0, "description": "Below the call's timeout_ms." },
                    "say": { "type": "string", "description": "Said if the call is still running after after_ms." }
                }
            },
            "failed": { "type": "string", "description": "Said when the call fails." }
        }
    });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "urn:apicall:calls.schema.json",
        "title": "apicall calls.yaml",
        "description": "HTTP calls a conversational agent makes, the values it extracts, and the prompts that use them.",
        "type": "object",
        "additionalProperties": false,
        "required": ["api_calls"],
        "properties": {
            "variables": {
                "description": "Context the agent runtime supplies for each conversation, used as {{name}}.",
                "type": "object",
                "propertyNames": { "pattern": NAME_PATTERN },
                "additionalProperties": {
                    "type": ["object", "null"],
                    "additionalProperties": false,
                    "properties": {
                        "description": { "type": "string", "description": "Doc comment of the generated field." },
                        "secret": { "type": "boolean", "description": "Redacted in Debug, errors and logs; never allowed in prompts." },
                        "type": { "enum": TYPES, "default": "string" },
                        "example": { "type": ["string", "number", "boolean"] }
                    }
                }
            },
            "auth": {
                "description": "Named authentication schemes; a call or webhook uses one with auth: <name>.",
                "type": "object",
                "propertyNames": { "pattern": NAME_PATTERN },
                "additionalProperties": { "$ref": "#/definitions/auth_scheme" }
            },
            "api_calls": {
                "type": "array",
                "items": { "$ref": "#/definitions/call" }
            },
            "prompts": {
                "description": "Prompt templates using {{name}} and {{api.name}}.",
                "type": "object",
                "propertyNames": { "pattern": NAME_PATTERN },
                "additionalProperties": { "type": "string" }
            },
            "webhooks": {
                "description": "Webhooks sent, signed and retried, when the conversation ends.",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "post_call": {
                        "type": "array",
                        "items": { "$ref": "#/definitions/webhook" }
                    }
                }
            }
        },
        "definitions": {
            "auth_scheme": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": false,
                "properties": {
                    "oauth2_client_credentials": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["token_url", "client_id", "client_secret"],
                        "description": "OAuth2 client credentials (RFC 6749 4.4): a token cached per client and scheme, refreshed before expiry, renewed once on a 401.",
                        "properties": {
                            "token_url": { "type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://" },
                            "client_id": { "type": "string", "description": "Text with {{context}} variables." },
                            "client_secret": { "type": "string", "description": "A secret: true variable." },
                            "scopes": { "type": "array", "items": { "type": "string" } },
                            "client_auth": { "enum": ["basic", "body"], "default": "basic" }
                        }
                    },
                    "basic": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["username", "password"],
                        "properties": {
                            "username": { "type": "string", "description": "Text with {{context}} variables." },
                            "password": { "type": "string", "description": "A secret: true variable." }
                        }
                    },
                    "mtls": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["certificate", "key"],
                        "description": "A client certificate (calls only).",
                        "properties": {
                            "certificate": { "type": "string", "description": "A secret: true variable holding PEM." },
                            "key": { "type": "string", "description": "A secret: true variable holding PEM." }
                        }
                    },
                    "hmac_signature": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["header", "secret"],
                        "description": "HMAC-SHA256 of each request, made at send time.",
                        "properties": {
                            "header": { "type": "string" },
                            "timestamp_header": { "type": "string", "description": "Unix seconds." },
                            "secret": { "type": "string", "description": "A secret: true variable; its UTF-8 bytes are the key." },
                            "payload": { "type": "string", "description": "Text with {timestamp} and {body} (the exact bytes sent). Default: {timestamp}.{body} with a timestamp_header, else {body}." },
                            "encoding": { "enum": ["hex", "base64"], "default": "hex" },
                            "value": { "type": "string", "description": "The signature header's value: text with {signature} once and {timestamp}, such as sha256={signature} or t={timestamp},v1={signature}. Default: {signature}." }
                        }
                    }
                }
            },
            "webhook": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name", "url"],
                "properties": {
                    "name": name,
                    "description": { "type": "string", "description": "Doc comment of the generated renderer." },
                    "url": { "type": "string", "pattern": "^[hH][tT][tT][pP][sS]?://", "description": "Absolute http(s) URL, POSTed to." },
                    "timeout_ms": { "type": "integer", "minimum": 1, "maximum": 60000, "default": 5000, "description": "Per attempt." },
                    "retries": { "type": "integer", "minimum": 0, "maximum": 10, "default": 3 },
                    "secret": { "type": "string", "description": "The secret variable whose value signs the webhook (HMAC-SHA256)." },
                    "auth": { "type": "string", "description": "An auth: scheme (not mtls)." },
                    "headers": { "type": "object", "additionalProperties": template },
                    "body": { "description": "JSON body; strings may hold {{name}}, {{api.name}} and {{call.id|started_at|ended_at|duration_ms|outcome}}. Default: every {{call.*}} fact and {{api.*}} value." }
                }
            },
            "call": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name", "description", "url", "method"],
                "properties": {
                    "name": name,
                    "description": { "type": "string", "description": "Tells the LLM when to use this call." },
                    "url": { "type": "string", "pattern": "^([hH][tT][tT][pP][sS]?://|\\{\\{)", "description": "Absolute http(s) URL, or one that starts with a context variable holding a base URL; {{collected.x}} only in the path and query." },
                    "method": { "type": "string", "pattern": "^([gG][eE][tT]|[pP][oO][sS][tT]|[pP][uU][tT]|[pP][aA][tT][cC][hH]|[dD][eE][lL][eE][tT][eE])$" },
                    "timeout_ms": { "type": "integer", "minimum": 1, "maximum": 60000, "default": 5000 },
                    "retries": { "type": "integer", "minimum": 0, "maximum": 5, "default": 0, "description": "GET, PUT and DELETE only." },
                    "failure_message": { "type": "string", "description": "What the LLM is told when the call fails." },
                    "headers": { "type": "object", "additionalProperties": template },
                    "query": { "type": "object", "additionalProperties": template },
                    "parameters": { "type": "array", "items": { "$ref": "#/definitions/parameter" } },
                    "body": { "description": "JSON body; strings may hold {{...}}. Default for POST/PUT/PATCH: the LLM parameters." },
                    "response_variables": { "type": "array", "items": { "$ref": "#/definitions/response_variable" } },
                    "messages": messages,
                    "auth": { "type": "string", "description": "An auth: scheme the call authenticates with." },
                    "execution": {
                        "enum": ["wait", "async"],
                        "default": "wait",
                        "description": "wait: the LLM gets the call's values. async: the LLM gets {\"status\": \"started\"} at once, the call runs in the background and its values reach the session when it completes; only for calls the conversation can continue without."
                    }
                }
            },
            "parameter": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": name,
                    "type": { "enum": PARAM_TYPES, "default": "string" },
                    "enum": { "type": "array", "minItems": 1, "items": { "type": ["string", "number", "boolean"] }, "description": "Strings, or integers with type: integer." },
                    "description": { "type": "string" },
                    "required": { "type": "boolean", "default": false },
                    "items": { "$ref": "#/definitions/item" },
                    "properties": { "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/parameter" }, "description": "The members of a type: object parameter." }
                }
            },
            "item": {
                "description": "The items of a type: array parameter: a type's name, or a parameter without a name.",
                "oneOf": [
                    { "enum": PARAM_TYPES },
                    {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                            "type": { "enum": PARAM_TYPES, "default": "string" },
                            "enum": { "type": "array", "minItems": 1, "items": { "type": ["string", "number", "boolean"] } },
                            "description": { "type": "string" },
                            "items": { "$ref": "#/definitions/item" },
                            "properties": { "type": "array", "minItems": 1, "items": { "$ref": "#/definitions/parameter" } }
                        }
                    }
                ]
            },
            "response_variable": {
                "type": "object",
                "additionalProperties": false,
                "required": ["path", "variable"],
                "properties": {
                    "path": { "type": "string", "description": "Where the value is: an RFC 9535 singular query ($.customer.name, $['first.name'], $.orders[-1].id), or the same without the $ (customer.name, items[0].eta, \"a.b\".c)." },
                    "variable": name,
                    "type": { "enum": TYPES, "default": "string" },
                    "required": { "type": "boolean", "default": false }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::document::auth::{AUTH_KINDS, BASIC_KEYS, HMAC_KEYS, MTLS_KEYS, OAUTH2_KEYS};
    use crate::parse::document::{
        CALL_KEYS, ITEM_KEYS, PARAM_KEYS, RESPONSE_VAR_KEYS, TOP_KEYS, VARIABLE_KEYS,
        WEBHOOK_EVENTS, WEBHOOK_KEYS,
    };

    fn keys(object: &Value) -> Vec<String> {
        let mut keys: Vec<String> = object["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        keys
    }

    #[test]
    fn schema_keys_are_the_keys_the_parser_accepts() {
        let schema = schema();
        let definitions = &schema["definitions"];
        assert_eq!(keys(&schema), sorted(TOP_KEYS));
        assert_eq!(
            keys(&schema["properties"]["variables"]["additionalProperties"]),
            sorted(VARIABLE_KEYS)
        );
        assert_eq!(keys(&definitions["call"]), sorted(CALL_KEYS));
        assert_eq!(
            keys(&schema["properties"]["webhooks"]),
            sorted(WEBHOOK_EVENTS)
        );
        assert_eq!(keys(&definitions["webhook"]), sorted(WEBHOOK_KEYS));
        assert_eq!(keys(&definitions["auth_scheme"]), sorted(AUTH_KINDS));
        let kinds = &definitions["auth_scheme"]["properties"];
        assert_eq!(
            keys(&kinds["oauth2_client_credentials"]),
            sorted(OAUTH2_KEYS)
        );
        assert_eq!(keys(&kinds["basic"]), sorted(BASIC_KEYS));
        assert_eq!(keys(&kinds["mtls"]), sorted(MTLS_KEYS));
        assert_eq!(keys(&kinds["hmac_signature"]), sorted(HMAC_KEYS));
        assert_eq!(keys(&definitions["parameter"]), sorted(PARAM_KEYS));
        assert_eq!(keys(&definitions["item"]["oneOf"][1]), sorted(ITEM_KEYS));
        assert_eq!(
            keys(&definitions["response_variable"]),
            sorted(RESPONSE_VAR_KEYS)
        );
    }
}
