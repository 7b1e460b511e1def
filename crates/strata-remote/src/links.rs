//! External files (`add-link`): objects left where they are — a bucket, an https server, a
//! shared folder — recorded by size and hash and read from there when needed. A link inside a
//! configured remote's bucket is read with that remote's endpoint and credentials.
//!
//! A link the user made here goes wherever it points. A link that arrived from a bucket was
//! written by someone else, so it may not read this machine's files (`file://` only under the
//! folders in `STRATA_ALLOW_FILE_LINKS`) nor reach its network's internal addresses (http(s) to
//! loopback, link-local, private, unspecified or multicast addresses only when the remote allows
//! it). The host of an http(s) link is resolved here, every address checked, and the connection
//! pinned to the checked addresses; redirects are followed by hand, each hop checked the same way.

use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::ObjectStoreExt;
use strata_core::error::{Kind, Remedy};
use strata_core::manifest::validate_link;
use strata_core::{Cancel, Error, Hash, RemoteSpec, Result};

use crate::connect::{connect, redact, Connected};
use crate::location::{redact_url, Location};

/// Folders (`:`-separated) under which `file://` links that came from a bucket may be read.
pub const ALLOW_FILE_LINKS_VAR: &str = "STRATA_ALLOW_FILE_LINKS";
/// Redirects followed for one http(s) link.
const MAX_REDIRECTS: usize = 5;

/// Who made a link, and so how far it may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Made on this machine (`add-link`): read wherever it points.
    Own,
    /// Arrived from remote `remote`'s bucket.
    Bucket {
        remote: String,
        /// The remote allows links to loopback, link-local and private addresses.
        allow_private: bool,
    },
}

/// Where a link's bytes are.
pub struct Link {
    /// As recorded in the manifest.
    pub url: String,
    source: Source,
}

/// Checks one address an http(s) link (or a redirect) would connect to.
type Vet = fn(SocketAddr) -> std::result::Result<(), String>;

enum Source {
    Store {
        at: Connected,
        key: StorePath,
    },
    /// `vet`: `None` for the user's own links.
    Web {
        url: reqwest::Url,
        vet: Option<Vet>,
    },
}

impl Link {
    pub fn open(url: &str, remotes: &[RemoteSpec], trust: &Trust) -> Result<Link> {
        let bad = |why: &str| Error::invalid(format!("link '{}': {why}", shown(url)));
        validate_link(url)?;
        let loc = Location::parse(url)?;
        let (spec_url, key) = match &loc {
            Location::Folder(path) => {
                let path = match trust {
                    Trust::Own => path.clone(),
                    Trust::Bucket { remote, .. } => allowed_file(url, path, remote)?,
                };
                let key = StorePath::from_absolute_path(&path).map_err(|e| bad(&e.to_string()))?;
                let at = Connected {
                    name: "link".into(),
                    store: Arc::new(LocalFileSystem::new()),
                    prefix: StorePath::default(),
                    read_only: true,
                };
                return Ok(Link {
                    url: url.to_string(),
                    source: Source::Store { at, key },
                });
            }
            Location::Http(full) => {
                let parsed = reqwest::Url::parse(full).map_err(|e| bad(&e.to_string()))?;
                if parsed.host().is_none() {
                    return Err(bad("no host"));
                }
                if parsed.path().trim_matches('/').is_empty() {
                    return Err(bad("no file path"));
                }
                let vet = matches!(
                    trust,
                    Trust::Bucket {
                        allow_private: false,
                        ..
                    }
                )
                .then_some(public_only as Vet);
                return Ok(Link {
                    url: url.to_string(),
                    source: Source::Web { url: parsed, vet },
                });
            }
            Location::S3 { bucket, prefix } => (format!("s3://{bucket}"), prefix.clone()),
            Location::Azure { container, prefix } => {
                (format!("azure://{container}"), prefix.clone())
            }
            Location::Gcs { bucket, prefix } => (format!("gs://{bucket}"), prefix.clone()),
        };
        if key.is_empty() {
            return Err(bad("names a bucket, not a file"));
        }
        // The bucket of a configured remote: its endpoint and credentials apply.
        let same_bucket = remotes.iter().find(|r| {
            Location::parse(&r.url)
                .ok()
                .is_some_and(|l| same_root(&l, &loc))
        });
        let spec = match same_bucket {
            Some(r) => RemoteSpec {
                url: spec_url,
                ..r.clone()
            },
            None => RemoteSpec {
                name: "link".into(),
                url: spec_url,
                endpoint: None,
                region: None,
                allow_http: false,
                is_default: false,
            },
        };
        let at = connect(&spec)?;
        Ok(Link {
            url: url.to_string(),
            source: Source::Store {
                at,
                key: StorePath::from(key),
            },
        })
    }

    /// The URL as it may be shown: no credentials, no query (signed URLs carry them there).
    pub fn shown(&self) -> String {
        shown(&self.url)
    }

    /// Reads the whole object once: its size and hash.
    pub async fn measure(&self, cancel: &Cancel) -> Result<(u64, Hash)> {
        let mut hasher = blake3::Hasher::new();
        let size = self
            .read(None, cancel, |chunk| {
                hasher.update(chunk);
                Ok(())
            })
            .await?;
        Ok((size, Hash::from(hasher.finalize())))
    }

    /// Reads the object into memory, refusing it unless it is `size` bytes hashing to `expect`:
    /// the size a manifest recorded bounds what is read, never what the source announces.
    pub async fn fetch_bytes(&self, size: u64, expect: &Hash, cancel: &Cancel) -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(size.min(1 << 20) as usize);
        let mut hasher = blake3::Hasher::new();
        self.read(Some(size), cancel, |chunk| {
            hasher.update(chunk);
            buf.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        self.check_hash(&hasher, expect)?;
        Ok(buf)
    }

    /// Streams the object into `dest`, with the same checks as [`Link::fetch_bytes`].
    pub async fn fetch_to_file(
        &self,
        dest: &Path,
        size: u64,
        expect: &Hash,
        progress: &dyn strata_core::Progress,
        cancel: &Cancel,
    ) -> Result<u64> {
        use std::io::Write;
        use strata_core::IoContext;
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(dest).ctx("create", dest)?,
        );
        let mut hasher = blake3::Hasher::new();
        let n = self
            .read(Some(size), cancel, |chunk| {
                hasher.update(chunk);
                out.write_all(chunk).ctx("write", dest)?;
                progress.advance(0, chunk.len() as u64);
                Ok(())
            })
            .await?;
        out.flush().ctx("write", dest)?;
        self.check_hash(&hasher, expect)?;
        Ok(n)
    }

    fn check_hash(&self, hasher: &blake3::Hasher, expect: &Hash) -> Result<()> {
        if Hash::from(hasher.finalize()) != *expect {
            return Err(self.corrupt("changed at the source since it was linked".into()));
        }
        Ok(())
    }

    fn corrupt(&self, detail: String) -> Error {
        Error::Corrupt {
            what: "linked file".into(),
            detail: format!("{} {detail}", self.shown()),
        }
    }

    /// Passes every chunk of the object to `each`; with `size`, refuses an object announced or
    /// sent larger than that (before reading past it) or ending short of it.
    async fn read(
        &self,
        size: Option<u64>,
        cancel: &Cancel,
        mut each: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<u64> {
        let too_big = |n: u64| {
            self.corrupt(format!(
                "changed at the source since it was linked: {n} bytes or more, not the {} it had; refused",
                size.unwrap_or_default()
            ))
        };
        let mut total = 0u64;
        let mut take = |chunk: &[u8]| -> Result<()> {
            cancel.check()?;
            total += chunk.len() as u64;
            if size.is_some_and(|s| total > s) {
                return Err(too_big(total));
            }
            each(chunk)
        };
        match &self.source {
            Source::Store { at, key } => {
                let got = at.store.get(key).await.map_err(|e| self.store_err(at, e))?;
                if size.is_some_and(|s| got.meta.size > s) {
                    return Err(too_big(got.meta.size));
                }
                let mut stream = got.into_stream();
                while let Some(chunk) = stream.next().await {
                    take(&chunk.map_err(|e| self.store_err(at, e))?)?;
                }
            }
            Source::Web { url, vet } => {
                let mut resp = self.open_web(url, *vet).await?;
                if let (Some(n), Some(s)) = (resp.content_length(), size) {
                    if n > s {
                        return Err(too_big(n));
                    }
                }
                while let Some(chunk) = resp.chunk().await.map_err(|e| self.web_err(e))? {
                    take(&chunk)?;
                }
            }
        }
        if let Some(s) = size.filter(|s| total < *s) {
            return Err(self.corrupt(format!(
                "changed at the source since it was linked: {total} bytes, not the {s} it had"
            )));
        }
        Ok(total)
    }

    /// Sends the GET, following up to [`MAX_REDIRECTS`] redirects by hand so that each hop is
    /// checked like the first.
    async fn open_web(&self, first: &reqwest::Url, vet: Option<Vet>) -> Result<reqwest::Response> {
        let mut url = first.clone();
        for _ in 0..=MAX_REDIRECTS {
            let client = client_for(&url, vet, &shown(url.as_str())).await?;
            let resp = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| self.web_err(e))?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .filter(|n| matches!(n.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "link '{}': a redirect without a usable http(s) location",
                            self.shown()
                        ))
                    })?;
                url = next;
                continue;
            }
            if status == reqwest::StatusCode::NOT_FOUND {
                return Err(Error::NotFound {
                    what: "linked file",
                    name: self.shown(),
                });
            }
            if !status.is_success() {
                let kind = match status.as_u16() {
                    401 | 403 => Kind::Unauthorized,
                    400..=499 => Kind::Invalid,
                    _ => Kind::Unavailable,
                };
                return Err(Error::remote_failure(
                    "link",
                    kind,
                    format!("{}: HTTP {status}", self.shown()),
                ));
            }
            return Ok(resp);
        }
        Err(Error::invalid(format!(
            "link '{}': more than {MAX_REDIRECTS} redirects",
            self.shown()
        )))
    }

    fn store_err(&self, at: &Connected, e: object_store::Error) -> Error {
        match e {
            object_store::Error::NotFound { .. } => Error::NotFound {
                what: "linked file",
                name: self.shown(),
            },
            e => Error::remote_failure(
                &at.name,
                crate::connect::failure_kind(&e),
                redact(&format!("{}: {e}", self.shown())),
            ),
        }
    }

    fn web_err(&self, e: reqwest::Error) -> Error {
        let kind = if e.is_timeout() || e.is_connect() || e.is_request() {
            Kind::Unavailable
        } else {
            Kind::Invalid
        };
        Error::remote_failure(
            "link",
            kind,
            redact(&format!("{}: {}", self.shown(), e.without_url())),
        )
    }
}

/// A URL for messages: credentials and query cut off.
fn shown(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    let cut: String = redact_url(base).chars().take(300).collect();
    cut.escape_debug().to_string()
}

/// A client for one request to `url`. When vetting, the host is resolved here, every address it
/// has must be public, and the client connects only to those addresses (a second lookup by
/// the client could answer differently). No proxy: it would resolve the host again.
async fn client_for(url: &reqwest::Url, vet: Option<Vet>, shown: &str) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(60));
    if let Some(vet) = vet {
        let port = url.port_or_known_default().unwrap_or(443);
        let refuse = |why: String| {
            Error::invalid(format!(
                "link '{shown}' refused: {why}; it came from a bucket, and links from a bucket may \
                 not reach this machine or its network"
            ))
            .with_remedy(Remedy::AllowPrivateLinks)
        };
        let host = url.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            vet(SocketAddr::new(ip, port)).map_err(refuse)?;
        } else if host.is_empty() {
            return Err(refuse("no host".into()));
        } else {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| {
                    Error::remote_failure(
                        "link",
                        Kind::Unavailable,
                        format!("{shown}: cannot resolve {host}: {e}"),
                    )
                })?
                .collect();
            if addrs.is_empty() {
                return Err(Error::remote_failure(
                    "link",
                    Kind::Unavailable,
                    format!("{shown}: {host} has no address"),
                ));
            }
            for a in &addrs {
                vet(*a).map_err(|why| refuse(format!("{host} {why}")))?;
            }
            b = b.resolve_to_addrs(host, &addrs);
        }
    }
    b.build()
        .map_err(|e| Error::Internal(format!("http client: {e}")))
}

/// Refuses addresses of this machine and of internal networks.
fn public_only(addr: SocketAddr) -> std::result::Result<(), String> {
    match internal(addr.ip()) {
        Some(kind) => Err(format!("is {}, {kind}", addr.ip())),
        None => Ok(()),
    }
}

/// What kind of internal address `ip` is, if it is one.
pub fn internal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            if a.is_loopback() {
                Some("a loopback address")
            } else if a.is_link_local() {
                Some("a link-local address (cloud metadata lives there)")
            } else if a.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
                Some("a private address")
            } else if a.is_unspecified() || o[0] == 0 {
                Some("an unspecified address")
            } else if a.is_multicast() || a.is_broadcast() {
                Some("a multicast address")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            if let Some(v4) = a.to_ipv4_mapped() {
                internal(IpAddr::V4(v4))
            } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
                let o = a.octets();
                internal(IpAddr::V4(std::net::Ipv4Addr::new(
                    o[12], o[13], o[14], o[15],
                )))
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
                // Local-use NAT64 (64:ff9b:1::/48) translates into the site's own network.
                Some("a private address")
            } else if a.is_loopback() {
                Some("a loopback address")
            } else if a.is_unspecified() {
                Some("an unspecified address")
            } else if a.is_multicast() {
                Some("a multicast address")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("a link-local address")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("a private address")
            } else {
                None
            }
        }
    }
}

/// The folders `file://` links from a bucket may read under, from [`ALLOW_FILE_LINKS_VAR`].
fn allowed_roots() -> Vec<PathBuf> {
    std::env::var_os(ALLOW_FILE_LINKS_VAR)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .filter_map(|p| p.canonicalize().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The real path of a `file://` link from a bucket when it is under an allowed folder (symlinks
/// and `..` resolved first, so neither can lead out).
fn allowed_file(url: &str, path: &Path, remote: &str) -> Result<PathBuf> {
    let roots = allowed_roots();
    let refused = || {
        Error::invalid(format!(
            "link '{}' refused: it came from remote '{remote}' and reads a file of this machine \
             outside the folders in {ALLOW_FILE_LINKS_VAR}",
            shown(url)
        ))
    };
    let lexically_inside = !path.components().any(|c| c == Component::ParentDir)
        && roots.iter().any(|r| path.starts_with(r));
    match path.canonicalize() {
        Ok(real) if roots.iter().any(|r| real.starts_with(r)) => Ok(real),
        Err(_) if lexically_inside => Err(Error::NotFound {
            what: "linked file",
            name: shown(url),
        }),
        _ => Err(refused()),
    }
}

fn same_root(a: &Location, b: &Location) -> bool {
    match (a, b) {
        (Location::S3 { bucket: x, .. }, Location::S3 { bucket: y, .. }) => x == y,
        (Location::Gcs { bucket: x, .. }, Location::Gcs { bucket: y, .. }) => x == y,
        (Location::Azure { container: x, .. }, Location::Azure { container: y, .. }) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "127.8.9.1",
            "169.254.169.254",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:5",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(internal(ip).is_some(), "{ip} should be internal");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "172.32.0.1",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(internal(ip).is_none(), "{ip} should be public");
        }
    }

    #[test]
    fn shown_urls_carry_no_credentials_or_query() {
        assert_eq!(
            shown("https://u:pw@h/x?X-Amz-Signature=abc"),
            "https://***@h/x"
        );
    }

    #[test]
    fn a_file_link_from_a_bucket_is_refused_outside_allowed_folders() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, b"x").unwrap();
        let url = format!("file://{}", secret.display());
        let trust = Trust::Bucket {
            remote: "team".into(),
            allow_private: false,
        };
        // No folder is allowed in the test environment unless a test sets one.
        if std::env::var_os(ALLOW_FILE_LINKS_VAR).is_none() {
            let err = Link::open(&url, &[], &trust).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("refused")),
                "{err:?}"
            );
        }
        assert!(Link::open(&url, &[], &Trust::Own).is_ok());
    }

    /// Two loopback web servers: `first` redirects every request to `second`, which counts the
    /// requests it gets. The test's vetting stands in for "public only": it refuses `second`'s
    /// port the way the real one refuses a loopback address.
    #[test]
    fn a_redirect_to_a_refused_address_is_not_followed() {
        use std::io::{BufRead, BufReader, Write};
        use std::net::TcpListener;
        use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};

        static REFUSED_PORT: AtomicU16 = AtomicU16::new(0);
        static SECOND_HITS: AtomicUsize = AtomicUsize::new(0);

        fn serve(l: TcpListener, answer: impl Fn() -> String + Send + 'static) {
            std::thread::spawn(move || {
                for mut s in l.incoming().flatten() {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut line = String::new();
                    while r.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                        line.clear();
                    }
                    let _ = s.write_all(answer().as_bytes());
                }
            });
        }
        let second = TcpListener::bind("127.0.0.1:0").unwrap();
        let second_port = second.local_addr().unwrap().port();
        serve(second, || {
            SECOND_HITS.fetch_add(1, Ordering::SeqCst);
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".into()
        });
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let first_port = first.local_addr().unwrap().port();
        serve(first, move || {
            format!(
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{second_port}/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        });
        REFUSED_PORT.store(second_port, Ordering::SeqCst);
        fn test_vet(a: SocketAddr) -> std::result::Result<(), String> {
            if a.port() == REFUSED_PORT.load(Ordering::SeqCst) {
                Err(format!("is {a}, refused by the test"))
            } else {
                Ok(())
            }
        }
        let url = format!("http://127.0.0.1:{first_port}/start");
        let link = Link {
            url: url.clone(),
            source: Source::Web {
                url: reqwest::Url::parse(&url).unwrap(),
                vet: Some(test_vet),
            },
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(link.measure(&Cancel::default()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("refused"), "{err}");
        assert_eq!(
            SECOND_HITS.load(Ordering::SeqCst),
            0,
            "no request reached it"
        );

        // Without vetting (the user's own link), the redirect is followed.
        let own = Link {
            url: url.clone(),
            source: Source::Web {
                url: reqwest::Url::parse(&url).unwrap(),
                vet: None,
            },
        };
        let (size, _) = rt.block_on(own.measure(&Cancel::default())).unwrap();
        assert_eq!(size, 2);
        assert_eq!(SECOND_HITS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn redirects_are_followed_five_times_at_most() {
        use std::io::{BufRead, BufReader, Write};
        use std::net::TcpListener;

        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut s in l.incoming().flatten() {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                    line.clear();
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        let url = format!("http://127.0.0.1:{port}/loop");
        let link = Link::open(&url, &[], &Trust::Own).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(link.measure(&Cancel::default()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("more than 5 redirects"), "{err}");
    }
}
