// Which process holds which socket: a walk of /proc/[0-9]*/fd that reads each
// socket:[N] link relative to the fd directory (openat/readlinkat).
#pragma once

#include <cstdint>
#include <vector>

#include "sock_diag.h"

namespace bindsight {

struct SocketOwner {
  uint32_t inode;
  int32_t pid;
};

/**
 * Fills `out` (expected empty) with one pair per (socket, thread-group leader
 * holding it), sorted by inode then pid, without repeats. Processes and fds
 * that vanish or are unreadable mid-walk are skipped. Fails only when
 * /proc itself cannot be read. Never throws.
 */
bool WalkSocketOwners(std::vector<SocketOwner>* out, NativeError* err);

/** st_ino of a namespace file (default /proc/self/ns/net). Never throws. */
bool NamespaceInode(const char* path, uint64_t* inode, NativeError* err);

}  // namespace bindsight
