//! uploader's integration tests against the emulator, in one binary so that they
//! run side by side: one module per behaviour.

mod cli;
mod cmd;
mod management;
mod retries;
mod roles;
