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

/// The system's page size (`sysconf`, read once), or `None` if it cannot be read. Releasing
/// consumed pages and the guard's zero mappings both work in whole pages of this size.
#[cfg(unix)]
pub(crate) fn page_size() -> Option<usize> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf takes and returns integers only.
            let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
            if page == 0 || !page.is_power_of_two() {
                return None;
            }
            PAGE.store(page, Ordering::Relaxed);
            Some(page)
        }
        page => Some(page),
    }
}

/// The `SIGBUS` guard: a registry of mapped ranges and the handler that consults it.
#[cfg(unix)]
mod guard {
    use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
    use std::sync::Once;

    /// Mappings guarded at once; a load that finds no free slot reads the file instead.
    const SLOTS: usize = 64;

    const FREE: u8 = 0;
    const CLAIMED: u8 = 1;
    const ACTIVE: u8 = 2;

    /// One registry entry. A slot is claimed (`FREE` -> `CLAIMED`) by one owner, which alone
    /// changes it after that. `state`, `start` and `end` are read together by the handler,
    /// which can interrupt anything, so they are guarded by a sequence lock: the owner makes
    /// `seq` odd, changes them, makes it even again; the handler only trusts what it read
    /// between two equal, even readings of `seq`. Otherwise a slot freed and re-activated
    /// between the handler's loads would give it one registration's start and another's end.
    struct Entry {
        seq: AtomicUsize,
        state: AtomicU8,
        start: AtomicUsize,
        /// Page-aligned: the mapping covers the whole last page.
        end: AtomicUsize,
        /// Faults answered with zeros since activation.
        faults: AtomicUsize,
    }

    impl Entry {
        /// Runs `change` with `seq` odd, so a concurrent handler skips this slot. Only the
        /// slot's owner calls this (one writer at a time, as a sequence lock needs).
        fn write(&self, change: impl FnOnce(&Entry)) {
            let s = self.seq.load(Ordering::Relaxed);
            self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
            // Orders the odd `seq` before the changes: a reader that sees any of them also
            // sees `seq` moved (its Acquire fence pairs with this one).
            fence(Ordering::Release);
            change(self);
            self.seq.store(s.wrapping_add(2), Ordering::Release);
        }

        /// The guarded range `(start, end)`, if the slot was active and unchanged throughout
        /// the reading. Async-signal-safe: atomic loads and fences only.
        fn range(&self) -> Option<(usize, usize)> {
            let seq = self.read_begin()?;
            let state = self.state.load(Ordering::Relaxed);
            let start = self.start.load(Ordering::Relaxed);
            let end = self.end.load(Ordering::Relaxed);
            // `state` only enters or leaves ACTIVE inside `write`, so an unchanged `seq` also
            // means it did not change.
            (self.read_unchanged(seq) && state == ACTIVE).then_some((start, end))
        }

        /// Starts a reading: the sequence number, `None` while a `write` is under way.
        fn read_begin(&self) -> Option<usize> {
            let seq = self.seq.load(Ordering::Acquire);
            (seq & 1 == 0).then_some(seq)
        }

        /// Whether no `write` touched the slot since `read_begin` returned `seq`.
        fn read_unchanged(&self, seq: usize) -> bool {
            // Orders the reader's loads before the second reading of `seq`.
            fence(Ordering::Acquire);
            self.seq.load(Ordering::Relaxed) == seq
        }
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Entry = Entry {
        seq: AtomicUsize::new(0),
        state: AtomicU8::new(FREE),
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        faults: AtomicUsize::new(0),
    };

    /// The guarded ranges. One per process (`REGISTRY`); tests also make their own.
    struct Registry([Entry; SLOTS]);

    impl Registry {
        const fn new() -> Registry {
            Registry([EMPTY; SLOTS])
        }

        /// Claims a free slot; `None` if all are taken.
        fn claim(&'static self) -> Option<Slot> {
            self.0
                .iter()
                .find(|e| {
                    // Acquire pairs with the Release that freed the slot: its last `write`
                    // (even `seq`) is complete before ours starts.
                    e.state
                        .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                })
                .map(Slot)
        }

        /// The active entry whose range holds `addr`, with the range's (page-aligned) end.
        /// Async-signal-safe.
        fn find(&self, addr: usize) -> Option<(&Entry, usize)> {
            self.0.iter().find_map(|e| match e.range() {
                Some((start, end)) if (start..end).contains(&addr) => Some((e, end)),
                _ => None,
            })
        }
    }

    static REGISTRY: Registry = Registry::new();
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    /// The page size, for the handler (which must not call sysconf); set before installation.
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    /// The disposition before ours, leaked once at installation; null = default action.
    static PREVIOUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(std::ptr::null_mut());

    /// A claimed, not yet active registry slot; dropping it frees the slot.
    pub(super) struct Slot(&'static Entry);

    /// An active registry slot; dropping it frees the slot.
    pub(super) struct Registration(&'static Entry);

    impl Slot {
        /// Installs the handler (once) and claims a free slot; `None` if the handler could not
        /// be installed or all slots are taken.
        pub(super) fn claim() -> Option<Slot> {
            INSTALL.call_once(install);
            if !INSTALLED.load(Ordering::Acquire) {
                return None;
            }
            REGISTRY.claim()
        }

        /// Starts guarding the `len` bytes mapped at `start` (page-aligned).
        pub(super) fn activate(self, start: usize, len: usize) -> Registration {
            let page = super::page_size().unwrap_or(1);
            let e = self.0;
            std::mem::forget(self);
            e.faults.store(0, Ordering::Relaxed);
            e.write(|e| {
                e.start.store(start, Ordering::Relaxed);
                // The whole last page: a mapping covers it even where the file ends inside it.
                e.end
                    .store(start + len.div_ceil(page) * page, Ordering::Relaxed);
                e.state.store(ACTIVE, Ordering::Relaxed);
            });
            Registration(e)
        }
    }

    impl Drop for Slot {
        fn drop(&mut self) {
            self.0.state.store(FREE, Ordering::Release);
        }
    }

    impl Registration {
        /// Whether a page of this mapping faulted (and now reads as zeros).
        pub(super) fn faulted(&self) -> bool {
            self.faults() > 0
        }

        /// How many faults of this mapping the handler answered.
        fn faults(&self) -> usize {
            self.0.faults.load(Ordering::Acquire)
        }
    }

    impl Drop for Registration {
        fn drop(&mut self) {
            // Leave ACTIVE under the sequence lock, and only then hand the slot to the next
            // claimer: it cannot start its own `write` while ours is still open.
            self.0.write(|e| e.state.store(CLAIMED, Ordering::Relaxed));
            self.0.state.store(FREE, Ordering::Release);
        }
    }

    fn install() {
        let Some(page) = super::page_size() else {
            return;
        };
        PAGE.store(page, Ordering::Relaxed);
        // SAFETY: plain libc calls on zero-initialised C structs; `handler` has the signature
        // SA_SIGINFO requires.
        unsafe {
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

    /// Whether the signal was sent (kill, sigqueue, tgkill, raise) rather than raised by a
    /// fault. Linux numbers every sender's `si_code` <= 0 (SI_USER, SI_QUEUE, SI_TKILL...) and
    /// faults > 0; a sent signal's `si_addr` holds the sender's pid and uid, or bytes it chose.
    /// macOS gives every `SIGBUS` the same `si_code` (BUS_ADRALN), so there it cannot be told.
    unsafe fn sent(info: *mut libc::siginfo_t) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        return (*info).si_code <= 0;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = info;
            false
        }
    }

    /// The `SIGBUS` handler. Async-signal-safe: atomics, `mmap` and `sigaction` only (mmap is
    /// not on POSIX's list, but it is a plain system call on every libc we build for; JVMs and
    /// wasm runtimes rely on the same).
    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo. The zeros replace pages of one of our own
        // read-only private file mappings: still registered, so still mapped (a registration
        // ends before its unmapping, and a fault on our mapping comes from a read that borrows
        // it, which keeps it registered until the read completes); nothing references those
        // pages as anything but bytes.
        unsafe {
            if !info.is_null() && !sent(info) {
                let addr = fault_address(info);
                if let Some((e, end)) = REGISTRY.find(addr) {
                    let page = PAGE.load(Ordering::Relaxed);
                    let at = addr - addr % page;
                    // Zeros from the faulting page to the end of the range in one call: the
                    // file has shrunk, so every later page would fault too (a 1 GB mapping
                    // truncated to nothing would otherwise cost a signal and an mmap per page).
                    // The pages before it may still hold the file and are left alone.
                    let r = libc::mmap(
                        at as *mut libc::c_void,
                        end - at,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANON | libc::MAP_FIXED,
                        -1,
                        0,
                    );
                    if r != libc::MAP_FAILED {
                        e.faults.fetch_add(1, Ordering::Release);
                        // Returning re-runs the faulting load, which now reads zeros.
                        return;
                    }
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
        // A sent signal that was being ignored stays ignored; a fault cannot be ignored
        // (returning would fault again forever).
        if action == libc::SIG_IGN && !info.is_null() && sent(info) {
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

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A file of `pages` pages of `b'x'`, opened (mapped and guarded); returns the
        /// directory to remove and the file's path.
        fn mapped(
            name: &str,
            pages: usize,
        ) -> (std::path::PathBuf, std::path::PathBuf, super::super::Opened) {
            let page = super::super::page_size().unwrap();
            let dir = std::env::temp_dir().join(format!("lg-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("t.bin");
            std::fs::write(&path, vec![b'x'; pages * page]).unwrap();
            let opened = super::super::open(&path).unwrap();
            assert!(opened.guard.is_some(), "not guarded");
            (dir, path, opened)
        }

        #[test]
        fn one_fault_zeroes_the_rest_of_the_mapping() {
            let page = crate::io::page_size().unwrap();
            let (dir, path, opened) = mapped("rest", 64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(10)
                .unwrap();
            // Reads every page past the new end; without the guard the first one is SIGBUS.
            let zeros = opened.bytes()[page..].iter().filter(|&&b| b == 0).count();
            assert_eq!(zeros, 63 * page);
            assert_eq!(opened.bytes()[5], b'x');
            assert_eq!(opened.guard.as_ref().unwrap().faults(), 1);
            drop(opened);
            std::fs::remove_dir_all(&dir).unwrap();
        }

        #[test]
        fn the_handler_never_sees_a_range_mixed_from_two_registrations() {
            // A private registry: its fake ranges are never consulted by the real handler.
            static REG: Registry = Registry::new();
            let a = (0x1000_0000usize, 0x1000_0000 + (1 << 20));
            let b = (0x3000_0000usize, 0x3000_0000 + (1 << 20));
            // Only inside a's start and b's end taken together.
            let between = 0x2000_0000usize;
            let done = AtomicBool::new(false);
            let (mut seen, mut mixed) = (0u64, 0u64);
            std::thread::scope(|s| {
                s.spawn(|| {
                    for i in 0..300_000 {
                        let (start, end) = if i % 2 == 0 { a } else { b };
                        let slot = REG.claim().expect("a free slot");
                        drop(slot.activate(start, end - start));
                    }
                    done.store(true, Ordering::Release);
                });
                while !done.load(Ordering::Acquire) {
                    for addr in [a.0, between, b.0] {
                        if let Some((_, end)) = REG.find(addr) {
                            seen += 1;
                            let ok = (addr == a.0 && end == a.1) || (addr == b.0 && end == b.1);
                            mixed += u64::from(!ok);
                        }
                    }
                }
            });
            assert_eq!(mixed, 0, "{mixed} mixed ranges in {seen} lookups");
        }

        #[test]
        fn a_reading_that_overlaps_a_change_is_discarded() {
            static REG: Registry = Registry::new();
            let (start, len) = (0x1000_0000usize, 1usize << 20);
            let registration = REG.claim().unwrap().activate(start, len);
            let e = registration.0;
            assert_eq!(REG.find(start).map(|(_, end)| end), Some(start + len));
            // A handler that interrupts the owner mid-change skips the slot.
            e.write(|_| assert!(REG.find(start).is_none()));
            // A reading that a whole change (free, re-activate elsewhere) happened during.
            let seq = e.read_begin().unwrap();
            assert!(e.read_unchanged(seq));
            drop(registration);
            assert!(!e.read_unchanged(seq));
            let seq = e.read_begin().unwrap();
            let again = REG.claim().unwrap();
            assert!(std::ptr::eq(again.0, e), "the freed slot is claimed again");
            let again = again.activate(0x3000_0000, len);
            assert!(!e.read_unchanged(seq));
            assert!(REG.find(start).is_none());
            assert_eq!(
                REG.find(0x3000_0000).map(|(_, end)| end),
                Some(0x3000_0000 + len)
            );
            drop(again);
            assert!(REG.find(0x3000_0000).is_none());
        }

        /// Environment variable that makes `sent_sigbus_child` run (in its own process).
        #[cfg(target_os = "linux")]
        const CHILD: &str = "LEAKGUARD_SENT_SIGBUS_CHILD";

        #[cfg(target_os = "linux")]
        #[test]
        fn a_sent_sigbus_goes_to_the_previous_handler_even_inside_a_guarded_range() {
            // In a process of its own: it installs a SIGBUS handler before the guard's, which
            // the test harness's process has long done.
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "io::guard::tests::sent_sigbus_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{text}");
            assert!(text.contains("1 passed"), "{text}");
            assert!(text.contains("sent signal chained"), "{text}");
        }

        #[cfg(target_os = "linux")]
        #[test]
        #[ignore = "run in its own process by a_sent_sigbus_goes_to_the_previous_handler_..."]
        fn sent_sigbus_child() {
            if std::env::var_os(CHILD).is_none() {
                return;
            }
            static CALLS: AtomicUsize = AtomicUsize::new(0);
            extern "C" fn previous(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
                CALLS.fetch_add(1, Ordering::SeqCst);
            }
            // Sends SIGBUS to this thread with `code` and `addr` as si_code and si_addr (a
            // process may queue any siginfo to itself).
            let send = |code: libc::c_int, addr: usize| unsafe {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                info.si_signo = libc::SIGBUS;
                info.si_code = code;
                let at = (3 * std::mem::size_of::<libc::c_int>())
                    .next_multiple_of(std::mem::align_of::<usize>());
                (&mut info as *mut libc::siginfo_t)
                    .cast::<u8>()
                    .add(at)
                    .cast::<usize>()
                    .write(addr);
                assert_eq!(info.si_addr() as usize, addr, "si_addr offset");
                let r = libc::syscall(
                    libc::SYS_rt_tgsigqueueinfo,
                    libc::getpid(),
                    libc::syscall(libc::SYS_gettid),
                    libc::SIGBUS,
                    &info,
                );
                assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
            };
            // SAFETY: `previous` has the SA_SIGINFO signature and only touches an atomic.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = previous as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO;
                libc::sigemptyset(&mut sa.sa_mask);
                assert_eq!(libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()), 0);
            }
            let page = crate::io::page_size().unwrap();
            let (dir, _, opened) = mapped("sent", 4);
            let addr = opened.bytes().as_ptr() as usize + 2 * page;
            let registration = opened.guard.as_ref().unwrap();

            // Delivered before the syscall returns (SIGBUS is not blocked).
            send(libc::SI_QUEUE, addr);
            assert_eq!(opened.bytes()[2 * page], b'x');
            assert_eq!(CALLS.load(Ordering::SeqCst), 1, "sent SIGBUS swallowed");
            assert_eq!(registration.faults(), 0);
            send(libc::SI_USER, addr);
            assert_eq!(CALLS.load(Ordering::SeqCst), 2, "sent SIGBUS swallowed");
            assert_eq!(registration.faults(), 0);
            assert_eq!(opened.bytes()[2 * page], b'x');
            println!("sent signal chained");

            // The same siginfo with a fault's si_code is taken for a fault (the file did not
            // shrink, but the handler cannot know): the si_code is what tells them apart.
            send(libc::BUS_ADRERR, addr);
            assert_eq!(CALLS.load(Ordering::SeqCst), 2);
            assert_eq!(registration.faults(), 1);
            assert_eq!(opened.bytes()[2 * page], 0);
            drop(opened);
            std::fs::remove_dir_all(&dir).unwrap();
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
