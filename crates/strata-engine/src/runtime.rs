//! Reaching a remote: which one an operation talks to, refusing the network when offline, and
//! the one async runtime every transfer runs on.

use std::future::Future;
use std::sync::OnceLock;

use strata_core::error::{Kind, Remedy};
use strata_core::{DatasetName, Error, RemoteSpec, Result};
use strata_remote::{connect, Connected};

use crate::Engine;

/// The process's one async runtime: a few worker threads carry the connections while the
/// calling thread drives the operation. Built on first use, shared by every engine of the
/// process (the app opens one per command).
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    let rt = RUNTIME.get_or_init(|| {
        // Transfers allocate buffers of several MB on one thread and free them on another.
        // glibc raises its mmap threshold each time such a buffer is freed, after which they come
        // from per-thread heaps that keep the memory: a fetch of 1 GB in 8 MB ranges peaked at
        // 170 MB where 70 MB are live. A fixed threshold maps and returns them each time.
        // SAFETY: mallopt only sets an allocator parameter; 0 on failure, which changes nothing.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        }
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("strata-remote")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    rt.as_ref()
        .map_err(|e| Error::Internal(format!("async runtime: {e}")))
}

/// Runs remote work on the process's one runtime.
pub(crate) fn block_on<F: Future>(f: F) -> Result<F::Output> {
    Ok(runtime()?.block_on(f))
}

/// The runtime, for threads of an operation's own that wait on the network one step at a time
/// (large downloads: the bytes are hashed and written on those threads, not the runtime's).
pub(crate) fn runtime_handle() -> Result<tokio::runtime::Handle> {
    Ok(runtime()?.handle().clone())
}

impl Engine {
    /// The remote to use: the one named, else the dataset's own, else the default.
    pub(crate) fn remote_for(
        &self,
        name: Option<&str>,
        dataset: Option<&DatasetName>,
    ) -> Result<RemoteSpec> {
        if name.is_none() {
            if let Some(d) = dataset {
                if let Some(own) = self.catalog.dataset_remote(d)? {
                    return self.remote(Some(&own));
                }
            }
        }
        self.remote(name)
    }

    /// Refuses network use under `--offline`; `what` says what needed it.
    pub(crate) fn online(&self, what: &str) -> Result<()> {
        if self.offline {
            return Err(Error::Unavailable(format!(
                "{what} needs the network, and this is offline"
            ))
            .with_remedy(Remedy::GoOnline));
        }
        Ok(())
    }

    pub(crate) fn connect_to(
        &self,
        name: Option<&str>,
        dataset: Option<&DatasetName>,
    ) -> Result<Connected> {
        let spec = self.remote_for(name, dataset)?;
        self.online(&format!("remote '{}'", spec.name))?;
        connect(&spec)
    }

    pub(crate) fn connect_writable(
        &self,
        name: Option<&str>,
        dataset: Option<&DatasetName>,
    ) -> Result<Connected> {
        let c = self.connect_to(name, dataset)?;
        if c.read_only {
            return Err(Error::remote_failure(
                &c.name,
                Kind::Invalid,
                "is read-only (https); uploads go to a file://, s3://, gs:// or azure:// remote",
            ));
        }
        Ok(c)
    }
}
