// /proc/[0-9]*/fd walk. Every open and read may fail because the process or
// fd went away (ENOENT, ESRCH) or is not ours to read (EACCES): those entries
// are skipped, the walk goes on.
#include "proc_owners.h"
#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <thread>

namespace bindsight {

namespace {

constexpr size_t kDentsBuffer = 64 * 1024;
constexpr size_t kMaxHelpers = 3;

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Parses a decimal name; false for anything else ("self", ".", too long).
bool ParseDecimal(const char* s, uint64_t limit, uint64_t* value) {
  if (*s == '\0') return false;
  uint64_t v = 0;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
    if (v > limit) return false;
  }
  *value = v;
  return true;
}

// Calls fn(name) for each entry of an open directory. Returns false on a
// getdents64 error (the directory vanished: the caller skips it).
template <typename Fn>
bool ForEachEntry(int dirfd, char* buf, Fn fn) {
  for (;;) {
    const long n = syscall(SYS_getdents64, dirfd, buf, kDentsBuffer);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
      if (d->d_reclen == 0) return false;  // cannot happen; never loop forever
      fn(d->d_name);
      off += d->d_reclen;
    }
  }
}

// "socket:[12345]" -> 12345.
bool ParseSocketLink(const char* link, ssize_t len, uint32_t* inode) {
  static const char kPrefix[] = "socket:[";
  constexpr ssize_t kPrefixLen = sizeof kPrefix - 1;
  if (len <= kPrefixLen + 1 || memcmp(link, kPrefix, kPrefixLen) != 0 || link[len - 1] != ']')
    return false;
  uint64_t v = 0;
  for (ssize_t i = kPrefixLen; i < len - 1; ++i) {
    if (link[i] < '0' || link[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(link[i] - '0');
    if (v > UINT32_MAX) return false;
  }
  *inode = static_cast<uint32_t>(v);
  return true;
}

void WalkProcess(int procfd, int32_t pid, char* buf, std::vector<SocketOwner>* out) {
  char path[32];
  snprintf(path, sizeof path, "%d/fd", static_cast<int>(pid));
  Fd fddir(openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fddir.get() < 0) return;  // gone, a zombie, or not ours
  ForEachEntry(fddir.get(), buf, [&](const char* name) {
    if (name[0] < '0' || name[0] > '9') return;
    char link[64];
    const ssize_t len = readlinkat(fddir.get(), name, link, sizeof link);
    uint32_t inode;
    if (len > 0 && ParseSocketLink(link, len, &inode)) out->push_back({inode, pid});
  });
}

}  // namespace

// Splits the pids over one thread per core (at most 4): each readlinkat costs
// 3-5 us of kernel time (fd lookup, ptrace_may_access, d_path), so 20k socket
// fds took ~100 ms on one thread and ~55 ms on two here.
// readlink, not stat: stat would follow the link into the file's own
// filesystem, and a dead NFS or FUSE mount would hang the walk.
bool WalkSocketOwners(std::vector<SocketOwner>* out, NativeError* err) {
  try {
    Fd procfd(open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (procfd.get() < 0) {
      SetErrnoError(err, errno, "open /proc");
      return false;
    }
    std::unique_ptr<char[]> procbuf(new char[kDentsBuffer]);
    // Entries of /proc are thread-group leaders only; tasks share their fds.
    std::vector<int32_t> pids;
    const bool ok = ForEachEntry(procfd.get(), procbuf.get(), [&](const char* name) {
      uint64_t pid;
      if (ParseDecimal(name, INT32_MAX, &pid)) pids.push_back(static_cast<int32_t>(pid));
    });
    if (!ok) {
      SetErrnoError(err, errno, "getdents64 /proc");
      return false;
    }

    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&](std::vector<SocketOwner>* found) {
      std::unique_ptr<char[]> buf(new char[kDentsBuffer]);
      for (size_t i; (i = next.fetch_add(1)) < pids.size();)
        WalkProcess(procfd.get(), pids[i], buf.get(), found);
    };
    const unsigned cores = std::thread::hardware_concurrency();
    const size_t helpers = std::min<size_t>(cores > 1 ? cores - 1 : 0, kMaxHelpers);
    std::vector<std::vector<SocketOwner>> parts(helpers);
    std::vector<std::thread> threads;
    threads.reserve(helpers);  // may throw, but before any thread runs
    for (size_t t = 0; t < helpers; ++t) {
      try {
        threads.emplace_back([&, t] {
          try {
            work(&parts[t]);
          } catch (...) {  // out of memory: report it rather than a partial map
            failed = true;
          }
        });
      } catch (...) {
        break;  // no more threads: the calling thread does the rest
      }
    }
    try {
      work(out);
    } catch (...) {  // join the helpers before unwinding their stack
      failed = true;
    }
    for (std::thread& th : threads) th.join();
    if (failed) throw std::bad_alloc();
    for (const auto& part : parts) out->insert(out->end(), part.begin(), part.end());
    // Sorted by (inode, pid) without repeats (one process may hold a socket in
    // several fds): callers binary-search it instead of building a hash map.
    std::sort(out->begin(), out->end(), [](const SocketOwner& a, const SocketOwner& b) {
      return a.inode != b.inode ? a.inode < b.inode : a.pid < b.pid;
    });
    out->erase(std::unique(out->begin(), out->end(),
                           [](const SocketOwner& a, const SocketOwner& b) {
                             return a.inode == b.inode && a.pid == b.pid;
                           }),
               out->end());
    return true;
  } catch (const std::exception& e) {
    err->code = "ENOMEM";
    err->message = std::string("socket owner walk: ") + e.what();
    return false;
  }
}

bool NamespaceInode(const char* path, uint64_t* inode, NativeError* err) {
  struct stat st;
  if (stat(path, &st) != 0) {
    SetErrnoError(err, errno, std::string("stat ") + path);
    return false;
  }
  *inode = st.st_ino;
  return true;
}

}  // namespace bindsight
