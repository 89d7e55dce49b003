//! postgrest-gen: compiles `apps.toml` into role SQL, secrets and Kustomize overlays.
//!
//! One pipeline, one direction: `config` (load, validate) -> `plan` -> `render` -> `emit`.
//! Everything before `emit` is pure; `workspace` reads the disk, `emit` writes it, `main` is
//! the command line.

pub mod config;
pub mod credentials;
pub mod emit;
pub mod error;
pub mod plan;
pub mod render;
pub mod report;
pub mod workspace;
