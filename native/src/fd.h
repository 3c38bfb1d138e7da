// Small pieces both addons share: an owning file descriptor and errno names.
#pragma once

#include <string.h>
#include <unistd.h>

#include <string>

namespace bindsight {

/** Closes the descriptor it owns when it goes out of scope. */
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

/** "ENOENT" for ENOENT; "E<n>" for numbers glibc has no name for. */
inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

}  // namespace bindsight
