//! Helpers shared by the integration tests. Not every test uses every helper.
#![allow(dead_code)]

pub mod bot;
pub mod fake_discord;
