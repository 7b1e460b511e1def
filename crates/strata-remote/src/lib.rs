//! Remotes: parsing their URLs, reaching them through `object_store` with credentials from the
//! environment, the bucket layout Strata shares through, its append-only catalog log, and moving
//! bytes. Nothing here knows about the local catalog's tables.

mod connect;
pub mod keychain;
pub mod layout;
mod links;
mod location;
pub mod locator;
pub mod log;
mod probe;
mod transfer;

pub use connect::{connect, redact, Connected};
pub use layout::Layout;
pub use links::{Link, Trust, ALLOW_FILE_LINKS_VAR};
pub use location::{redact_url, refuse_userinfo, Location};
pub use locator::{Locator, Place};
pub use object_store;
pub use probe::{probe, Probe};
pub use transfer::{Buffers, PART_SIZE};
