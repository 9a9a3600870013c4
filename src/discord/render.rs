//! From a core [`Reply`] to serenity builders: embeds, buttons and the messages or
//! interaction responses that carry them.
//!
//! Only mapping happens here; what to say was decided by the core, within Discord's limits.
//! Every builder made here carries empty allowed mentions, so an answer quoting `@everyone`
//! or a user id pings nobody. Buttons carry an [`Action`] in their custom id, which is all
//! the state a click needs.

use serenity::all::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, CreateSelectMenu, CreateSelectMenuKind, CreateSelectMenuOption, ReactionType,
};

use super::commands::SharedAspect;
use crate::knowledge::Knowledge;
use crate::reply::{limits, shorten, Embed, Message, Reply};

/// Discord's limit on a component's custom id.
const CUSTOM_ID: usize = 100;
/// Discord's limit on buttons in one row.
const ROW: usize = 5;
/// Discord's limits on a string select: options, and characters in a label or value.
const SELECT_OPTIONS: usize = 25;
const SELECT_TEXT: usize = 100;
/// Entries per `/topics` page.
pub const TOPICS_PER_PAGE: usize = 10;
/// Characters at most of one shared aspect's line in `/help`, so many fit one embed.
const HELP_LINE: usize = 300;
/// The embed colour of answers (Discord blurple), so they read as the bot's.
const COLOUR: u32 = 0x5865F2;

/// What a button does when clicked, encoded in its custom id as `qa:<verb>:<args>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Show the answer for an entry, or one aspect of it (`qa:show:<entry>:<aspect or ->`).
    Show {
        /// The entry id.
        entry: String,
        /// The aspect id.
        aspect: Option<String>,
    },
    /// Delete the message the button is on (`qa:delete:<asker id>`).
    Delete {
        /// Who asked: they (or a moderator) may delete it.
        asker: u64,
    },
    /// Show page `page` (from 0) of `/topics` (`qa:topics:<page>`).
    Topics {
        /// The page.
        page: usize,
    },
    /// Rate the answer the button is under (`qa:vote:<up or down>:<entry>:<aspect or ->`);
    /// a 👎 goes to the misses log with the entry, so the owner sees which answers miss.
    Vote {
        /// 👍 or 👎.
        up: bool,
        /// The entry id of the answer.
        entry: String,
        /// The aspect id of the answer.
        aspect: Option<String>,
    },
    /// The entry picked for "Add as alternate question…" on message `message`
    /// (`qa:alt:<message id>`, a select menu whose value is the entry id).
    Alternate {
        /// The message whose text becomes an alternate question.
        message: u64,
    },
    /// Show one aspect of a whole comparison, to the clicker only
    /// (`qa:aspect:<entry>:<aspect>` buttons, or `qa:aspect:<entry>:-`, a select menu whose
    /// value is the aspect id).
    Aspect {
        /// The comparison's entry id.
        entry: String,
        /// The aspect id; `None` for the menu, whose picked value says it.
        aspect: Option<String>,
    },
}

impl Action {
    /// The custom id; `None` when it would exceed Discord's 100 characters.
    pub fn custom_id(&self) -> Option<String> {
        let id = match self {
            Action::Show { entry, aspect } => {
                format!("qa:show:{entry}:{}", aspect.as_deref().unwrap_or("-"))
            }
            Action::Delete { asker } => format!("qa:delete:{asker}"),
            Action::Topics { page } => format!("qa:topics:{page}"),
            Action::Vote { up, entry, aspect } => format!(
                "qa:vote:{}:{entry}:{}",
                if *up { "up" } else { "down" },
                aspect.as_deref().unwrap_or("-")
            ),
            Action::Alternate { message } => format!("qa:alt:{message}"),
            Action::Aspect { entry, aspect } => {
                format!("qa:aspect:{entry}:{}", aspect.as_deref().unwrap_or("-"))
            }
        };
        (id.len() <= CUSTOM_ID).then_some(id)
    }

    /// Reads a custom id; `None` for anything qabot did not make.
    pub fn parse(custom_id: &str) -> Option<Action> {
        let parts: Vec<&str> = custom_id.split(':').collect();
        let aspect = |a: &str| (a != "-").then(|| a.to_string());
        let action = match parts.as_slice() {
            ["qa", "show", entry, a] if !entry.is_empty() && !a.is_empty() => Action::Show {
                entry: entry.to_string(),
                aspect: aspect(a),
            },
            ["qa", "delete", asker] => Action::Delete {
                asker: asker.parse().ok()?,
            },
            ["qa", "topics", page] => Action::Topics {
                page: page.parse().ok()?,
            },
            ["qa", "vote", vote @ ("up" | "down"), entry, a]
                if !entry.is_empty() && !a.is_empty() =>
            {
                Action::Vote {
                    up: *vote == "up",
                    entry: entry.to_string(),
                    aspect: aspect(a),
                }
            }
            ["qa", "alt", message] => Action::Alternate {
                message: message.parse().ok()?,
            },
            ["qa", "aspect", entry, a] if !entry.is_empty() && !a.is_empty() => Action::Aspect {
                entry: entry.to_string(),
                aspect: aspect(a),
            },
            _ => return None,
        };
        Some(action)
    }
}

/// Allowed mentions that ping nobody: for every message and interaction response.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// A core embed as a serenity embed.
pub fn embed(embed: &Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new().colour(COLOUR);
    if !embed.title.is_empty() {
        out = out.title(&embed.title);
    }
    if !embed.description.is_empty() {
        out = out.description(&embed.description);
    }
    for field in &embed.fields {
        out = out.field(&field.name, &field.value, false);
    }
    if let Some(footer) = &embed.footer {
        out = out.footer(CreateEmbedFooter::new(footer));
    }
    out
}

/// The 🗑️ button that lets `asker` (or a moderator) delete the message it is on.
fn delete_button(asker: u64) -> Option<CreateButton> {
    let id = Action::Delete { asker }.custom_id()?;
    Some(
        CreateButton::new(id)
            .emoji(ReactionType::Unicode("🗑️".into()))
            .style(ButtonStyle::Secondary),
    )
}

/// The answer that 👍/👎 buttons rate: entry and aspect ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rated {
    /// The entry id.
    pub entry: String,
    /// The aspect id, when the answer is one aspect of a comparison.
    pub aspect: Option<String>,
}

/// The 👍 and 👎 buttons for `rated`; none if their ids would not fit.
fn vote_buttons(rated: &Rated) -> Vec<CreateButton> {
    [(true, "👍"), (false, "👎")]
        .into_iter()
        .filter_map(|(up, emoji)| {
            let id = Action::Vote {
                up,
                entry: rated.entry.clone(),
                aspect: rated.aspect.clone(),
            }
            .custom_id()?;
            Some(
                CreateButton::new(id)
                    .emoji(ReactionType::Unicode(emoji.into()))
                    .style(ButtonStyle::Secondary),
            )
        })
        .collect()
}

/// A whole comparison's aspects, offered under its answer so a reader can open one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AspectMenu {
    /// The comparison's entry id.
    pub entry: String,
    /// `(aspect id, title)`, in the entry's order.
    pub aspects: Vec<(String, String)>,
}

/// What goes under a reply besides its "did you mean" choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct Under<'a> {
    /// Who asked: they (or a moderator) may delete it with 🗑️.
    pub asker: u64,
    /// What 👍/👎 rate; no vote buttons when `None`.
    pub rated: Option<&'a Rated>,
    /// A whole comparison's aspects, offered one by one.
    pub aspects: Option<&'a AspectMenu>,
}

impl Under<'_> {
    /// Only the 🗑️ button for `asker`.
    pub fn asker(asker: u64) -> Under<'static> {
        Under {
            asker,
            rated: None,
            aspects: None,
        }
    }
}

/// The aspects of `menu` as one row: a button each when they fit in a row (one click, every
/// aspect in view), else a select menu of at most 25. Ids that do not fit are left out.
fn aspect_row(menu: &AspectMenu) -> Option<CreateActionRow> {
    let fits = |id: &str| !id.is_empty() && id.chars().count() <= SELECT_TEXT;
    let aspects = menu.aspects.iter().filter(|(id, _)| fits(id));
    if menu.aspects.len() <= ROW {
        let buttons: Vec<CreateButton> = aspects
            .filter_map(|(id, title)| {
                let custom_id = Action::Aspect {
                    entry: menu.entry.clone(),
                    aspect: Some(id.clone()),
                }
                .custom_id()?;
                Some(
                    CreateButton::new(custom_id)
                        .label(shorten(title, limits::BUTTON_LABEL))
                        .style(ButtonStyle::Secondary),
                )
            })
            .collect();
        return (!buttons.is_empty()).then_some(CreateActionRow::Buttons(buttons));
    }
    let options: Vec<CreateSelectMenuOption> = aspects
        .take(SELECT_OPTIONS)
        .map(|(id, title)| CreateSelectMenuOption::new(shorten(title, SELECT_TEXT), id))
        .collect();
    let custom_id = Action::Aspect {
        entry: menu.entry.clone(),
        aspect: None,
    }
    .custom_id()?;
    let menu = CreateSelectMenu::new(custom_id, CreateSelectMenuKind::String { options })
        .placeholder("Read one aspect");
    Some(CreateActionRow::SelectMenu(menu))
}

/// The component rows under one message of `reply`: on the first message, the "did you
/// mean" choices and a whole comparison's aspects; then, unless the message is `private`
/// (ephemeral: only the asker sees it and can dismiss it), a row with 👍/👎 (first message of
/// a rated answer) and 🗑️.
fn rows(reply: &Reply, first: bool, under: Under<'_>, private: bool) -> Vec<CreateActionRow> {
    let mut rows = Vec::new();
    if first {
        let choices: Vec<CreateButton> = reply
            .choices
            .iter()
            .filter_map(|c| {
                let id = Action::Show {
                    entry: c.entry.clone(),
                    aspect: c.aspect.clone(),
                }
                .custom_id()?;
                Some(
                    CreateButton::new(id)
                        .label(c.label.as_str())
                        .style(ButtonStyle::Primary),
                )
            })
            .take(ROW)
            .collect();
        if !choices.is_empty() {
            rows.push(CreateActionRow::Buttons(choices));
        }
        rows.extend(under.aspects.and_then(aspect_row));
    }
    if private {
        return rows;
    }
    let mut last: Vec<CreateButton> = match under.rated {
        Some(rated) if first => vote_buttons(rated),
        _ => Vec::new(),
    };
    last.extend(delete_button(under.asker));
    if !last.is_empty() {
        rows.push(CreateActionRow::Buttons(last));
    }
    rows
}

/// A row holding only the 🗑️ button.
fn delete_row(asker: u64) -> Option<CreateActionRow> {
    delete_button(asker).map(|b| CreateActionRow::Buttons(vec![b]))
}

/// The messages that post `reply` in a channel, each with its components (see [`Under`])
/// and no pings. The caller makes the first one a Discord reply to the question.
pub fn channel_messages(reply: &Reply, under: Under<'_>) -> Vec<CreateMessage> {
    reply
        .messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let mut out = CreateMessage::new()
                .embeds(message.embeds.iter().map(embed).collect())
                .components(rows(reply, i == 0, under, false))
                .allowed_mentions(no_pings());
            if let Some(content) = &message.content {
                out = out.content(content);
            }
            out
        })
        .collect()
}

/// A plain note as a channel message (the repeat link), with its 🗑️ button and no pings.
pub fn channel_note(text: &str, asker: u64) -> CreateMessage {
    CreateMessage::new()
        .content(shorten(text, limits::CONTENT))
        .components(delete_row(asker).into_iter().collect())
        .allowed_mentions(no_pings())
}

/// `reply` as an interaction response (its first message) and followups (the rest), with
/// the components [`Under`] says. Ephemeral responses (seen only by the asker, who can
/// dismiss them) get no 🗑️ or vote buttons.
pub fn interaction_messages(
    reply: &Reply,
    under: Under<'_>,
    ephemeral: bool,
) -> (
    CreateInteractionResponseMessage,
    Vec<CreateInteractionResponseFollowup>,
) {
    let (first, followups) = interaction_parts(reply, under, ephemeral);
    (first.ephemeral(ephemeral), followups)
}

/// `reply` as the new content of the message a component is on (an UPDATE_MESSAGE
/// response), headed by `note` (the message's old text is replaced, never kept), and
/// followups for the rest; `private` when that message is ephemeral.
pub fn updated_message(
    reply: &Reply,
    under: Under<'_>,
    private: bool,
    note: &str,
) -> (
    CreateInteractionResponseMessage,
    Vec<CreateInteractionResponseFollowup>,
) {
    let (first, followups) = interaction_parts(reply, under, private);
    let own = reply.messages.first().and_then(|m| m.content.as_deref());
    let content = match own {
        Some(text) => format!("{note}\n\n{text}"),
        None => note.to_string(),
    };
    (first.content(shorten(&content, limits::CONTENT)), followups)
}

/// The first message of `reply` (without flags: a new response and an update differ there)
/// and the followups, with their components; `private` messages get no 🗑️ or votes.
fn interaction_parts(
    reply: &Reply,
    under: Under<'_>,
    private: bool,
) -> (
    CreateInteractionResponseMessage,
    Vec<CreateInteractionResponseFollowup>,
) {
    let empty = Message::default();
    let first = reply.messages.first().unwrap_or(&empty);
    let mut response = CreateInteractionResponseMessage::new()
        .embeds(first.embeds.iter().map(embed).collect())
        .components(rows(reply, true, under, private))
        .allowed_mentions(no_pings());
    if let Some(content) = &first.content {
        response = response.content(content);
    }
    let followups = reply
        .messages
        .iter()
        .skip(1)
        .map(|message| {
            let mut out = CreateInteractionResponseFollowup::new()
                .embeds(message.embeds.iter().map(embed).collect())
                .components(rows(reply, false, under, private))
                .ephemeral(private)
                .allowed_mentions(no_pings());
            if let Some(content) = &message.content {
                out = out.content(content);
            }
            out
        })
        .collect();
    (response, followups)
}

/// A short ephemeral note ("slow down", refusals, errors) as an interaction response.
pub fn ephemeral_note(text: &str) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .content(shorten(text, limits::CONTENT))
        .ephemeral(true)
        .allowed_mentions(no_pings())
}

/// The ephemeral "which entry?" menu of "Add as alternate question…" for `question` (the text
/// of message `message`): one option per `(entry id, label)` pair, at most 25 (Discord's limit);
/// pairs whose id does not fit an option value are left out.
pub fn alternate_picker(
    message: u64,
    question: &str,
    entries: &[(String, String)],
) -> CreateInteractionResponseMessage {
    let options: Vec<CreateSelectMenuOption> = entries
        .iter()
        .filter(|(id, _)| !id.is_empty() && id.chars().count() <= SELECT_TEXT)
        .take(SELECT_OPTIONS)
        .map(|(id, label)| CreateSelectMenuOption::new(shorten(label, SELECT_TEXT), id))
        .collect();
    let text = format!(
        "Add this as an alternate question of which entry? It is saved for the owner to review.\n> {}",
        shorten(question, 300)
    );
    let mut out = ephemeral_note(&text);
    if let (false, Some(id)) = (
        options.is_empty(),
        Action::Alternate { message }.custom_id(),
    ) {
        let menu = CreateSelectMenu::new(id, CreateSelectMenuKind::String { options })
            .placeholder("Choose the entry");
        out = out.components(vec![CreateActionRow::SelectMenu(menu)]);
    }
    out
}

/// How many `/topics` pages `knowledge` fills.
pub fn topic_pages(knowledge: &Knowledge) -> usize {
    knowledge.entries.len().div_ceil(TOPICS_PER_PAGE).max(1)
}

/// Page `page` of `/topics` (clamped to the last page): an embed listing ten entries, with
/// previous and next buttons.
pub fn topics_page(knowledge: &Knowledge, page: usize) -> CreateInteractionResponseMessage {
    let pages = topic_pages(knowledge);
    let page = page.min(pages - 1);
    let lines: Vec<String> = knowledge
        .entries
        .iter()
        .skip(page * TOPICS_PER_PAGE)
        .take(TOPICS_PER_PAGE)
        .map(|e| {
            let commands: Vec<String> = e.aspects.iter().map(|a| format!("`/{}`", a.id)).collect();
            let line = if commands.is_empty() {
                format!("• {}", e.title())
            } else {
                format!("• **{}**: {}", e.title(), commands.join(" "))
            };
            shorten(&line, limits::DESCRIPTION / TOPICS_PER_PAGE)
        })
        .collect();
    let listing = CreateEmbed::new()
        .colour(COLOUR)
        .title(format!("What I can answer ({}/{pages})", page + 1))
        .description(lines.join("\n"))
        .footer(CreateEmbedFooter::new(
            "Ask with /ask, by mentioning me, or in a DM",
        ));
    let button = |label: &str, target: usize, disabled: bool| {
        CreateButton::new(
            Action::Topics { page: target }
                .custom_id()
                .unwrap_or_default(),
        )
        .label(label)
        .style(ButtonStyle::Secondary)
        .disabled(disabled)
    };
    let nav = CreateActionRow::Buttons(vec![
        button("◀ Previous", page.saturating_sub(1), page == 0),
        button("Next ▶", page + 1, page + 1 >= pages),
    ]);
    CreateInteractionResponseMessage::new()
        .embed(listing)
        .components(vec![nav])
        .allowed_mentions(no_pings())
}

/// What `/help` says; `feedback` when answers carry 👍/👎 buttons; `shared`, the aspect
/// commands several comparisons share, each with the comparison it answers without `topic`.
pub fn help(
    prefix: &str,
    feedback: bool,
    shared: &[SharedAspect],
) -> CreateInteractionResponseMessage {
    let mut ways = vec![
        "• `/ask question:` with autocomplete as you type".to_string(),
        "• mention me with your question, or ask me in a DM".to_string(),
    ];
    if !prefix.is_empty() {
        ways.push(format!("• start a message with `{}`", prefix.trim_end()));
    }
    ways.push("• `/topics` lists everything I can answer; each comparison aspect has its own command (e.g. `/learning-curve`)".into());
    ways.push("• 🗑️ under an answer deletes it (for the asker and moderators)".into());
    if feedback {
        ways.push("• 👍/👎 under an answer tell the owner whether it helped".into());
    }
    if !shared.is_empty() {
        ways.push(
            "\nSome aspects are in several comparisons; their command answers the first unless you pick `topic:`".into(),
        );
        for aspect in shared {
            let (first, others) = aspect
                .comparisons
                .split_first()
                .map_or(("", &[][..]), |(f, o)| (f.as_str(), o));
            let line = format!(
                "• `/{}`: **{first}**; with `topic:` {}",
                aspect.id,
                others.join(", ")
            );
            ways.push(shorten(&line, HELP_LINE));
        }
    }
    let text = CreateEmbed::new()
        .colour(COLOUR)
        .title("How to ask me")
        .description(shorten(&ways.join("\n"), limits::DESCRIPTION));
    CreateInteractionResponseMessage::new()
        .embed(text)
        .ephemeral(true)
        .allowed_mentions(no_pings())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::engine;
    use serde_json::Value;

    fn json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    fn custom_ids(message: &Value) -> Vec<String> {
        message["components"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn actions_round_trip_and_refuse_foreign_ids() {
        for action in [
            Action::Show {
                entry: "django-vs-flask".into(),
                aspect: Some("learning-curve".into()),
            },
            Action::Show {
                entry: "what-is-django".into(),
                aspect: None,
            },
            Action::Delete { asker: u64::MAX },
            Action::Topics { page: 3 },
            Action::Vote {
                up: true,
                entry: "django-vs-flask".into(),
                aspect: Some("learning-curve".into()),
            },
            Action::Vote {
                up: false,
                entry: "what-is-django".into(),
                aspect: None,
            },
            Action::Alternate { message: 17 },
            Action::Aspect {
                entry: "django-vs-flask".into(),
                aspect: Some("performance".into()),
            },
            Action::Aspect {
                entry: "django-vs-flask".into(),
                aspect: None,
            },
        ] {
            let id = action.custom_id().unwrap();
            assert_eq!(Action::parse(&id), Some(action), "{id}");
        }
        for foreign in [
            "",
            "qa",
            "qa:show:x",
            "other:delete:1",
            "qa:delete:me",
            "qa:topics:1:2",
            "qa:vote:sideways:e:-",
            "qa:vote:up::-",
            "qa:vote:up:e",
            "qa:alt:x",
            "qa:aspect:e",
            "qa:aspect::-",
        ] {
            assert_eq!(Action::parse(foreign), None, "{foreign}");
        }
        let long = Action::Show {
            entry: "e".repeat(95),
            aspect: None,
        };
        assert_eq!(long.custom_id(), None);
    }

    fn learning_curve() -> Rated {
        Rated {
            entry: "django-vs-flask".into(),
            aspect: Some("learning-curve".into()),
        }
    }

    #[test]
    fn answers_carry_embeds_a_delete_button_and_no_pings() {
        let engine = engine();
        let reply = engine
            .answer_for("django-vs-flask", Some("learning-curve"))
            .unwrap();
        let messages = channel_messages(&reply, Under::asker(42));
        assert_eq!(messages.len(), 1);
        let m = json(&messages[0]);
        assert!(m["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Learning curve"));
        assert_eq!(m["embeds"][0]["fields"].as_array().unwrap().len(), 2);
        assert_eq!(custom_ids(&m), ["qa:delete:42"]);
        assert_eq!(m["allowed_mentions"]["parse"], serde_json::json!([]));
    }

    #[test]
    fn rated_answers_get_votes_in_the_delete_row_on_the_first_message_only() {
        let reply = Reply {
            status: crate::Status::Answered,
            messages: vec![Message::default(), Message::default()],
            choices: Vec::new(),
        };
        let rated = learning_curve();
        let messages: Vec<Value> = channel_messages(
            &reply,
            Under {
                asker: 42,
                rated: Some(&rated),
                aspects: None,
            },
        )
        .iter()
        .map(json)
        .collect();
        assert_eq!(
            custom_ids(&messages[0]),
            [
                "qa:vote:up:django-vs-flask:learning-curve",
                "qa:vote:down:django-vs-flask:learning-curve",
                "qa:delete:42"
            ]
        );
        assert_eq!(messages[0]["components"].as_array().unwrap().len(), 1);
        assert_eq!(custom_ids(&messages[1]), ["qa:delete:42"]);
        let (response, followups) = interaction_messages(
            &reply,
            Under {
                asker: 42,
                rated: Some(&rated),
                aspects: None,
            },
            false,
        );
        assert_eq!(custom_ids(&json(&response)).len(), 3);
        assert_eq!(custom_ids(&json(&followups[0])), ["qa:delete:42"]);
        let (private, _) = interaction_messages(
            &reply,
            Under {
                asker: 42,
                rated: Some(&rated),
                aspects: None,
            },
            true,
        );
        assert!(
            custom_ids(&json(&private)).is_empty(),
            "ephemeral: no buttons"
        );
        let too_long = Rated {
            entry: "e".repeat(95),
            aspect: None,
        };
        let m = json(
            &channel_messages(
                &reply,
                Under {
                    asker: 42,
                    rated: Some(&too_long),
                    aspects: None,
                },
            )[0],
        );
        assert_eq!(
            custom_ids(&m),
            ["qa:delete:42"],
            "ids over 100 are left out"
        );
    }

    #[test]
    fn the_alternate_picker_is_an_ephemeral_select_of_at_most_25() {
        let entries: Vec<(String, String)> = (0..30)
            .map(|i| (format!("entry-{i}"), format!("Entry {i}")))
            .chain([("x".repeat(101), "too long".to_string())])
            .collect();
        let m = json(&alternate_picker(99, "how do I deploy?", &entries));
        assert_eq!(m["flags"], 64);
        assert!(m["content"].as_str().unwrap().contains("how do I deploy?"));
        let menu = &m["components"][0]["components"][0];
        assert_eq!(menu["custom_id"], "qa:alt:99");
        let options = menu["options"].as_array().unwrap();
        assert_eq!(options.len(), 25);
        assert_eq!(options[0]["value"], "entry-0");
        assert_eq!(options[0]["label"], "Entry 0");
        let none = json(&alternate_picker(99, "q", &[]));
        assert!(none["components"].is_null() || none["components"] == serde_json::json!([]));
    }

    #[test]
    fn suggestions_become_show_buttons() {
        // Built by hand: which questions the matcher finds ambiguous is not this module's
        // concern.
        let reply = Reply {
            status: crate::Status::Suggested,
            messages: vec![Message {
                content: Some("Did you mean:".into()),
                embeds: Vec::new(),
            }],
            choices: vec![crate::reply::Choice {
                label: "Django vs Flask — Learning curve".into(),
                entry: "django-vs-flask".into(),
                aspect: Some("learning-curve".into()),
            }],
        };
        let m = json(&channel_messages(&reply, Under::asker(7))[0]);
        assert_eq!(
            custom_ids(&m),
            ["qa:show:django-vs-flask:learning-curve", "qa:delete:7"]
        );
        let (response, _) = interaction_messages(&reply, Under::asker(7), true);
        let r = json(&response);
        assert_eq!(custom_ids(&r), ["qa:show:django-vs-flask:learning-curve"]);
        assert_eq!(r["flags"], 64);
    }

    fn menu(n: usize) -> AspectMenu {
        AspectMenu {
            entry: "x-vs-y".into(),
            aspects: (0..n)
                .map(|i| (format!("aspect-{i}"), format!("Aspect {i}")))
                .collect(),
        }
    }

    #[test]
    fn a_whole_comparison_offers_its_aspects_as_buttons_or_a_menu() {
        let reply = Reply {
            status: crate::Status::Answered,
            messages: vec![Message::default(), Message::default()],
            choices: Vec::new(),
        };
        // (aspects, component type of the aspect row, ids in it)
        let cases: [(usize, u64, Vec<&str>); 3] = [
            (1, 2, vec!["qa:aspect:x-vs-y:aspect-0"]),
            (
                5,
                2,
                vec![
                    "qa:aspect:x-vs-y:aspect-0",
                    "qa:aspect:x-vs-y:aspect-1",
                    "qa:aspect:x-vs-y:aspect-2",
                    "qa:aspect:x-vs-y:aspect-3",
                    "qa:aspect:x-vs-y:aspect-4",
                ],
            ),
            (30, 3, vec!["qa:aspect:x-vs-y:-"]),
        ];
        for (n, kind, ids) in cases {
            let aspects = menu(n);
            let under = Under {
                asker: 42,
                rated: None,
                aspects: Some(&aspects),
            };
            let messages: Vec<Value> = channel_messages(&reply, under).iter().map(json).collect();
            let row = &messages[0]["components"][0]["components"];
            assert_eq!(row[0]["type"], kind, "{n} aspects");
            let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            want.push("qa:delete:42".into());
            assert_eq!(custom_ids(&messages[0]), want, "{n} aspects");
            if kind == 3 {
                let options = row[0]["options"].as_array().unwrap();
                assert_eq!(options.len(), 25, "Discord's limit");
                assert_eq!(options[0]["value"], "aspect-0");
                assert_eq!(options[0]["label"], "Aspect 0");
            }
            assert_eq!(
                custom_ids(&messages[1]),
                ["qa:delete:42"],
                "first message only"
            );
            let (private, _) = interaction_messages(&reply, under, true);
            let private = json(&private);
            assert_eq!(custom_ids(&private).len(), ids.len(), "kept when private");
        }
    }

    #[test]
    fn an_update_replaces_the_text_and_has_no_flags() {
        let reply = Reply {
            status: crate::Status::Answered,
            messages: vec![Message {
                content: None,
                embeds: vec![Embed {
                    title: "Chosen".into(),
                    ..Embed::default()
                }],
            }],
            choices: Vec::new(),
        };
        let (update, followups) =
            updated_message(&reply, Under::asker(3), false, "You picked **Chosen**.");
        let update = json(&update);
        assert_eq!(update["content"], "You picked **Chosen**.");
        assert_eq!(update["embeds"][0]["title"], "Chosen");
        assert!(update["flags"].is_null(), "{update}");
        assert_eq!(custom_ids(&update), ["qa:delete:3"]);
        assert_eq!(update["allowed_mentions"]["parse"], serde_json::json!([]));
        assert!(followups.is_empty());
        let (private, _) = updated_message(&reply, Under::asker(3), true, "x");
        assert!(custom_ids(&json(&private)).is_empty());
    }

    #[test]
    fn long_replies_become_followups() {
        let text = "word ".repeat(5_000);
        let reply = Reply {
            status: crate::Status::Answered,
            messages: vec![
                Message {
                    content: Some(text[..1_000].to_string()),
                    embeds: Vec::new(),
                };
                3
            ],
            choices: Vec::new(),
        };
        let (response, followups) = interaction_messages(&reply, Under::asker(1), false);
        assert_eq!(followups.len(), 2);
        for value in std::iter::once(json(&response)).chain(followups.iter().map(json)) {
            assert_eq!(value["allowed_mentions"]["parse"], serde_json::json!([]));
            assert_eq!(custom_ids(&value), ["qa:delete:1"]);
        }
    }

    #[test]
    fn topics_are_paged_by_ten() {
        let engine = engine();
        let k = engine.knowledge();
        let pages = topic_pages(k);
        assert_eq!(pages, k.entries.len().div_ceil(10));
        let first = json(&topics_page(k, 0));
        let lines = first["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .lines()
            .count();
        assert_eq!(lines, k.entries.len().min(10));
        let nav = &first["components"][0]["components"];
        assert_eq!(nav[0]["disabled"], true, "no previous page");
        let last = json(&topics_page(k, usize::MAX));
        let nav = &last["components"][0]["components"];
        assert_eq!(nav[1]["disabled"], true, "no next page");
    }
}
