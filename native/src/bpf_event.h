// The kernel event ABI seen from C++: bpf/bindsight.h plus compile-time
// checks that g++ lays it out exactly as clang -target bpf and the
// TypeScript decoder (src/discovery/bpf-event.ts) expect.
#pragma once

#include <linux/types.h>

#include <cstddef>

extern "C" {
#include "bindsight.h"
}

static_assert(sizeof(bs_event) == BS_EVENT_SIZE, "bs_event has hidden padding");
static_assert(offsetof(bs_event, ts_ns) == 0, "bs_event.ts_ns");
static_assert(offsetof(bs_event, cookie) == 8, "bs_event.cookie");
static_assert(offsetof(bs_event, cgroup_id) == 16, "bs_event.cgroup_id");
static_assert(offsetof(bs_event, netns_cookie) == 24, "bs_event.netns_cookie");
static_assert(offsetof(bs_event, tgid) == 32, "bs_event.tgid");
static_assert(offsetof(bs_event, tid) == 36, "bs_event.tid");
static_assert(offsetof(bs_event, uid) == 40, "bs_event.uid");
static_assert(offsetof(bs_event, netns) == 44, "bs_event.netns");
static_assert(offsetof(bs_event, family) == 48, "bs_event.family");
static_assert(offsetof(bs_event, port) == 50, "bs_event.port");
static_assert(offsetof(bs_event, peer_port) == 52, "bs_event.peer_port");
static_assert(offsetof(bs_event, protocol) == 56, "bs_event.protocol");
static_assert(offsetof(bs_event, transition) == 57, "bs_event.transition");
static_assert(offsetof(bs_event, hook) == 58, "bs_event.hook");
static_assert(offsetof(bs_event, flags) == 59, "bs_event.flags");
static_assert(offsetof(bs_event, state) == 60, "bs_event.state");
static_assert(offsetof(bs_event, addr) == 64, "bs_event.addr");
static_assert(offsetof(bs_event, peer_addr) == 80, "bs_event.peer_addr");
static_assert(offsetof(bs_event, comm) == 96, "bs_event.comm");
