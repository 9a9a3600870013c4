//! Discord's request-body rules, as the real API enforces them.
//!
//! Every check returns a list of [`FieldError`]s; [`errors_json`] turns them into the nested
//! `errors` object of Discord's `50035 Invalid Form Body` response (the shape serenity's
//! `DiscordJsonError` decodes into dotted paths).

use std::collections::HashSet;

use serde_json::{Map, Value};

/// One rejected field: a dotted path into the request body, Discord's error code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(
        path: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            code,
            message: message.into(),
        }
    }

    fn max_len(path: impl Into<String>, max: usize) -> Self {
        Self::new(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        )
    }

    fn bad_len(path: impl Into<String>, min: usize, max: usize) -> Self {
        Self::new(
            path,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        )
    }

    fn required(path: impl Into<String>) -> Self {
        Self::new(path, "BASE_TYPE_REQUIRED", "This field is required")
    }
}

/// Joins a path prefix and a key with a dot (no dot when the prefix is empty).
fn join(prefix: &str, key: impl std::fmt::Display) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Length in Unicode scalar values, the unit Discord's limits (and serenity's checks) use.
fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Pushes an error when the string at `body[key]` is longer than `max`.
fn check_max(errors: &mut Vec<FieldError>, body: &Value, prefix: &str, key: &str, max: usize) {
    if chars(&body[key]) > max {
        errors.push(FieldError::max_len(join(prefix, key), max));
    }
}

/// Pushes an error unless `body[key]` is a string of `min..=max` characters.
fn check_range(
    errors: &mut Vec<FieldError>,
    body: &Value,
    prefix: &str,
    key: &str,
    min: usize,
    max: usize,
) {
    match &body[key] {
        Value::String(s) if (min..=max).contains(&s.chars().count()) => {}
        Value::Null if min > 0 => errors.push(FieldError::required(join(prefix, key))),
        _ => errors.push(FieldError::bad_len(join(prefix, key), min, max)),
    }
}

/// Builds Discord's nested `errors` object: `{"content":{"_errors":[{"code":..,"message":..}]}}`.
pub(crate) fn errors_json(errors: &[FieldError]) -> Value {
    let mut root = Map::new();
    for error in errors {
        let mut node = &mut root;
        for segment in error.path.split('.').filter(|s| !s.is_empty()) {
            node = node
                .entry(segment)
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("error paths never end where another continues");
        }
        let list = node
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(serde_json::json!({ "code": error.code, "message": error.message }));
        }
    }
    Value::Object(root)
}

/// Checks a message body (create, edit, interaction response or webhook message).
///
/// `prefix` is the path of the message object inside the request (`""` or `"data"`).
pub(crate) fn message(body: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_max(&mut errors, body, prefix, "content", 2000);

    let embeds = array(&body["embeds"]);
    if embeds.len() > 10 {
        errors.push(FieldError::max_len(join(prefix, "embeds"), 10));
    }
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        total += embed_size(embed);
        errors.extend(self::embed(embed, &join(prefix, format!("embeds.{i}"))));
    }
    if total > 6000 {
        errors.push(FieldError::new(
            join(prefix, "embeds"),
            "MAX_EMBED_SIZE_EXCEEDED",
            "Embed size exceeds maximum size of 6000",
        ));
    }

    errors.extend(components(&body["components"], &join(prefix, "components")));
    errors
}

/// Whether a new message would have nothing to show (Discord answers `50006`).
pub(crate) fn is_empty_message(body: &Value) -> bool {
    let blank = |key: &str| match &body[key] {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    [
        "content",
        "embeds",
        "components",
        "attachments",
        "sticker_ids",
        "poll",
    ]
    .iter()
    .all(|k| blank(k))
}

/// The characters Discord counts towards the 6000-character embed total.
fn embed_size(embed: &Value) -> usize {
    let fields: usize = array(&embed["fields"])
        .iter()
        .map(|f| chars(&f["name"]) + chars(&f["value"]))
        .sum();
    chars(&embed["title"])
        + chars(&embed["description"])
        + chars(&embed["footer"]["text"])
        + chars(&embed["author"]["name"])
        + fields
}

fn embed(embed: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_max(&mut errors, embed, prefix, "title", 256);
    check_max(&mut errors, embed, prefix, "description", 4096);
    if !embed["footer"].is_null() {
        check_range(
            &mut errors,
            &embed["footer"],
            &join(prefix, "footer"),
            "text",
            1,
            2048,
        );
    }
    if !embed["author"].is_null() {
        check_range(
            &mut errors,
            &embed["author"],
            &join(prefix, "author"),
            "name",
            1,
            256,
        );
    }
    let fields = array(&embed["fields"]);
    if fields.len() > 25 {
        errors.push(FieldError::max_len(join(prefix, "fields"), 25));
    }
    for (i, field) in fields.iter().enumerate() {
        let path = join(prefix, format!("fields.{i}"));
        check_range(&mut errors, field, &path, "name", 1, 256);
        check_range(&mut errors, field, &path, "value", 1, 1024);
    }
    errors
}

/// Checks message components: action rows of buttons or one select menu.
fn components(rows: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let rows = array(rows);
    if rows.len() > 5 {
        errors.push(FieldError::max_len(prefix, 5));
    }
    let mut custom_ids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let row_path = join(prefix, i);
        if row["type"].as_u64() != Some(1) {
            errors.push(FieldError::new(
                join(&row_path, "type"),
                "UNION_TYPE_CHOICES",
                "Value of field \"type\" must be one of (1,).",
            ));
            continue;
        }
        let children = array(&row["components"]);
        let row_path = join(&row_path, "components");
        if children.is_empty() {
            errors.push(FieldError::bad_len(&row_path, 1, 5));
        } else if children.len() > 5 {
            errors.push(FieldError::max_len(&row_path, 5));
        }
        let has_select = children.iter().any(|c| is_select(c["type"].as_u64()));
        if has_select && children.len() > 1 {
            errors.push(FieldError::new(
                &row_path,
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            ));
        }
        for (j, child) in children.iter().enumerate() {
            let path = join(&row_path, j);
            match child["type"].as_u64() {
                Some(2) => errors.extend(button(child, &path)),
                kind if is_select(kind) => errors.extend(select(child, &path)),
                _ => errors.push(FieldError::new(
                    join(&path, "type"),
                    "COMPONENT_TYPE_INVALID",
                    "The specified component type is invalid in this context",
                )),
            }
            if let Some(id) = child["custom_id"].as_str() {
                if !custom_ids.insert(id.to_owned()) {
                    errors.push(FieldError::new(
                        join(&path, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    ));
                }
            }
        }
    }
    errors
}

fn is_select(kind: Option<u64>) -> bool {
    matches!(kind, Some(3 | 5 | 6 | 7 | 8))
}

fn button(button: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_max(&mut errors, button, prefix, "label", 80);
    if button["label"].is_null() && button["emoji"].is_null() {
        errors.push(FieldError::new(
            prefix,
            "BUTTON_COMPONENT_MISSING_LABEL_OR_EMOJI",
            "A button must have a label or an emoji",
        ));
    }
    match button["style"].as_u64() {
        Some(5) => {
            if button["url"].is_null() {
                errors.push(FieldError::required(join(prefix, "url")));
            }
            if !button["custom_id"].is_null() {
                errors.push(FieldError::new(
                    join(prefix, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A link button cannot have a custom id",
                ));
            }
        }
        Some(1..=4) => check_range(&mut errors, button, prefix, "custom_id", 1, 100),
        Some(6) => {}
        _ => errors.push(FieldError::new(
            join(prefix, "style"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4, 5, 6}.",
        )),
    }
    errors
}

fn select(select: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_range(&mut errors, select, prefix, "custom_id", 1, 100);
    check_max(&mut errors, select, prefix, "placeholder", 150);
    for key in ["min_values", "max_values"] {
        if select[key].as_u64().is_some_and(|n| n > 25) {
            errors.push(FieldError::new(
                join(prefix, key),
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 25.",
            ));
        }
    }
    if select["type"].as_u64() == Some(3) {
        let options = array(&select["options"]);
        if options.is_empty() || options.len() > 25 {
            errors.push(FieldError::bad_len(join(prefix, "options"), 1, 25));
        }
        for (i, option) in options.iter().enumerate() {
            let path = join(prefix, format!("options.{i}"));
            check_range(&mut errors, option, &path, "label", 1, 100);
            check_range(&mut errors, option, &path, "value", 1, 100);
            check_max(&mut errors, option, &path, "description", 100);
        }
    }
    errors
}

/// The chat-input naming rule `^[-_\p{Ll}\p{N}]{1,32}$`.
fn valid_chat_input_name(name: &str) -> bool {
    (1..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c == '-' || c == '_' || c.is_lowercase() || c.is_numeric())
}

/// Checks a bulk overwrite (`PUT .../commands`): every command, the count and unique names.
pub(crate) fn command_list(list: &Value) -> Vec<FieldError> {
    let Some(list) = list.as_array() else {
        return vec![FieldError::new("", "BASE_TYPE_ARRAY", "Must be an array.")];
    };
    let mut errors = Vec::new();
    if list.len() > 100 {
        errors.push(FieldError::max_len("", 100));
    }
    let mut seen = HashSet::new();
    for (i, command) in list.iter().enumerate() {
        errors.extend(self::command(command, &i.to_string()));
        let key = (
            command["type"].as_u64().unwrap_or(1),
            command["name"].as_str().unwrap_or(""),
        );
        if !seen.insert(key) {
            errors.push(FieldError::new(
                join(&i.to_string(), "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            ));
        }
    }
    errors
}

/// Checks one application command.
pub(crate) fn command(command: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match command["type"].as_u64().unwrap_or(1) {
        1 => {
            if !command["name"].as_str().is_some_and(valid_chat_input_name) {
                errors.push(FieldError::new(
                    join(prefix, "name"),
                    "APPLICATION_COMMAND_INVALID_NAME",
                    "Command name is invalid",
                ));
            }
            check_range(&mut errors, command, prefix, "description", 1, 100);
            errors.extend(options(&command["options"], &join(prefix, "options")));
        }
        2 | 3 => check_range(&mut errors, command, prefix, "name", 1, 32),
        _ => errors.push(FieldError::new(
            join(prefix, "type"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4}.",
        )),
    }
    errors
}

fn options(options: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let options = array(options);
    if options.len() > 25 {
        errors.push(FieldError::max_len(prefix, 25));
    }
    let mut names = HashSet::new();
    let mut optional_seen = false;
    for (i, option) in options.iter().enumerate() {
        let path = join(prefix, i);
        let name = option["name"].as_str().unwrap_or("");
        if !valid_chat_input_name(name) {
            errors.push(FieldError::new(
                join(&path, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                "Command name is invalid",
            ));
        }
        if !names.insert(name) {
            errors.push(FieldError::new(
                join(&path, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            ));
        }
        check_range(&mut errors, option, &path, "description", 1, 100);

        let kind = option["type"].as_u64().unwrap_or(0);
        if matches!(kind, 1 | 2) {
            errors.extend(self::options(&option["options"], &join(&path, "options")));
            continue;
        }
        let required = option["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            errors.push(FieldError::new(
                join(&path, "required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            ));
        }
        optional_seen |= !required;

        let choices = array(&option["choices"]);
        if choices.len() > 25 {
            errors.push(FieldError::max_len(join(&path, "choices"), 25));
        }
        if !choices.is_empty() && option["autocomplete"].as_bool() == Some(true) {
            errors.push(FieldError::new(
                join(&path, "autocomplete"),
                "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                "Autocomplete cannot be set when choices are present",
            ));
        }
        errors.extend(self::choices(choices, &join(&path, "choices")));
    }
    errors
}

/// Checks option choices (also the `choices` of an autocomplete result).
fn choices(choices: &[Value], prefix: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, choice) in choices.iter().enumerate() {
        let path = join(prefix, i);
        check_range(&mut errors, choice, &path, "name", 1, 100);
        match &choice["value"] {
            Value::String(_) => check_max(&mut errors, choice, &path, "value", 100),
            Value::Number(_) => {}
            _ => errors.push(FieldError::required(join(&path, "value"))),
        }
    }
    errors
}

/// Checks an interaction callback body against the interaction's type
/// (2 command, 3 component, 4 autocomplete, 5 modal submit).
pub(crate) fn callback(body: &Value, interaction_kind: u64) -> Vec<FieldError> {
    let allowed: &[u64] = match interaction_kind {
        2 => &[4, 5, 9],
        3 => &[4, 5, 6, 7, 9],
        4 => &[8],
        _ => &[4, 5, 6, 7],
    };
    let Some(kind) = body["type"].as_u64() else {
        return vec![FieldError::required("type")];
    };
    if !allowed.contains(&kind) {
        return vec![FieldError::new(
            "type",
            "INTERACTION_RESPONSE_TYPE_INVALID",
            format!("Response type {kind} is not valid for interaction type {interaction_kind}"),
        )];
    }
    let data = &body["data"];
    match kind {
        4 | 7 => message(data, "data"),
        8 => {
            let list = array(&data["choices"]);
            let mut errors = Vec::new();
            if list.len() > 25 {
                errors.push(FieldError::max_len("data.choices", 25));
            }
            errors.extend(choices(list, "data.choices"));
            errors
        }
        9 => modal(data),
        _ => Vec::new(),
    }
}

fn modal(data: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_range(&mut errors, data, "data", "custom_id", 1, 100);
    check_range(&mut errors, data, "data", "title", 1, 45);
    let rows = array(&data["components"]);
    if rows.is_empty() || rows.len() > 5 {
        errors.push(FieldError::bad_len("data.components", 1, 5));
    }
    for (i, row) in rows.iter().enumerate() {
        let children = array(&row["components"]);
        let path = format!("data.components.{i}.components");
        if row["type"].as_u64() != Some(1) || children.len() != 1 {
            errors.push(FieldError::new(
                &path,
                "MODAL_ROW_INVALID",
                "A modal row must hold exactly one text input",
            ));
            continue;
        }
        let input = &children[0];
        let path = format!("{path}.0");
        if input["type"].as_u64() != Some(4) {
            errors.push(FieldError::new(
                join(&path, "type"),
                "COMPONENT_TYPE_INVALID",
                "The specified component type is invalid in this context",
            ));
        }
        check_range(&mut errors, input, &path, "custom_id", 1, 100);
        check_range(&mut errors, input, &path, "label", 1, 45);
        check_max(&mut errors, input, &path, "placeholder", 100);
        check_max(&mut errors, input, &path, "value", 4000);
    }
    errors
}

/// Why a message payload could ping someone, or `None` when it cannot.
///
/// Only payloads that set `content` or `embeds` are checked. Safe means `allowed_mentions` is
/// present with `parse: []`, no `users`/`roles`, and `replied_user` absent or false.
pub(crate) fn unsafe_mentions(payload: &Value) -> Option<String> {
    if payload["content"].is_null() && payload["embeds"].is_null() {
        return None;
    }
    let mentions = &payload["allowed_mentions"];
    if !mentions.is_object() {
        return Some("allowed_mentions is missing".to_owned());
    }
    if mentions["parse"].as_array().is_none_or(|p| !p.is_empty()) {
        return Some(format!(
            "allowed_mentions.parse is {} (want [])",
            mentions["parse"]
        ));
    }
    for key in ["users", "roles"] {
        if !array(&mentions[key]).is_empty() {
            return Some(format!("allowed_mentions.{key} is {}", mentions[key]));
        }
    }
    if mentions["replied_user"].as_bool() == Some(true) {
        return Some("allowed_mentions.replied_user is true".to_owned());
    }
    None
}
