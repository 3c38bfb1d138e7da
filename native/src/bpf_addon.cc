// The JS surface of bindsight_bpf (documented in native/bpf.d.ts): one class,
// BpfSession, whose ring-buffer reader thread feeds JS through a
// ThreadSafeFunction. src/native/bpf-binding.ts validates arguments; here
// only cheap checks remain and no C++ exception reaches JS.
#include <napi.h>
#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bpf_event.h"
#include "bpf_owners.h"
#include "bpf_session.h"

namespace {

// libbpf has one global print callback and may call it from any thread, so
// messages are queued here and handed to the session's onLog on the JS
// thread after each call into libbpf (then to the pino logger).
std::mutex g_log_mu;
std::vector<std::pair<std::string, std::string>> g_log;

int QueueLibbpfLog(enum libbpf_print_level level, const char* fmt, va_list args) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  if (n <= 0) return n;
  std::string msg(buf);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const char* lv = level == LIBBPF_WARN ? "warn" : level == LIBBPF_INFO ? "info" : "debug";
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (g_log.size() < 4096) g_log.emplace_back(lv, std::move(msg));
  return n;
}

void DrainLogs(Napi::Env env, const Napi::Function& on_log) {
  std::vector<std::pair<std::string, std::string>> logs;
  {
    std::lock_guard<std::mutex> lock(g_log_mu);
    logs.swap(g_log);
  }
  if (on_log.IsEmpty()) return;
  for (auto& [lv, msg] : logs) {
    on_log.Call({Napi::String::New(env, lv), Napi::String::New(env, msg)});
    if (env.IsExceptionPending()) return;
  }
}

class Session;

// Per-env state. Never freed: wrapped objects may be finalized after the
// cleanup hook at env teardown and must still find it.
struct AddonData {
  std::set<Session*> live;  // closed by the env cleanup hook
};

void KeepAddonData(Napi::Env, AddonData*) {}

class Session : public Napi::ObjectWrap<Session> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpfSession", {
        InstanceMethod<&Session::Drops>("drops"),
        InstanceMethod<&Session::Close>("close"),
        InstanceMethod<&Session::ProgramIds>("programIds"),
        InstanceMethod<&Session::LinkIds>("linkIds"),
        InstanceAccessor<&Session::Hooks>("hooks"),
    });
  }

  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {
    Napi::Env env = info.Env();
    try {
      Construct(info);
    } catch (const std::exception& e) {
      session_.Close();
      Napi::Error err = Napi::Error::New(env, std::string("bindsight_bpf: ") + e.what());
      err.Set("code", Napi::String::New(env, "BS_BPF_LOAD"));
      err.ThrowAsJavaScriptException();
    }
  }

  ~Session() override { Shutdown(); }

  // Stops the reader, releases the TSFN and detaches everything.
  void Shutdown() {
    session_.Close();
    if (tsfn_active_) {
      tsfn_.Release();
      tsfn_active_ = false;
    }
    if (data_) {
      data_->live.erase(this);
      data_ = nullptr;
    }
  }

 private:
  void Construct(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "BpfSession(options): options object required")
          .ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value hooks = o.Get("hooks"), cg = o.Get("cgroupPath"), rb = o.Get("ringBufferBytes");
    Napi::Value on_events = o.Get("onEvents"), on_log = o.Get("onLog");
    if (env.IsExceptionPending()) return;
    if (!hooks.IsArray() || !cg.IsString() || !rb.IsNumber() || !on_events.IsFunction() ||
        !on_log.IsFunction()) {
      Napi::TypeError::New(env, "BpfSession: hooks, cgroupPath, ringBufferBytes, onEvents, onLog")
          .ThrowAsJavaScriptException();
      return;
    }
    bindsight::BpfOptions opts;
    Napi::Array arr = hooks.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length() && i < 16; i++) {
      Napi::Value h = arr.Get(i);
      if (!h.IsString()) {
        Napi::TypeError::New(env, "BpfSession: hooks must be strings").ThrowAsJavaScriptException();
        return;
      }
      opts.hooks.push_back(h.As<Napi::String>().Utf8Value());
    }
    opts.cgroup_path = cg.As<Napi::String>().Utf8Value();
    opts.ring_bytes = rb.As<Napi::Number>().Uint32Value();
    on_log_ = Napi::Persistent(on_log.As<Napi::Function>());

    bindsight::BpfError error;
    bool ok = session_.Open(opts, &error);
    DrainLogs(env, on_log_.Value());
    if (env.IsExceptionPending()) return;
    if (!ok) {
      ThrowLoad(env, error);
      return;
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, on_events.As<Napi::Function>(), "bindsight_bpf",
                                          0, 1);
    tsfn_active_ = true;
    tsfn_.Unref(env);  // the daemon's sockets keep the loop alive, not us
    Napi::ThreadSafeFunction tsfn = tsfn_;
    ok = session_.StartReader(
        [tsfn](std::vector<uint8_t>* batch) mutable {
          napi_status st = tsfn.NonBlockingCall(
              [batch](Napi::Env env, Napi::Function fn) {
                // Plain napi calls: during worker teardown they fail, and
                // that must not turn into a fatal unthrowable exception.
                napi_value buf = nullptr, ret = nullptr;
                if (env != nullptr && fn != nullptr &&
                    napi_create_buffer_copy(env, batch->size(), batch->data(), nullptr, &buf) == napi_ok) {
                  napi_value undefined = nullptr;
                  napi_get_undefined(env, &undefined);
                  napi_call_function(env, undefined, fn, 1, &buf, &ret);
                }
                delete batch;
              });
          if (st != napi_ok) delete batch;
        },
        &error);
    if (!ok) {
      Shutdown();
      ThrowLoad(env, error);
      return;
    }
    data_ = env.GetInstanceData<AddonData>();
    if (data_) data_->live.insert(this);
  }

  static void ThrowLoad(Napi::Env env, const bindsight::BpfError& error) {
    Napi::Error e = Napi::Error::New(env, error.message);
    e.Set("code", Napi::String::New(env, "BS_BPF_LOAD"));
    e.Set("hook", Napi::String::New(env, error.hook));
    e.Set("errno", Napi::Number::New(env, error.err));
    e.ThrowAsJavaScriptException();
  }

  Napi::Value Drops(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(session_.Drops()));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    if (!on_log_.IsEmpty()) DrainLogs(info.Env(), on_log_.Value());
    return info.Env().Undefined();
  }

  static Napi::Value Ids(Napi::Env env, const std::vector<uint32_t>& ids) {
    Napi::Array a = Napi::Array::New(env, ids.size());
    for (uint32_t i = 0; i < ids.size(); i++) a.Set(i, Napi::Number::New(env, ids[i]));
    return a;
  }

  Napi::Value ProgramIds(const Napi::CallbackInfo& info) { return Ids(info.Env(), session_.ProgramIds()); }
  Napi::Value LinkIds(const Napi::CallbackInfo& info) { return Ids(info.Env(), session_.LinkIds()); }

  Napi::Value Hooks(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env(), session_.hooks().size());
    for (uint32_t i = 0; i < session_.hooks().size(); i++) {
      a.Set(i, Napi::String::New(info.Env(), session_.hooks()[i]));
    }
    return a;
  }

  bindsight::BpfSession session_;
  Napi::ThreadSafeFunction tsfn_;
  bool tsfn_active_ = false;
  Napi::FunctionReference on_log_;
  AddonData* data_ = nullptr;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(QueueLibbpfLog);
  auto* data = new AddonData();
  env.SetInstanceData<AddonData, KeepAddonData>(data);
  // Process exit and worker teardown: detach everything this env attached.
  env.AddCleanupHook([data]() {
    std::set<Session*> live = data->live;
    for (Session* s : live) s->Shutdown();
  });
  exports.Set("BpfSession", Session::Define(env));
  exports.Set("EVENT_SIZE", Napi::Number::New(env, sizeof(bs_event)));
  Napi::Array hooks = Napi::Array::New(env);
  for (const auto& h : bindsight::AllHooks()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", h.name);
    o.Set("section", h.section);
    hooks.Set(hooks.Length(), o);
  }
  exports.Set("HOOKS", hooks);
  bindsight::ExportOwnersIter(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(bindsight_bpf, Init)
