//! The `qabot` command as a newcomer uses it: `ask`, `check` and `eval` on real files.

use std::path::Path;
use std::process::{Command, Output};

fn qabot(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_qabot"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
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
    let out = qabot(&["check"], None);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("ok: 19 entries"));
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
    // Exactly right, off-topic quiet, answered or in the first three: count and share each.
    let cells: Vec<&str> = row.split_whitespace().skip(1).collect();
    assert_eq!(
        cells,
        ["1/2", "50.0%", "1/1", "100.0%", "1/2", "50.0%"],
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
        "ask     Answer",
        "check   Validate",
        "eval    Measure",
        "misses  Show",
        "run     Start",
        "invite  Print",
    ] {
        assert!(top.contains(line), "`qabot --help` lacks {line:?}:\n{top}");
    }
    for cmd in ["ask", "check", "eval"] {
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
