// Kernel ids of BPF programs and links, for tests that check bpftool.
#pragma once

#include <bpf/bpf.h>

#include <cstdint>

namespace bindsight {

/** The kernel id of a program (link = false) or link fd; 0 when unknown. */
inline uint32_t BpfObjectId(int fd, bool link) {
  if (fd < 0) return 0;
  if (link) {
    bpf_link_info info{};
    uint32_t len = sizeof(info);
    return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
  }
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

}  // namespace bindsight
