// The JS surface of bindsight_native (documented in native/index.d.ts). The
// TypeScript wrapper (src/native/binding.ts) validates arguments; here only
// cheap type checks remain, and no C++ exception may cross into JS.
#include <napi.h>

#include <netinet/in.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

#include "proc_owners.h"
#include "sock_diag.h"

namespace {

using bindsight::NativeError;

Napi::Value Throw(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Throw(Napi::Env env, const NativeError& err) {
  return Throw(env, err.code.empty() ? "EIO" : err.code, err.message);
}

// Runs body; turns any escaping C++ exception into a coded JS error.
template <typename Fn>
Napi::Value Guard(const Napi::CallbackInfo& info, Fn body) {
  Napi::Env env = info.Env();
  try {
    return body(env);
  } catch (const std::bad_alloc&) {
    return Throw(env, "ENOMEM", "bindsight_native: out of memory");
  } catch (const std::exception& e) {
    return Throw(env, "EIO", std::string("bindsight_native: ") + e.what());
  } catch (...) {
    return Throw(env, "EIO", "bindsight_native: unknown failure");
  }
}

bool ReadOptions(Napi::Env env, const Napi::Value& arg, bindsight::DiagOptions* opts) {
  if (arg.IsUndefined() || arg.IsNull()) return true;
  if (!arg.IsObject()) return false;
  Napi::Object o = arg.As<Napi::Object>();
  Napi::Value ns = o.Get("netnsPath");
  Napi::Value states = o.Get("tcpStates");
  Napi::Value udp = o.Get("udp");
  if (env.IsExceptionPending()) return false;
  if (!ns.IsUndefined()) {
    if (!ns.IsString()) return false;
    opts->netns_path = ns.As<Napi::String>().Utf8Value();
    if (opts->netns_path.empty() || opts->netns_path.find('\0') != std::string::npos) return false;
  }
  if (!states.IsUndefined()) {
    if (!states.IsNumber()) return false;
    const double v = states.As<Napi::Number>().DoubleValue();
    if (!(v >= 0 && v <= 4294967295.0)) return false;
    opts->tcp_states = static_cast<uint32_t>(v);
  }
  if (!udp.IsUndefined()) {
    if (!udp.IsBoolean()) return false;
    opts->udp = udp.As<Napi::Boolean>().Value();
  }
  return true;
}

// Property keys made once per call. They must be internalized strings:
// napi_set_named_property creates them so, and napi_get_property_names hands
// them back; a plain napi_create_string key is rehashed on every set, which
// made 20k sockets cost ~4 us each.
constexpr const char* kKeyNames[] = {"proto", "family", "state", "address", "port",
                                     "remoteAddress", "remotePort", "inode", "uid",
                                     "v6only", "cookie"};
enum Key { kProto, kFamily, kState, kAddress, kPort, kRemoteAddress, kRemotePort, kInode,
           kUid, kV6only, kCookie, kKeyCount };

bool MakeKeys(Napi::Env env, napi_value keys[kKeyCount]) {
  napi_value tmpl, names, undef;
  if (napi_create_object(env, &tmpl) != napi_ok || napi_get_undefined(env, &undef) != napi_ok)
    return false;
  for (const char* name : kKeyNames)
    if (napi_set_named_property(env, tmpl, name, undef) != napi_ok) return false;
  if (napi_get_property_names(env, tmpl, &names) != napi_ok) return false;
  for (uint32_t i = 0; i < kKeyCount; ++i)
    if (napi_get_element(env, names, i, &keys[i]) != napi_ok) return false;
  return true;
}

// Addresses repeat (every socket on 0.0.0.0 or one service IP), and
// inet_ntop is costly: each distinct address is formatted once per call.
class AddressTable {
 public:
  // Index of the address in strings(), adding it when new.
  uint32_t Index(uint8_t family, const uint8_t raw[16]) {
    std::string key(reinterpret_cast<const char*>(raw), family == 4 ? 4 : 16);
    auto it = index_.find(key);
    if (it != index_.end()) return it->second;
    const auto i = static_cast<uint32_t>(strings_.size());
    strings_.push_back(bindsight::FormatAddress(family, raw));
    index_.emplace(std::move(key), i);
    return i;
  }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<std::string> strings_;
};

// Reads options and dumps; false with a pending JS exception on failure.
bool Dump(const Napi::CallbackInfo& info, std::vector<bindsight::RawSocket>* sockets) {
  Napi::Env env = info.Env();
  bindsight::DiagOptions opts;
  if (!ReadOptions(env, info[0], &opts)) {
    if (!env.IsExceptionPending()) Throw(env, "EINVAL", "sockDiag: invalid options");
    return false;
  }
  sockets->reserve(1024);
  NativeError err;
  if (!bindsight::SockDiagDump(opts, sockets, &err)) {
    Throw(env, err);
    return false;
  }
  return true;
}

Napi::Value SockDiag(const Napi::CallbackInfo& info) {
  return Guard(info, [&](Napi::Env env) -> Napi::Value {
    std::vector<bindsight::RawSocket> sockets;
    if (!Dump(info, &sockets)) return env.Undefined();
    napi_value k[kKeyCount];
    if (!MakeKeys(env, k)) return Throw(env, "EIO", "sockDiag: cannot create keys");
    AddressTable table;
    std::vector<napi_value> strings;
    auto address = [&](uint8_t family, const uint8_t raw[16]) {
      const uint32_t i = table.Index(family, raw);
      if (i == strings.size()) strings.push_back(Napi::String::New(env, table.strings()[i]));
      return strings[i];
    };
    const napi_value tcp = Napi::String::New(env, "tcp"), udp = Napi::String::New(env, "udp");
    Napi::Array out = Napi::Array::New(env, sockets.size());
    for (size_t i = 0; i < sockets.size(); ++i) {
      const bindsight::RawSocket& s = sockets[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set(k[kProto], s.protocol == IPPROTO_TCP ? tcp : udp);
      o.Set(k[kFamily], Napi::Number::New(env, s.family));
      o.Set(k[kState], Napi::Number::New(env, s.state));
      o.Set(k[kAddress], address(s.family, s.address));
      o.Set(k[kPort], Napi::Number::New(env, s.port));
      o.Set(k[kRemoteAddress], address(s.family, s.remote_address));
      o.Set(k[kRemotePort], Napi::Number::New(env, s.remote_port));
      o.Set(k[kInode], Napi::Number::New(env, s.inode));
      o.Set(k[kUid], Napi::Number::New(env, s.uid));
      if (s.v6only >= 0) o.Set(k[kV6only], Napi::Boolean::New(env, s.v6only == 1));
      o.Set(k[kCookie], Napi::String::New(env, std::to_string(s.cookie)));
      out.Set(static_cast<uint32_t>(i), o);
      if (env.IsExceptionPending()) return env.Undefined();
    }
    return out;
  });
}

// The packed record of sockDiagPacked (native/index.d.ts, PACKED_RECORD):
// little-endian, 32 bytes, largest fields first so there is no padding.
struct PackedSocket {
  uint32_t cookie_lo, cookie_hi;
  uint32_t inode, uid;
  uint32_t address, remote_address;  // indexes into the strings array
  uint16_t port, remote_port;
  uint8_t protocol, family, state;
  int8_t v6only;
};
static_assert(sizeof(PackedSocket) == 32, "PackedSocket layout is ABI");
static_assert(offsetof(PackedSocket, port) == 24, "PackedSocket layout is ABI");
static_assert(offsetof(PackedSocket, protocol) == 28, "PackedSocket layout is ABI");

Napi::Value SockDiagPacked(const Napi::CallbackInfo& info) {
  return Guard(info, [&](Napi::Env env) -> Napi::Value {
    std::vector<bindsight::RawSocket> sockets;
    if (!Dump(info, &sockets)) return env.Undefined();
    AddressTable table;
    Napi::ArrayBuffer records =
        Napi::ArrayBuffer::New(env, sockets.size() * sizeof(PackedSocket));
    if (env.IsExceptionPending()) return env.Undefined();
    auto* p = static_cast<PackedSocket*>(records.Data());
    for (const bindsight::RawSocket& s : sockets) {
      PackedSocket r;
      r.cookie_lo = static_cast<uint32_t>(s.cookie);
      r.cookie_hi = static_cast<uint32_t>(s.cookie >> 32);
      r.inode = s.inode;
      r.uid = s.uid;
      r.address = table.Index(s.family, s.address);
      r.remote_address = table.Index(s.family, s.remote_address);
      r.port = s.port;
      r.remote_port = s.remote_port;
      r.protocol = s.protocol;
      r.family = s.family;
      r.state = s.state;
      r.v6only = s.v6only;
      memcpy(p++, &r, sizeof r);
    }
    Napi::Array strings = Napi::Array::New(env, table.strings().size());
    for (size_t i = 0; i < table.strings().size(); ++i)
      strings.Set(static_cast<uint32_t>(i), Napi::String::New(env, table.strings()[i]));
    Napi::Object out = Napi::Object::New(env);
    out.Set("records", records);
    out.Set("strings", strings);
    if (env.IsExceptionPending()) return env.Undefined();
    return out;
  });
}

bool Walk(Napi::Env env, std::vector<bindsight::SocketOwner>* owners) {
  owners->reserve(4096);
  NativeError err;
  if (bindsight::WalkSocketOwners(owners, &err)) return true;
  Throw(env, err);
  return false;
}

Napi::Value SocketOwners(const Napi::CallbackInfo& info) {
  return Guard(info, [&](Napi::Env env) -> Napi::Value {
    std::vector<bindsight::SocketOwner> owners;
    if (!Walk(env, &owners)) return env.Undefined();
    Napi::Array out = Napi::Array::New(env, owners.size());
    for (size_t i = 0; i < owners.size(); ++i) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::Number::New(env, owners[i].inode));
      pair.Set(1u, Napi::Number::New(env, owners[i].pid));
      out.Set(static_cast<uint32_t>(i), pair);
      if (env.IsExceptionPending()) return env.Undefined();
    }
    return out;
  });
}

// Same pairs as socketOwners, flat in a Uint32Array: [inode, pid, inode, pid, ...].
Napi::Value SocketOwnersPacked(const Napi::CallbackInfo& info) {
  return Guard(info, [&](Napi::Env env) -> Napi::Value {
    std::vector<bindsight::SocketOwner> owners;
    if (!Walk(env, &owners)) return env.Undefined();
    Napi::Uint32Array out = Napi::Uint32Array::New(env, owners.size() * 2);
    if (env.IsExceptionPending()) return env.Undefined();
    for (size_t i = 0; i < owners.size(); ++i) {
      out[2 * i] = owners[i].inode;
      out[2 * i + 1] = static_cast<uint32_t>(owners[i].pid);
    }
    return out;
  });
}

Napi::Value NetnsInode(const Napi::CallbackInfo& info) {
  return Guard(info, [&](Napi::Env env) -> Napi::Value {
    std::string path = "/proc/self/ns/net";
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsString()) return Throw(env, "EINVAL", "netnsInode: path must be a string");
      path = info[0].As<Napi::String>().Utf8Value();
      if (path.empty() || path.find('\0') != std::string::npos)
        return Throw(env, "EINVAL", "netnsInode: invalid path");
    }
    uint64_t inode = 0;
    NativeError err;
    if (!bindsight::NamespaceInode(path.c_str(), &inode, &err)) return Throw(env, err);
    return Napi::Number::New(env, static_cast<double>(inode));
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sockDiag", Napi::Function::New(env, SockDiag, "sockDiag"));
  exports.Set("sockDiagPacked", Napi::Function::New(env, SockDiagPacked, "sockDiagPacked"));
  exports.Set("socketOwners", Napi::Function::New(env, SocketOwners, "socketOwners"));
  exports.Set("socketOwnersPacked",
              Napi::Function::New(env, SocketOwnersPacked, "socketOwnersPacked"));
  exports.Set("netnsInode", Napi::Function::New(env, NetnsInode, "netnsInode"));
  return exports;
}

}  // namespace

NODE_API_MODULE(bindsight_native, Init)
