//! Remotes: parsing their URLs, reaching them through `object_store` with credentials from the
//! environment, and checking a connection. Nothing here knows about the catalog's tables.

mod connect;
mod location;
mod probe;

pub use connect::{connect, Connected};
pub use location::Location;
pub use object_store;
pub use probe::{probe, Probe};
