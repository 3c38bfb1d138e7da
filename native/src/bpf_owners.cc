// OwnersIter (libbpf) and its N-API surface. No C++ exception reaches JS:
// failures are thrown as Errors with `code` (and `errno` for the load).
#include "bpf_owners.h"
#include "bpf_ids.h"
#include "fd.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <exception>

#include "owners.skel.h"

namespace bindsight {
namespace {

// bpf_seq_read hands out at most its buffer (8 pages) per call.
constexpr size_t kReadChunk = 64 * 1024;


}  // namespace

OwnersIter::~OwnersIter() { Close(); }

bool OwnersIter::Open(int* err, std::string* what) {
  if (is_open()) return true;
  skel_ = owners_bpf__open_and_load();
  if (!skel_) {
    *err = errno ? errno : EINVAL;
    *what = "load iter/task_file";
    return false;
  }
  link_ = bpf_program__attach_iter(skel_->progs.bs_socket_owners, nullptr);
  if (!link_) {
    *err = errno ? errno : EINVAL;
    *what = "attach iter/task_file";
    Close();
    return false;
  }
  return true;
}

bool OwnersIter::Read(std::vector<uint8_t>* out, int* err) const {
  if (!link_) {
    *err = EBADF;
    return false;
  }
  const int fd = bpf_iter_create(bpf_link__fd(link_));
  if (fd < 0) {
    *err = errno ? errno : EINVAL;
    return false;
  }
  bool ok = true;
  for (;;) {
    const size_t at = out->size();
    out->resize(at + kReadChunk);
    const ssize_t n = read(fd, out->data() + at, kReadChunk);
    out->resize(at + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) continue;
    if (n == 0) break;
    if (errno == EINTR) continue;
    *err = errno;
    ok = false;
    break;
  }
  close(fd);
  // Whole records only (the kernel never splits one; stay defensive).
  out->resize(out->size() - out->size() % sizeof(bs_owner));
  return ok;
}

void OwnersIter::Close() {
  if (link_) bpf_link__destroy(link_);
  link_ = nullptr;
  if (skel_) owners_bpf__destroy(skel_);
  skel_ = nullptr;
}

uint32_t OwnersIter::ProgramId() const {
  return skel_ ? BpfObjectId(bpf_program__fd(skel_->progs.bs_socket_owners), false) : 0;
}

uint32_t OwnersIter::LinkId() const { return link_ ? BpfObjectId(bpf_link__fd(link_), true) : 0; }

namespace {

OwnersIter* IterOf(const Napi::CallbackInfo& info) { return static_cast<OwnersIter*>(info.Data()); }

void ThrowCoded(Napi::Env env, const std::string& code, int err, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
}

// Loads on first use; false (with a JS exception pending) when it cannot.
bool EnsureOpen(Napi::Env env, OwnersIter* it) {
  int err = 0;
  std::string what;
  if (it->Open(&err, &what)) return true;
  ThrowCoded(env, "BS_BPF_LOAD", err,
             "bindsight_bpf: socket owner iterator: " + what + ": " + strerror(err) + " (" +
                 ErrnoName(err) + ")");
  return false;
}

bool ReadRecords(Napi::Env env, OwnersIter* it, std::vector<uint8_t>* buf) {
  if (!EnsureOpen(env, it)) return false;
  int err = 0;
  try {
    if (it->Read(buf, &err)) return true;
  } catch (const std::exception& e) {  // bad_alloc from the buffer
    ThrowCoded(env, "ENOMEM", ENOMEM, std::string("socket owner iterator: ") + e.what());
    return false;
  }
  ThrowCoded(env, ErrnoName(err), err, std::string("socket owner iterator: read: ") + strerror(err));
  return false;
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  EnsureOpen(info.Env(), IterOf(info));
  return info.Env().Undefined();
}

Napi::Value Records(const Napi::CallbackInfo& info) {
  std::vector<uint8_t> buf;
  if (!ReadRecords(info.Env(), IterOf(info), &buf)) return info.Env().Undefined();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), buf.size());
}

// The contract of socketOwnersPacked (native/index.d.ts): [inode, pid, ...]
// sorted by inode then pid, without repeats (one process may hold a socket
// in several fds).
Napi::Value Pairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint8_t> buf;
  if (!ReadRecords(env, IterOf(info), &buf)) return env.Undefined();
  const size_t n = buf.size() / sizeof(bs_owner);
  std::vector<uint64_t> keys;
  try {
    keys.reserve(n);
  } catch (const std::exception&) {
    ThrowCoded(env, "ENOMEM", ENOMEM, "socket owner iterator: out of memory");
    return env.Undefined();
  }
  for (size_t i = 0; i < n; i++) {
    bs_owner r;
    memcpy(&r, buf.data() + i * sizeof r, sizeof r);
    keys.push_back(static_cast<uint64_t>(r.ino) << 32 | r.tgid);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  Napi::Uint32Array out = Napi::Uint32Array::New(env, keys.size() * 2);
  for (size_t i = 0; i < keys.size(); i++) {
    out[i * 2] = static_cast<uint32_t>(keys[i] >> 32);
    out[i * 2 + 1] = static_cast<uint32_t>(keys[i]);
  }
  return out;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  IterOf(info)->Close();
  return info.Env().Undefined();
}

Napi::Value Ids(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("program", Napi::Number::New(info.Env(), IterOf(info)->ProgramId()));
  o.Set("link", Napi::Number::New(info.Env(), IterOf(info)->LinkId()));
  return o;
}

}  // namespace

void ExportOwnersIter(Napi::Env env, Napi::Object exports) {
  // Never freed: functions holding it may outlive the cleanup hook.
  auto* it = new OwnersIter();
  env.AddCleanupHook([it]() { it->Close(); });  // process exit, worker teardown
  exports.Set("ownersIterOpen", Napi::Function::New(env, Open, "ownersIterOpen", it));
  exports.Set("socketOwnersIter", Napi::Function::New(env, Pairs, "socketOwnersIter", it));
  exports.Set("socketOwnersIterRecords", Napi::Function::New(env, Records, "socketOwnersIterRecords", it));
  exports.Set("ownersIterClose", Napi::Function::New(env, Close, "ownersIterClose", it));
  exports.Set("ownersIterIds", Napi::Function::New(env, Ids, "ownersIterIds", it));
  exports.Set("OWNER_RECORD_SIZE", Napi::Number::New(env, sizeof(bs_owner)));
}

}  // namespace bindsight
