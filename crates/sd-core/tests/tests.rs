//! sd-core's integration tests, in one binary: formats, Azure's vectors,
//! attestation, the hand-offs, and the module layering.

mod common;

mod attestation;
mod formats;
mod handoff;
mod layering;
mod vectors;
