//! qabot's core: knowledge, matching and replies, with no Discord in it.
//!
//! The binary's adapters (terminal and Discord) only map their input to [`Engine::ask`] and
//! its [`reply::Reply`] to their output. See `ARCHITECTURE.md` for the map.

pub mod calibrate;
pub mod config;
pub mod discord;
pub mod embed;
pub mod engine;
pub mod eval;
pub mod explain;
pub mod fuse;
pub mod import;
pub mod index;
pub mod init;
pub mod knowledge;
pub mod lint;
pub mod live;
pub mod matcher;
pub mod metrics;
pub mod misses;
pub mod problem;
pub mod reply;
pub mod semantic;
pub mod sharding;
pub mod snapshot;
pub mod text;

pub use config::Config;
pub use engine::{Answer, Engine};
pub use knowledge::Knowledge;
pub use matcher::{Decision, Status};
