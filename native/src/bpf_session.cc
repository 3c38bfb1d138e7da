// libbpf open/load/attach of bindsight.bpf.c and the ring-buffer reader.
// Every attachment is a bpf_link (perf, raw tracepoint or cgroup link), so
// the kernel drops all of them when the last fd closes, even on SIGKILL.
#include "bpf_session.h"
#include "bpf_ids.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "bindsight.skel.h"
#include "bpf_event.h"

namespace bindsight {
namespace {

std::vector<bpf_program*> ProgramsOf(bindsight_bpf* s, const std::string& hook) {
  if (hook == "bind_tp") return {s->progs.bs_enter_bind, s->progs.bs_exit_bind};
  if (hook == "set_state") return {s->progs.bs_set_state};
  if (hook == "post_bind") return {s->progs.bs_post_bind4, s->progs.bs_post_bind6};
  if (hook == "sock_release") return {s->progs.bs_sock_release};
  if (hook == "sockops") return {s->progs.bs_sockops};
  return {};
}

const HookSpec* FindHook(const std::string& name) {
  for (const HookSpec& h : AllHooks()) {
    if (name == h.name) return &h;
  }
  return nullptr;
}

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  return std::string(strerror(err)) + " (" + (name ? name : std::to_string(err)) + ")";
}

BpfError MakeError(const std::string& hook, int err, const std::string& what) {
  BpfError e;
  e.hook = hook;
  e.err = err;
  const HookSpec* spec = FindHook(hook);
  std::string where = hook.empty() ? std::string("bindsight BPF")
                                   : "hook " + hook + " (" + (spec ? spec->section : "?") + ")";
  e.message = where + ": " + what + ": " + ErrnoText(err);
  return e;
}

// Opens a skeleton with only `hooks` enabled and the ring sized.
bindsight_bpf* OpenWith(const std::vector<std::string>& hooks, uint32_t ring_bytes, int* err) {
  bindsight_bpf* s = bindsight_bpf__open();
  if (!s) {
    *err = errno ? errno : EINVAL;
    return nullptr;
  }
  for (const HookSpec& h : AllHooks()) {
    bool on = false;
    for (const std::string& want : hooks) on = on || want == h.name;
    for (bpf_program* p : ProgramsOf(s, h.name)) bpf_program__set_autoload(p, on);
  }
  *err = -bpf_map__set_max_entries(s->maps.events, ring_bytes);
  if (*err) {
    bindsight_bpf__destroy(s);
    return nullptr;
  }
  return s;
}

}  // namespace

const std::vector<HookSpec>& AllHooks() {
  static const std::vector<HookSpec> hooks = {
      {"bind_tp", "tracepoint/syscalls/sys_enter_bind+sys_exit_bind", false},
      {"set_state", "tp_btf/inet_sock_set_state", false},
      {"post_bind", "cgroup/post_bind4+post_bind6", true},
      {"sock_release", "cgroup/sock_release", true},
      {"sockops", "sockops", true},
  };
  return hooks;
}

BpfError DiagnoseLoad(const std::vector<std::string>& hooks, int combined_err) {
  for (const std::string& hook : hooks) {
    int err = 0;
    bindsight_bpf* s = OpenWith({hook}, 4096, &err);
    if (!s) return MakeError(hook, err, "open failed");
    err = -bindsight_bpf__load(s);
    bindsight_bpf__destroy(s);
    if (err) return MakeError(hook, err, "load failed");
  }
  return MakeError("", combined_err, "load failed");
}

BpfSession::~BpfSession() { Close(); }

bool BpfSession::Open(const BpfOptions& opts, BpfError* error) {
  for (const std::string& h : opts.hooks) {
    if (!FindHook(h)) {
      *error = MakeError(h, EINVAL, "unknown hook");
      return false;
    }
  }
  int err = 0;
  skel_ = OpenWith(opts.hooks, opts.ring_bytes, &err);
  if (!skel_) {
    *error = MakeError("", err, "open failed");
    return false;
  }
  err = -bindsight_bpf__load(skel_);
  if (err) {
    Close();
    *error = DiagnoseLoad(opts.hooks, err);
    return false;
  }
  int cgroup_fd = -1;
  bool need_cgroup = false;
  for (const std::string& h : opts.hooks) need_cgroup = need_cgroup || FindHook(h)->cgroup;
  if (need_cgroup) {
    cgroup_fd = ::open(opts.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0) {
      err = errno;
      Close();
      *error = MakeError("", err, "cannot open cgroup v2 root '" + opts.cgroup_path + "'");
      return false;
    }
  }
  for (const std::string& h : opts.hooks) {
    if (!AttachHook(h, cgroup_fd, error)) {
      if (cgroup_fd >= 0) close(cgroup_fd);
      Close();
      return false;
    }
    hooks_.push_back(h);
  }
  // Links hold the cgroup; the directory fd is no longer needed.
  if (cgroup_fd >= 0) close(cgroup_fd);
  return true;
}

bool BpfSession::AttachHook(const std::string& hook, int cgroup_fd, BpfError* error) {
  for (bpf_program* p : ProgramsOf(skel_, hook)) {
    bpf_link* link = FindHook(hook)->cgroup ? bpf_program__attach_cgroup(p, cgroup_fd)
                                            : bpf_program__attach(p);
    if (!link) {
      *error = MakeError(hook, errno ? errno : EINVAL, "attach failed");
      return false;
    }
    links_.push_back(link);
  }
  return true;
}

int BpfSession::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSession*>(ctx);
  if (size < sizeof(bs_event)) return 0;  // never produced; ignore defensively
  if (!self->batch_) self->batch_ = new std::vector<uint8_t>();
  const auto* p = static_cast<const uint8_t*>(data);
  self->batch_->insert(self->batch_->end(), p, p + sizeof(bs_event));
  return 0;
}

bool BpfSession::StartReader(BatchSink sink, BpfError* error) {
  sink_ = std::move(sink);
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &BpfSession::OnRecord, this, nullptr);
  if (!rb_) {
    *error = MakeError("", errno ? errno : EINVAL, "ring_buffer__new failed");
    return false;
  }
  // Our own epoll over the ring's epoll fd and an eventfd, so Close() wakes
  // the reader at once instead of waiting out a poll timeout.
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (wake_fd_ < 0 || epoll_fd_ < 0) {
    *error = MakeError("", errno, "eventfd/epoll failed");
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = 0;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb_), &ev);
  ev.data.u32 = 1;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  stop_ = false;
  reader_ = std::thread([this] { ReaderLoop(); });
  return true;
}

// The kernel wakes the reader only for a record written while the consumer
// had caught up (bpf_ringbuf_commit, kernel/bpf/ringbuf.c). Each wake-up is
// an irq_work plus a cross-CPU wake-up: several microseconds on the CPU that
// called bind(), far more than the program itself. So when records arrive in
// bursts, the reader lingers a moment before consuming: records written
// meanwhile find the consumer behind and send no wake-up. A lone event is
// still consumed at once.
constexpr int kLingerUs = 500;

void BpfSession::ReaderLoop() {
  epoll_event evs[2];
  size_t last_batch = 0;
  while (!stop_.load()) {
    int n = epoll_wait(epoll_fd_, evs, 2, 1000);
    if (n < 0 && errno != EINTR) break;
    if (stop_.load()) break;
    if (last_batch > sizeof(bs_event)) usleep(kLingerUs);
    ring_buffer__consume(rb_);
    last_batch = batch_ ? batch_->size() : 0;
    if (batch_) {
      std::vector<uint8_t>* b = batch_;
      batch_ = nullptr;
      sink_(b);  // takes ownership
    }
  }
}

void BpfSession::Close() {
  if (reader_.joinable()) {
    stop_ = true;
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof(one)) < 0) { /* reader exits within 1 s anyway */ }
    reader_.join();
  }
  delete batch_;
  batch_ = nullptr;
  if (rb_) ring_buffer__free(rb_);
  rb_ = nullptr;
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
  for (bpf_link* l : links_) bpf_link__destroy(l);
  links_.clear();
  hooks_.clear();
  if (skel_) bindsight_bpf__destroy(skel_);
  skel_ = nullptr;
}

uint64_t BpfSession::Drops() const {
  if (!skel_) return 0;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  uint32_t key = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.drops), &key, per_cpu.data()) != 0) return 0;
  uint64_t sum = 0;
  for (uint64_t v : per_cpu) sum += v;
  return sum;
}

std::vector<uint32_t> BpfSession::ProgramIds() const {
  std::vector<uint32_t> ids;
  if (!skel_) return ids;
  bpf_program* p;
  bpf_object__for_each_program(p, skel_->obj) {
    uint32_t id = BpfObjectId(bpf_program__fd(p), false);
    if (id) ids.push_back(id);
  }
  return ids;
}

std::vector<uint32_t> BpfSession::LinkIds() const {
  std::vector<uint32_t> ids;
  for (bpf_link* l : links_) {
    uint32_t id = BpfObjectId(bpf_link__fd(l), true);
    if (id) ids.push_back(id);
  }
  return ids;
}

}  // namespace bindsight
