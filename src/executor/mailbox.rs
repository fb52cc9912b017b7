//! The searching worker's mailbox: a submit that finds a worker searching for work (and
//! nothing queued ahead) hands the job straight to it, instead of through the pool's queue.
//!
//! At most one worker searches at a time (see `Pool::next_job`), so one mailbox per pool
//! serves. Its state word doubles as the "a worker is searching" flag the submitters read,
//! and the job travels on the same cache line: a submit + result round trip on an idle pool
//! moves this line and the future's, where the queue path also moved the queue's ends,
//! slot and count, and the flag's own line.
//!
//! States: `IDLE` (nobody searches) -> `SEARCHING` (a worker polls) -> `FILLING` (a submitter
//! claimed the searcher and writes the job) -> `FULL` (the job is there) -> `IDLE` (the
//! searcher took it). The searcher leaves `SEARCHING` only by a CAS back to `IDLE`; if that
//! fails, a submitter claimed it, and the searcher waits (a few instructions: the submitter
//! only writes the job) and takes the job. So a job offered is never left behind.
//!
//! A fifth state, `WAKING`, is a search claimed for a sleeping worker: whoever wakes one
//! claims it first (so at most one worker is being woken or searching at a time, tokio's
//! rule), and the woken worker turns it into a search or gives it up. It counts as
//! searching for the submitters, but takes no job.
//!
//! A search carries a tag, which the searcher chooses and a submitter must name to claim it:
//! the pool tags a search with how many jobs had been queued when the searcher last saw the
//! queue empty, so a submit that still counts that many knows that nothing is queued ahead of
//! its job without reading the queue (see `Pool::enqueue`).

use std::mem::MaybeUninit;

use crossbeam_utils::Backoff;

#[cfg(loom)]
use loom::cell::UnsafeCell;
#[cfg(not(loom))]
use std::cell::UnsafeCell;

use crate::primitive::{AtomicUsize, Ordering};

const IDLE: usize = 0;
const SEARCHING: usize = 1;
const FILLING: usize = 2;
const FULL: usize = 3;
const WAKING: usize = 4;
/// The state is the word's low three bits; a search's tag is the rest.
const STATE: usize = 7;

/// The word of a search tagged `tag` (its high bits are dropped: tags are compared modulo
/// `usize::MAX / 8`, and a search would have to outlast that many submits to be fooled).
fn searching_word(tag: usize) -> usize {
    tag.wrapping_shl(3) | SEARCHING
}

/// A one-job hand-off from submitters to the one searching worker.
pub(crate) struct Mailbox<T> {
    state: AtomicUsize,
    job: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the job moves from the submitter to the searcher (`T: Send`); the cell is written
// only by the submitter that won `SEARCHING -> FILLING` and read only by the searcher after it
// saw `FULL` (release/acquire through `state`), so no two threads touch it at once.
unsafe impl<T: Send> Send for Mailbox<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mailbox<T> {}

impl<T> Mailbox<T> {
    /// An empty mailbox; nobody searches.
    pub(crate) fn new() -> Self {
        Mailbox {
            state: AtomicUsize::new(IDLE),
            job: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// A worker becomes the searcher, its search tagged `tag`: true if none was.
    pub(crate) fn start_search(&self, tag: usize) -> bool {
        self.state
            .compare_exchange(
                IDLE,
                searching_word(tag),
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// A waker claims the search for the worker it is about to wake: true if nobody searched
    /// (or was being woken). The claim passes to the woken worker, which must end it with
    /// [`search_after_waking`](Self::search_after_waking) or
    /// [`end_waking`](Self::end_waking); a waker that woke nobody ends it itself.
    pub(crate) fn claim_for_waking(&self) -> bool {
        self.state
            .compare_exchange(IDLE, WAKING, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    /// The holder of a [`claim_for_waking`](Self::claim_for_waking) gives it up.
    pub(crate) fn end_waking(&self) {
        let was = self.state.swap(IDLE, Ordering::SeqCst);
        debug_assert_eq!(was, WAKING, "only the claim's holder ends it");
    }

    /// The holder of a [`claim_for_waking`](Self::claim_for_waking) turns it into a search
    /// tagged `tag` (as [`start_search`](Self::start_search) would, without a race: nobody
    /// else leaves `WAKING`).
    pub(crate) fn search_after_waking(&self, tag: usize) {
        let was = self.state.swap(searching_word(tag), Ordering::SeqCst);
        debug_assert_eq!(was, WAKING, "only the claim's holder ends it");
    }

    /// True while a worker searches (or is being handed a job it will take, or woken to
    /// search).
    pub(crate) fn searching(&self) -> bool {
        self.state.load(Ordering::SeqCst) & STATE != IDLE
    }

    /// True while a worker searches with the tag `tag` and nobody has claimed it yet: an
    /// [`offer`](Self::offer) with that tag will likely succeed.
    pub(crate) fn searching_with(&self, tag: usize) -> bool {
        self.state.load(Ordering::SeqCst) == searching_word(tag)
    }

    /// True if a job waits for the searcher ([`end_search`](Self::end_search) takes it).
    pub(crate) fn full(&self) -> bool {
        self.state.load(Ordering::Acquire) == FULL
    }

    /// Hands `job` to the worker searching with the tag `tag`, or gives it back if none does
    /// or another submitter got there first.
    pub(crate) fn offer(&self, job: T, tag: usize) -> Result<(), T> {
        if self
            .state
            .compare_exchange(
                searching_word(tag),
                FILLING,
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Err(job);
        }
        // SAFETY: this thread won `SEARCHING -> FILLING`: the cell is empty (the last job
        // was taken before the state went back to `IDLE`) and nobody else writes or reads
        // it until `FULL` is published.
        self.with_job(|cell| unsafe { (*cell).write(job) });
        self.state.store(FULL, Ordering::Release);
        Ok(())
    }

    /// The searcher ends its search (tagged `tag`): the job a submitter handed over
    /// meanwhile, if any (then waits the moment it takes that submitter to finish writing it).
    pub(crate) fn end_search(&self, tag: usize) -> Option<T> {
        if self
            .state
            .compare_exchange(
                searching_word(tag),
                IDLE,
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            return None;
        }
        let backoff = Backoff::new();
        while self.state.load(Ordering::Acquire) != FULL {
            // The submitter may have been descheduled between its claim and its publication.
            snooze(&backoff);
        }
        // SAFETY: `FULL` was published after the submitter wrote the job (acquire above), and
        // only the searcher, this thread, leaves `FULL`: the job is read exactly once.
        let job = self.with_job(|cell| unsafe { (*cell).assume_init_read() });
        // SeqCst: a submitter that then reads `IDLE` and queues its task wakes a sleeper,
        // or this worker's look at the queue after its search sees the task.
        self.state.store(IDLE, Ordering::SeqCst);
        Some(job)
    }

    #[cfg(not(loom))]
    fn with_job<R>(&self, f: impl FnOnce(*mut MaybeUninit<T>) -> R) -> R {
        f(self.job.get())
    }

    #[cfg(loom)]
    fn with_job<R>(&self, f: impl FnOnce(*mut MaybeUninit<T>) -> R) -> R {
        self.job.with_mut(f)
    }
}

impl<T> Drop for Mailbox<T> {
    fn drop(&mut self) {
        // A job still here (its searcher went away without ending the search: cannot happen
        // while a worker lives) is dropped, which cancels its future.
        if self.state.load(Ordering::Acquire) == FULL {
            // SAFETY: `FULL`, and `&mut self`: the job is there and nobody else reads it.
            drop(self.with_job(|cell| unsafe { (*cell).assume_init_read() }));
        }
    }
}

/// One step of a wait for a submitter that is writing the job: crossbeam's snooze (spins,
/// then yields); under loom a yield, so that loom runs the submitter.
#[inline]
fn snooze(backoff: &Backoff) {
    #[cfg(not(loom))]
    backoff.snooze();
    #[cfg(loom)]
    {
        let _ = backoff;
        loom::thread::yield_now();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Mailbox;
    use loom::sync::Arc;
    use loom::thread;

    /// A submitter offers against the searcher ending its search: the job is taken exactly
    /// once, by the searcher, or comes back to the submitter; never both, never lost.
    #[test]
    fn an_offer_against_the_end_of_a_search_is_taken_once_or_given_back() {
        loom::model(|| {
            let m = Arc::new(Mailbox::new());
            assert!(m.start_search(5));
            let sub = {
                let m = m.clone();
                thread::spawn(move || m.offer(Box::new(7u8), 5).is_ok())
            };
            let taken = m.end_search(5);
            let handed = sub.join().unwrap();
            assert_eq!(taken.is_some(), handed);
            if let Some(job) = taken {
                assert_eq!(*job, 7);
            }
            assert!(!m.searching());
        });
    }

    /// Two submitters race for one searcher: at most one hands its job over, and the
    /// searcher takes that one.
    #[test]
    fn two_offers_one_searcher_at_most_one_is_taken() {
        loom::model(|| {
            let m = Arc::new(Mailbox::new());
            assert!(m.start_search(0));
            let subs: Vec<_> = (0..2u8)
                .map(|i| {
                    let m = m.clone();
                    thread::spawn(move || m.offer(i, 0).is_ok().then_some(i))
                })
                .collect();
            let taken = m.end_search(0);
            let handed: Vec<u8> = subs.into_iter().filter_map(|s| s.join().unwrap()).collect();
            assert!(handed.len() <= 1);
            assert_eq!(taken, handed.first().copied());
        });
    }
}

#[cfg(all(test, loom))]
mod loom_waking_tests {
    use super::Mailbox;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    /// A waker claiming the search for a sleeper races a worker starting a search, while a
    /// submitter offers a job with the worker's tag: the claim and the search never overlap,
    /// a job is handed only to a real search and taken exactly once, and the mailbox ends
    /// idle.
    #[test]
    fn a_claim_for_waking_and_a_search_never_overlap() {
        loom::model(|| {
            let m = Arc::new(Mailbox::new());
            // Threads holding the claim or a search: never more than one.
            let active = Arc::new(AtomicUsize::new(0));
            let waker = {
                let (m, active) = (m.clone(), active.clone());
                thread::spawn(move || {
                    if !m.claim_for_waking() {
                        return None;
                    }
                    assert_eq!(active.fetch_add(1, Ordering::SeqCst), 0);
                    // The woken worker found the queue empty: it searches, then ends.
                    m.search_after_waking(3);
                    active.fetch_sub(1, Ordering::SeqCst);
                    m.end_search(3)
                })
            };
            let submitter = {
                let m = m.clone();
                thread::spawn(move || m.offer(9u8, 3).is_ok())
            };
            let mine = if m.start_search(3) {
                assert_eq!(active.fetch_add(1, Ordering::SeqCst), 0);
                active.fetch_sub(1, Ordering::SeqCst);
                m.end_search(3)
            } else {
                None
            };
            let theirs = waker.join().unwrap();
            let handed = submitter.join().unwrap();
            let taken = usize::from(mine.is_some()) + usize::from(theirs.is_some());
            assert_eq!(
                taken,
                usize::from(handed),
                "a handed job is taken exactly once"
            );
            assert!(!m.searching());
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Mailbox;

    #[test]
    fn an_offer_naming_another_searchs_tag_is_given_back_and_the_search_goes_on() {
        let m = Mailbox::new();
        assert!(m.start_search(41));
        assert!(m.searching());
        assert!(!m.searching_with(40));
        assert_eq!(m.offer("late", 40), Err("late"));
        // The search is untouched: the right tag still hands a job over.
        assert!(m.searching_with(41));
        assert_eq!(m.offer("job", 41), Ok(()));
        assert!(m.full());
        assert_eq!(m.end_search(41), Some("job"));
        assert!(!m.searching());
    }

    #[test]
    fn a_claim_for_waking_counts_as_a_search_but_takes_no_job_until_it_becomes_one() {
        let m = Mailbox::new();
        assert!(m.claim_for_waking());
        assert!(m.searching());
        assert!(!m.claim_for_waking(), "one claim at a time");
        assert!(!m.start_search(0), "no search beside a worker being woken");
        assert!(!m.searching_with(0));
        assert_eq!(m.offer("early", 0), Err("early"));
        m.search_after_waking(9);
        assert!(m.searching_with(9));
        assert_eq!(m.offer("job", 9), Ok(()));
        assert_eq!(m.end_search(9), Some("job"));
        // Given up: the mailbox is free again.
        assert!(m.claim_for_waking());
        m.end_waking();
        assert!(!m.searching());
        assert!(m.start_search(1));
    }

    #[test]
    fn tags_past_the_words_range_still_match_only_themselves() {
        let m = Mailbox::new();
        assert!(m.start_search(usize::MAX));
        assert!(!m.start_search(usize::MAX), "one searcher at a time");
        assert!(m.searching_with(usize::MAX));
        assert!(!m.searching_with(usize::MAX - 1));
        assert_eq!(m.offer(1, usize::MAX - 1), Err(1));
        assert_eq!(m.end_search(usize::MAX), None);
        assert!(!m.searching());
        assert_eq!(m.offer(2, usize::MAX), Err(2), "nobody searches");
    }
}
