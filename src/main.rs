//! The `qabot` command: the terminal adapter over the core, and the Discord bot's launcher.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use qabot::{Config, Engine, Knowledge};

/// qabot answers questions from a TOML knowledge base, on Discord and in the terminal.
///
/// Start with `qabot ask "django or flask for a beginner?"`: it prints exactly the reply a
/// Discord user would get. `qabot check` validates the knowledge and config; `qabot eval`
/// measures how well the knowledge answers a set of questions; `qabot run` starts the bot.
/// For a bot of your own, `qabot init my-bot` makes a folder with an example pack, and
/// `qabot import` turns an FAQ you already have into knowledge files.
#[derive(Parser)]
#[command(name = "qabot", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(InitArgs),
    Import(ImportArgs),
    Ask(AskArgs),
    Check(CheckArgs),
    Eval(EvalArgs),
    Misses(MissesArgs),
    /// Start the Discord bot (until Ctrl-C or SIGTERM).
    ///
    /// The token comes from DISCORD_TOKEN, else from `token_file` in the config; without one,
    /// or if Discord rejects it, qabot exits with status 2 and says how to get one. The token
    /// is never printed. QABOT_API_PROXY (or `api_proxy`) sends REST calls to another base
    /// URL, such as a rate-limit proxy.
    Run(RunArgs),
    Invite(InviteArgs),
}

/// Create a bot folder: an example knowledge pack and the configuration.
///
/// Writes DIR/knowledge/example.toml (a small commented pack about a board-game club: four
/// questions and a comparison with two aspects) and DIR/config/qabot.toml (every key
/// documented), then prints the next steps. DIR must be new or empty (hidden files such as
/// `.git` aside); nothing is ever overwritten. The config points `[matching] model` at the
/// sentence model that came with this qabot build, by its absolute path, so `qabot ask`
/// works from DIR; without one it sets `semantic = false` and says how to turn it on.
#[derive(Args)]
struct InitArgs {
    /// The folder to set up (created if missing).
    #[arg(default_value = ".", value_name = "DIR")]
    dir: PathBuf,
}

/// Turn existing FAQ material into a knowledge pack (TOML files `qabot check` accepts).
///
/// Each SOURCE becomes one file, DIR/<source name>.toml. Sources, by kind:
///
/// - A folder of `NAME.md` files, one entry each (a bot's tag collection). The question is
///   the front matter's `title` (or `question`), else the first `# heading`; the rest of the
///   file is the answer, kept as Discord markdown, code blocks intact. The id is the front
///   matter's `id`, else NAME. Front matter is YAML between `---` lines or TOML between
///   `+++` lines; `aliases`/`alternates` become alternates and `keywords`/`tags` keywords, as
///   `key: [a, b]` or `key:` followed by `- item` lines; other keys, nested ones included,
///   are ignored. A file with no question is refused.
///
/// - One `.md` file holding a whole FAQ: a heading per question, the text under it the
///   answer. Questions are the `#` headings if they repeat, else the `##` ones (a `# Title`
///   and text above the first question are left out, and reported). A line underlined with
///   `===` counts as a `#` heading, one underlined with `---` as a `##` heading.
///
/// - A `.csv` (comma) or `.tsv` (tab) table whose first row names the columns: `question`
///   and `answer`, optionally `id`, `alternates` and `keywords` (lists separated by `;` or
///   `|`). Fields may be quoted ("..."), holding delimiters, line breaks and doubled quotes.
///
/// Ids are made valid (lowercase ASCII letters, digits and single hyphens, at most 32
/// characters; accents folded), made from the question when none is given, and made unique
/// with `-2`, `-3`, ... (also against the other .toml files in DIR). The report on standard
/// output lists every id repaired, every duplicate renamed and every answer too long for one
/// Discord message (kept whole, never cut). The pack is checked before anything is written;
/// existing files are never overwritten without --force. Exits 1 if a source cannot be read
/// or imported, naming the file and line.
#[derive(Args)]
struct ImportArgs {
    /// A folder of .md files, a .md FAQ, a .csv or a .tsv file; several may be given.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<PathBuf>,
    /// The knowledge folder to write to (created if missing), e.g. `knowledge`.
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite files of the same name in DIR.
    #[arg(long)]
    force: bool,
}

/// `qabot run`'s options: where the files are, and what this process runs when several share
/// one config file (each flag overrides its config key).
#[derive(Args, Clone)]
struct RunArgs {
    #[command(flatten)]
    paths: Paths,
    /// Run only shards FIRST to LAST (inclusive), e.g. `0-3`, of --total-shards, when several
    /// processes or machines split the bot's shards (overrides `shard_range`).
    #[arg(long, env = "QABOT_SHARD_RANGE", value_name = "FIRST-LAST", value_parser = shard_range)]
    shard_range: Option<[u32; 2]>,
    /// How many shards all processes run together (overrides `total_shards`).
    #[arg(long, env = "QABOT_TOTAL_SHARDS", value_name = "N")]
    total_shards: Option<u32>,
    /// Serve /metrics and /ready here instead of `metrics_addr` (each process on a host needs
    /// its own port).
    #[arg(long, env = "QABOT_METRICS_ADDR", value_name = "IP:PORT")]
    metrics_addr: Option<std::net::SocketAddr>,
}

/// `FIRST-LAST` (or one shard, `N`) as `[first, last]`.
fn shard_range(text: &str) -> Result<[u32; 2], String> {
    let number = |n: &str| {
        n.trim()
            .parse::<u32>()
            .map_err(|_| format!("{text:?} is not FIRST-LAST, e.g. 0-3"))
    };
    match text.split_once('-') {
        Some((first, last)) => Ok([number(first)?, number(last)?]),
        None => number(text).map(|n| [n, n]),
    }
}

/// Validate the knowledge folder and the configuration.
///
/// Prints each problem as `path:line:column: message` and exits 1 if there is any. Otherwise
/// prints a one-line summary, then advice as `warning: path:line: entry "id": message`, each
/// saying how to fix it: too few alternates, an answer too long, a question or alternate with
/// no word qabot searches for, a keyword that is another entry's core term (its question,
/// subjects or id), an answer repeating what qabot adds around it (the title line, the
/// Verdict heading, the offer of aspects), and entries the meaning model will confuse. Exits 0
/// with warnings, unless --strict. Run it after every edit of the knowledge.
#[derive(Args)]
struct CheckArgs {
    /// Treat warnings as errors: exit 1 if there is any (for CI).
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    paths: Paths,
}

/// Where the knowledge and configuration are.
#[derive(Args, Clone)]
struct Paths {
    /// Folder of knowledge files (`*.toml`, read recursively).
    #[arg(long, short, default_value = "knowledge", value_name = "DIR")]
    knowledge: PathBuf,
    /// Configuration file. The default path may be missing (defaults apply); a path given
    /// explicitly must exist.
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
}

const DEFAULT_CONFIG: &str = "config/qabot.toml";

impl Paths {
    /// The config file, and whether it must exist.
    fn config_path(&self) -> (&Path, bool) {
        match &self.config {
            Some(p) => (p.as_path(), true),
            None => (Path::new(DEFAULT_CONFIG), false),
        }
    }

    fn config(&self) -> anyhow::Result<Config> {
        let (path, required) = self.config_path();
        Config::load(path, required).map_err(|p| anyhow::anyhow!("{p}"))
    }

    fn engine(&self) -> anyhow::Result<Engine> {
        load_engine(&self.knowledge, &self.config()?)
    }
}

/// Loads the knowledge in `dir` for answering (from the start-up snapshot when it is
/// current), telling the terminal (standard error) about a long parse or first embedding.
fn load_engine(dir: &Path, config: &Config) -> anyhow::Result<Engine> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let parsing = |_: usize, files: usize, _: &Path, _: &str| {
        parse_progress(
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            files,
        )
    };
    let (engine, started) = Engine::open(dir, config.matching.clone(), &parsing, &mut progress())
        .map_err(|p| {
        anyhow::anyhow!("{p}\n(run `qabot check` for every problem; fix them and try again)")
    })?;
    let snapshot = &started.snapshot;
    if let (Some(path), Some(why)) = (&snapshot.path, &snapshot.save_error) {
        eprintln!(
            "warning: cannot write the start-up snapshot {}: {why} (the next start parses the knowledge again)",
            path.display()
        );
    }
    if std::env::var_os("QABOT_SNAPSHOT_REPORT").is_some() {
        eprintln!("start-up snapshot: {:?}", snapshot.state);
    }
    Ok(engine)
}

/// Files between two progress lines when standard error is not a terminal.
const PARSE_STEP: usize = 1000;

/// Reports parsing progress on standard error for a big pack (a first start of 100,000
/// entries parses for seconds); a small one, or one read from the snapshot, says nothing.
fn parse_progress(done: usize, files: usize) {
    use std::io::IsTerminal;
    if files < 100 {
        return;
    }
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\rparsing the knowledge: {done}/{files} files");
        if done == files {
            let _ = writeln!(err);
        }
    } else if done.is_multiple_of(PARSE_STEP) || done == files {
        let _ = writeln!(err, "parsing the knowledge: {done}/{files} files");
    }
}

/// Reports embedding progress on standard error: a first run on a large pack takes a while,
/// and silence would look like a hang. On a terminal the count updates in place; in a log
/// (systemd, Kubernetes) a line at the start, at every tenth and at the end. Later runs
/// read the cache and say nothing.
fn progress() -> impl FnMut(usize, usize) -> std::ops::ControlFlow<()> {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let mut logged = None;
    move |done, total| {
        let mut err = std::io::stderr();
        let tenth = done * 10 / total.max(1);
        if terminal {
            let _ = write!(err, "\rembedding the knowledge: {done}/{total}");
            if done == total {
                let _ = writeln!(err);
            }
        } else if logged != Some(tenth) {
            logged = Some(tenth);
            let _ = writeln!(err, "embedding the knowledge: {done}/{total}");
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// Answer questions as the Discord bot would, without Discord.
///
/// With QUESTION, answers it; without, answers each line of standard input in turn. The plain
/// output is the reply as a person reads it: an answer, "did you mean" choices, or a note that
/// qabot has no answer (on Discord, an auto-answer channel stays silent instead).
#[derive(Args)]
struct AskArgs {
    /// The question. Omit it to read questions from standard input, one per line.
    question: Option<String>,
    /// Print one JSON object per question (status, entry, aspect, confidence, suggestions,
    /// text), one per line.
    #[arg(long)]
    json: bool,
    /// Show why: each word's term and weight, the best match and the runner-up with their
    /// score parts and the phrasing that matched.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    paths: Paths,
}

/// Measure the knowledge against a TSV of questions with expected answers.
///
/// Each line: `question<TAB>entry-id<TAB>aspect-id`, `-` for no aspect, entry `-` for an
/// off-topic question that must not be answered; `#` starts a comment. Prints the share of
/// on-topic questions answered exactly right, the share of off-topic ones left unanswered,
/// the share whose right answer was given or suggested, how long a decision took (median and
/// 99th percentile, model included; use a release build for figures), and every miss.
/// Exits 1 if either share is below --min.
#[derive(Args)]
struct EvalArgs {
    /// Question sets: a TSV file (asked of --knowledge), or a pack folder holding
    /// `knowledge/` and `questions.tsv` (asked of its own knowledge). Several give one table.
    #[arg(required = true, value_name = "SET")]
    sets: Vec<PathBuf>,
    /// Fail (exit 1) when exact answers or declines fall below this share in any set.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    min: f64,
    /// List every miss (the default with a single set).
    #[arg(long)]
    misses: bool,
    #[command(flatten)]
    paths: Paths,
}

/// Show what users asked that qabot could not answer, grouped by similarity.
///
/// Reads the misses log (`[misses] path` in the config, with its rotated files) and prints
/// the most frequent groups of similar questions, each with a few phrasings and the closest
/// entry in the current knowledge: add those phrasings as alternates, or write a new entry.
#[derive(Args)]
struct MissesArgs {
    /// How many groups to show.
    #[arg(long, default_value_t = 20, value_name = "N")]
    top: usize,
    /// Read this log instead of the one named in the config.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    #[command(flatten)]
    paths: Paths,
}

fn main() -> ExitCode {
    qabot::embed::settle_thread_count();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => init(&args),
        Command::Import(args) => import(&args),
        Command::Ask(args) => ask(args),
        Command::Check(args) => check(&args),
        Command::Eval(args) => eval(args),
        Command::Misses(args) => misses(args),
        Command::Run(args) => run(&args),
        Command::Invite(args) => invite(&args),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`qabot ask … | head`): nothing is wrong, and nobody to tell.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qabot: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let model = qabot::init::find_model();
    let config = qabot::init::config_text(model.as_deref())?;
    match qabot::init::create(&args.dir, &config) {
        Ok(created) => {
            print!("{}", qabot::init::next_steps(&created, model.is_some()));
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ qabot::init::InitError::ShippedConfig(_)) => Err(e.into()),
        Err(e) => {
            eprintln!("qabot init: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let imported = qabot::import::plan(&args.sources, &args.out)
        .and_then(|plan| qabot::import::write(&plan, args.force).map(|_| plan));
    match imported {
        Ok(plan) => {
            println!("{}", qabot::import::Report(&plan));
            println!(
                "next: `qabot check -k {dir}`, then `qabot ask -k {dir} \"...\"`",
                dir = args.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_bug() => Err(e.into()),
        Err(e) => {
            eprintln!("qabot import: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn ask(args: AskArgs) -> anyhow::Result<ExitCode> {
    let engine = args.paths.engine()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let answer_one = |question: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let answer = engine.ask(question);
        if args.json {
            writeln!(out, "{}", answer.json(engine.knowledge()))?;
        } else {
            writeln!(out, "{}", answer.reply.text())?;
        }
        if args.explain {
            writeln!(
                out,
                "\n{}",
                qabot::explain::explain(&engine, &answer.decision)
            )?;
        }
        Ok(())
    };
    match &args.question {
        Some(q) => answer_one(q, &mut out)?,
        None => {
            for (n, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.context("reading standard input")?;
                if !args.json && n > 0 {
                    writeln!(out, "\n---\n")?;
                }
                answer_one(&line, &mut out)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Validates the knowledge folder and the configuration, then gives advice on a valid pack.
fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let paths = &args.paths;
    let mut problems = Vec::new();
    if let Err(p) = paths.config() {
        problems.push(p.to_string());
    }
    match Knowledge::load_dir(&paths.knowledge) {
        Ok(k) => {
            let commands = qabot::discord::commands::command_set(&k);
            problems.extend(
                qabot::discord::commands::validate(&commands)
                    .into_iter()
                    .map(|p| format!("{}: slash commands: {p}", paths.knowledge.display())),
            );
            if problems.is_empty() {
                let aspects = k.aspect_commands().len();
                println!(
                    "ok: {} entries, {} aspect commands, {} synonyms, {} other topics in {}",
                    k.entries.len(),
                    aspects,
                    k.synonyms.len(),
                    k.other_topics.len(),
                    paths.knowledge.display()
                );
                let advice = qabot::lint::lint(&k);
                for warning in &advice {
                    println!("{warning}");
                }
                let mut warnings = advice.len();
                let config = paths.config()?;
                if config.matching.semantic {
                    match Engine::build(
                        k,
                        config.matching.clone(),
                        &paths.knowledge,
                        &mut progress(),
                    ) {
                        Ok((engine, _)) => warnings += check_meaning(&engine),
                        Err(p) => {
                            println!("{p}");
                            return Ok(ExitCode::from(1));
                        }
                    }
                }
                if args.strict && warnings > 0 {
                    println!(
                        "error: {warnings} warning{} and --strict, which makes warnings errors; fix them (or run without --strict)",
                        if warnings == 1 { "" } else { "s" }
                    );
                    return Ok(ExitCode::from(1));
                }
                return Ok(ExitCode::SUCCESS);
            }
        }
        Err(p) => problems.push(p.to_string()),
    }
    for p in problems {
        println!("{p}");
    }
    Ok(ExitCode::from(1))
}

/// What semantic matching makes of the pack: its calibration, and the entries it will
/// confuse (warnings: the pack still loads). Returns how many warnings it printed.
fn check_meaning(engine: &Engine) -> usize {
    let Some(semantic) = engine.semantic() else {
        return 0;
    };
    let c = semantic.calibration();
    println!(
        "meaning: level 0 at cosine {:.3} (off-topic chat), level 1 at {:.3} (the pack's phrasings, {} samples)",
        c.noise, c.own, c.samples
    );
    let entries = &engine.knowledge().entries;
    let confusions = semantic.confusable();
    for confusion in &confusions {
        let (entry, with) = (&entries[confusion.entry], &entries[confusion.with]);
        println!(
            "warning: {}:{}: entry {:?}: {} of its {} ways of being asked are closer to entry {:?} ({}:{}) than to each other; make its alternates say what sets it apart, or merge the two",
            entry.origin.path.display(),
            entry.origin.line,
            entry.id,
            confusion.closer,
            confusion.of,
            with.id,
            with.origin.path.display(),
            with.origin.line
        );
    }
    confusions.len()
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let config = args.paths.config()?;
    let show_misses = args.misses || args.sets.len() == 1;
    let mut rows = Vec::new();
    let mut pass = true;
    for set in &args.sets {
        let (knowledge, file) = if set.is_dir() {
            (set.join("knowledge"), set.join("questions.tsv"))
        } else {
            (args.paths.knowledge.clone(), set.clone())
        };
        let engine = load_engine(&knowledge, &config)?;
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let cases = qabot::eval::parse(&file, &text).map_err(|p| anyhow::anyhow!("{p}"))?;
        let report = qabot::eval::run(&engine, &cases);
        if show_misses {
            print_misses(set, &report);
        }
        pass &= report.accuracy() >= args.min && report.rejection() >= args.min;
        rows.push((set.display().to_string(), report));
    }
    let width = rows
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0)
        .max(3);
    println!(
        "{:width$}  {:>16}  {:>16}  {:>16}  {:>15}",
        "set", "answered exactly", "off-topic quiet", "answer or top 3", "median / p99"
    );
    let cell =
        |right: usize, total: usize, share: f64| format!("{right}/{total} {:5.1}%", 100.0 * share);
    for (name, r) in &rows {
        println!(
            "{name:width$}  {:>16}  {:>16}  {:>16}  {:>15}",
            cell(r.on_topic.1, r.on_topic.0, r.accuracy()),
            cell(r.off_topic.1, r.off_topic.0, r.rejection()),
            cell(r.in_reach, r.on_topic.0, r.reach()),
            format!("{} / {}", millis(r.latency(0.5)), millis(r.latency(0.99)))
        );
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A latency as eval prints it: milliseconds with one decimal, or microseconds below one
/// millisecond (matching by words alone takes tens of them).
fn millis(d: std::time::Duration) -> String {
    if d.as_micros() < 1000 {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

fn print_misses(set: &Path, report: &qabot::eval::Report) {
    for miss in &report.misses {
        let expected = match &miss.case.entry {
            Some(e) => format!("{e} / {}", miss.case.aspect.as_deref().unwrap_or("-")),
            None => "(not answered)".to_string(),
        };
        let got = match &miss.got {
            Some((e, a)) => format!("{e} / {}", a.as_deref().unwrap_or("-")),
            None => "-".to_string(),
        };
        println!(
            "{}: miss: {:?}\n  expected {expected}; got {:?} {got} (confidence {:.3})",
            set.display(),
            miss.case.question,
            miss.status,
            miss.confidence
        );
    }
}

fn misses(args: MissesArgs) -> anyhow::Result<ExitCode> {
    let config = args.paths.config()?;
    let engine = load_engine(&args.paths.knowledge, &config)?;
    let log = match &args.log {
        Some(path) => Some(qabot::misses::MissLog::new(
            path,
            u64::MAX,
            config.misses.keep,
        )),
        None => config.misses.log(),
    };
    let Some(log) = log else {
        println!("the misses log is off (`[misses] path = \"\"` in the config)");
        return Ok(ExitCode::SUCCESS);
    };
    let records = log.read_all();
    if records.is_empty() {
        println!("no misses logged yet");
        return Ok(ExitCode::SUCCESS);
    }
    let groups = qabot::misses::group(&engine, &records);
    println!(
        "{} questions in {} groups; the {} most frequent:",
        records.len(),
        groups.len(),
        args.top.min(groups.len())
    );
    for g in groups.iter().take(args.top) {
        let closest = match &g.closest {
            Some((e, a, c)) => format!("{e} / {} ({c:.2})", a.as_deref().unwrap_or("-")),
            None => "nothing close".to_string(),
        };
        println!(
            "\n{:>5} x {:?}\n      closest: {closest}",
            g.count, g.examples[0]
        );
        for other in &g.examples[1..] {
            println!("      also: {other:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Print the link that adds the bot to a server.
///
/// Scopes `bot` and `applications.commands`, and only the permissions qabot needs (View
/// Channel, Send Messages, Send Messages in Threads, Embed Links, Read Message History). The
/// application id comes from `application_id` in the config, else from Discord using the
/// token (DISCORD_TOKEN or `token_file`).
#[derive(Args)]
struct InviteArgs {
    /// Configuration file (default `config/qabot.toml`, which may be missing).
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// `qabot run`: the Discord bot, until Ctrl-C or SIGTERM.
///
/// SIGHUP reloads the knowledge and config as `/reload` does. SIGINT or SIGTERM stops taking
/// questions, lets the replies in flight finish (at most 5 s), closes the gateway and exits 0.
fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let paths = &args.paths;
    let (config_path, required) = paths.config_path();
    let live = qabot::live::Live::load(&paths.knowledge, config_path, required).map_err(|p| {
        anyhow::anyhow!("{p}\n(run `qabot check` for every problem; fix them and try again)")
    })?;
    let discord = live.config().discord.clone();
    let mut bot = qabot::discord::Bot::from_live(std::sync::Arc::new(live));
    if args.shard_range.is_some() || args.total_shards.is_some() {
        let sharding = qabot::sharding::Sharding::new(
            discord.shards,
            args.shard_range.or(discord.shard_range),
            args.total_shards.or(discord.total_shards),
        )
        .context("--shard-range / --total-shards (or QABOT_SHARD_RANGE / QABOT_TOTAL_SHARDS)")?;
        bot = bot.sharding(sharding);
    }
    if let Some(addr) = args.metrics_addr {
        bot = bot.metrics_addr(addr);
    }
    let bot = bot.build()?;
    let stop = bot.shutdown_handle();
    let reload = bot.reload_handle();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing the replies in flight");
            stop.shutdown();
        });
        tokio::spawn(reload_on_hangup(reload));
        bot.run().await
    })?;
    // Logs go to unbuffered standard error: once this line is out, everything is.
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Reloads on each SIGHUP (what `systemctl reload` and `kill -HUP` send); the outcome is
/// logged by the reload itself.
async fn reload_on_hangup(reload: qabot::discord::ReloadHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP, reload with /reload instead: {e}");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the knowledge");
            let _ = reload.reload().await;
        }
    }
    #[cfg(not(unix))]
    let _ = reload;
}

/// Logs to standard error; `RUST_LOG` overrides the level (default: qabot's info, serenity's
/// warnings), except that the websocket library never logs below debug: its trace output
/// dumps every frame, IDENTIFY and its token included.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,serenity=warn"));
    let filter = NO_SECRETS_IN_TRACES
        .iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Log targets whose trace output carries the token (frame dumps), capped whatever `RUST_LOG`
/// says; the token-leak test runs the bot with `RUST_LOG=trace` to keep this list complete.
const NO_SECRETS_IN_TRACES: &[&str] = &["tungstenite=debug", "tokio_tungstenite=debug"];

/// Resolves on Ctrl-C, or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn invite(args: &InviteArgs) -> anyhow::Result<ExitCode> {
    let paths = Paths {
        knowledge: PathBuf::new(),
        config: args.config.clone(),
    };
    let config = paths.config()?;
    let id = match config.discord.application_id {
        Some(id) => id,
        None => {
            let token = qabot::discord::token_from_env(&config)?;
            let api_base = qabot::discord::api_base_from_env(&config);
            let http = qabot::discord::http(&token, api_base.as_deref());
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime
                .block_on(qabot::discord::invite::application_id(&http))
                .map_err(qabot::discord::BotError::from)
                .context(
                    "asking Discord for the application id (or set `application_id` in the config)",
                )?
        }
    };
    println!("{}", qabot::discord::invite::invite_url(id));
    Ok(ExitCode::SUCCESS)
}
