//! `qabot init`: a new bot folder with an example pack and the documented configuration.
//!
//! The folder gets `knowledge/example.toml` (a small commented pack about a board-game club:
//! four entries and a comparison with two aspects) and `config/qabot.toml` (the shipped
//! configuration). Semantic matching needs the sentence model, which the shipped config finds
//! at `models/all-MiniLM-L6-v2` relative to the working directory, and a new folder has no
//! such path: the config written points `model` at the model that came with this build, by
//! its absolute path, or turns semantic matching off (with a comment saying how to turn it
//! on) when there is none.

use std::path::{Path, PathBuf};

/// The shipped configuration, every key documented.
pub const SHIPPED_CONFIG: &str = include_str!("../config/qabot.toml");

/// The model line of the shipped configuration, replaced by an absolute path.
const MODEL_LINE: &str = "model = \"models/all-MiniLM-L6-v2\"";
/// The semantic line of the shipped configuration, replaced when there is no model.
const SEMANTIC_LINE: &str = "semantic = true";

/// The shipped model's folder name.
const MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

/// A question the example pack answers, for the next steps.
pub const EXAMPLE_QUESTION: &str = "when is game night?";

/// The example pack: `knowledge/example.toml`.
pub const EXAMPLE_PACK: &str = r#"# An example knowledge pack, for a board-game club's Discord server. Replace it with your
# own: keep one question per [[entry]], run `qabot check` after each edit, and try questions
# with `qabot ask "..."`. The format is documented in full in qabot's knowledge/README.md.
# Every *.toml file in this folder is loaded, so you can split topics across files, and
# `qabot import` turns an FAQ you already have (Markdown, CSV or TSV) into such files.

# Names of things the server does not answer about: a question naming one of them is taken
# to be about something else, and gets at most a "did you mean". One word each. (A top-level
# list goes above the file's first [table].)
other_topics = ["poker"]

# Words people type -> the words the entries use (applied to every question; one file only).
[synonyms]
dues = "fee"
buddy = "friend"

# An ordinary entry. `id`: lowercase letters, digits and single hyphens, at most 32
# characters, unique across all files. `question`: the canonical question, shown as the
# answer's title.
[[entry]]
id = "meeting-times"
question = "When and where does the club meet?"
# Other ways people ask: the more varied (short, long, with the words people really use),
# the better qabot matches.
alternates = [
  "When is game night?",
  "What time do you meet?",
  "Where are the meetups?",
  "Is there a game night this week?",
  "What's the address of the club?",
  "Do you meet on weekends?",
]
# Words or short phrases that point to this entry even when no phrasing has them.
keywords = ["game night", "meetup", "schedule", "address", "venue", "friday"]
# The reply, in Discord markdown. '''literal strings''' keep backslashes as typed.
answer = '''**Game nights** are every **Friday from 7 pm to 11 pm** at the Elm Street community centre (2nd floor, room 4).
Extra events (tournaments, the summer picnic) are announced in **#announcements**.'''

[[entry]]
id = "bring-a-friend"
question = "Can I bring a friend?"
alternates = [
  "Are guests allowed?",
  "Can my kids come to game night?",
  "Can I bring my partner along?",
  "Is it ok to bring someone who has never played?",
  "Do guests have to pay?",
  "Can a friend try a game night before joining?",
]
keywords = ["guest", "friend", "bring", "plus one", "kids"]
answer = '''Yes! Guests are welcome and their **first two visits are free**.
- Players under 14 come with an adult.
- Tell us in **#game-night** if you bring more than two people, so we keep a table free.'''

[[entry]]
id = "membership-fee"
question = "How much does membership cost?"
alternates = [
  "Is the club free?",
  "How do I pay the membership fee?",
  "What are the dues?",
  "Do I have to pay to join?",
  "How do I become a member?",
  "Are there student prices?",
]
keywords = ["membership", "fee", "price", "pay", "member", "join"]
answer = '''Membership is **€20 a year** (€10 for students), paid in cash at any game night or by bank transfer (details pinned in **#membership**).
Members can borrow games and vote at the yearly meeting.'''

[[entry]]
id = "borrow-games"
question = "Can I borrow games from the club library?"
alternates = [
  "Can I take a game home?",
  "How does the game library work?",
  "Which games does the club own?",
  "How long can I keep a borrowed game?",
  "Does the club lend board games?",
  "I want to try a game at home before buying it",
]
keywords = ["borrow", "library", "lend", "take home", "return"]
answer = '''Members can borrow **one game at a time for two weeks**:
1. Pick it from the shelf on a game night.
2. Write it in the logbook by the door.
3. Bring it back complete (count the pieces!).

The full list is in the pinned spreadsheet in **#library**.'''

# A comparison: `subjects` are what is compared, each [[entry.aspect]] one point of
# comparison with a text per subject. Asked "which is easier to learn, Catan or
# Carcassonne?", qabot answers with just the `rules` aspect; each aspect id is also a slash
# command (/rules). `answer` is the introduction shown with the whole comparison; qabot
# adds the title, a line per aspect, the Verdict heading and the aspects' commands itself.
[[entry]]
id = "catan-vs-carcassonne"
question = "Should we teach Catan or Carcassonne at a first game night?"
alternates = [
  "Catan or Carcassonne?",
  "Which is better for beginners, Catan or Carcassonne?",
  "How does Carcassonne compare to Catan?",
  "What game should we teach new players?",
  "Catan vs Carcassonne for two people",
  "Is Carcassonne quicker than Catan?",
]
keywords = ["first game", "new players", "teach", "gateway game"]
subjects = ["Catan", "Carcassonne"]
answer = '''Both are classic gateway games the club owns several copies of.'''
verdict = '''Carcassonne for a quick, calm first game with two players; Catan when you have three or four and an evening to spare.'''

[[entry.aspect]]
id = "player-count"
title = "Players and play time"
summary = "Catan needs 3-4 players and 90 minutes; Carcassonne plays 2-5 in 45."
keywords = ["players", "people", "two players", "long", "time", "minutes", "duration"]
text.Catan = '''**Catan** plays with **3 or 4 players** (5-6 with the extension) and takes about **90 minutes**, longer with new players.'''
text.Carcassonne = '''**Carcassonne** plays with **2 to 5 players** and takes about **45 minutes**: it is the club's favourite for two.'''

[[entry.aspect]]
id = "rules"
title = "Learning the rules"
summary = "Carcassonne is taught in five minutes; Catan in fifteen."
keywords = ["rules", "learn", "easy", "teach", "explain", "beginner"]
text.Catan = '''**Catan** takes about **15 minutes** to teach: resources, building costs, trading and the robber. The building-costs cards help.'''
text.Carcassonne = '''**Carcassonne** takes about **5 minutes** to teach: place a tile, maybe place a meeple, score what you finished.'''
"#;

/// Why a folder could not be made a bot folder.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The target is a file.
    #[error("{} is a file, not a folder; give a new or empty folder", .dir.display())]
    NotAFolder {
        /// The target.
        dir: PathBuf,
    },
    /// The target holds files already.
    #[error("{} is not empty (it holds {name:?}); give a new or empty folder, e.g. `qabot init my-bot`", .dir.display())]
    NotEmpty {
        /// The target.
        dir: PathBuf,
        /// One of its entries.
        name: String,
    },
    /// Creating a folder or file failed.
    #[error("cannot create {}: {source}", .path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The shipped configuration no longer has a line this code replaces: a bug.
    #[error(
        "the shipped config/qabot.toml has no `{0}` line (a bug in qabot init; please report it)"
    )]
    ShippedConfig(&'static str),
}

/// True if `dir` holds a usable model (its three files, as regular files).
fn is_model(dir: &Path) -> bool {
    ["config.json", "tokenizer.json", "model.safetensors"]
        .iter()
        .all(|f| dir.join(f).is_file())
}

/// The sentence model that came with this qabot, as an absolute path: beside the executable
/// (`<bin dir>/models/...`, as an install may put it), else in the source tree it was built
/// from (a `cargo build`).
pub fn find_model() -> Option<PathBuf> {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(MODEL_DIR)));
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join(MODEL_DIR);
    beside_exe
        .into_iter()
        .chain([built_from])
        .find(|dir| is_model(dir))
        .and_then(|dir| std::fs::canonicalize(dir).ok())
}

/// `text` with its line `old` replaced by `new` (which may be several lines).
fn replace_line(text: &str, old: &'static str, new: &str) -> Result<String, InitError> {
    let mut found = false;
    let lines: Vec<&str> = text
        .lines()
        .map(|line| {
            if !found && line.trim_end() == old {
                found = true;
                new
            } else {
                line
            }
        })
        .collect();
    if !found {
        return Err(InitError::ShippedConfig(old));
    }
    Ok(lines.join("\n") + "\n")
}

/// The configuration for a new folder: the shipped one, with `model` set to `model`'s
/// absolute path, or semantic matching off when there is no model (or its path is not
/// UTF-8, which a TOML string cannot hold).
pub fn config_text(model: Option<&Path>) -> Result<String, InitError> {
    match model.and_then(Path::to_str) {
        Some(path) => {
            let value = toml::Value::String(path.to_string());
            replace_line(
                SHIPPED_CONFIG,
                MODEL_LINE,
                &format!(
                    "# `qabot init` set this to the model that came with this qabot build, by its\n\
                     # absolute path, so that qabot finds it from this folder. If you move the bot\n\
                     # elsewhere, copy the model folder next to `knowledge/` and write\n\
                     # `model = \"{MODEL_DIR}\"` (relative to the working directory).\n\
                     model = {value}"
                ),
            )
        }
        None => replace_line(
            SHIPPED_CONFIG,
            SEMANTIC_LINE,
            &format!(
                "# `qabot init` found no sentence model with this qabot build, so matching is by\n\
                 # words only. To match by meaning too, copy the `{MODEL_DIR}` folder of\n\
                 # qabot's source next to `knowledge/` (or set `model` below to where it is) and\n\
                 # set `semantic = true`.\n\
                 semantic = false"
            ),
        ),
    }
}

/// What `init` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The folder.
    pub dir: PathBuf,
    /// The example pack.
    pub knowledge: PathBuf,
    /// The configuration.
    pub config: PathBuf,
}

/// The first entry of `dir` that is not hidden (`.git` is fine), if any.
fn first_visible(dir: &Path) -> Result<Option<String>, InitError> {
    let read = std::fs::read_dir(dir).map_err(|source| InitError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(read
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .min())
}

/// Creates `dir` (or fills it, if it is empty but for hidden files such as `.git`) with
/// `knowledge/example.toml` and `config/qabot.toml` holding `config`. Never overwrites.
pub fn create(dir: &Path, config: &str) -> Result<Created, InitError> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(InitError::NotAFolder {
                dir: dir.to_path_buf(),
            })
        }
        Ok(_) => {
            if let Some(name) = first_visible(dir)? {
                return Err(InitError::NotEmpty {
                    dir: dir.to_path_buf(),
                    name,
                });
            }
        }
        Err(_) => {}
    }
    let created = Created {
        dir: dir.to_path_buf(),
        knowledge: dir.join("knowledge").join("example.toml"),
        config: dir.join("config").join("qabot.toml"),
    };
    for (path, text) in [
        (&created.knowledge, EXAMPLE_PACK),
        (&created.config, config),
    ] {
        let io = |source| InitError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        // `create_new`: a file that appeared meanwhile is never overwritten.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    }
    Ok(created)
}

/// What to do next, for the terminal.
pub fn next_steps(created: &Created, semantic: bool) -> String {
    let here = created.dir == Path::new(".");
    let mut out = format!(
        "created {}\n        {}\n\nnext:\n",
        created.knowledge.display(),
        created.config.display()
    );
    let dir = created.dir.display().to_string();
    let cd = if dir.contains(char::is_whitespace) {
        format!("cd '{dir}'")
    } else {
        format!("cd {dir}")
    };
    let question = format!("qabot ask \"{EXAMPLE_QUESTION}\"");
    let steps = [
        (cd.as_str(), ""),
        (question.as_str(), "the reply a Discord user would get"),
        (
            "qabot import FAQ.md --out knowledge",
            "turn your FAQ (.md, a folder of .md, .csv, .tsv) into a pack",
        ),
        (
            "$EDITOR knowledge/example.toml",
            "or write entries by hand (then delete the example)",
        ),
        (
            "qabot check",
            "validate the knowledge and config after each edit",
        ),
        (
            "DISCORD_TOKEN=... qabot run",
            "start the bot (qabot's README: Running it on Discord)",
        ),
    ];
    let steps = &steps[usize::from(here)..];
    let width = steps
        .iter()
        .filter(|(_, why)| !why.is_empty())
        .map(|(command, _)| command.len())
        .max()
        .unwrap_or(0);
    for (command, why) in steps {
        if why.is_empty() {
            out += &format!("  {command}\n");
        } else {
            out += &format!("  {command:width$}   # {why}\n");
        }
    }
    if !semantic {
        out +=
            "\nnote: no sentence model was found with this qabot build, so config/qabot.toml has \
                `semantic = false` (matching by words only); its comment says how to turn it on.\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Engine, Knowledge, Status};

    #[test]
    fn example_pack_is_valid_and_answers_its_questions() {
        let k = Knowledge::from_sources(&[(PathBuf::from("example.toml"), EXAMPLE_PACK.into())])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(k.entries.len(), 5);
        assert!(k.entries.iter().any(|e| e.aspects.len() == 2));
        let advice: Vec<String> = crate::lint::lint(&k)
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert!(
            advice.is_empty(),
            "the example follows its own advice: {advice:#?}"
        );
        let engine = Engine::new(k, Config::default().matching);
        let cases = [
            (EXAMPLE_QUESTION, "meeting-times", None),
            ("can I bring a friend", "bring-a-friend", None),
            ("how much is the membership fee", "membership-fee", None),
            ("can i borrow a game", "borrow-games", None),
            (
                "catan or carcassonne, which is easier to learn?",
                "catan-vs-carcassonne",
                Some("rules"),
            ),
        ];
        for (question, entry, aspect) in cases {
            let d = engine.decide(question);
            assert_eq!(d.status, Status::Answered, "{question}: {d:?}");
            let best = d.best.as_ref().expect("answered");
            let e = &engine.knowledge().entries[best.entry];
            assert_eq!(e.id, entry, "{question}");
            assert_eq!(
                best.aspect.map(|a| e.aspects[a].id.as_str()),
                aspect,
                "{question}"
            );
        }
    }

    #[test]
    fn config_points_at_the_model_or_turns_meaning_off() {
        let with = config_text(Some(Path::new("/opt/qabot/models/all-MiniLM-L6-v2"))).unwrap();
        let config = Config::parse(Path::new("c.toml"), &with).unwrap();
        assert_eq!(
            config.matching.model,
            Path::new("/opt/qabot/models/all-MiniLM-L6-v2")
        );
        assert!(config.matching.semantic);
        let odd = config_text(Some(Path::new("C:\\qabot \"x\"\\model"))).unwrap();
        let config = Config::parse(Path::new("c.toml"), &odd).unwrap();
        assert_eq!(config.matching.model, Path::new("C:\\qabot \"x\"\\model"));
        let without = config_text(None).unwrap();
        let config = Config::parse(Path::new("c.toml"), &without).unwrap();
        assert!(!config.matching.semantic);
        assert!(without.contains("set `semantic = true`"));
        // Everything else is the shipped configuration.
        let shipped = Config::parse(Path::new("c.toml"), SHIPPED_CONFIG).unwrap();
        assert_eq!(config.discord, shipped.discord);
        assert_eq!(config.misses, shipped.misses);
    }

    #[test]
    fn this_build_finds_its_model() {
        let model = find_model().expect("the source tree ships the model");
        assert!(
            model.is_absolute() && is_model(&model),
            "{}",
            model.display()
        );
    }

    #[test]
    fn creates_a_folder_and_refuses_a_full_one() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bot");
        let created = create(&dir, "# config\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&created.knowledge).unwrap(),
            EXAMPLE_PACK
        );
        assert_eq!(
            std::fs::read_to_string(&created.config).unwrap(),
            "# config\n"
        );
        let again = create(&dir, "# other\n").unwrap_err();
        assert!(
            matches!(&again, InitError::NotEmpty { name, .. } if name == "config"),
            "{again}"
        );
        assert_eq!(
            std::fs::read_to_string(&created.config).unwrap(),
            "# config\n"
        );
        // An empty folder, or one holding only hidden files (`.git`), is fine.
        let git = tmp.path().join("repo");
        std::fs::create_dir_all(git.join(".git")).unwrap();
        create(&git, "").unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            create(&file, ""),
            Err(InitError::NotAFolder { .. })
        ));
        let steps = next_steps(&created, true);
        assert!(steps.contains(&format!("cd {}", dir.display())), "{steps}");
        assert!(steps.contains("qabot check") && steps.contains("DISCORD_TOKEN=... qabot run"));
    }
}
