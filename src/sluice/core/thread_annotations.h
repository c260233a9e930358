#pragma once
// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
// With -Wthread-safety (every clang build of sluice: the ASan and TSan builds of
// scripts/sanitize.sh) clang checks at compile time that a member marked GUARDED_BY(mu_) is
// only touched with mu_ held, that a function marked REQUIRES(mu_) is only called with it held
// and EXCLUDES(mu_) only without it. The capability is core/mutex.h's Mutex: std::mutex carries
// no annotations in libstdc++, so the analysis cannot see it.
//
// Other compilers (GCC builds ./build) see empty macros: the annotations cost nothing at run
// time anywhere; they are a compile-time proof, and only as good as the clang builds that run.
//
// The analysis is intraprocedural: a lambda or a function that is handed a lock does not
// inherit it. Write condition waits as explicit loops around CondVar::Wait (core/mutex.h) so
// that the guarded reads are in the function that holds the lock.

#if defined(__clang__)
#define SLUICE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define SLUICE_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (Mutex), named in the warnings as `name`.
#define CAPABILITY(name) SLUICE_THREAD_ANNOTATION(capability(name))
// An RAII type that holds a capability for its lifetime (MutexLock).
#define SCOPED_CAPABILITY SLUICE_THREAD_ANNOTATION(scoped_lockable)
// A data member read or written only while the capability is held.
#define GUARDED_BY(x) SLUICE_THREAD_ANNOTATION(guarded_by(x))
// A pointer member whose pointee is read or written only while the capability is held.
#define PT_GUARDED_BY(x) SLUICE_THREAD_ANNOTATION(pt_guarded_by(x))
// The caller must hold the capability (exclusively).
#define REQUIRES(...) SLUICE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The caller must not hold the capability: the function takes it itself.
#define EXCLUDES(...) SLUICE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes the capability and returns holding it.
#define ACQUIRE(...) SLUICE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
// The function releases a capability the caller held.
#define RELEASE(...) SLUICE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// The function takes the capability when it returns `result`.
#define TRY_ACQUIRE(...) SLUICE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The function checks at run time that the capability is held, and tells the analysis so.
#define ASSERT_CAPABILITY(x) SLUICE_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to the capability (an accessor for a private mutex).
#define RETURN_CAPABILITY(x) SLUICE_THREAD_ANNOTATION(lock_returned(x))
// Turns the analysis off for one function. Every use says in a comment why the analysis cannot
// follow it (a lock handed between objects, for instance).
#define NO_THREAD_SAFETY_ANALYSIS SLUICE_THREAD_ANNOTATION(no_thread_safety_analysis)
