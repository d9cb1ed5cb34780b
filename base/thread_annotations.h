// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html),
// as leveldb's port/thread_annotations.h spells them. Under clang with -Wthread-safety (the
// clang build turns it on and makes its findings errors, see CMakeLists.txt) the compiler
// checks that every member marked GUARDED_BY(mu) is touched only with `mu` held and that
// every function marked REQUIRES(mu) is called with it held. Under other compilers the macros
// expand to nothing.
//
// The lock they are meant for is base/mutex.h's Mutex; std::mutex carries no annotations in
// libstdc++, so members it guards cannot be checked.
#ifndef TIERSYNC_BASE_THREAD_ANNOTATIONS_H_
#define TIERSYNC_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define TIERSYNC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TIERSYNC_THREAD_ANNOTATION(x)
#endif

// A class that is a lock (a "capability"); `x` names the kind in diagnostics.
#define CAPABILITY(x) TIERSYNC_THREAD_ANNOTATION(capability(x))

// An RAII class that holds a capability for its lifetime (MutexLock).
#define SCOPED_CAPABILITY TIERSYNC_THREAD_ANNOTATION(scoped_lockable)

// A data member read and written only with `x` held.
#define GUARDED_BY(x) TIERSYNC_THREAD_ANNOTATION(guarded_by(x))

// A pointer member whose pointee is read and written only with `x` held.
#define PT_GUARDED_BY(x) TIERSYNC_THREAD_ANNOTATION(pt_guarded_by(x))

// Lock ordering: this lock is taken after / before the ones named.
#define ACQUIRED_AFTER(...) TIERSYNC_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) TIERSYNC_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))

// The caller must hold the capabilities named (exclusively / at least shared).
#define REQUIRES(...) TIERSYNC_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) TIERSYNC_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))

// The function takes / releases the capabilities named (none named: `this`).
#define ACQUIRE(...) TIERSYNC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) TIERSYNC_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) TIERSYNC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) TIERSYNC_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))

// The function takes the capability if it returns `x` (the first argument).
#define TRY_ACQUIRE(...) TIERSYNC_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

// The caller must not hold the capabilities named (the function takes them itself).
#define EXCLUDES(...) TIERSYNC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// The function checks at run time that the capability is held; the analysis assumes it after.
#define ASSERT_CAPABILITY(x) TIERSYNC_THREAD_ANNOTATION(assert_capability(x))

// The function returns a reference to the capability named.
#define RETURN_CAPABILITY(x) TIERSYNC_THREAD_ANNOTATION(lock_returned(x))

// Turns the analysis off for one function; say why next to it.
#define NO_THREAD_SAFETY_ANALYSIS TIERSYNC_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // TIERSYNC_BASE_THREAD_ANNOTATIONS_H_
