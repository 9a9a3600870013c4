//! Live knowledge: the engine in use, and reloading it without ever breaking it.
//!
//! A reload reads and validates the knowledge folder and the config *whole* before anything
//! changes; on any problem the running engine stays and the problems are returned, every one
//! located. On success the new engine replaces the old in one pointer swap, so a question in
//! flight holds either the old engine or the new one, never a mix.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use crate::problem::Problems;
use crate::snapshot::State;
use crate::{Config, Engine};
use std::sync::atomic::{AtomicBool, Ordering};

/// The engine and config in force, and where they are reloaded from.
#[derive(Debug)]
pub struct Live {
    knowledge_dir: PathBuf,
    config_path: PathBuf,
    config_required: bool,
    current: RwLock<(Arc<Engine>, Arc<Config>)>,
}

/// Knowledge and config read and validated by [`Live::prepare`], not yet in force.
#[derive(Debug)]
pub struct Prepared {
    engine: Engine,
    config: Config,
}

/// What a successful reload changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Entries in the new knowledge.
    pub entries: usize,
    /// True if the set of aspect commands (ids, titles, comparisons) differs: slash commands
    /// need registering again.
    pub commands_changed: bool,
}

impl Live {
    /// Loads the config (`required`: it must exist) and the knowledge.
    pub fn load(
        knowledge_dir: &Path,
        config_path: &Path,
        config_required: bool,
    ) -> Result<Live, Problems> {
        let (engine, config) = load(knowledge_dir, config_path, config_required, None)?;
        Ok(Live {
            knowledge_dir: knowledge_dir.to_path_buf(),
            config_path: config_path.to_path_buf(),
            config_required,
            current: RwLock::new((Arc::new(engine), Arc::new(config))),
        })
    }

    /// The engine in force. Cheap: hold it for the whole of one question.
    pub fn engine(&self) -> Arc<Engine> {
        self.read().0
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        self.read().1
    }

    fn read(&self) -> (Arc<Engine>, Arc<Config>) {
        // A panic while holding the lock cannot leave the pair half-written: it is replaced
        // whole. So a poisoned lock still holds a consistent value.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        (guard.0.clone(), guard.1.clone())
    }

    /// Reloads knowledge and config; keeps the current ones on any problem.
    pub fn reload(&self) -> Result<Reloaded, Problems> {
        Ok(self.commit(self.prepare(None)?))
    }

    /// Reads and validates knowledge and config, changing nothing: a reload that is given
    /// up (too slow) is simply never committed. Past `until`, embedding stops (what was
    /// embedded is cached for the next attempt) and the reading fails.
    pub fn prepare(&self, until: Option<Instant>) -> Result<Prepared, Problems> {
        let (engine, config) = load(
            &self.knowledge_dir,
            &self.config_path,
            self.config_required,
            until,
        )?;
        Ok(Prepared { engine, config })
    }

    /// Puts prepared knowledge and config in force.
    pub fn commit(&self, prepared: Prepared) -> Reloaded {
        let Prepared { engine, config } = prepared;
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        let reloaded = Reloaded {
            entries: engine.knowledge().entries.len(),
            commands_changed: command_set(&guard.0) != command_set(&engine),
        };
        *guard = (Arc::new(engine), Arc::new(config));
        reloaded
    }

    /// A value that changes when any knowledge or config file changes (names, sizes, times):
    /// what a file watch polls.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut stack = vec![self.knowledge_dir.clone(), self.config_path.clone()];
        while let Some(path) = stack.pop() {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            path.hash(&mut h);
            meta.len().hash(&mut h);
            meta.modified()
                .unwrap_or(SystemTime::UNIX_EPOCH)
                .hash(&mut h);
            if meta.is_dir() {
                if let Ok(read) = std::fs::read_dir(&path) {
                    let mut children: Vec<PathBuf> = read.flatten().map(|e| e.path()).collect();
                    children.sort();
                    stack.extend(children);
                }
            }
        }
        h.finish()
    }
}

/// How often a long embedding is reported in the log.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn load(
    knowledge_dir: &Path,
    config_path: &Path,
    required: bool,
    until: Option<Instant>,
) -> Result<(Engine, Config), Problems> {
    // A first start or a big edit embeds for a while: say so in the log every few seconds,
    // so a bot that is not answering yet does not look hung.
    let mut said = Instant::now();
    let mut in_time = |done: usize, total: usize| {
        if done == total || said.elapsed() >= PROGRESS_EVERY {
            tracing::info!(done, total, "embedding the knowledge");
            said = Instant::now();
        }
        match until {
            Some(t) if Instant::now() > t => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    };
    let config = match Config::load(config_path, required) {
        Ok(config) => config,
        // Every problem at once: the knowledge's too, as if the config were fine.
        Err(Problems(mut a)) => {
            if let Err(Problems(b)) = crate::Knowledge::load_dir(knowledge_dir) {
                a.extend(b);
            }
            return Err(Problems(a));
        }
    };
    let (engine, started) = Engine::open(
        knowledge_dir,
        config.matching.clone(),
        &|_, _, _, _| {},
        &mut in_time,
    )?;
    let snapshot = &started.snapshot;
    match &snapshot.state {
        State::Used => tracing::info!("knowledge read from the start-up snapshot"),
        State::Rebuilt(why) => tracing::info!("start-up snapshot rebuilt: {why}"),
        State::Missing | State::Off => {}
    }
    if let (Some(path), Some(why)) = (&snapshot.path, &snapshot.save_error) {
        // Once per process: a read-only data folder would otherwise repeat it every reload.
        if !SNAPSHOT_WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "cannot write the start-up snapshot {}: {why}; every start will parse the knowledge",
                path.display()
            );
        }
    }
    Ok((engine, config))
}

/// Whether the snapshot could not be written was said already.
static SNAPSHOT_WARNED: AtomicBool = AtomicBool::new(false);

/// What the slash commands are made of: aspect ids, titles and the comparisons having them.
fn command_set(engine: &Engine) -> Vec<(String, Vec<(String, String)>)> {
    engine
        .knowledge()
        .aspect_commands()
        .into_iter()
        .map(|(id, entries)| {
            let title = |e: &crate::knowledge::Entry| {
                e.aspect(&id).map(|a| a.title.clone()).unwrap_or_default()
            };
            let list = entries.iter().map(|e| (e.id.clone(), title(e))).collect();
            (id, list)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACK: &str =
        "[[entry]]\nid = \"a\"\nquestion = \"What is Django?\"\nanswer = \"A framework.\"\n";
    const COMPARISON: &str = "[[entry]]\nid = \"b\"\nquestion = \"Django or Flask?\"\nsubjects = [\"Django\", \"Flask\"]\nanswer = \"x\"\n[[entry.aspect]]\nid = \"speed\"\ntitle = \"Speed\"\ntext.Django = \"x\"\ntext.Flask = \"y\"\n";

    fn setup() -> (tempfile::TempDir, Live) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("k")).unwrap();
        std::fs::write(dir.path().join("k/a.toml"), PACK).unwrap();
        let live =
            Live::load(&dir.path().join("k"), &dir.path().join("qabot.toml"), false).unwrap();
        (dir, live)
    }

    #[test]
    fn a_bad_edit_keeps_the_last_good_knowledge_and_says_where() {
        let (dir, live) = setup();
        let before = live.engine();
        std::fs::write(
            dir.path().join("k/a.toml"),
            "[[entry]]\nid = \"a\"\nquestion = \"\"\nanswer = \"x\"\n",
        )
        .unwrap();
        let err = live.reload().unwrap_err();
        assert!(
            err.to_string()
                .ends_with("a.toml:3:12: `question` is empty; write the text or remove the field"),
            "{err}"
        );
        assert!(
            Arc::ptr_eq(&before, &live.engine()),
            "the old engine is still in use"
        );
        assert_eq!(
            live.engine().ask("what is django").decision.status,
            crate::Status::Answered
        );
    }

    #[test]
    fn a_bad_config_also_keeps_everything() {
        let (dir, live) = setup();
        std::fs::write(dir.path().join("qabot.toml"), "[matching]\nmargin = 7\n").unwrap();
        assert!(live
            .reload()
            .unwrap_err()
            .to_string()
            .contains("qabot.toml:2:1"));
        assert_eq!(
            live.config().matching.margin,
            crate::config::Matching::default().margin
        );
    }

    #[test]
    fn a_good_edit_swaps_and_reports_command_changes() {
        let (dir, live) = setup();
        let fingerprint = live.fingerprint();
        std::fs::write(dir.path().join("k/b.toml"), COMPARISON).unwrap();
        assert_ne!(live.fingerprint(), fingerprint);
        let r = live.reload().unwrap();
        assert_eq!(
            r,
            Reloaded {
                entries: 2,
                commands_changed: true
            }
        );
        let r = live.reload().unwrap();
        assert!(!r.commands_changed, "same aspects: nothing to re-register");
        assert_eq!(live.fingerprint(), live.fingerprint());
    }
}
