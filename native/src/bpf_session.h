// Loads and attaches the bindsight BPF programs with libbpf and reads their
// ring buffer on a thread of its own. No N-API here: bpf_addon.cc wraps it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

struct bindsight_bpf;
struct ring_buffer;
struct bpf_link;

namespace bindsight {

// A hook is a user-visible name for one or more BPF programs that are
// loaded and attached together (docs/kernel-support.md).
struct HookSpec {
  const char* name;
  const char* section;  // for messages: where it attaches
  bool cgroup;          // attached at the cgroup v2 root
};

const std::vector<HookSpec>& AllHooks();

struct BpfError {
  std::string hook;     // empty when not specific to one hook
  int err = 0;          // positive errno
  std::string message;
};

struct BpfOptions {
  std::vector<std::string> hooks;
  std::string cgroup_path;
  uint32_t ring_bytes = 256 * 1024;
};

// Receives whole events, concatenated, from the reader thread.
using BatchSink = std::function<void(std::vector<uint8_t>*)>;

class BpfSession {
 public:
  BpfSession() = default;
  ~BpfSession();
  BpfSession(const BpfSession&) = delete;
  BpfSession& operator=(const BpfSession&) = delete;

  // Opens, loads and attaches. On failure everything is torn down again.
  bool Open(const BpfOptions& opts, BpfError* error);
  // Starts the reader thread; sink runs on that thread.
  bool StartReader(BatchSink sink, BpfError* error);
  // Stops the reader, detaches every link and closes every fd. Idempotent.
  void Close();

  bool is_open() const { return skel_ != nullptr; }
  uint64_t Drops() const;
  std::vector<uint32_t> ProgramIds() const;
  std::vector<uint32_t> LinkIds() const;
  const std::vector<std::string>& hooks() const { return hooks_; }

 private:
  static int OnRecord(void* ctx, void* data, size_t size);
  void ReaderLoop();
  bool AttachHook(const std::string& hook, int cgroup_fd, BpfError* error);

  bindsight_bpf* skel_ = nullptr;
  std::vector<::bpf_link*> links_;
  std::vector<std::string> hooks_;
  ring_buffer* rb_ = nullptr;
  int wake_fd_ = -1;
  int epoll_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  BatchSink sink_;
  std::vector<uint8_t>* batch_ = nullptr;
};

// Finds the first hook of `hooks` that cannot load on its own, to name it in
// an error after a combined load failed.
BpfError DiagnoseLoad(const std::vector<std::string>& hooks, int combined_err);

}  // namespace bindsight
