//! The command line, as clap sees it. Parsing only validates; commands/ does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "strata",
    version,
    about = "Version machine-learning datasets: store every file once, get any version back fast"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Folder holding catalog, store and cache [env: STRATA_HOME; default: the platform data dir]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Forbid network use
    #[arg(long, global = true, env = "STRATA_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    pub offline: bool,
    /// PROJECT/NAME may name a draft: the newest version in any state
    #[arg(long, global = true, conflicts_with = "published")]
    pub include_drafts: bool,
    /// PROJECT/NAME names the newest published version
    #[arg(long, global = true)]
    pub published: bool,
    /// Print one JSON document on stdout and nothing else there
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars, no warnings
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log lines on stderr too (-vv: debug); the log file is <home>/logs/strata.log
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// New draft version of PROJECT/NAME; prints its id
    Create {
        dataset: String,
        /// Semantic version X.Y.Z [default: next patch after the highest]
        #[arg(long)]
        version: Option<String>,
        /// Parent version (repeat; later parents win on the same path)
        #[arg(long = "parent", value_name = "REF")]
        parents: Vec<String>,
        #[arg(long = "tag", value_name = "T")]
        tags: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Share the dataset through this remote instead of the default one
        #[arg(long, value_name = "REMOTE")]
        output: Option<String>,
    },
    /// Add or replace files in a draft (folder contents go under --to)
    Add {
        reference: String,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Folder inside the dataset to put the files in
        #[arg(long, value_name = "DIR_IN_DATASET")]
        to: Option<String>,
        /// Only files matching (repeat); relative to each added folder
        #[arg(long = "glob", value_name = "PATTERN")]
        globs: Vec<String>,
        /// Only the top level of added folders
        #[arg(long)]
        no_recursive: bool,
    },
    /// Record external files (s3://, gs://, azure://, https://, file://) left where they are
    AddLink {
        reference: String,
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// Folder inside the dataset to put them in
        #[arg(long, value_name = "DIR_IN_DATASET")]
        to: Option<String>,
    },
    /// Remove entries by dataset path or glob
    Remove {
        reference: String,
        #[arg(required = true)]
        patterns: Vec<String>,
    },
    /// Make a draft equal to a folder (add, modify, remove)
    Sync { reference: String, folder: PathBuf },
    /// Freeze a draft (with --upload, upload it too; offline, the upload waits for `push`)
    Finalize {
        reference: String,
        #[arg(long)]
        upload: bool,
        /// [default: the dataset's remote, else the default remote]
        #[arg(long, value_name = "NAME", requires = "upload")]
        remote: Option<String>,
    },
    /// Mark a final version published
    Publish { reference: String },
    /// Folder → new final version (child of the latest); prints its id; nothing new if unchanged
    Snapshot {
        dataset: String,
        folder: PathBuf,
        #[arg(long = "tag", value_name = "T")]
        tags: Vec<String>,
        /// Upload the new version (offline: queue it for `push`)
        #[arg(long)]
        upload: bool,
        #[arg(long, value_name = "NAME", requires = "upload")]
        remote: Option<String>,
    },
    /// What a snapshot of FOLDER would record (added, modified, removed files), without one
    Status {
        folder: PathBuf,
        /// Compare against this dataset's newest final or published version
        #[arg(long, value_name = "PROJECT/NAME")]
        dataset: String,
    },
    /// Datasets (with --all: every version)
    List {
        /// PROJECT or PROJECT/NAME
        filter: Option<String>,
        #[arg(long = "tag", value_name = "T")]
        tags: Vec<String>,
        #[arg(long)]
        all: bool,
    },
    /// One version in detail
    Show { reference: String },
    /// Entries of a version: path, size, hash
    Files {
        reference: String,
        #[arg(long = "glob", value_name = "PATTERN")]
        globs: Vec<String>,
    },
    /// Added, removed and modified paths between two versions
    Diff { from: String, to: String },
    /// Class statistics of a version: its label source, classes per split, image sizes; with
    /// --against, what changed
    Stats {
        reference: String,
        /// Where the labels are: auto (detect), imagefolder, csv:FILE[:COLUMN], coco:FILE,
        /// yolo:DATA_YAML or voc:DIR (paths inside the version)
        #[arg(long, value_name = "SRC", default_value = "auto")]
        labels: String,
        /// Compare with this version: deltas are this version minus that one
        #[arg(long, value_name = "REF")]
        against: Option<String>,
        /// Draw the class histogram (with --against, the comparison) into FILE.svg or FILE.png
        #[arg(long, value_name = "FILE")]
        plot: Option<PathBuf>,
    },
    /// A look at one file: a thumbnail, the first rows of a table, the head of a text; without
    /// PATH, the version's preview set (with --out DIR, every image's thumbnail)
    Preview(PreviewArgs),
    /// The versions of a dataset as a lineage graph
    Log { dataset: String },
    /// A local copy of a version; prints its path
    Get(GetArgs),
    /// New independent version of PROJECT/NAME merging the given versions
    Squash {
        dataset: String,
        #[arg(required = true, num_args = 2..)]
        references: Vec<String>,
    },
    /// Delete a version (a parent of others needs --force), or a whole dataset with --all
    Delete {
        reference: String,
        #[arg(long)]
        force: bool,
        /// REF is PROJECT/NAME: delete the dataset and all its versions
        #[arg(long)]
        all: bool,
    },
    /// Rename a dataset within its project
    Rename { dataset: String, new_name: String },
    /// Move a dataset to another project
    Move {
        dataset: String,
        new_project: String,
    },
    /// Read metadata, or set KEY=JSON (KEY= removes)
    Meta {
        reference: String,
        assignments: Vec<String>,
    },
    /// Add (+T or T) or remove (-T) tags
    Tag {
        reference: String,
        #[arg(allow_hyphen_values = true)]
        changes: Vec<String>,
    },
    /// Set a draft's description
    Describe {
        reference: String,
        description: String,
    },
    /// Upload a final version's content and catalog entry (resumes an interrupted upload)
    Upload {
        reference: String,
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
    },
    /// Upload everything waiting (queued offline or interrupted) and send queued changes
    Push {
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
    },
    /// Bring a remote's catalog (not content) up to date here
    Pull {
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
    },
    /// Write versions (drafts included) with their lineage and content into one session file
    Export {
        /// PROJECT/NAME (every version of it) or a REF (that version and its ancestors)
        #[arg(required = true, value_name = "PROJECT/NAME|REF")]
        what: Vec<String>,
        /// The session file to write
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: std::path::PathBuf,
        /// Leave out this version, its ancestors and their content: the receiving home has them
        #[arg(long, value_name = "REF")]
        since: Option<String>,
    },
    /// Bring a session file's versions into this home (checked part by part, all or nothing)
    Import {
        file: std::path::PathBuf,
        /// Upload the session's final versions (after --finalize, its drafts too)
        #[arg(long)]
        upload: bool,
        /// Finalize the session's drafts
        #[arg(long)]
        finalize: bool,
        /// Upload to this remote instead of each dataset's own or the default
        #[arg(long, value_name = "NAME", requires = "upload")]
        remote: Option<String>,
    },
    /// Drop the local content of versions a remote holds (checked there first); they stay
    /// listed and `get` fetches them back
    Free {
        #[arg(required = true)]
        references: Vec<String>,
    },
    /// Re-hash a version's stored content (or the remote's copy) and report every mismatch
    Verify {
        reference: String,
        /// Check the copy on this remote instead of the local one
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
    },
    /// Remove content no version refers to (here, or on a remote)
    Gc {
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_name = "NAME")]
        remote: Option<String>,
        /// On a remote, keep unreferenced objects younger than this (uploads in progress)
        #[arg(
            long,
            value_name = "DURATION",
            default_value = "24h",
            requires = "remote"
        )]
        grace: String,
    },
    /// The local read-only cache
    Cache {
        #[command(subcommand)]
        action: Option<CacheAction>,
    },
    /// Release a version's writer lock left by a process that is gone
    Unlock { reference: String },
    /// Storage targets to share datasets through
    Remote {
        #[command(subcommand)]
        action: RemoteAction,
    },
    /// Watch a folder: each time writing in it goes quiet, the next version of a dataset
    #[command(args_conflicts_with_subcommands = true)]
    Watch {
        #[command(subcommand)]
        action: Option<WatchAction>,
        #[command(flatten)]
        watch: WatchArgs,
    },
}

/// A folder to watch and how (`strata watch FOLDER ...`, `strata watch add FOLDER ...`).
#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// The folder to watch
    pub folder: Option<PathBuf>,
    /// The dataset its versions belong to (PROJECT/NAME)
    #[arg(long, value_name = "PROJECT/NAME")]
    pub dataset: Option<String>,
    /// How long writes must have stopped before a version is made (1500ms, 5s, 2m)
    #[arg(long, value_name = "D", default_value = "60s", value_parser = duration)]
    pub quiet_for: std::time::Duration,
    /// The longest a change waits while writing never stops; then what has settled is versioned
    /// [default: 10m, or the quiet window when that is longer]
    #[arg(long, value_name = "D", value_parser = duration)]
    pub max_wait: Option<std::time::Duration>,
    /// Upload each new version (it waits in the queue while the remote is unreachable)
    #[arg(long)]
    pub upload: bool,
    /// Poll every D instead of waiting for filesystem events (network mounts)
    #[arg(long, value_name = "D", value_parser = duration)]
    pub poll: Option<std::time::Duration>,
}

fn duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("'{s}': {e} (e.g. 1500ms, 5s, 2m)"))
}

#[derive(Subcommand, Debug)]
pub enum WatchAction {
    /// Record a watch, for `strata watch run` (or the app) to run
    Add {
        #[command(flatten)]
        watch: WatchArgs,
    },
    /// The recorded watches, their state and last version
    List,
    /// No versions from a watch until it is resumed
    Pause { watch: String },
    /// Resume a paused watch
    Resume { watch: String },
    /// Forget a watch (its versions stay)
    Remove { watch: String },
    /// Run every active watch in the foreground until Ctrl-C (what a service runs)
    Run,
    /// A `systemd --user` service running `strata watch run` for this home
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum ServiceAction {
    /// Write, enable and start the unit
    Install,
    /// Stop, disable and remove the unit
    Uninstall,
}

#[derive(Subcommand, Debug)]
pub enum RemoteAction {
    /// Add a remote: file:///folder, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix, https://...
    Add {
        name: String,
        url: String,
        /// Make it the default remote
        #[arg(long)]
        default: bool,
        /// A custom endpoint, e.g. a MinIO-style S3 server or Azurite
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        #[arg(long, value_name = "R")]
        region: Option<String>,
        /// Allow plain HTTP to the endpoint
        #[arg(long)]
        allow_http: bool,
        /// Let links in versions from this remote reach loopback, link-local and private
        /// addresses (an internal web server); refused by default
        #[arg(long)]
        allow_private_links: bool,
    },
    /// Change a remote's settings
    Set {
        name: String,
        /// Let links in versions from this remote reach loopback, link-local and private addresses
        #[arg(long, value_name = "true|false")]
        allow_private_links: Option<bool>,
    },
    /// Remotes, the default first
    List,
    /// Forget a remote (nothing in it is deleted)
    Remove { name: String },
    /// Connect, write, read back and remove a test object
    Test {
        /// [default: the default remote]
        name: Option<String>,
    },
    /// Make NAME the default remote, or the remote of one dataset
    Default {
        name: String,
        /// Only for this PROJECT/NAME
        #[arg(long, value_name = "PROJECT/NAME")]
        dataset: Option<String>,
    },
    /// Store a remote's credentials in the OS keychain (read from standard input)
    Login { name: String },
    /// Remove a remote's credentials from the OS keychain
    Logout { name: String },
}

#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// Cached copies, most recently used first
    List,
    /// Remove least recently used copies until the cache fits
    Evict {
        /// e.g. 500MB, 2GiB
        #[arg(long, value_name = "SIZE")]
        max_size: String,
    },
    /// Keep a version's copy whatever eviction wants (and make it now)
    Pin { reference: String },
    /// Let eviction remove a version's copies again
    Unpin { reference: String },
}

/// `strata preview`'s arguments.
#[derive(Args, Debug)]
pub struct PreviewArgs {
    pub reference: String,
    /// A file of the version
    pub path: Option<String>,
    /// With PATH, write the image's thumbnail to this .png file; without PATH, write every
    /// image's thumbnail into this folder as DIR/<path>.png
    #[arg(long, value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,
    /// Rows of a table, lines of a text
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub rows: u32,
    /// The longest side of a thumbnail, in pixels
    #[arg(long, value_name = "PX", default_value_t = 256, value_parser = clap::value_parser!(u32).range(16..=1024))]
    pub size: u32,
    /// Without PATH: thumbnails of at most the first N images (in path order)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000,
        conflicts_with = "path"
    )]
    pub limit: usize,
}

/// `strata get`'s arguments.
#[derive(Args, Debug)]
pub struct GetArgs {
    pub reference: String,
    /// Target folder [default: the read-only cache]
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Replace a non-empty target folder
    #[arg(long, requires = "to")]
    pub overwrite: bool,
    /// Independent writable files (needs --to)
    #[arg(long, requires = "to")]
    pub mutable: bool,
    #[arg(long = "include", value_name = "GLOB")]
    pub include: Vec<String>,
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Keep this fraction of the selected files, chosen reproducibly
    #[arg(long, value_name = "F")]
    pub fraction: Option<f64>,
    /// Seed for --fraction
    #[arg(long, default_value_t = 0, requires = "fraction")]
    pub seed: u64,
    /// Parallel writers [default: 4; creating files, not CPU, is the limit]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
