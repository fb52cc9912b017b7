//! Unix: Linux, Android, the BSDs and macOS.

use std::ffi::CString;

/// The kernel's id for the calling thread (what `top -H` and `ps -L` show).
pub(crate) fn native_id() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: gettid has no preconditions and cannot fail.
        let tid = unsafe { libc::gettid() };
        tid as u64
    }
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    {
        let mut tid: u64 = 0;
        // SAFETY: a null thread means "the calling thread"; `tid` is a valid out pointer.
        unsafe { libc::pthread_threadid_np(0, &mut tid) };
        tid
    }
    #[cfg(target_os = "freebsd")]
    {
        // SAFETY: no preconditions.
        let tid = unsafe { libc::pthread_getthreadid_np() };
        tid as u64
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    {
        // SAFETY: pthread_self has no preconditions.
        let t = unsafe { libc::pthread_self() };
        t as usize as u64
    }
}

/// True on the process's initial thread, the one that runs `main`.
pub(crate) fn is_main_thread() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: getpid has no preconditions; on Linux the initial thread's tid is the pid.
        native_id() == unsafe { libc::getpid() } as u64
    }
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    {
        // SAFETY: no preconditions.
        unsafe { libc::pthread_main_np() == 1 }
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    {
        std::thread::current().name() == Some("main")
    }
}

/// Sets the OS-level name of the calling thread, truncated to what the OS accepts
/// (15 bytes on Linux). Names with an interior NUL are skipped.
pub(crate) fn set_current_name(name: &str) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const MAX: usize = 15;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const MAX: usize = 63;
    let mut end = name.len().min(MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let Ok(c) = CString::new(&name[..end]) else {
        return;
    };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: `c` is a valid NUL-terminated string of at most 16 bytes; the thread is us.
    unsafe {
        libc::pthread_setname_np(libc::pthread_self(), c.as_ptr());
    }
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    // SAFETY: `c` is a valid NUL-terminated string; macOS names only the calling thread.
    unsafe {
        libc::pthread_setname_np(c.as_ptr());
    }
    #[cfg(target_os = "freebsd")]
    // SAFETY: `c` is a valid NUL-terminated string; the thread is us.
    unsafe {
        libc::pthread_set_name_np(libc::pthread_self(), c.as_ptr());
    }
    let _ = c;
}

/// Registers `f` to run when the process exits normally (after `main` returns, or on
/// `std::process::exit`). Returns false if the C library refused.
pub(crate) fn at_exit(f: extern "C" fn()) -> bool {
    // SAFETY: `f` is a plain function that lives for the whole program.
    unsafe { libc::atexit(f) == 0 }
}
