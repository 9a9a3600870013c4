//! The slash commands: `/ask`, `/topics`, `/help` and one per aspect id in the knowledge,
//! checked against Discord's rules before anything is sent, and registered only when the set
//! Discord has differs.
//!
//! The set is plain data ([`CommandDef`]) so it can be validated, compared with what Discord
//! returns, and tested without a connection; only [`CommandDef::builder`] and [`register`]
//! touch serenity.

use serenity::all::{
    Command, CommandOptionType, CommandType, CreateCommand, CreateCommandOption, GuildId, Http,
    Permissions,
};

use crate::knowledge::Knowledge;
use crate::reply::shorten;

/// `/ask`.
pub const ASK: &str = "ask";
/// `/ask`'s option.
pub const QUESTION: &str = "question";
/// `/topics`.
pub const TOPICS: &str = "topics";
/// `/help`.
pub const HELP: &str = "help";
/// The option choosing the comparison of an aspect shared by several.
pub const TOPIC: &str = "topic";
/// `/reload`: reads the knowledge again (admins only).
pub const RELOAD: &str = "reload";
/// MANAGE_GUILD: who sees [`RELOAD`] by default (the handler checks it again, since server
/// admins can change who sees a command).
pub const MANAGE_SERVER: u64 = 1 << 5;
/// The message context-menu command (a message's "Apps" menu) that proposes its text as an
/// alternate question of an entry.
pub const ADD_ALTERNATE: &str = "Add as alternate question…";
/// MANAGE_MESSAGES: who sees [`ADD_ALTERNATE`] by default (the handler checks it again, since
/// server admins can change who sees a command).
pub const MODERATOR: u64 = 1 << 13;

/// Discord's limits on application commands.
mod rules {
    pub const NAME: usize = 32;
    pub const DESCRIPTION: usize = 100;
    pub const OPTIONS: usize = 25;
    pub const CHOICES: usize = 25;
    pub const CHOICE_NAME: usize = 100;
    pub const CHOICE_VALUE: usize = 100;
    pub const COMMANDS: usize = 100;
    /// Name, description and every option's and choice's name, description and value.
    pub const TOTAL: usize = 4_000;
}

/// The kinds of application command qabot registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A slash command.
    ChatInput,
    /// An entry in a message's "Apps" context menu.
    Message,
}

/// A command as qabot defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandDef {
    /// Slash command or message context-menu command.
    pub kind: Kind,
    /// Slash commands: 1 to 32 lower-case letters, digits, `-` or `_`; context-menu commands:
    /// 1 to 32 characters of any kind.
    pub name: String,
    /// Slash commands: 1 to 100 characters; context-menu commands: empty.
    pub description: String,
    /// String options (the only kind qabot uses); none for context-menu commands.
    pub options: Vec<OptionDef>,
    /// `default_member_permissions` bits: who sees it until a server admin says otherwise.
    pub permissions: Option<u64>,
}

/// A string option of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDef {
    /// Same rules as a command name.
    pub name: String,
    /// 1 to 100 characters.
    pub description: String,
    /// Whether the user must fill it.
    pub required: bool,
    /// Whether qabot suggests values as the user types.
    pub autocomplete: bool,
    /// Fixed `(name, value)` choices, at most 25.
    pub choices: Vec<(String, String)>,
}

/// An aspect id several comparisons share: one slash command for all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedAspect {
    /// The aspect id, also the command's name.
    pub id: String,
    /// The aspect's title (in the first comparison).
    pub title: String,
    /// The comparisons' titles, in knowledge order: the first is what the command answers
    /// without `topic` (see `knowledge/README.md`), the rest need `topic`.
    pub comparisons: Vec<String>,
}

/// The aspect ids more than one comparison has, in knowledge order, for the command
/// descriptions and `/help` that say which comparison a command answers by default.
pub fn shared_aspects(knowledge: &Knowledge) -> Vec<SharedAspect> {
    knowledge
        .aspect_commands()
        .into_iter()
        .filter(|(_, entries)| entries.len() > 1)
        .map(|(id, entries)| SharedAspect {
            title: entries
                .first()
                .and_then(|e| e.aspect(&id))
                .map_or_else(|| id.clone(), |a| a.title.clone()),
            comparisons: entries.iter().map(|e| e.title()).collect(),
            id,
        })
        .collect()
}

impl SharedAspect {
    /// The command's description: the title, the comparison answered by default, and the
    /// others `topic` picks, cut to Discord's 100 characters (the `topic` choices list them
    /// all).
    pub fn description(&self) -> String {
        let (first, others) = self
            .comparisons
            .split_first()
            .map_or(("", &[][..]), |(f, o)| (f.as_str(), o));
        shorten(
            &format!(
                "{}: {first} by default; topic: {}",
                self.title,
                others.join(", ")
            ),
            rules::DESCRIPTION,
        )
    }
}

/// The whole command set for `knowledge`, in a stable order: the built-ins, then one per
/// aspect id in knowledge order.
pub fn command_set(knowledge: &Knowledge) -> Vec<CommandDef> {
    let mut set = vec![
        CommandDef {
            kind: Kind::ChatInput,
            name: ASK.into(),
            description: "Ask a question; qabot answers from its knowledge".into(),
            options: vec![OptionDef {
                name: QUESTION.into(),
                description: "Your question, in your own words".into(),
                required: true,
                autocomplete: true,
                choices: Vec::new(),
            }],
            permissions: None,
        },
        CommandDef {
            kind: Kind::ChatInput,
            name: TOPICS.into(),
            description: "List everything qabot can answer".into(),
            options: Vec::new(),
            permissions: None,
        },
        CommandDef {
            kind: Kind::ChatInput,
            name: HELP.into(),
            description: "How to ask qabot questions".into(),
            options: Vec::new(),
            permissions: None,
        },
        CommandDef {
            kind: Kind::ChatInput,
            name: RELOAD.into(),
            description: "Reload the knowledge files (admins)".into(),
            options: Vec::new(),
            permissions: Some(MANAGE_SERVER),
        },
        CommandDef {
            kind: Kind::Message,
            name: ADD_ALTERNATE.into(),
            description: String::new(),
            options: Vec::new(),
            permissions: Some(MODERATOR),
        },
    ];
    let shared = shared_aspects(knowledge);
    for (aspect, entries) in knowledge.aspect_commands() {
        let title = entries
            .first()
            .and_then(|e| e.aspect(&aspect))
            .map_or_else(|| aspect.clone(), |a| a.title.clone());
        let description = match shared.iter().find(|s| s.id == aspect) {
            Some(shared) => shared.description(),
            None => shorten(&title, rules::DESCRIPTION),
        };
        let mut options = Vec::new();
        if entries.len() > 1 {
            let first = entries.first().map(|e| e.title()).unwrap_or_default();
            options.push(OptionDef {
                name: TOPIC.into(),
                description: shorten(
                    &format!("Which comparison (default: {first})"),
                    rules::DESCRIPTION,
                ),
                required: false,
                autocomplete: false,
                choices: entries
                    .iter()
                    .map(|e| (shorten(&e.title(), rules::CHOICE_NAME), e.id.clone()))
                    .collect(),
            });
        }
        set.push(CommandDef {
            kind: Kind::ChatInput,
            name: aspect,
            description,
            options,
            permissions: None,
        });
    }
    set
}

/// Every way `set` breaks Discord's rules for a command list, as messages naming the command;
/// empty when Discord would accept it.
pub fn validate(set: &[CommandDef]) -> Vec<String> {
    let mut problems = Vec::new();
    if set.len() > rules::COMMANDS {
        problems.push(format!(
            "{} slash commands; Discord allows at most {}: use fewer aspect ids",
            set.len(),
            rules::COMMANDS
        ));
    }
    for (i, command) in set.iter().enumerate() {
        let at = format!("/{}", command.name);
        if set[..i]
            .iter()
            .any(|c| c.name == command.name && c.kind == command.kind)
        {
            problems.push(format!("{at}: defined twice"));
        }
        if command.kind == Kind::Message {
            check_len(&mut problems, &at, "name", &command.name, rules::NAME);
            if !command.description.is_empty() || !command.options.is_empty() {
                problems.push(format!(
                    "{at}: a context-menu command has no description or options"
                ));
            }
            continue;
        }
        check_name(&mut problems, &at, &command.name);
        check_len(
            &mut problems,
            &at,
            "description",
            &command.description,
            rules::DESCRIPTION,
        );
        if command.options.len() > rules::OPTIONS {
            problems.push(format!("{at}: more than {} options", rules::OPTIONS));
        }
        let mut total = command.name.chars().count() + command.description.chars().count();
        let mut optional_seen = false;
        for option in &command.options {
            let at = format!("{at} option `{}`", option.name);
            check_name(&mut problems, &at, &option.name);
            check_len(
                &mut problems,
                &at,
                "description",
                &option.description,
                rules::DESCRIPTION,
            );
            if option.required && optional_seen {
                problems.push(format!("{at}: a required option after an optional one"));
            }
            optional_seen |= !option.required;
            if option.autocomplete && !option.choices.is_empty() {
                problems.push(format!("{at}: both autocomplete and choices"));
            }
            if option.choices.len() > rules::CHOICES {
                problems.push(format!(
                    "{at}: {} choices, at most {} allowed (too many comparisons share this aspect id)",
                    option.choices.len(),
                    rules::CHOICES
                ));
            }
            for (name, value) in &option.choices {
                check_len(&mut problems, &at, "choice name", name, rules::CHOICE_NAME);
                check_len(
                    &mut problems,
                    &at,
                    "choice value",
                    value,
                    rules::CHOICE_VALUE,
                );
                total += name.chars().count() + value.chars().count();
            }
            total += option.name.chars().count() + option.description.chars().count();
        }
        if total > rules::TOTAL {
            problems.push(format!(
                "{at}: {total} characters of names, descriptions and choices; at most {}",
                rules::TOTAL
            ));
        }
    }
    problems
}

fn check_name(problems: &mut Vec<String>, at: &str, name: &str) {
    let valid = (1..=rules::NAME).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        problems.push(format!(
            "{at}: the name must be 1 to {} lower-case letters, digits, `-` or `_`",
            rules::NAME
        ));
    }
}

fn check_len(problems: &mut Vec<String>, at: &str, what: &str, text: &str, max: usize) {
    if !(1..=max).contains(&text.chars().count()) {
        problems.push(format!("{at}: the {what} must be 1 to {max} characters"));
    }
}

impl CommandDef {
    /// The serenity builder that registers this command.
    pub fn builder(&self) -> CreateCommand {
        let mut command = CreateCommand::new(&self.name);
        if let Some(bits) = self.permissions {
            command = command.default_member_permissions(Permissions::from_bits_truncate(bits));
        }
        if self.kind == Kind::Message {
            return command.kind(CommandType::Message);
        }
        command = command.description(&self.description);
        for option in &self.options {
            let mut built = CreateCommandOption::new(
                CommandOptionType::String,
                &option.name,
                &option.description,
            )
            .required(option.required)
            .set_autocomplete(option.autocomplete);
            for (name, value) in &option.choices {
                built = built.add_string_choice(name, value);
            }
            command = command.add_option(built);
        }
        command
    }

    /// A command as Discord has it, in the same terms; `None` for a kind qabot never
    /// registers (user commands, non-string options), which counts as a difference.
    pub fn from_registered(command: &Command) -> Option<CommandDef> {
        let kind = match command.kind {
            CommandType::ChatInput => Kind::ChatInput,
            CommandType::Message => Kind::Message,
            _ => return None,
        };
        let options = command
            .options
            .iter()
            .map(|o| {
                (o.kind == CommandOptionType::String).then(|| OptionDef {
                    name: o.name.clone(),
                    description: o.description.clone(),
                    required: o.required,
                    autocomplete: o.autocomplete,
                    choices: o
                        .choices
                        .iter()
                        .map(|c| {
                            (
                                c.name.clone(),
                                c.value.as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(CommandDef {
            kind,
            name: command.name.clone(),
            description: command.description.clone(),
            options,
            permissions: command.default_member_permissions.map(|p| p.bits()),
        })
    }
}

/// Whether what Discord has differs from `wanted` (order does not matter).
pub fn differs(wanted: &[CommandDef], registered: &[Command]) -> bool {
    if wanted.len() != registered.len() {
        return true;
    }
    registered.iter().any(|command| {
        CommandDef::from_registered(command).is_none_or(|have| !wanted.contains(&have))
    })
}

/// Where a set was checked, and whether it had to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The guild, or `None` for the global commands.
    pub guild: Option<u64>,
    /// True if the set differed and was sent (PUT); false if it was already current.
    pub updated: bool,
}

/// Makes the commands of each guild in `guilds` (or the global commands, when empty) equal
/// to `set`: reads what Discord has and overwrites it only when it differs, so a restart
/// does not re-send an unchanged set.
pub async fn register(
    http: &Http,
    guilds: &[u64],
    set: &[CommandDef],
) -> Result<Vec<Registration>, serenity::Error> {
    let builders = || set.iter().map(CommandDef::builder).collect::<Vec<_>>();
    let mut done = Vec::new();
    if guilds.is_empty() {
        let registered = Command::get_global_commands(http).await?;
        let updated = differs(set, &registered);
        if updated {
            Command::set_global_commands(http, builders()).await?;
        }
        done.push(Registration {
            guild: None,
            updated,
        });
    }
    for &guild in guilds {
        let id = GuildId::new(guild);
        let registered = id.get_commands(http).await?;
        let updated = differs(set, &registered);
        if updated {
            id.set_commands(http, builders()).await?;
        }
        done.push(Registration {
            guild: Some(guild),
            updated,
        });
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn shipped() -> Knowledge {
        Knowledge::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn shipped_knowledge_gives_a_valid_set() {
        let set = command_set(&shipped());
        assert_eq!(validate(&set), Vec::<String>::new());
        let names: Vec<&str> = set.iter().map(|c| c.name.as_str()).collect();
        for name in [
            "ask",
            "topics",
            "help",
            "learning-curve",
            "complexity",
            "async",
            ADD_ALTERNATE,
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let menu = set.iter().find(|c| c.kind == Kind::Message).unwrap();
        let json = serde_json::to_value(menu.builder()).unwrap();
        assert_eq!(json["type"], 3);
        assert_eq!(json["default_member_permissions"], MODERATOR.to_string());
        assert!(
            json.get("description")
                .is_none_or(serde_json::Value::is_null),
            "{json}"
        );
    }

    #[test]
    fn shared_aspects_get_a_topic_choice() {
        let set = command_set(&shipped());
        let learning = set.iter().find(|c| c.name == "learning-curve").unwrap();
        assert_eq!(
            learning.description,
            "Learning curve: Django vs Flask by default; topic: Django vs FastAPI"
        );
        let topic = &learning.options[0];
        assert_eq!(topic.name, TOPIC);
        assert!(!topic.required);
        let values: Vec<&str> = topic.choices.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["django-vs-flask", "django-vs-fastapi"]);
        let complexity = set.iter().find(|c| c.name == "complexity").unwrap();
        assert!(complexity.options.is_empty(), "only one comparison has it");
    }

    #[test]
    fn a_shared_aspect_says_which_comparison_it_answers_within_100_characters() {
        let shared = |comparisons: &[&str]| SharedAspect {
            id: "performance".into(),
            title: "Performance".into(),
            comparisons: comparisons.iter().map(|c| c.to_string()).collect(),
        };
        let long: Vec<String> = (0..12)
            .map(|i| format!("Framework{i} vs Framework{}", i + 1))
            .collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let cases: [(&[&str], &str); 3] = [
            (
                &["Django vs Flask", "Django vs FastAPI"],
                "Performance: Django vs Flask by default; topic: Django vs FastAPI",
            ),
            (
                &["Django vs Flask", "Django vs FastAPI", "Flask vs FastAPI"],
                "Performance: Django vs Flask by default; topic: Django vs FastAPI, Flask vs FastAPI",
            ),
            (
                &long,
                "Performance: Framework0 vs Framework1 by default; topic: Framework1 vs Framework2, Framework2 vs…",
            ),
        ];
        for (comparisons, want) in cases {
            let got = shared(comparisons).description();
            assert!(got.chars().count() <= 100, "{got}");
            assert_eq!(got, want);
        }
        let three = "[[entry]]\nid = \"{id}\"\nquestion = \"{a} or {b}?\"\nsubjects = [\"{a}\", \"{b}\"]\nanswer = \"x\"\n[[entry.aspect]]\nid = \"performance\"\ntitle = \"Performance\"\ntext.{a} = \"x\"\ntext.{b} = \"y\"\n";
        let dir = tempfile::tempdir().unwrap();
        for (file, id, a, b) in [
            ("1.toml", "c-vs-d", "C", "D"),
            ("0.toml", "a-vs-b", "A", "B"),
            ("2.toml", "e-vs-f", "E", "F"),
        ] {
            let text = three
                .replace("{id}", id)
                .replace("{a}", a)
                .replace("{b}", b);
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let k = Knowledge::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let found = shared_aspects(&k);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].comparisons,
            ["A vs B", "C vs D", "E vs F"],
            "files in path order"
        );
        let set = command_set(&k);
        assert_eq!(validate(&set), Vec::<String>::new());
        let performance = set.iter().find(|c| c.name == "performance").unwrap();
        assert_eq!(
            performance.description,
            "Performance: A vs B by default; topic: C vs D, E vs F"
        );
    }

    #[test]
    fn rule_breaks_are_reported() {
        let mut set = command_set(&shipped());
        set[0].name = "Ask Me".into();
        set[1].description = "d".repeat(101);
        set[2].options.push(OptionDef {
            name: "x".into(),
            description: "x".into(),
            required: false,
            autocomplete: false,
            choices: (0..26).map(|i| (format!("{i}"), format!("{i}"))).collect(),
        });
        set.push(set[3].clone());
        let problems = validate(&set);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("/Ask Me: the name"));
        assert!(problems[1].contains("/topics: the description"));
        assert!(problems[2].contains("26 choices"));
        assert!(problems[3].contains("defined twice"));
    }

    #[test]
    fn registered_commands_compare_equal_to_their_definition() {
        let set = command_set(&shipped());
        // What Discord returns: the sent body plus ids and defaults.
        let registered: Vec<Command> = set
            .iter()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let mut json = serde_json::to_value(c.builder()).unwrap();
                json["id"] = serde_json::json!((i + 1).to_string());
                json["application_id"] = serde_json::json!("1");
                json["version"] = serde_json::json!("1");
                if json["type"].is_null() {
                    json["type"] = serde_json::json!(1);
                }
                if json["description"].is_null() {
                    json["description"] = serde_json::json!("");
                }
                serde_json::from_value(json).unwrap()
            })
            .collect();
        assert!(!differs(&set, &registered));
        let mut changed = set.clone();
        changed[4].description.push('!');
        assert!(differs(&changed, &registered));
        assert!(differs(&set[1..], &registered));
    }
}
