// Socket owners from the iter/task_file program of bpf/owners.bpf.c: loaded
// and attached once, then every scan is one bpf_iter_create and a few
// read(2) calls instead of a readlinkat per fd of every process.
#pragma once

#include <linux/types.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include "owners.h"
}

static_assert(sizeof(bs_owner) == 24, "bs_owner has hidden padding");
static_assert(offsetof(bs_owner, cookie) == 0, "bs_owner.cookie");
static_assert(offsetof(bs_owner, ino) == 8, "bs_owner.ino");
static_assert(offsetof(bs_owner, tgid) == 12, "bs_owner.tgid");
static_assert(offsetof(bs_owner, fd) == 16, "bs_owner.fd");
static_assert(offsetof(bs_owner, family) == 20, "bs_owner.family");
static_assert(offsetof(bs_owner, protocol) == 22, "bs_owner.protocol");

struct owners_bpf;
struct bpf_link;

namespace bindsight {

class OwnersIter {
 public:
  OwnersIter() = default;
  ~OwnersIter();
  OwnersIter(const OwnersIter&) = delete;
  OwnersIter& operator=(const OwnersIter&) = delete;

  // Loads and attaches the iterator program. On failure nothing stays
  // loaded and *err is a positive errno. Idempotent.
  bool Open(int* err, std::string* what);
  // Runs the iterator once: whole struct bs_owner records, kernel order.
  bool Read(std::vector<uint8_t>* out, int* err) const;
  // Detaches and unloads. Idempotent.
  void Close();

  bool is_open() const { return link_ != nullptr; }
  uint32_t ProgramId() const;
  uint32_t LinkId() const;

 private:
  owners_bpf* skel_ = nullptr;
  ::bpf_link* link_ = nullptr;
};

// Adds ownersIterOpen, socketOwnersIter, socketOwnersIterRecords,
// ownersIterClose, ownersIterIds and OWNER_RECORD_SIZE to `exports`
// (native/bpf.d.ts), with one OwnersIter per env closed by a cleanup hook.
void ExportOwnersIter(Napi::Env env, Napi::Object exports);

}  // namespace bindsight
