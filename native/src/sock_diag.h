// NETLINK_SOCK_DIAG dump of TCP and UDP sockets (AF_INET and AF_INET6), with
// no Node API in sight so it can be read and tested on its own.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bindsight {

/** A failure, reported to JS as Error{code, message}; code is an errno name. */
struct NativeError {
  std::string code;
  std::string message;
};

/** Sets err from errno (code "ENOENT", message "what: strerror"). */
void SetErrnoError(NativeError* err, int errnum, const std::string& what);

struct RawSocket {
  uint64_t cookie = 0;  // idiag_cookie as one u64 (sock_diag_save_cookie)
  uint32_t inode = 0;
  uint32_t uid = 0;
  uint16_t port = 0;
  uint16_t remote_port = 0;
  uint8_t protocol = 0;  // IPPROTO_TCP or IPPROTO_UDP
  uint8_t family = 0;    // 4 or 6
  uint8_t state = 0;     // include/net/tcp_states.h
  int8_t v6only = -1;    // INET_DIAG_SKV6ONLY; -1 when absent (AF_INET)
  uint8_t address[16] = {};         // network order; AF_INET uses the first 4
  uint8_t remote_address[16] = {};
};

/** inet_ntop of a RawSocket address ("0.0.0.0", "::1"). */
std::string FormatAddress(uint8_t family, const uint8_t raw[16]);

struct DiagOptions {
  /** Empty: the caller's namespace. Else an nsfs path such as /proc/1/ns/net. */
  std::string netns_path;
  /** Bitmask of 1 << TCP state; default LISTEN (10). */
  uint32_t tcp_states = 1u << 10;
  /** Dump UDP sockets too (all states). */
  bool udp = true;
};

/**
 * Dumps TCP (states per mask) and UDP (all) sockets of both families. With a
 * netns path, the dump runs on a short-lived thread that setns()es first, so
 * the calling thread never changes namespace. Never throws.
 */
bool SockDiagDump(const DiagOptions& opts, std::vector<RawSocket>* out, NativeError* err);

}  // namespace bindsight
