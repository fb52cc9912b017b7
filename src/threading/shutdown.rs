//! Exit like Python: when `main` returns, wait for every live non-daemon thread.

use std::sync::Once;
use std::sync::atomic::Ordering;

use super::excepthook;
use super::registry;
use super::thread::Kind;
use crate::sys;

/// Waits until every live non-daemon thread that threadkit started has ended, as Python does
/// at interpreter exit (`threading._shutdown`). Threads started meanwhile are waited for too;
/// the calling thread, daemon threads and `start_new_thread` threads are not.
///
/// threadkit calls this itself when the process exits normally (after `main` returns, or on
/// `std::process::exit`). Call it yourself before exiting some other way (`abort`, `_exit`,
/// a signal) or on platforms without an exit hook.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let done = Arc::new(AtomicBool::new(false));
/// let d = done.clone();
/// let t = threadkit::Thread::builder().daemon(false).target(move || {
///     threadkit::sleep(std::time::Duration::from_millis(5));
///     d.store(true, Ordering::SeqCst);
/// });
/// t.start()?;
/// threadkit::shutdown();
/// assert!(done.load(Ordering::SeqCst));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[track_caller]
pub fn shutdown() {
    let me = registry::peek_current();
    loop {
        let pending: Vec<_> = registry::all()
            .into_iter()
            .filter(|t| {
                t.inner.kind == Kind::Started
                    && !t.inner.daemon.load(Ordering::Acquire)
                    && t.is_alive()
                    && !std::ptr::eq(std::sync::Arc::as_ptr(&t.inner), me)
            })
            .collect();
        if pending.is_empty() {
            return;
        }
        for t in pending {
            // A panic was already reported by the excepthook; nothing more to do with it.
            let _ = t.join();
        }
    }
}

/// Installs, once per process, the panic hook and the exit hook.
pub(crate) fn install_hooks() {
    static PANIC: Once = Once::new();
    static EXIT: Once = Once::new();
    if !std::thread::panicking() {
        PANIC.call_once(excepthook::install_panic_hook);
    }
    EXIT.call_once(|| {
        sys::at_exit(at_exit);
    });
}

extern "C" fn at_exit() {
    // The main thread counts as ended from here on, as in Python: joining it returns.
    registry::main_inner().finish();
    // Python's `_python_exit`: live pools stop taking work, so their workers can end.
    let _ = std::panic::catch_unwind(crate::futures::at_exit);
    // Nothing may unwind out of an `extern "C"` function.
    let _ = std::panic::catch_unwind(shutdown);
}
