//! Credentials kept by the operating system, by remote name, through the `keyring` crate. They
//! never touch the catalog or any file of Strata's.
//!
//! Two places can hold them on Linux ([`Backend`]):
//!
//! - the desktop keychain, the freedesktop **Secret Service** (GNOME Keyring, KWallet, KeePassXC)
//!   over the D-Bus session bus: kept across restarts, encrypted by the keychain, shown in
//!   Seahorse and the like;
//! - the **kernel keyring** (the user keyring of the kernel's key retention service): readable
//!   only by this user's processes, kept until the machine restarts.
//!
//! Which one [`save`] uses is decided once per process ([`backend`]): the Secret Service when a
//! D-Bus session bus is configured (`DBUS_SESSION_BUS_ADDRESS`, or a socket at
//! `$XDG_RUNTIME_DIR/bus`) and a Secret Service answers on it; else the kernel keyring. Nothing
//! is launched to find a bus (no X11 autolaunch). `STRATA_KEYCHAIN=secret-service` or
//! `STRATA_KEYCHAIN=kernel-keyring` ([`KEYCHAIN_VAR`]) forces one.
//!
//! How entries are named (stable: other tools and older Strata find them by these):
//!
//! - Secret Service: an item in the default collection with the attributes `service` = `strata`
//!   ([`SERVICE`]), `username` = `remote:<name>:<KEY>` ([`user`]), `remote` = `<name>`,
//!   `key` = `<KEY>`, `application` = `strata` (and `target` = `default`, which `keyring` adds),
//!   labelled "Strata remote '<name>': <KEY>". So
//!   `secret-tool lookup service strata username remote:<name>:<KEY>` prints one, and
//!   `secret-tool search --all service strata remote <name>` lists a remote's.
//! - Kernel keyring: a `user` key described `strata:remote:<name>:<KEY>` in the user keyring, as
//!   Strata has always stored them (`keyctl search @u user strata:remote:<name>:<KEY>`).
//!
//! Error messages never contain a secret value.

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

/// Forces where credentials go: `secret-service` or `kernel-keyring` (see [`Backend::code`]).
pub const KEYCHAIN_VAR: &str = "STRATA_KEYCHAIN";

/// The Secret Service `service` attribute of every Strata entry.
pub const SERVICE: &str = "strata";

/// The Secret Service `username` attribute of one credential of a remote.
pub fn user(remote: &str, key: &str) -> String {
    format!("remote:{remote}:{key}")
}

/// The kernel keyring description of one credential of a remote.
pub fn description(remote: &str, key: &str) -> String {
    format!("strata:remote:{remote}:{key}")
}

/// Where credentials are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The desktop keychain (freedesktop Secret Service over D-Bus): survives restarts.
    SecretService,
    /// The kernel's user keyring: kept until the machine restarts.
    KernelKeyring,
}

impl Backend {
    /// For people: "Secret Service" or "kernel keyring".
    pub fn name(self) -> &'static str {
        match self {
            Backend::SecretService => "Secret Service",
            Backend::KernelKeyring => "kernel keyring",
        }
    }

    /// Stable, for scripts, JSON and [`KEYCHAIN_VAR`]: "secret-service" or "kernel-keyring".
    pub fn code(self) -> &'static str {
        match self {
            Backend::SecretService => "secret-service",
            Backend::KernelKeyring => "kernel-keyring",
        }
    }

    /// One line on what keeping credentials there means.
    pub fn explain(self) -> &'static str {
        match self {
            Backend::SecretService => {
                "kept across restarts in the desktop keychain (GNOME Keyring, KWallet or another \
                 Secret Service)"
            }
            Backend::KernelKeyring => {
                "kept until this machine restarts; no desktop keychain (D-Bus Secret Service) was \
                 found"
            }
        }
    }

    /// The backend a [`code`](Backend::code) names.
    pub fn from_code(code: &str) -> Option<Backend> {
        [Backend::SecretService, Backend::KernelKeyring]
            .into_iter()
            .find(|b| b.code() == code)
    }

    fn other(self) -> Backend {
        match self {
            Backend::SecretService => Backend::KernelKeyring,
            Backend::KernelKeyring => Backend::SecretService,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `STRATA_KEYCHAIN` as set: `Ok(None)` when unset or empty.
fn forced() -> Result<Option<Backend>> {
    match std::env::var_os(KEYCHAIN_VAR) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .to_str()
            .and_then(Backend::from_code)
            .map(Some)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{KEYCHAIN_VAR}={} is not a keychain: use {} or {} (or leave it unset to \
                     choose by itself)",
                    v.to_string_lossy(),
                    Backend::SecretService.code(),
                    Backend::KernelKeyring.code(),
                ))
            }),
    }
}

/// Where [`save`] puts credentials in this process, or the error a malformed
/// [`KEYCHAIN_VAR`] gives. Decided on the first call.
pub fn try_backend() -> Result<Backend> {
    static CHOICE: std::sync::OnceLock<std::result::Result<Backend, String>> =
        std::sync::OnceLock::new();
    CHOICE
        .get_or_init(|| match forced() {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Ok(detected()),
            Err(e) => Err(e.to_string()),
        })
        .clone()
        .map_err(Error::Invalid)
}

/// Where [`save`] puts credentials in this process: the forced one, else the Secret Service when
/// it answers, else the kernel keyring. (With a malformed [`KEYCHAIN_VAR`], the one chosen without
/// it; `save` and `forget` then refuse.)
pub fn backend() -> Backend {
    try_backend().unwrap_or_else(|_| detected())
}

fn detected() -> Backend {
    if imp::secret_service_answers() {
        Backend::SecretService
    } else {
        Backend::KernelKeyring
    }
}

/// Whether to look in `b` at all: the chosen one always (its errors are the user's to see), the
/// Secret Service otherwise only when it answers.
fn consulted(b: Backend, chosen: Backend) -> bool {
    b == chosen || b == Backend::KernelKeyring || imp::secret_service_answers()
}

/// The chosen backend, if it can be used: a forced Secret Service must answer.
fn usable() -> Result<Backend> {
    let b = try_backend()?;
    if let (Backend::SecretService, Some(why)) = (b, imp::secret_service_missing()) {
        return Err(Error::invalid(format!(
            "{KEYCHAIN_VAR}={} but no Secret Service answers: {why}; unset it, or set \
             {KEYCHAIN_VAR}={} to keep credentials until this machine restarts",
            b.code(),
            Backend::KernelKeyring.code()
        )));
    }
    Ok(b)
}

/// Stores one credential of a remote (replacing an earlier one) and says where it went. A copy
/// in the other place (one saved before, or while that one was chosen) is removed, so one place
/// holds it.
pub fn save(remote: &str, key: &str, value: &str) -> Result<Backend> {
    if value.is_empty() {
        return Err(Error::invalid(format!("empty {key} for remote '{remote}'")));
    }
    let b = usable()?;
    imp::save(b, remote, key, value)?;
    if consulted(b.other(), b) {
        let _ = imp::delete(b.other(), remote, key);
    }
    Ok(b)
}

/// One credential of a remote: from the chosen place, else from the other one (so credentials kept
/// in the kernel keyring by an earlier Strata, or while D-Bus was away, still work).
pub fn load(remote: &str, key: &str) -> Option<String> {
    let b = backend();
    [b, b.other()]
        .into_iter()
        .filter(|&x| consulted(x, b))
        .find_map(|x| imp::load(x, remote, key).ok().flatten())
}

/// Removes every credential of a remote from both places; returns how many kinds of credential
/// (of [`KEYS`]) there were.
pub fn forget(remote: &str) -> Result<usize> {
    let b = usable()?;
    let mut n = 0;
    let mut first_error = None;
    for key in KEYS {
        let mut found = false;
        for x in [b, b.other()] {
            if !consulted(x, b) {
                continue;
            }
            match imp::delete(x, remote, key) {
                Ok(hit) => found |= hit,
                // The kernel keyring can be missing (a sandbox that forbids it) where it was not
                // chosen: then it holds nothing.
                Err(_) if x != b && x == Backend::KernelKeyring => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        n += usize::from(found);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::sync::OnceLock;

    use keyring::credential::CredentialApi;
    use keyring::keyutils::KeyutilsCredential;
    use keyring::secret_service::SsCredential;
    use linux_keyutils::{KeyRing, KeyRingIdentifier};

    use super::*;

    /// Why no Secret Service can be used here, or `None` when a D-Bus session bus is configured
    /// and a Secret Service opens a session on it. Asked once.
    pub fn secret_service_missing() -> Option<&'static str> {
        static MISSING: OnceLock<Option<String>> = OnceLock::new();
        MISSING
            .get_or_init(|| {
                if !session_bus_configured() {
                    return Some(
                        "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and there \
                         is no $XDG_RUNTIME_DIR/bus)"
                            .into(),
                    );
                }
                dbus_secret_service::SecretService::connect(dbus_secret_service::EncryptionType::Dh)
                    .err()
                    .map(|e| e.to_string())
            })
            .as_deref()
    }

    pub fn secret_service_answers() -> bool {
        secret_service_missing().is_none()
    }

    /// Where libdbus finds the session bus without launching one.
    fn session_bus_configured() -> bool {
        use std::os::unix::fs::FileTypeExt;
        let set = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        set("DBUS_SESSION_BUS_ADDRESS").is_some()
            || set("XDG_RUNTIME_DIR").is_some_and(|d| {
                std::fs::metadata(std::path::Path::new(&d).join("bus"))
                    .is_ok_and(|m| m.file_type().is_socket())
            })
    }

    fn secret_service(remote: &str, key: &str) -> keyring::Result<SsCredential> {
        let mut c = SsCredential::new_with_target(None, SERVICE, &user(remote, key))?;
        c.label = format!("Strata remote '{remote}': {key}");
        for (k, v) in [("application", SERVICE), ("remote", remote), ("key", key)] {
            c.attributes.insert(k.to_string(), v.to_string());
        }
        Ok(c)
    }

    fn kernel(remote: &str, key: &str) -> keyring::Result<KeyutilsCredential> {
        // The user keyring (not keyring's default, the session keyring): every process of this
        // user sees it whatever its login session, and it is where Strata has always kept them.
        let ring = KeyRing::from_special_id(KeyRingIdentifier::User, false)
            .map_err(keyring::keyutils::decode_error)?;
        Ok(KeyutilsCredential {
            session: ring,
            persistent: None,
            description: description(remote, key),
        })
    }

    fn credential(
        b: Backend,
        remote: &str,
        key: &str,
    ) -> keyring::Result<Box<dyn CredentialApi + Send + Sync>> {
        Ok(match b {
            Backend::SecretService => Box::new(secret_service(remote, key)?),
            Backend::KernelKeyring => Box::new(kernel(remote, key)?),
        })
    }

    /// The message of a keychain error: built from the error's kind and the platform's own words,
    /// never from anything that could carry the secret.
    fn fail(b: Backend, doing: &str, remote: &str, key: &str, e: keyring::Error) -> Error {
        use keyring::Error as K;
        let what = format!(
            "cannot {doing} {key} of remote '{remote}' in the {}",
            b.name()
        );
        let hint = match b {
            Backend::SecretService => format!(
                " (or set {KEYCHAIN_VAR}={} to keep credentials until restart)",
                Backend::KernelKeyring.code()
            ),
            Backend::KernelKeyring => String::new(),
        };
        match e {
            K::NoStorageAccess(inner) => Error::Locked(format!(
                "{what}: it is locked or refused access ({inner}); unlock it and try again{hint}"
            )),
            K::PlatformFailure(inner) if b == Backend::SecretService => {
                Error::Internal(format!("{what}: {inner}{hint}"))
            }
            K::PlatformFailure(inner) => Error::Internal(format!("{what}: {inner}")),
            K::BadEncoding(_) => Error::Corrupt {
                what: format!("{key} of remote '{remote}' in the {}", b.name()),
                detail: "not UTF-8 text".into(),
            },
            K::TooLong(attr, limit) => {
                Error::invalid(format!("{what}: {attr} is longer than {limit}"))
            }
            K::Invalid(attr, reason) => Error::invalid(format!("{what}: {attr} {reason}")),
            K::Ambiguous(items) => Error::Internal(format!(
                "{what}: {} entries match; remove them with `strata remote logout {remote}`",
                items.len()
            )),
            K::NoEntry => Error::not_found("credential", format!("{key} of remote '{remote}'")),
            _ => Error::Internal(format!("{what}: unexpected keychain error")),
        }
    }

    pub fn save(b: Backend, remote: &str, key: &str, value: &str) -> Result<()> {
        let c = credential(b, remote, key).map_err(|e| fail(b, "store", remote, key, e))?;
        match c.set_password(value) {
            // Several matching items (another tool made one): replace them all by ours.
            Err(keyring::Error::Ambiguous(_)) if b == Backend::SecretService => {
                secret_service(remote, key)
                    .and_then(|s| s.delete_all_passwords())
                    .and_then(|_| c.set_password(value))
            }
            r => r,
        }
        .map_err(|e| fail(b, "store", remote, key, e))
    }

    /// `Ok(None)` when there is no such entry.
    pub fn load(b: Backend, remote: &str, key: &str) -> Result<Option<String>> {
        let c = credential(b, remote, key).map_err(|e| fail(b, "read", remote, key, e))?;
        match c.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(fail(b, "read", remote, key, e)),
        }
    }

    /// Whether there was one.
    pub fn delete(b: Backend, remote: &str, key: &str) -> Result<bool> {
        let c = credential(b, remote, key).map_err(|e| fail(b, "remove", remote, key, e))?;
        match c.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(keyring::Error::Ambiguous(_)) if b == Backend::SecretService => {
                secret_service(remote, key)
                    .and_then(|s| s.delete_all_passwords())
                    .map(|_| true)
                    .map_err(|e| fail(b, "remove", remote, key, e))
            }
            Err(e) => Err(fail(b, "remove", remote, key, e)),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    pub fn secret_service_missing() -> Option<&'static str> {
        Some("not supported on this platform yet")
    }

    pub fn secret_service_answers() -> bool {
        false
    }

    pub fn save(_b: Backend, _remote: &str, _key: &str, _value: &str) -> Result<()> {
        Err(Error::invalid(
            "no OS keychain support on this platform yet: use environment variables",
        ))
    }

    pub fn load(_b: Backend, _remote: &str, _key: &str) -> Result<Option<String>> {
        Ok(None)
    }

    pub fn delete(_b: Backend, _remote: &str, _key: &str) -> Result<bool> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_round_trip() {
        for b in [Backend::SecretService, Backend::KernelKeyring] {
            assert_eq!(Backend::from_code(b.code()), Some(b));
            assert_ne!(b.other(), b);
            assert!(!b.explain().contains('\n'));
        }
        assert_eq!(Backend::SecretService.code(), "secret-service");
        assert_eq!(Backend::KernelKeyring.code(), "kernel-keyring");
        assert_eq!(Backend::SecretService.name(), "Secret Service");
        assert_eq!(Backend::KernelKeyring.name(), "kernel keyring");
        assert_eq!(Backend::from_code("gnome"), None);
        assert_eq!(user("s3", "ACCESS_KEY_ID"), "remote:s3:ACCESS_KEY_ID");
        assert_eq!(
            description("s3", "ACCESS_KEY_ID"),
            "strata:remote:s3:ACCESS_KEY_ID"
        );
    }
}
