//! Opening snapshot files for parsing: regular files only, memory-mapped read-only, and guarded
//! so that a file truncated while it is mapped cannot kill the process.
//!
//! Two hazards of reading an arbitrary path from a library that runs inside someone's process:
//!
//! * A FIFO (or a character device) blocks `open` or the first read until a writer shows up,
//!   which can be never: a libuv thread is lost and the process cannot exit. So files are
//!   opened with `O_NONBLOCK` and must be regular files before anything reads them.
//! * A mapped file that another process truncates (`cp` over it, `rsync --inplace`, logrotate's
//!   copytruncate) makes every access to a page past the new end raise `SIGBUS`, whose default
//!   action ends the host process (`Bus error`, exit 135). On Unix a `SIGBUS` handler, installed
//!   once, looks the faulting address up in a lock-free registry of leakguard's own mappings;
//!   for one of them it maps an anonymous zero page over the faulting page and marks the
//!   mapping, so the parse reads zeros (never valid JSON) and the load then fails with
//!   `ERR_LEAKGUARD_IO` "file changed while being read". Any other `SIGBUS` goes to the handler
//!   that was installed before ours, or gets the default action. Windows has no `SIGBUS`: it
//!   refuses to truncate a file that is mapped, so there the mapping needs no guard.
//!
//! A file rewritten in place without a fault (same pages, new bytes) is caught by comparing its
//! size and modification time before and after the parse.

use crate::{Error, Result};
use std::fs::File;
use std::path::Path;

/// A snapshot file's bytes: mapped (and guarded where that is needed) or, when no guard slot
/// is free, read into memory.
pub(crate) struct Opened {
    /// Declared before `data` so it is dropped first: the range leaves the registry before it
    /// is unmapped, so a later mapping at the same address is never mistaken for ours.
    #[cfg(unix)]
    guard: Option<guard::Registration>,
    data: Data,
    file: File,
    path: String,
    stamp: Stamp,
}

enum Data {
    Map(memmap2::Mmap),
    /// Only when every guard slot is taken (Unix).
    #[cfg_attr(not(unix), allow(dead_code))]
    Read(Vec<u8>),
}

/// What must not change while the file is parsed.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    }
}

impl Opened {
    /// The file's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Map(m) => m,
            Data::Read(v) => v,
        }
    }

    /// The mapping, for releasing consumed pages; `None` when the file was read.
    pub(crate) fn map(&self) -> Option<&memmap2::Mmap> {
        match &self.data {
            Data::Map(m) => Some(m),
            Data::Read(_) => None,
        }
    }

    /// Replaces `result` with `ERR_LEAKGUARD_IO` if the file changed while it was being read:
    /// then whatever the parse saw (a success included) describes no version of the file.
    pub(crate) fn finish<T>(self, result: Result<T>) -> Result<T> {
        #[cfg(unix)]
        let faulted = self.guard.as_ref().is_some_and(|g| g.faulted());
        #[cfg(not(unix))]
        let faulted = false;
        let now = self.file.metadata().ok().map(|m| stamp(&m));
        if faulted || now != Some(self.stamp) {
            return Err(Error::Io {
                path: self.path,
                message: "file changed while being read (truncated or rewritten in place)".into(),
            });
        }
        result
    }
}

/// Opens `path` for parsing: a non-empty regular file, mapped if a guard slot is free.
pub(crate) fn open(path: &Path) -> Result<Opened> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| Error::io(shown.clone(), &e);
    let file = open_nonblocking(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let ft = meta.file_type();
    if !ft.is_file() {
        return Err(Error::Io {
            path: shown,
            message: if ft.is_dir() {
                "is a directory".into()
            } else {
                format!("not a regular file ({})", kind(&ft))
            },
        });
    }
    if meta.len() == 0 {
        return Err(Error::parse(0, "empty file: not a heap snapshot"));
    }
    let stamp = stamp(&meta);
    #[cfg(unix)]
    {
        let Some(slot) = guard::Slot::claim() else {
            // Every guard slot is taken (dozens of loads at once): reading costs memory, never
            // safety.
            let data = read_all(&file, meta.len()).map_err(io)?;
            return Ok(Opened {
                guard: None,
                data: Data::Read(data),
                file,
                path: shown,
                stamp,
            });
        };
        // SAFETY: a private read-only mapping that we never write. Its bytes may change under
        // us if another process rewrites the file; a truncation is caught by the guard below
        // (zero pages instead of SIGBUS) and any change by `finish`, which discards the result.
        let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }.map_err(io)?;
        let registration = slot.activate(map.as_ptr() as usize, map.len());
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Opened {
            guard: Some(registration),
            data: Data::Map(map),
            file,
            path: shown,
            stamp,
        })
    }
    #[cfg(not(unix))]
    {
        // SAFETY: a private read-only mapping; Windows refuses to truncate a mapped file, and a
        // change that does get through is caught by `finish`.
        let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }.map_err(io)?;
        Ok(Opened {
            data: Data::Map(map),
            file,
            path: shown,
            stamp,
        })
    }
}

#[cfg(unix)]
fn read_all(file: &File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut f = file;
    f.read_to_end(&mut data)?;
    Ok(data)
}

/// Opens read-only without blocking on a FIFO that has no writer; the flag is cleared again
/// once open (it means nothing for the regular files we go on to use).
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// A word for a non-regular, non-directory file type, for the error message.
fn kind(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    let _ = ft;
    "not a file"
}

/// The `SIGBUS` guard: a registry of mapped ranges and the handler that consults it.
#[cfg(unix)]
mod guard {
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Mappings guarded at once; a load that finds no free slot reads the file instead.
    const SLOTS: usize = 64;

    const FREE: u8 = 0;
    const CLAIMED: u8 = 1;
    const ACTIVE: u8 = 2;

    /// One registry entry. The handler only reads `start`/`end` of `ACTIVE` slots, and a slot
    /// only becomes `ACTIVE` (Release) after they are written, so it never sees a torn range.
    struct Entry {
        state: AtomicU8,
        start: AtomicUsize,
        end: AtomicUsize,
        faulted: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Entry = Entry {
        state: AtomicU8::new(FREE),
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        faulted: AtomicBool::new(false),
    };

    static REGISTRY: [Entry; SLOTS] = [EMPTY; SLOTS];
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    /// The disposition before ours, leaked once at installation; null = default action.
    static PREVIOUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(std::ptr::null_mut());

    /// A claimed, not yet active registry slot.
    pub(super) struct Slot(usize);

    /// An active registry slot; dropping it frees the slot.
    pub(super) struct Registration(usize);

    impl Slot {
        /// Installs the handler (once) and claims a free slot; `None` if the handler could not
        /// be installed or all slots are taken.
        pub(super) fn claim() -> Option<Slot> {
            INSTALL.call_once(install);
            if !INSTALLED.load(Ordering::Acquire) {
                return None;
            }
            REGISTRY
                .iter()
                .position(|e| {
                    e.state
                        .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                })
                .map(Slot)
        }

        /// Starts guarding the `len` bytes mapped at `start`.
        pub(super) fn activate(self, start: usize, len: usize) -> Registration {
            let page = PAGE.load(Ordering::Relaxed).max(1);
            let e = &REGISTRY[self.0];
            e.faulted.store(false, Ordering::Relaxed);
            e.start.store(start, Ordering::Relaxed);
            // The whole last page: a mapping covers it even where the file ends inside it.
            e.end
                .store(start + len.div_ceil(page) * page, Ordering::Relaxed);
            e.state.store(ACTIVE, Ordering::Release);
            let id = self.0;
            std::mem::forget(self);
            Registration(id)
        }
    }

    impl Drop for Slot {
        fn drop(&mut self) {
            REGISTRY[self.0].state.store(FREE, Ordering::Release);
        }
    }

    impl Registration {
        /// Whether a page of this mapping faulted (and now reads as zeros).
        pub(super) fn faulted(&self) -> bool {
            REGISTRY[self.0].faulted.load(Ordering::Acquire)
        }
    }

    impl Drop for Registration {
        fn drop(&mut self) {
            REGISTRY[self.0].state.store(FREE, Ordering::Release);
        }
    }

    fn install() {
        // SAFETY: plain libc calls on zero-initialised C structs; `handler` has the signature
        // SA_SIGINFO requires.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page <= 0 {
                return;
            }
            PAGE.store(page as usize, Ordering::Relaxed);
            // Record the previous disposition before ours is live, so the handler never runs
            // without knowing where to chain.
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                return;
            }
            PREVIOUS.store(Box::into_raw(Box::new(old)), Ordering::Release);
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = handler as *const () as usize;
            // SA_ONSTACK: a thread that runs on an alternate signal stack keeps doing so.
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            if libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe fn fault_address(info: *mut libc::siginfo_t) -> usize {
        (*info).si_addr() as usize
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    unsafe fn fault_address(info: *mut libc::siginfo_t) -> usize {
        (*info).si_addr as usize
    }

    /// The `SIGBUS` handler. Async-signal-safe: atomics, `mmap` and `sigaction` only (mmap is
    /// not on POSIX's list, but it is a plain system call on every libc we build for; JVMs and
    /// wasm runtimes rely on the same).
    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo; the zero page replaces a page of one of
        // our own read-only private file mappings (still registered, so still mapped), which
        // nothing else references as anything but bytes.
        unsafe {
            if !info.is_null() {
                let addr = fault_address(info);
                let page = PAGE.load(Ordering::Relaxed);
                for e in &REGISTRY {
                    if e.state.load(Ordering::Acquire) != ACTIVE {
                        continue;
                    }
                    let (start, end) = (
                        e.start.load(Ordering::Relaxed),
                        e.end.load(Ordering::Relaxed),
                    );
                    if addr < start || addr >= end {
                        continue;
                    }
                    let at = addr - addr % page;
                    let r = libc::mmap(
                        at as *mut libc::c_void,
                        page,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANON | libc::MAP_FIXED,
                        -1,
                        0,
                    );
                    if r != libc::MAP_FAILED {
                        e.faulted.store(true, Ordering::Release);
                        // Returning re-runs the faulting load, which now reads zeros.
                        return;
                    }
                    break;
                }
            }
            chain(sig, info, ctx);
        }
    }

    /// Hands a `SIGBUS` that is not ours to the previous handler, or gives it the default
    /// action (ending the process, as it would have without us).
    unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let prev = PREVIOUS.load(Ordering::Acquire);
        let action = if prev.is_null() {
            libc::SIG_DFL
        } else {
            (*prev).sa_sigaction
        };
        // A signal sent with kill() (si_code <= 0) that was being ignored stays ignored; a
        // fault cannot be ignored (returning would fault again forever).
        let sent = !info.is_null() && (*info).si_code <= 0;
        if action == libc::SIG_IGN && sent {
            return;
        }
        if action == libc::SIG_DFL || action == libc::SIG_IGN {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut dfl.sa_mask);
            libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
            // Pending until this handler returns (SIGBUS is blocked while it runs), then the
            // default action ends the process: for a fault and for a sent signal alike.
            libc::raise(sig);
            return;
        }
        if (*prev).sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(action);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(action);
            f(sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_regular_files_are_refused_without_blocking() {
        let e = |p: &str| match open(Path::new(p)) {
            Err(Error::Io { message, .. }) => message,
            Err(other) => panic!("{p}: {other}"),
            Ok(_) => panic!("{p} opened"),
        };
        assert_eq!(e("/"), "is a directory");
        #[cfg(unix)]
        assert_eq!(e("/dev/null"), "not a regular file (a character device)");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_truncated_while_mapped_reads_as_zeros_and_is_reported() {
        let dir = std::env::temp_dir().join(format!("lg-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.bin");
        std::fs::write(&path, vec![b'x'; 3 * 65536]).unwrap();
        let opened = open(&path).unwrap();
        assert!(opened.map().is_some());
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(10)
            .unwrap();
        // Without the guard this read dies of SIGBUS.
        let sum: u64 = opened.bytes().iter().map(|&b| u64::from(b)).sum();
        assert!(sum < 3 * 65536 * u64::from(b'x'));
        assert_eq!(opened.bytes()[5], b'x');
        assert_eq!(opened.bytes()[2 * 65536], 0);
        match opened.finish(Ok(())) {
            Err(Error::Io { message, .. }) => assert!(message.contains("changed"), "{message}"),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unchanged_file_keeps_its_result() {
        let dir = std::env::temp_dir().join(format!("lg-io-ok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.bin");
        std::fs::write(&path, b"{}").unwrap();
        let opened = open(&path).unwrap();
        assert_eq!(opened.bytes(), b"{}");
        assert_eq!(opened.finish(Ok(7)).unwrap(), 7);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
