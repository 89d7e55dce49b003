//! postgrest-gen: compiles `apps.toml` into role SQL, secrets and Kustomize overlays.
//!
//! One pipeline, one direction: `config` (load, validate) -> `plan` -> `render` -> `emit`.
//! Everything before `emit` is pure; only `emit` and `main` touch the disk.

pub mod config;
pub mod credentials;
pub mod emit;
pub mod error;
pub mod plan;
pub mod render;
