//! The emulator's integration tests, in one binary so that they run side by
//! side: the protocol as the tools use it, and Azure's recordings replayed.

mod protocol;
mod replay;
