// The JS API of build/Release/bindsight_bpf.node (native/src/bpf_addon.cc).
// Load it through src/native/bpf-binding.ts, which validates arguments.

export interface BpfSessionOptions {
  /** Hook names from HOOKS; each loads and attaches its programs. */
  hooks: string[];
  /** Mount point of the cgroup v2 hierarchy (cgroup hooks attach there). */
  cgroupPath: string;
  /** Ring buffer size: a power of two, at least one page. Set before load. */
  ringBufferBytes: number;
  /** Called on the JS thread with whole struct bs_event records, concatenated. */
  onEvents: (batch: Buffer) => void;
  /** libbpf's messages ('warn' | 'info' | 'debug'), for the pino logger. */
  onLog: (level: string, message: string) => void;
}

/** Error thrown by the constructor: code 'BS_BPF_LOAD', the failing hook and errno. */
export interface BpfLoadError extends Error {
  code: 'BS_BPF_LOAD';
  hook: string;
  errno: number;
}

export declare class BpfSession {
  /** Opens, loads and attaches (bpf_link for every program); throws BpfLoadError. */
  constructor(options: BpfSessionOptions);
  /** Hooks attached, in attach order. Empty after close(). */
  readonly hooks: string[];
  /** Events the BPF side could not write because the ring buffer was full. */
  drops(): number;
  /** Kernel ids of the loaded programs and of the links (for bpftool checks). */
  programIds(): number[];
  linkIds(): number[];
  /** Stops the reader thread, detaches every link, closes every fd. Idempotent. */
  close(): void;
}

/** sizeof(struct bs_event). */
export declare const EVENT_SIZE: number;
/** Every hook this build knows, with where it attaches. */
export declare const HOOKS: Array<{ name: string; section: string }>;
