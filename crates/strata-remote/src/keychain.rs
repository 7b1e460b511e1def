//! Credentials kept by the operating system, by remote name: on Linux the kernel's key retention
//! service (the user keyring, readable only by this user's processes, kept until reboot). They
//! never touch the catalog or any file of Strata's.

use strata_core::{Error, Result};

/// The credential names a remote may have, as in `STRATA_REMOTE_<NAME>_<KEY>`.
pub const KEYS: &[&str] = &[
    "ACCESS_KEY_ID",
    "SECRET_ACCESS_KEY",
    "SESSION_TOKEN",
    "ACCOUNT_NAME",
    "ACCOUNT_KEY",
    "SERVICE_ACCOUNT",
];

fn description(remote: &str, key: &str) -> String {
    format!("strata:remote:{remote}:{key}")
}

#[cfg(target_os = "linux")]
mod imp {
    use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

    use super::*;

    fn ring() -> Result<KeyRing> {
        KeyRing::from_special_id(KeyRingIdentifier::User, false).map_err(fail)
    }

    fn fail(e: KeyError) -> Error {
        Error::Internal(format!("OS keychain: {e:?}"))
    }

    pub fn save(remote: &str, key: &str, value: &str) -> Result<()> {
        ring()?
            .add_key(&description(remote, key), value.as_bytes())
            .map_err(fail)?;
        Ok(())
    }

    pub fn load(remote: &str, key: &str) -> Option<String> {
        let k = ring().ok()?.search(&description(remote, key)).ok()?;
        String::from_utf8(k.read_to_vec().ok()?).ok()
    }

    pub fn forget(remote: &str) -> Result<usize> {
        let r = ring()?;
        let mut n = 0;
        for key in KEYS {
            if let Ok(k) = r.search(&description(remote, key)) {
                k.invalidate().map_err(fail)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    pub fn save(_remote: &str, _key: &str, _value: &str) -> Result<()> {
        Err(Error::invalid(
            "no OS keychain support on this platform yet: use environment variables",
        ))
    }

    pub fn load(_remote: &str, _key: &str) -> Option<String> {
        None
    }

    pub fn forget(_remote: &str) -> Result<usize> {
        Ok(0)
    }
}

/// Stores one credential of a remote (replacing an earlier one).
pub fn save(remote: &str, key: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(format!("empty {key} for remote '{remote}'")));
    }
    imp::save(remote, key, value)
}

pub fn load(remote: &str, key: &str) -> Option<String> {
    imp::load(remote, key)
}

/// Removes every credential of a remote; returns how many there were.
pub fn forget(remote: &str) -> Result<usize> {
    imp::forget(remote)
}
