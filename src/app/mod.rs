//! The application: [`AppState`], the keys, [`update`] (pure: state + input → effects) and the
//! runtime's event loop over the terminal, the pipeline and the clock ([`runtime`]). What it
//! runs on (account, store, terminal) is wired by [`crate::session`].

pub mod alarm_form;
pub mod command;
pub mod feed;
pub mod fixture;
pub mod keymap;
pub mod layout;
pub mod problems;
pub mod runtime;
pub mod state;
pub mod table;
pub mod text;
pub mod update;
pub mod zoom;

pub use state::AppState;
pub use update::{Effect, Input, complete, update};
