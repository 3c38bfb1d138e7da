// NETLINK_SOCK_DIAG dump (Documentation/networking/ and net/ipv4/inet_diag.c):
// one SOCK_DIAG_BY_FAMILY request with NLM_F_DUMP per (protocol, family),
// answered by multipart messages ending in NLMSG_DONE.
#include "sock_diag.h"
#include "fd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <new>
#include <system_error>
#include <thread>

namespace bindsight {

namespace {

// The kernel sizes a dump skb by the reader's largest recv, capped at
// SKB_WITH_OVERHEAD(32768) (net/netlink/af_netlink.c, netlink_recvmsg), so a
// 64 KiB buffer always holds one whole datagram.
constexpr size_t kRecvBuffer = 64 * 1024;

// INET_DIAG_SKV6ONLY (linux 4.x uapi, value 11): kept numeric so that older
// headers still compile.
constexpr unsigned short kAttrV6Only = 11;

void ParseMessage(const nlmsghdr* nlh, uint8_t protocol, std::vector<RawSocket>* out) {
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return;  // malformed: skip
  const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(nlh));
  if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6) return;
  const int af = msg->idiag_family;
  RawSocket s;
  s.protocol = protocol;
  s.family = af == AF_INET ? 4 : 6;
  s.state = msg->idiag_state;
  s.port = ntohs(msg->id.idiag_sport);
  s.remote_port = ntohs(msg->id.idiag_dport);
  s.inode = msg->idiag_inode;
  s.uid = msg->idiag_uid;
  s.cookie = static_cast<uint64_t>(msg->id.idiag_cookie[0]) |
             (static_cast<uint64_t>(msg->id.idiag_cookie[1]) << 32);
  memcpy(s.address, msg->id.idiag_src, af == AF_INET ? 4 : 16);
  memcpy(s.remote_address, msg->id.idiag_dst, af == AF_INET ? 4 : 16);

  int len = static_cast<int>(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
  for (auto* a = reinterpret_cast<const nlattr*>(msg + 1); len >= static_cast<int>(NLA_HDRLEN);) {
    if (a->nla_len < NLA_HDRLEN || a->nla_len > len) break;  // malformed tail
    if ((a->nla_type & NLA_TYPE_MASK) == kAttrV6Only && a->nla_len >= NLA_HDRLEN + 1) {
      s.v6only = *(reinterpret_cast<const uint8_t*>(a) + NLA_HDRLEN) ? 1 : 0;
    }
    const int step = NLA_ALIGN(a->nla_len);
    len -= step;
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + step);
  }
  out->push_back(std::move(s));
}

bool SendRequest(int fd, uint8_t family, uint8_t protocol, uint32_t states, uint32_t seq,
                 NativeError* err) {
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.nlh.nlmsg_seq = seq;
  msg.req.sdiag_family = family;
  msg.req.sdiag_protocol = protocol;
  msg.req.idiag_states = states;
  sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    const ssize_t n = sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&kernel),
                             sizeof kernel);
    if (n == static_cast<ssize_t>(sizeof msg)) return true;
    if (n < 0 && errno == EINTR) continue;
    SetErrnoError(err, n < 0 ? errno : EIO, "sock_diag sendto");
    return false;
  }
}

// Reads one dump to NLMSG_DONE. Sockets that close mid-dump are simply not
// reported by the kernel; nothing to do for them here.
bool ReadDump(int fd, uint8_t protocol, uint32_t seq, char* buf, std::vector<RawSocket>* out,
              NativeError* err) {
  for (;;) {
    iovec iov{buf, kRecvBuffer};
    sockaddr_nl from;
    msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    const ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      SetErrnoError(err, errno, "sock_diag recvmsg");
      return false;
    }
    if (n == 0 || (mh.msg_flags & MSG_TRUNC)) {
      SetErrnoError(err, EMSGSIZE, "sock_diag reply truncated");
      return false;
    }
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nlh, left);
         nlh = NLMSG_NEXT(nlh, left)) {
      if (nlh->nlmsg_seq != seq) continue;  // stale reply of an earlier request
      if (nlh->nlmsg_type == NLMSG_DONE) {
        // The DONE payload carries the dump's final status (netlink_dump_done).
        if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
          const int status = *static_cast<int*>(NLMSG_DATA(nlh));
          if (status < 0) {
            SetErrnoError(err, -status, "sock_diag dump");
            return false;
          }
        }
        return true;
      }
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
          SetErrnoError(err, EBADMSG, "sock_diag short NLMSG_ERROR");
          return false;
        }
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(nlh));
        if (e->error == 0) continue;  // an ACK
        SetErrnoError(err, -e->error, "sock_diag request");
        return false;
      }
      if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) ParseMessage(nlh, protocol, out);
    }
  }
}

bool DumpHere(const DiagOptions& opts, std::vector<RawSocket>* out, NativeError* err) {
  Fd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.get() < 0) {
    SetErrnoError(err, errno, "socket(NETLINK_SOCK_DIAG)");
    return false;
  }
  std::unique_ptr<char[]> buf(new (std::nothrow) char[kRecvBuffer]);
  if (!buf) {
    SetErrnoError(err, ENOMEM, "sock_diag buffer");
    return false;
  }
  struct Job {
    uint8_t protocol;
    uint8_t family;
    uint32_t states;
  };
  const uint32_t all = ~0u;
  const Job jobs[] = {
      {IPPROTO_TCP, AF_INET, opts.tcp_states},
      {IPPROTO_TCP, AF_INET6, opts.tcp_states},
      {IPPROTO_UDP, AF_INET, all},
      {IPPROTO_UDP, AF_INET6, all},
  };
  uint32_t seq = 1;
  for (const Job& job : jobs) {
    if (job.protocol == IPPROTO_TCP && job.states == 0) continue;
    if (job.protocol == IPPROTO_UDP && !opts.udp) continue;
    ++seq;
    if (!SendRequest(fd.get(), job.family, job.protocol, job.states, seq, err)) return false;
    if (!ReadDump(fd.get(), job.protocol, seq, buf.get(), out, err)) return false;
  }
  return true;
}

}  // namespace

std::string FormatAddress(uint8_t family, const uint8_t raw[16]) {
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family == 4 ? AF_INET : AF_INET6, raw, text, sizeof text) == nullptr) return "";
  return text;
}

void SetErrnoError(NativeError* err, int errnum, const std::string& what) {
  const char* name = strerrorname_np(errnum);
  err->code = name ? name : "EIO";
  err->message = what + ": " + strerror(errnum);
}

bool SockDiagDump(const DiagOptions& opts, std::vector<RawSocket>* out, NativeError* err) {
  try {
    if (opts.netns_path.empty()) return DumpHere(opts, out, err);

    // Open on the caller's thread so a bad path fails before any thread exists.
    Fd ns(open(opts.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (ns.get() < 0) {
      SetErrnoError(err, errno, "open " + opts.netns_path);
      return false;
    }
    // setns(2) moves only the calling thread; this thread dies right after, so
    // the JS thread's namespace never changes.
    bool ok = false;
    std::thread worker([&] {
      try {  // nothing may escape a std::thread: that would be std::terminate
        if (setns(ns.get(), CLONE_NEWNET) != 0) {
          SetErrnoError(err, errno, "setns " + opts.netns_path);
          return;
        }
        ok = DumpHere(opts, out, err);
      } catch (const std::exception& e) {
        err->code = "ENOMEM";
        err->message = std::string("sock_diag: ") + e.what();
      }
    });
    worker.join();
    return ok;
  } catch (const std::system_error& e) {  // std::thread could not start
    SetErrnoError(err, e.code().value() > 0 ? e.code().value() : EAGAIN, "sock_diag thread");
    return false;
  } catch (const std::exception& e) {  // std::bad_alloc
    err->code = "ENOMEM";
    err->message = std::string("sock_diag: ") + e.what();
    return false;
  }
}

}  // namespace bindsight
