//! Label sources, statistics and comparisons over real files in temporary folders.

mod compare;
mod detect;
mod formats;
mod garbage;
mod util;
