//! The `qabot` command as a newcomer uses it: `init`, `import`, `ask`, `check` and `eval` on
//! real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn qabot(args: &[&str], stdin: Option<&str>) -> Output {
    qabot_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, stdin)
}

/// Runs qabot with `dir` as its working directory.
fn qabot_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_qabot"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("qabot runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("stdin takes input");
    drop(input);
    child.wait_with_output().expect("qabot finishes")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn ask_answers_the_aspect_in_plain_text() {
    let out = qabot(&["ask", "which is easier to learn, Django or Flask?"], None);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.starts_with("**Django vs Flask — Learning curve**"),
        "{text}"
    );
    assert!(
        text.contains("**Django**") && text.contains("**Flask**"),
        "{text}"
    );
}

#[test]
fn ask_json_has_exactly_the_documented_fields() {
    let out = qabot(
        &["ask", "--json"],
        Some("is django opinionated\nwho wants to play chess\n"),
    );
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "aspect",
            "confidence",
            "entry",
            "status",
            "suggestions",
            "text"
        ]
    );
    assert_eq!(lines[0]["status"], "answered");
    assert_eq!(lines[0]["entry"], "django-vs-flask");
    assert_eq!(lines[0]["aspect"], "complexity");
    assert_eq!(lines[1]["status"], "none");
    assert_eq!(lines[1]["entry"], serde_json::Value::Null);
    let confidence = lines[0]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence));
}

#[test]
fn ask_explain_shows_the_parts() {
    let out = qabot(&["ask", "--explain", "djnago migrations"], None);
    let text = stdout(&out);
    for part in [
        "djnago -> django (typo",
        "best: django-migrations",
        "runner-up:",
        "matched phrasing:",
        "coverage",
    ] {
        assert!(text.contains(part), "missing {part:?} in\n{text}");
    }
}

#[test]
fn check_is_clean_on_the_shipped_pack() {
    // Strict: the shipped pack follows its own advice, meaning's confusable entries included.
    let out = qabot(&["check", "--strict"], None);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("ok: 19 entries"), "{text}");
    assert!(!text.contains("warning:"), "{text}");
}

#[test]
fn check_reports_each_problem_with_its_place() {
    let out = qabot(&["check", "--knowledge", "tests/fixtures/broken"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let want = [
        "tests/fixtures/broken/a.toml:8:1: aspect \"Learning Curve\" has no text for subject \"Flask\"",
        "tests/fixtures/broken/a.toml:9:6: aspect id \"Learning Curve\" is not valid",
        "tests/fixtures/broken/a.toml:16:1: unknown field `answr`",
        "tests/fixtures/broken/b.toml:2:6: entry id \"django-vs-flask\" is already used at tests/fixtures/broken/a.toml:2",
        "tests/fixtures/broken/b.toml:4:10: `answer` is empty",
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), want.len(), "{text}");
    for (line, want) in lines.iter().zip(want) {
        assert!(line.starts_with(want), "got {line:?}, want {want:?}");
    }
}

#[test]
fn check_reports_a_missing_config_named_explicitly() {
    let out = qabot(&["check", "--config", "no/such.toml"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("no/such.toml:1:1: cannot read this file"));
}

#[test]
fn eval_prints_both_figures_and_misses() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("cases.tsv");
    std::fs::write(&tsv, "# q\tentry\taspect\ntell me about django\twhat-is-django\t-\nwho wants to play chess\t-\t-\nis django opinionated\twhat-is-flask\t-\n").unwrap();
    let out = qabot(
        &[
            "eval",
            tsv.to_str().unwrap(),
            "--knowledge",
            "tests/fixtures/good",
        ],
        None,
    );
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.starts_with(tsv.to_str().unwrap()) && !l.contains("miss:"))
        .unwrap_or_else(|| panic!("no table row for the set: {text}"));
    // Exactly right, off-topic quiet, answered or in the first three: count and share each;
    // then the median and 99th percentile time to decide.
    let cells: Vec<&str> = row.split_whitespace().skip(1).collect();
    assert_eq!(
        cells[..6],
        ["1/2", "50.0%", "1/1", "100.0%", "1/2", "50.0%"],
        "{text}"
    );
    assert!(
        matches!(cells[6..], [_, "ms" | "µs", "/", _, "ms" | "µs"]),
        "{text}"
    );
    assert!(text.contains("miss: \"is django opinionated\""), "{text}");
    let strict = qabot(&["eval", tsv.to_str().unwrap(), "--min", "0.95"], None);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn dev_set_meets_the_bar() {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/dev.tsv");
    if !dev.exists() {
        return; // The dev set lives beside the repo, not in it.
    }
    let out = qabot(&["eval", dev.to_str().unwrap(), "--min", "0.95"], None);
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn help_documents_every_command() {
    let top = stdout(&qabot(&["--help"], None));
    for line in [
        "init    Create",
        "import  Turn",
        "ask     Answer",
        "check   Validate",
        "eval    Measure",
        "misses  Show",
        "run     Start",
        "invite  Print",
    ] {
        assert!(top.contains(line), "`qabot --help` lacks {line:?}:\n{top}");
    }
    for cmd in ["ask", "check", "eval", "import", "init"] {
        let out = qabot(&[cmd, "--help"], None);
        assert!(out.status.success());
        assert!(stdout(&out).len() > 300, "`qabot {cmd} --help` is too thin");
    }
}

#[test]
fn misses_groups_similar_questions_most_frequent_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("misses.jsonl");
    let line = |q: &str| format!("{{\"time\":1,\"question\":\"{q}\",\"outcome\":\"none\"}}\n");
    let text: String = [
        "django channels websockets",
        "websockets in django channels?",
        "Django Channels websockets",
        "celery tasks",
    ]
    .iter()
    .map(|q| line(q))
    .collect();
    std::fs::write(&log, text).unwrap();
    let out = qabot(&["misses", "--log", log.to_str().unwrap()], None);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("4 questions in 2 groups"), "{text}");
    let first = text.find("3 x").expect("the group of three comes first");
    let second = text
        .find("1 x \"celery tasks\"")
        .expect("then the single one");
    assert!(first < second, "{text}");
}

#[test]
fn ask_stops_quietly_when_the_reader_goes_away() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_qabot"))
        .args(["ask", "--json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qabot runs");
    // Far more answers than a pipe holds, as `qabot ask < questions.txt | head` would see.
    let questions = "django or flask?\n".repeat(5_000);
    let mut input = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(questions.as_bytes());
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut first)
        .expect("one answer");
    assert!(first.contains("\"entry\":\"django-vs-flask\""), "{first}");
    // The reader (dropped above) is gone: qabot's next write fails with a broken pipe.
    let status = child.wait().expect("qabot finishes");
    let _ = writer.join();
    let mut errors = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut errors)
        .expect("stderr reads");
    assert!(status.success(), "{status}: {errors}");
    assert_eq!(errors, "");
}

/// A config for fast imported-pack tests: words only, nothing logged.
fn words_only_config(dir: &Path) -> PathBuf {
    let path = dir.join("words-only.toml");
    std::fs::write(
        &path,
        "[matching]\nsemantic = false\n[misses]\npath = \"\"\npending_path = \"\"\n",
    )
    .unwrap();
    path
}

#[test]
fn each_import_fixture_becomes_a_pack_that_checks_and_answers() {
    // (source, file written, what the report says, a question, the start of its answer)
    let cases = [
        (
            "tests/fixtures/import/tags",
            "tags.toml",
            "id repaired: tests/fixtures/import/tags/Server Rules.md:1: \"Server Rules\" -> \"server-rules\"",
            "When does the server restart?",
            "**When does the server restart?**\n\nEvery day at **04:00 UTC**",
        ),
        (
            "tests/fixtures/import/faq.md",
            "faq.toml",
            "duplicate renamed: tests/fixtures/import/faq.md:27: \"what-is-the-server-address\" -> \"what-is-the-server-address-2\"",
            "Which mods are allowed?",
            "**Which mods are allowed?**\n\nClient-side mods",
        ),
        (
            "tests/fixtures/import/faq.csv",
            "faq.toml",
            "3 entries imported",
            "How do I report a player?",
            "**How do I report a player?**\n\nUse `/report <name> <reason>` in game, or open a ticket in #support.\nInclude a screenshot",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let config = words_only_config(tmp.path());
    let config = config.to_str().unwrap();
    for (i, (source, file, report, question, answer)) in cases.into_iter().enumerate() {
        let out = tmp.path().join(format!("k{i}"));
        let out = out.to_str().unwrap();
        let import = qabot(&["import", source, "--out", out], None);
        let text = stdout(&import);
        assert!(
            import.status.success(),
            "{source}: {text}{}",
            stderr(&import)
        );
        assert!(
            text.starts_with(&format!("wrote {}: ", Path::new(out).join(file).display())),
            "{source}: {text}"
        );
        assert!(text.contains(report), "{source}: {text}");
        let check = qabot(&["check", "-k", out, "-c", config], None);
        assert!(check.status.success(), "{source}: {}", stdout(&check));
        assert!(stdout(&check).starts_with("ok: "), "{}", stdout(&check));
        let ask = qabot(&["ask", "-k", out, "-c", config, question], None);
        assert!(
            stdout(&ask).starts_with(answer),
            "{source}: {question:?} got\n{}",
            stdout(&ask)
        );
    }
}

#[test]
fn import_refusals_exit_1_and_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let no_columns = file("no-columns.csv", "q,a\nWhat?,That.\n");
    let unknown = file("faq.txt", "What?\nThat.\n");
    let untitled = file("tags/untitled.md", "Only an answer.\n");
    let unclosed = file("unclosed.csv", "question,answer\nWhat?,\"That.\n");
    let missing = dir.join("missing.md").to_str().unwrap().to_string();
    // (source, fragment of the message after the file's name)
    let mut cases = vec![
        (no_columns, ":1: no `question` or `answer` columns"),
        (unknown, ": qabot import reads a folder of .md files"),
        (dir.join("tags").to_str().unwrap().to_string(), ""),
        (
            unclosed,
            ":2: a quoted field starting on this line is never closed",
        ),
        (missing, ":1:1: cannot read this file"),
    ];
    #[cfg(unix)]
    {
        let fifo = dir.join("pipe.csv");
        let made = Command::new("mkfifo").arg(&fifo).status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "mkfifo is needed for this test"
        );
        cases.push((
            fifo.to_str().unwrap().to_string(),
            ":1:1: not a regular file",
        ));
    }
    let out = dir.join("out");
    for (source, fragment) in &cases {
        let run = qabot(&["import", source, "--out", out.to_str().unwrap()], None);
        let message = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{source}: {message}");
        let named = if fragment.is_empty() {
            &untitled
        } else {
            source
        };
        let want = if fragment.is_empty() {
            ":1: no question: give the file a `# Question` heading"
        } else {
            fragment
        };
        assert!(
            message.starts_with(&format!("qabot import: {named}{want}")),
            "{source}: {message}"
        );
        assert!(!out.exists(), "{source}: nothing is written on a refusal");
    }
}

#[test]
fn import_keeps_existing_files_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("knowledge");
    std::fs::create_dir(&out).unwrap();
    let mine = out.join("faq.toml");
    std::fs::write(&mine, "# my own pack\n").unwrap();
    let args = [
        "import",
        "tests/fixtures/import/faq.csv",
        "--out",
        out.to_str().unwrap(),
    ];
    let refused = qabot(&args, None);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        stderr(&refused),
        format!(
            "qabot import: {} already exists; pass --force to overwrite it, or choose another --out folder (nothing was written)\n",
            mine.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "# my own pack\n");
    let forced = qabot(&[&args[..], &["--force"]].concat(), None);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(std::fs::read_to_string(&mine)
        .unwrap()
        .contains("id = \"can-i-donate\""));
}

#[test]
fn init_makes_a_folder_that_answers_from_its_example() {
    let tmp = tempfile::tempdir().unwrap();
    let bot = tmp.path().join("bot");
    let init = qabot(&["init", bot.to_str().unwrap()], None);
    let text = stdout(&init);
    assert!(init.status.success(), "{text}{}", stderr(&init));
    for step in [
        "qabot ask \"",
        "qabot import",
        "qabot check",
        "DISCORD_TOKEN=... qabot run",
    ] {
        assert!(text.contains(step), "missing {step:?} in\n{text}");
    }
    assert!(bot.join("knowledge/example.toml").is_file());
    // From inside the new folder, with its own config (and the model it points at).
    let ask = qabot_in(&bot, &["ask", qabot::init::EXAMPLE_QUESTION], None);
    assert!(
        stdout(&ask).starts_with("**When and where does the club meet?**"),
        "{}{}",
        stdout(&ask),
        stderr(&ask)
    );
    let check = qabot_in(&bot, &["check"], None);
    assert!(check.status.success(), "{}", stdout(&check));
    let again = qabot_in(&bot, &["init"], None);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );
}

/// What `check` says of `tests/fixtures/advice`, one warning of each kind, in entry order.
const ADVICE: [&str; 4] = [
    "warning: tests/fixtures/advice/club.toml:3: entry \"meeting-times\": alternate \"Where is it?\" leaves no word to search for (qabot ignores \"where\", \"is\", \"it\")",
    "warning: tests/fixtures/advice/club.toml:3: entry \"meeting-times\": keyword \"membership\" is what entry \"membership\" is about (its question \"How much does membership cost?\", tests/fixtures/advice/club.toml:18), so questions about it can be pulled to this entry; remove the keyword",
    "warning: tests/fixtures/advice/club.toml:3: entry \"meeting-times\": the answer starts with \"**When does the club meet?**\", but qabot already shows \"When does the club meet?\" in bold above every answer; start with the answer itself",
    "warning: tests/fixtures/advice/club.toml:32: entry \"catan-vs-carcassonne\": the verdict starts with \"Verdict\", but qabot already shows it under a **Verdict** heading; start with the verdict itself",
];

#[test]
fn check_gives_advice_and_still_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let config = words_only_config(tmp.path());
    let out = qabot(
        &[
            "check",
            "-k",
            "tests/fixtures/advice",
            "-c",
            config.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ok: 3 entries"), "{text}");
    assert_eq!(lines.len(), 1 + ADVICE.len(), "{text}");
    for (line, want) in lines[1..].iter().zip(ADVICE) {
        assert!(line.starts_with(want), "got {line:?}, want {want:?}");
    }
}

#[test]
fn check_strict_fails_on_advice_and_passes_a_clean_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let config = words_only_config(tmp.path());
    let config = config.to_str().unwrap();
    let strict = qabot(
        &[
            "check",
            "--strict",
            "-k",
            "tests/fixtures/advice",
            "-c",
            config,
        ],
        None,
    );
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
    let text = stdout(&strict);
    assert!(
        text.ends_with("error: 4 warnings and --strict, which makes warnings errors; fix them (or run without --strict)\n"),
        "{text}"
    );
    // The same pack with each piece of advice taken.
    let fixture = std::fs::read_to_string("tests/fixtures/advice/club.toml").unwrap();
    let mut clean = fixture.clone();
    for (advised, fixed) in [
        ("\"Where is it?\"", "\"Where do you meet?\""),
        ("\"membership\"]", "\"weekly\"]"),
        ("'''**When does the club meet?**\n", "'''"),
        ("'''**Verdict:** Carcassonne", "'''Carcassonne"),
    ] {
        assert!(clean.contains(advised), "{advised}");
        clean = clean.replace(advised, fixed);
    }
    let knowledge = tmp.path().join("knowledge");
    std::fs::create_dir(&knowledge).unwrap();
    std::fs::write(knowledge.join("club.toml"), clean).unwrap();
    let passed = qabot(
        &[
            "check",
            "--strict",
            "-k",
            knowledge.to_str().unwrap(),
            "-c",
            config,
        ],
        None,
    );
    assert_eq!(passed.status.code(), Some(0), "{}", stdout(&passed));
    assert_eq!(stdout(&passed).lines().count(), 1, "{}", stdout(&passed));
}

#[test]
fn check_strict_counts_the_entries_meaning_will_confuse() {
    let tmp = tempfile::tempdir().unwrap();
    let knowledge = tmp.path().join("knowledge");
    std::fs::create_dir(&knowledge).unwrap();
    // Each entry's phrasings are about three unrelated things, each closer to the other
    // entry's phrasing of the same thing than to its own.
    std::fs::write(
        knowledge.join("p.toml"),
        r#"[[entry]]
id = "reset-password"
question = "How do I reset my password?"
alternates = ["What time does the shop open tomorrow?", "Where can I buy a concert ticket?"]
answer = "Use the link."

[[entry]]
id = "opening-hours"
question = "I forgot my password, how do I get a new one?"
alternates = ["When does the store open in the morning?", "How do I purchase tickets for the concert?"]
answer = "Nine to five."
"#,
    )
    .unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
    let config = tmp.path().join("meaning.toml");
    std::fs::write(
        &config,
        format!(
            "[matching]\nmodel = {:?}\ncache_dir = \"\"\n[misses]\npath = \"\"\npending_path = \"\"\n",
            model.display().to_string()
        ),
    )
    .unwrap();
    let args = |strict: bool| {
        let mut args = vec![
            "check",
            "-k",
            knowledge.to_str().unwrap(),
            "-c",
            config.to_str().unwrap(),
        ];
        if strict {
            args.push("--strict");
        }
        qabot(&args, None)
    };
    let lenient = args(false);
    let text = stdout(&lenient);
    assert_eq!(lenient.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("ways of being asked are closer to entry")
            .count(),
        2,
        "{text}"
    );
    let strict = args(true);
    let text = stdout(&strict);
    assert_eq!(strict.status.code(), Some(1), "{text}");
    // Two entries with too few alternates, and the two confusions.
    assert!(text.ends_with("error: 4 warnings and --strict, which makes warnings errors; fix them (or run without --strict)\n"), "{text}");
}
