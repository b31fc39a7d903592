//! Process hardening for tools that hold secrets: no core dumps.
//!
//! A core dump of keyholder would put a custodian's private key, a share or
//! the master key on disk. At start the tools set RLIMIT_CORE to 0 (soft and
//! hard, so it cannot be raised again) and mark the process not dumpable
//! (PR_SET_DUMPABLE 0: no core file, and no ptrace attach by other processes
//! of the same user).

/// Disables core dumps for this process; an error says which step failed.
pub fn disable_core_dumps() -> Result<(), String> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })
        .map_err(|e| format!("cannot set RLIMIT_CORE to 0: {e}"))?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| format!("cannot mark the process not dumpable: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn core_dumps_are_off_afterwards() {
        super::disable_core_dumps().unwrap();
        let limit = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
