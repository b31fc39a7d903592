//! End-to-end tests of whole ceremonies through the real binaries, in one
//! binary so that they run side by side: one module per behaviour, the
//! fixtures in `support/` (the `ceremony-tests` library).

mod ceremony_record;
mod ceremony_scripts;
mod crash_safety;
mod drill_failure;
mod drill_provision;
mod full_backup;
mod hints;
mod hostile_inputs;
mod interop;
mod manual;
mod package;
mod readme;
mod recovery;
mod secret_hygiene;
mod share_commitments;
mod tamper;
