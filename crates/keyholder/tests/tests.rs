//! keyholder's integration tests, in one binary so that they run side by side
//! (ripgrep's layout): one module per behaviour, `common` for the fixtures.

mod common;

mod attacks;
mod cmd;
mod flows;
mod offline;
mod pkcs11;
mod refusals;
mod vectors;
